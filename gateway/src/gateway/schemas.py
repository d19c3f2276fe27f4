"""REST request and response bodies.

Requests are strict: unknown fields and wrong JSON types are refused (422) rather than guessed at. The
gateway checks shape only; the service owns the rules (name normalisation to NFC, plausible dates of
birth, phone formats, grades per school level) and answers with the field at fault.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from school_common.auth import valid_tenant
from school_common.errors import bilingual

from gateway.problems import refusal

Level = Literal["primary", "lower_secondary", "upper_secondary"]
Sex = Literal["male", "female"]
Relationship = Literal["mother", "father", "guardian", "grandparent", "other"]
#: Circular 19/2025: by whom a violation affects: the student, the class, the school.
Severity = Literal["self", "class", "school"]
#: Circular 19/2025's educational measures; suspension and expulsion no longer exist.
Measure = Literal["reminder", "apology", "criticism", "self_review"]
RewardKind = Literal["praise_class", "praise_school", "principal_certificate", "commendation_letter"]
#: Where a student's club membership stands.
MembershipState = Literal["pending", "approved", "refused"]
#: Which assessment of a semester a value is: secondary `regular` (numbered from 1), `mid_term`, `end_term`;
#: primary `mid_rating`, `end_rating` (T / H / C) and the periodic tests `mid_test`, `end_test`.
AssessmentKind = Literal[
    "regular", "mid_term", "end_term", "mid_rating", "end_rating", "mid_test", "end_test"
]
#: How a subject is evaluated: a 10-point score, a comment (Đạt / Chưa đạt), primary ratings (T / H / C).
EvaluationKind = Literal["scored", "comment", "rated"]
#: Where a change requested after the lock stands.
GradeChangeState = Literal["pending", "approved", "refused"]
#: A term of results: a semester, or the whole school year.
Term = Literal["semester_1", "semester_2", "year"]
#: Circular 22's four levels of learning results and of conduct.
LearningLevel = Literal["tot", "kha", "dat", "chua_dat"]
Promotion = Literal["promoted", "retest", "repeat"]
Award = Literal["xuat_sac", "gioi", "none"]
PrimaryResult = Literal["hoan_thanh_xuat_sac", "hoan_thanh_tot", "hoan_thanh", "chua_hoan_thanh"]
#: What issuing transcripts did for one student.
TranscriptIssueOutcome = Literal["issued", "already_issued", "results_incomplete"]
#: A transcript's two documents of equal value.
TranscriptFormat = Literal["pdf", "xml"]
#: A move to another class of the school and year, a transfer to another school of the tenant, a departure to
#: a school outside the tenant, or an arrival from one (with a signed record package).
MovementKind = Literal["class_move", "school_transfer", "transfer_out", "transfer_in"]
#: Where a movement stands; a class move is `done` at once.
MovementState = Literal["pending", "done", "refused"]
#: The two upper-secondary documents (there is no lower-secondary diploma from 1/1/2026): the diploma
#: (bằng tốt nghiệp THPT) and the certificate of programme completion.
DiplomaKind = Literal["upper_secondary_diploma", "upper_secondary_completion"]
#: Xếp loại, for a diploma form that prints one.
DiplomaClassification = Literal["gioi", "kha", "trung_binh"]
#: Where an entry of the register stands.
DiplomaStatus = Literal["valid", "corrected", "revoked"]
#: A half-day of school (buổi sáng, buổi chiều).
Session = Literal["morning", "afternoon"]
#: A student's mark in a register: có mặt, vắng có phép (P), vắng không phép (K), đi muộn, về sớm (the last
#: two are present).
AttendanceStatus = Literal["present", "absent_excused", "absent_unexcused", "late", "left_early"]
#: How close a student is to the 45-session limit of Circular 22/2021 (art. 12).
AbsenceLevel = Literal["ok", "approaching", "at_limit", "over"]
#: Where a leave request (đơn xin nghỉ học) stands.
LeaveStatus = Literal["pending", "approved", "refused", "cancelled"]
#: A gate check-in terminal: an RFID/NFC card reader, or a face-recognition terminal (recognition happens on
#: the terminal; no biometrics reach the platform).
GateDeviceKind = Literal["rfid", "face"]
#: What became of one tap at a gate terminal.
TapOutcome = Literal["checked_in", "merged", "unknown_credential", "other_school", "outside_school_time"]
#: A disagreement between the gate and the register.
ReconciliationFlag = Literal["absent_in_class", "not_marked", "no_check_in"]
#: A meal served at school.
Meal = Literal["breakfast", "lunch"]
#: The school's published rule for meal fees of absent days.
MealRefundPolicy = Literal["none", "notified_before_cutoff", "all_absent_days"]
#: The school's published rule for the nap-care fee of absent days.
CareRefundPolicy = Literal["none", "pro_rata"]
#: What a semi-boarding charge line is for.
ChargeKind = Literal["lunch", "breakfast", "nap_care"]

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
UUID_RE = re.compile(UUID_PATTERN)

EXAMPLE_SCHOOL_ID = "0193a4c2-1f00-7c4e-9a1b-2f0e4c3d5b6a"
EXAMPLE_CLASS_ID = "0193a4c2-2e11-7d2a-8c3b-4a5e6f708192"
EXAMPLE_STUDENT_ID = "0193a4c2-3d22-7e3b-9d4c-5b6f708192a3"
EXAMPLE_LINK_REQUEST_ID = "0193a4c2-5b44-7a5d-9f6e-7d8192a3b4c5"
EXAMPLE_PERSON_ID = "0193a4c2-6a55-7b6e-8a7f-8e92a3b4c5d6"
EXAMPLE_SUBJECT = "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f"
EXAMPLE_VIOLATION_ID = "0193a4c2-aa99-7fa2-9eb3-c2d6e7f8091a"
EXAMPLE_REWARD_ID = "0193a4c2-bbaa-7ab3-8fc4-d3e7f8091a2b"
EXAMPLE_CLUB_ID = "0193a4c2-ccbb-7bc4-9ad5-e4f8091a2b3c"
EXAMPLE_CLUB_MEMBERSHIP_ID = "0193a4c2-ddcc-7cd5-8be6-f5091a2b3c4d"
EXAMPLE_CLUB_SESSION_ID = "0193a4c2-eedd-7de6-9cf7-061a2b3c4d5e"
EXAMPLE_GRADE_CHANGE_ID = "0193a4c2-ffee-7ef7-8d08-172b3c4d5e6f"
EXAMPLE_TRANSCRIPT_ID = "0193a4c2-0a1b-7c2d-8e3f-405162738495"
EXAMPLE_MOVEMENT_ID = "0193a4c2-1b2c-7d3e-8f40-5162738495a6"
EXAMPLE_DIPLOMA_ID = "0193a4c2-2c3d-7e4f-9051-62738495a6b7"
EXAMPLE_RECEIVED_RECORD_ID = "0193a4c2-3d4e-7f50-8162-738495a6b7c8"
EXAMPLE_LEAVE_ID = "0193a4c2-4e5f-7061-9273-8495a6b7c8d9"
EXAMPLE_DEVICE_ID = "0193a4c2-5f60-7172-8384-95a6b7c8d9ea"
EXAMPLE_FOOD_SAMPLE_ID = "0193a4c2-6071-7283-9495-a6b7c8d9eafb"

SCHOOL_YEAR_PATTERN = r"^[0-9]{4}-[0-9]{4}$"
#: Graduation years the register takes (student-record's bounds).
EARLIEST_GRADUATION_YEAR = 2000
LATEST_GRADUATION_YEAR = 2999
SUBJECT_CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"
SUBJECT_CODE_RE = re.compile(SUBJECT_CODE_PATTERN)
#: Entries of one bulk request, as student-record accepts them.
MAX_GRADEBOOK_ENTRIES = 2000
#: Students of one class in a register or a meal sheet (a class has at most 45 by regulation).
MAX_CLASS_ENTRIES = 200

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
PERSONAL_ID_PATTERN = r"^[0-9]{12}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
PURPOSE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
PURPOSE_RE = re.compile(PURPOSE_PATTERN)
#: "YYYY-MM", a month of the school's calendar.
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
#: "HH:MM", a time of day in the school's time zone.
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
#: A card number (UID) or a terminal's person code.
GATE_CREDENTIAL_PATTERN = r"^[A-Za-z0-9:-]{4,64}$"
#: The most taps one check-in request carries (an offline terminal's day of taps).
MAX_TAPS = 5000
#: Amounts are whole đồng; the service holds the caps (a province's fee ceilings).
MAX_AMOUNT = 1_000_000_000
_PERSONAL_ID_RE = re.compile(PERSONAL_ID_PATTERN)
_DATE_RE = re.compile(DATE_PATTERN)
_MONTH_RE = re.compile(MONTH_PATTERN)
_TIME_OF_DAY_RE = re.compile(TIME_OF_DAY_PATTERN)


def _calendar_date(value: str) -> str:
    # ASCII digits only (a regex \d would take other scripts' digits), and a day that exists.
    if not _DATE_RE.fullmatch(value):
        raise ValueError("Ngày có dạng YYYY-MM-DD / a date is YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("Ngày không tồn tại / not a calendar date") from exc
    return value


def _personal_id(value: str) -> str:
    # Shape only; identity owns the rules (province and century codes, the national register).
    if not _PERSONAL_ID_RE.fullmatch(value):
        raise ValueError(
            "Số định danh cá nhân gồm đúng 12 chữ số / a personal identification number is 12 digits"
        )
    return value


def _slug(value: str) -> str:
    if not valid_tenant(value):
        raise ValueError(
            "Mã đơn vị gồm chữ thường, chữ số và dấu gạch nối ở giữa, tối đa 63 ký tự / a slug is lower-case "
            "letters, digits and inner hyphens, at most 63 characters"
        )
    return value


#: YYYY-MM-DD, a real calendar day.
CalendarDate = Annotated[
    str,
    AfterValidator(_calendar_date),
    Field(json_schema_extra={"format": "date", "pattern": DATE_PATTERN}),
]
#: Số định danh cá nhân: 12 ASCII digits. Declare the field with ``repr=False`` so the number never shows in a
#: model's repr; validation messages never echo it (``problems.validation_errors``).
PersonalId = Annotated[
    str,
    AfterValidator(_personal_id),
    Field(json_schema_extra={"pattern": PERSONAL_ID_PATTERN, "writeOnly": True}, examples=["001099000123"]),
]
#: Mã đơn vị: the tenant's slug, as realm names carry it (``tenant-<slug>``).
Slug = Annotated[str, AfterValidator(_slug), Field(json_schema_extra={"pattern": SLUG_PATTERN})]


def _month(value: str) -> str:
    if not _MONTH_RE.fullmatch(value):
        raise ValueError("Tháng có dạng YYYY-MM / a month is YYYY-MM")
    return value


def _time_of_day(value: str) -> str:
    if not _TIME_OF_DAY_RE.fullmatch(value):
        raise ValueError("Giờ có dạng HH:MM (00:00–23:59) / a time of day is HH:MM (00:00-23:59)")
    return value


def _rfc3339_text(value: Any) -> Any:
    # The field is lax (JSON has no date-time type), but a number is not an instant: never epoch seconds.
    if not isinstance(value, str):
        raise ValueError(
            "Thời điểm theo RFC 3339 có múi giờ, ví dụ 2025-11-24T07:02:00+07:00 / an RFC 3339 date-time "
            "with a time zone, e.g. 2025-11-24T07:02:00+07:00"
        )
    return value


#: YYYY-MM, a month (01-12).
Month = Annotated[
    str, AfterValidator(_month), Field(json_schema_extra={"pattern": MONTH_PATTERN}, examples=["2025-11"])
]
#: HH:MM, a time of day in the school's time zone (Asia/Ho_Chi_Minh).
TimeOfDay = Annotated[
    str, AfterValidator(_time_of_day), Field(json_schema_extra={"pattern": TIME_OF_DAY_PATTERN})
]
#: An instant, RFC 3339 with a time zone (a string: strict models take no datetime otherwise).
Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), Field(strict=False)]
#: A UUID (an id); lower-cased before it is forwarded.
Uuid = Annotated[str, Field(pattern=UUID_PATTERN, examples=[EXAMPLE_STUDENT_ID])]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Response(BaseModel):
    """Responses may gain fields over time: clients must ignore the ones they do not know."""


# Requests


class SchoolCreate(_Request):
    """Trường mới / A new school."""

    name: str = Field(
        min_length=1,
        max_length=255,
        description="Tên trường / school name",
        examples=["Trường THCS Nguyễn Du"],
    )
    code: str | None = Field(
        default=None,
        max_length=32,
        description="Mã trường trên CSDL ngành, nếu có / sector-database school code",
        examples=["79000701"],
    )
    levels: list[Level] = Field(
        min_length=1,
        max_length=3,
        description="Cấp học / school levels taught",
        examples=[["lower_secondary"]],
    )


class ClassCreate(_Request):
    """Lớp mới / A new class."""

    name: str = Field(min_length=1, max_length=50, description="Tên lớp / class name", examples=["6A1"])
    grade: int = Field(ge=1, le=12, description="Khối lớp 1–12 / grade 1-12", examples=[6])
    school_year: str = Field(
        pattern=r"^\d{4}-\d{4}$", description="Năm học / school year", examples=["2025-2026"]
    )


class GuardianIn(_Request):
    """Người giám hộ / A guardian."""

    full_name: str = Field(
        min_length=1, max_length=255, description="Họ tên / full name", examples=["Trần Thị Mai"]
    )
    relationship: Relationship = Field(description="Quan hệ với học sinh / relationship to the student")
    phone: str | None = Field(
        default=None, max_length=32, description="Số điện thoại / phone number", examples=["0912345678"]
    )
    personal_id: PersonalId | None = Field(
        default=None,
        repr=False,
        description="Số định danh cá nhân (12 chữ số) để liên kết tài khoản phụ huynh; chỉ gửi tới dịch vụ "
        "định danh, không lưu ở hồ sơ học sinh và không bao giờ được trả lại / personal identification "
        "number (12 digits), to link the guardian's account; passed to identity only, never returned",
    )
    date_of_birth: CalendarDate | None = Field(
        default=None,
        description="Ngày sinh của người giám hộ (YYYY-MM-DD), để xác thực cùng số định danh / the "
        "guardian's date of birth, verified with the personal identification number",
        examples=["1985-03-12"],
    )


class NewStudent(_Request):
    """Học sinh mới được tiếp nhận / A student admitted by this request."""

    full_name: str = Field(
        min_length=1, max_length=255, description="Họ tên / full name", examples=["Nguyễn Văn An"]
    )
    date_of_birth: CalendarDate = Field(
        description="Ngày sinh / date of birth (YYYY-MM-DD)", examples=["2014-09-05"]
    )
    sex: Sex = Field(description="Giới tính / sex")
    guardians: list[GuardianIn] = Field(
        default_factory=list, max_length=4, description="Người giám hộ (tối đa 4) / guardians (at most 4)"
    )
    personal_id: PersonalId | None = Field(
        default=None,
        repr=False,
        description="Số định danh cá nhân của học sinh (12 chữ số), nếu có: chỉ gửi tới dịch vụ định danh, "
        "không lưu ở hồ sơ học sinh và không bao giờ được trả lại / the student's personal identification "
        "number (12 digits), if known: passed to identity only, never stored here or returned",
    )


class EnrolmentCreate(_Request):
    """Xếp một học sinh vào lớp: đúng một trong `student_id` (học sinh đã có) hoặc `student` (học sinh mới) /
    Enrol a student: exactly one of `student_id` (an existing student) or `student` (a new one)."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["student_id"]}, {"required": ["student"]}]},
    )

    student_id: str | None = Field(
        default=None,
        pattern=UUID_PATTERN,
        description="Học sinh đã có của trường / an existing student of the school",
        examples=[EXAMPLE_STUDENT_ID],
    )
    student: NewStudent | None = Field(default=None, description="Học sinh mới / a new student")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.student_id is None) == (self.student is None):
            raise ValueError(
                "Cần đúng một trong student_id hoặc student / give exactly one of student_id or student"
            )
        return self


class TenantCreate(_Request):
    """Đơn vị mới (Sở/Phòng GD-ĐT) / A new tenant (an education authority)."""

    slug: Slug = Field(
        description="Mã đơn vị: chữ thường, chữ số, dấu gạch nối ở giữa; realm là `tenant-<mã>` / the "
        "tenant's slug: lower-case letters, digits, inner hyphens; its realm is `tenant-<slug>`",
        examples=["hcm"],
    )
    display_name: str = Field(
        min_length=1,
        max_length=255,
        description="Tên hiển thị / display name",
        examples=["Sở Giáo dục và Đào tạo TP. Hồ Chí Minh"],
    )


class GuardianCreate(GuardianIn):
    """Thêm một người giám hộ cho học sinh / One more guardian of a student."""


class CitizenVerificationCreate(_Request):
    """Kiểm tra số định danh cá nhân với CSDL quốc gia về dân cư / Check a personal identification number
    against the national population database."""

    personal_id: PersonalId = Field(
        repr=False,
        description="Số định danh cá nhân (12 chữ số); không bao giờ được trả lại hay ghi log / personal "
        "identification number (12 digits); never returned or logged",
    )
    full_name: str = Field(
        min_length=1, max_length=255, description="Họ tên / full name", examples=["Trần Thị Mai"]
    )
    date_of_birth: CalendarDate = Field(
        description="Ngày sinh / date of birth (YYYY-MM-DD)", examples=["1985-03-12"]
    )


class LinkRequestCreate(_Request):
    """Phụ huynh đề nghị nhà trường liên kết với con / A guardian asks the school to link them to a
    child."""

    school_id: str = Field(
        pattern=UUID_PATTERN, description="Trường của con / the child's school", examples=[EXAMPLE_SCHOOL_ID]
    )
    child_full_name: str = Field(
        min_length=1,
        max_length=255,
        description="Họ tên của con / the child's full name",
        examples=["Nguyễn Văn An"],
    )
    child_date_of_birth: CalendarDate = Field(
        description="Ngày sinh của con / the child's date of birth (YYYY-MM-DD)", examples=["2014-09-05"]
    )
    relationship: Relationship = Field(description="Quan hệ với con / relationship to the child")
    note: str | None = Field(
        default=None,
        max_length=1000,
        description="Ghi chú cho nhà trường / a note for the school",
        examples=["Con học lớp 6A1, cô chủ nhiệm là cô Lan"],
    )


class LinkRequestDecision(_Request):
    """Quyết định của nhà trường / The school's decision. Duyệt cần `student_id`; từ chối cần `reason` /
    approving needs `student_id`; refusing needs `reason`."""

    approve: bool = Field(description="true: duyệt; false: từ chối / true approves, false refuses")
    student_id: str | None = Field(
        default=None,
        pattern=UUID_PATTERN,
        description="Học sinh được liên kết (bắt buộc khi duyệt) / the student linked (required to approve)",
        examples=[EXAMPLE_STUDENT_ID],
    )
    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Lý do từ chối, phụ huynh sẽ thấy (bắt buộc khi từ chối) / why it is refused, shown to "
        "the guardian (required to refuse)",
        examples=["Không tìm thấy học sinh có ngày sinh này / no student with this date of birth"],
    )


class ConsentCreate(_Request):
    """Đồng ý cho một mục đích xử lý dữ liệu / Consent to one purpose of processing."""

    purpose: str = Field(
        pattern=PURPOSE_PATTERN,
        description="Mã mục đích (xem `GET /v1/consent-purposes`) / purpose code",
        examples=["photos_in_school_media"],
    )


MEASURE_NOT_ALLOWED = bilingual(
    "Thông tư 19/2025/TT-BGDĐT đã bãi bỏ hình thức đình chỉ học và buộc thôi học; chỉ áp dụng các biện "
    "pháp giáo dục: nhắc nhở (reminder), yêu cầu xin lỗi (apology), phê bình (criticism), viết bản tự kiểm "
    "điểm (self_review)",
    "Circular 19/2025 abolished suspension and expulsion; the only measures are reminder, apology, "
    "criticism and self_review",
)


class ViolationCreate(_Request):
    """Vi phạm và biện pháp giáo dục (Thông tư 19/2025) / A violation and the educational measure taken
    (Circular 19/2025)."""

    occurred_on: CalendarDate = Field(
        description="Ngày vi phạm (YYYY-MM-DD) / the day it happened", examples=["2025-11-20"]
    )
    description: str = Field(
        min_length=1,
        max_length=1000,
        description="Mô tả vi phạm / what happened",
        examples=["Sử dụng điện thoại trong giờ học"],
    )
    severity: Severity = Field(
        description="Mức độ ảnh hưởng: `self` bản thân, `class` tập thể lớp, `school` nhà trường / whom it "
        "affects: the student, the class, the school"
    )
    measure: Measure = Field(
        description="Biện pháp giáo dục. Tiểu học: `reminder` nhắc nhở, `apology` yêu cầu xin lỗi; THCS, "
        "THPT: `reminder`, `criticism` phê bình, `self_review` viết bản tự kiểm điểm (gia đình xác nhận). "
        "Đình chỉ học và buộc thôi học đã bị bãi bỏ: mọi giá trị khác bị từ chối với `MEASURE_NOT_ALLOWED`; "
        "biện pháp không hợp cấp học bị từ chối với `MEASURE_NOT_ALLOWED_AT_LEVEL` / the educational "
        "measure. Primary: `reminder`, `apology`; secondary: `reminder`, `criticism`, `self_review` "
        "(confirmed by the family). Suspension and expulsion were abolished: any other value is refused "
        "with `MEASURE_NOT_ALLOWED`; a measure the school level does not use with "
        "`MEASURE_NOT_ALLOWED_AT_LEVEL`"
    )

    @field_validator("measure", mode="wrap")
    @classmethod
    def _circular_19_measures(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Measure:
        # "suspension", "expulsion" or anything else: a reason of its own, not INVALID_ARGUMENT.
        try:
            measure: Measure = handler(value)
        except ValidationError:
            raise refusal("MEASURE_NOT_ALLOWED", MEASURE_NOT_ALLOWED) from None
        return measure


class RewardCreate(_Request):
    """Khen thưởng (Thông tư 19/2025) / A reward (Circular 19/2025)."""

    kind: RewardKind = Field(
        description="Hình thức: `praise_class` tuyên dương trước lớp, `praise_school` tuyên dương trước toàn "
        "trường, `principal_certificate` giấy khen của hiệu trưởng, `commendation_letter` thư khen / the "
        "form: praise before the class, before the school, the principal's certificate, a letter of "
        "commendation"
    )
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Lý do khen thưởng / why",
        examples=["Đạt giải Nhất cuộc thi Olympic Toán cấp quận"],
    )
    awarded_on: CalendarDate = Field(
        description="Ngày khen thưởng (YYYY-MM-DD) / the day it was awarded", examples=["2025-11-20"]
    )


class ClubCreate(_Request):
    """Câu lạc bộ mới của trường / A new club of the school."""

    name: str = Field(
        min_length=1, max_length=200, description="Tên câu lạc bộ / club name", examples=["CLB Robotics"]
    )
    description: str = Field(
        default="",
        max_length=1000,
        description="Giới thiệu (có thể để trống) / what the club does (may be empty)",
        examples=["Lắp ráp và lập trình robot, thi đấu cấp quận"],
    )
    adviser_subject: str = Field(
        pattern=UUID_PATTERN,
        description="Tài khoản (subject Keycloak) của giáo viên phụ trách câu lạc bộ / the adviser's account "
        "(Keycloak subject)",
        examples=[EXAMPLE_SUBJECT],
    )
    capacity: int = Field(
        default=0,
        ge=0,
        le=500,
        description="Số thành viên tối đa (0–500); 0: không giới hạn / members at most (0-500); 0: no limit",
        examples=[30],
    )


class ClubMembershipCreate(_Request):
    """Đề nghị cho học sinh tham gia câu lạc bộ / Ask for a student to join the club."""

    student_id: str = Field(
        pattern=UUID_PATTERN, description="Học sinh / the student", examples=[EXAMPLE_STUDENT_ID]
    )


class ClubMembershipDecision(_Request):
    """Quyết định của giáo viên phụ trách hoặc quản trị viên trường; từ chối cần `reason` / The adviser's or
    the school admin's decision; refusing needs `reason`."""

    approve: bool = Field(description="true: duyệt; false: từ chối / true approves, false refuses")
    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Lý do từ chối, gia đình sẽ thấy (bắt buộc khi từ chối) / why it is refused, shown to "
        "the family (required to refuse)",
        examples=["Câu lạc bộ đã đủ thành viên / the club is full"],
    )


def _distinct_ids(values: list[str]) -> list[str]:
    # Ids are compared as the service stores them: case does not make two students.
    if len({v.lower() for v in values}) != len(values):
        raise ValueError("Mã học sinh bị lặp / a student id is listed twice")
    return values


class ClubSessionCreate(_Request):
    """Một buổi sinh hoạt câu lạc bộ và những học sinh tham gia / One meeting of the club and who took
    part."""

    held_on: CalendarDate = Field(
        description="Ngày sinh hoạt (YYYY-MM-DD) / the day it was held", examples=["2025-11-22"]
    )
    topic: str = Field(
        min_length=1,
        max_length=300,
        description="Chủ đề buổi sinh hoạt / topic",
        examples=["Lập trình cảm biến siêu âm"],
    )
    present_student_ids: Annotated[
        list[Annotated[str, Field(pattern=UUID_PATTERN)]], AfterValidator(_distinct_ids)
    ] = Field(
        max_length=200,
        description="Các thành viên đã duyệt có mặt (tối đa 200, không lặp) / the approved members who took "
        "part (at most 200, no duplicates)",
        examples=[[EXAMPLE_STUDENT_ID]],
        json_schema_extra={"uniqueItems": True},
    )


# Gradebook (Circulars 22/2021 and 27/2020)


class SchoolYearDefinition(_Request):
    """Các mốc học kì của năm học; theo thứ tự: bắt đầu HKI < kết thúc HKI < bắt đầu HKII < kết thúc HKII,
    trong năm học / The semesters' dates, in order, within the school year."""

    semester_1_start: CalendarDate = Field(
        description="Bắt đầu học kì I / semester I starts", examples=["2025-09-05"]
    )
    semester_1_end: CalendarDate = Field(
        description="Kết thúc học kì I / semester I ends", examples=["2026-01-10"]
    )
    semester_2_start: CalendarDate = Field(
        description="Bắt đầu học kì II / semester II starts", examples=["2026-01-12"]
    )
    semester_2_end: CalendarDate = Field(
        description="Kết thúc học kì II / semester II ends", examples=["2026-05-25"]
    )


class AssessmentEntryIn(_Request):
    """Một điểm/mức đánh giá, viết như trên giấy / One value, typed as on paper."""

    student_id: str = Field(
        pattern=UUID_PATTERN,
        description="Học sinh của lớp / a student of the class",
        examples=[EXAMPLE_STUDENT_ID],
    )
    kind: AssessmentKind = Field(
        description="Loại đánh giá. THCS, THPT: `regular` thường xuyên, `mid_term` giữa kì, `end_term` "
        "cuối kì; tiểu học: `mid_rating`, `end_rating` (T/H/C), `mid_test`, `end_test` (kiểm tra định kì) "
        "/ which assessment. Secondary: `regular`, `mid_term`, `end_term`; primary: `mid_rating`, "
        "`end_rating` (T / H / C) and the periodic tests `mid_test`, `end_test`"
    )
    ordinal: int = Field(
        default=1,
        ge=0,
        le=99,
        description="Điểm thường xuyên: thứ tự 1..`regular_assessments` của môn (vượt quá: 422 "
        "`TOO_MANY_REGULAR_SCORES`); loại khác: 1 (mặc định) / regular assessments: 1..the subject's "
        "`regular_assessments` (beyond: 422 `TOO_MANY_REGULAR_SCORES`); other kinds: 1 (the default)",
        examples=[1],
    )
    value: str = Field(
        max_length=16,
        description="Giá trị như viết trên giấy: điểm `8,5` hoặc `8.5` (0–10, số nguyên hoặc một chữ số "
        "thập phân), nhận xét `Đ`/`CĐ`, mức `T`/`H`/`C`, điểm kiểm tra tiểu học `9` (số nguyên); chuỗi "
        "rỗng xóa điểm (trước khi khóa sổ). Giá trị sai: 422 `INVALID_SCORE`, `INVALID_COMMENT`, "
        "`INVALID_RATING`, `INVALID_TEST_SCORE` / as typed on paper: a score `8,5` or `8.5` (0-10, an "
        "integer or one decimal), a comment `Đ`/`CĐ`, a rating `T`/`H`/`C`, a primary test `9` (an "
        "integer); an empty string clears the value (before the lock). A wrong value: 422 `INVALID_SCORE`, "
        "`INVALID_COMMENT`, `INVALID_RATING`, `INVALID_TEST_SCORE`",
        examples=["8,5"],
    )


class AssessmentsIn(_Request):
    """Điểm một môn của một lớp trong một học kì, nhập một lần (tất cả hoặc không gì) / One subject's values
    for a class and semester, in one request (all or nothing)."""

    entries: list[AssessmentEntryIn] = Field(
        min_length=1,
        max_length=MAX_GRADEBOOK_ENTRIES,
        description=f"1–{MAX_GRADEBOOK_ENTRIES} giá trị; mỗi (học sinh, loại, thứ tự) một lần / 1-"
        f"{MAX_GRADEBOOK_ENTRIES} values; each (student, kind, ordinal) once",
    )


class RatingEntryIn(_Request):
    """Một đánh giá của giáo viên chủ nhiệm / One of the homeroom teacher's ratings."""

    student_id: str = Field(
        pattern=UUID_PATTERN,
        description="Học sinh của lớp / a student of the class",
        examples=[EXAMPLE_STUDENT_ID],
    )
    item: str = Field(
        default="CONDUCT",
        min_length=1,
        max_length=32,
        description="THCS, THPT: `CONDUCT` rèn luyện (mặc định); tiểu học: mã phẩm chất hoặc năng lực "
        "(`YEU_NUOC`, `NHAN_AI`, `CHAM_CHI`, `TRUNG_THUC`, `TRACH_NHIEM`, `TU_CHU_TU_HOC`, "
        "`GIAO_TIEP_HOP_TAC`, `GQVD_SANG_TAO`, `NGON_NGU`, `TINH_TOAN`, `KHOA_HOC`, `CONG_NGHE`, "
        "`TIN_HOC`, `THAM_MI`, `THE_CHAT`) / secondary: `CONDUCT` (the default); primary: a quality or "
        "competence code",
        examples=["CONDUCT"],
    )
    value: str = Field(
        min_length=1,
        max_length=32,
        description="Rèn luyện: Tốt, Khá, Đạt, Chưa đạt (`TOT`, `KHA`, `DAT`, `CHUA_DAT`); phẩm chất, "
        "năng lực: Tốt, Đạt, Cần cố gắng (`TOT`, `DAT`, `CAN_CO_GANG`). Sai: 422 `INVALID_CONDUCT`, "
        "`INVALID_QUALITY` / conduct: Tốt, Khá, Đạt, Chưa đạt; qualities and competences: Tốt, Đạt, "
        "Cần cố gắng",
        examples=["Tốt"],
    )


class RatingsIn(_Request):
    """Đánh giá rèn luyện (THCS, THPT) hoặc phẩm chất, năng lực (tiểu học; học kì 2 là cuối năm) của học sinh
    trong lớp / Conduct (secondary) or qualities and competences (primary; semester 2 is the year's end)."""

    entries: list[RatingEntryIn] = Field(
        min_length=1,
        max_length=MAX_GRADEBOOK_ENTRIES,
        description=f"1–{MAX_GRADEBOOK_ENTRIES} đánh giá / 1-{MAX_GRADEBOOK_ENTRIES} ratings",
    )


class GradeChangeCreate(_Request):
    """Đề nghị sửa một giá trị sau khi khóa sổ, để hiệu trưởng duyệt / A request to change a value after the
    lock, for the principal to decide."""

    subject_code: str = Field(
        pattern=SUBJECT_CODE_PATTERN, description="Mã môn / subject code", examples=["TOAN"]
    )
    semester: int = Field(ge=1, le=2, description="Học kì 1 hoặc 2 / semester 1 or 2", examples=[1])
    entry: AssessmentEntryIn = Field(description="Giá trị mới (không rỗng) / the new value (not empty)")
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Lý do sửa; hiệu trưởng và nhật ký sửa điểm lưu lại / why; kept in the trail",
        examples=["Cộng nhầm điểm bài cuối kì"],
    )


class GradeChangeDecision(_Request):
    """Quyết định của hiệu trưởng; từ chối cần `note` / The principal's decision; refusing needs `note`."""

    approve: bool = Field(
        description="true: duyệt (giá trị đổi ngay); false: từ chối / true approves (the value changes), "
        "false refuses"
    )
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Ghi chú; bắt buộc khi từ chối / a note; required to refuse",
        examples=["Đã kiểm tra bài thi"],
    )


class TranscriptSigners(_Request):
    """Người ký học bạ: tên in trên học bạ và tài khoản có khóa ký / The transcript's signatories: the names
    printed on it and the accounts whose keys sign."""

    homeroom_teacher_name: str = Field(
        min_length=1,
        max_length=200,
        description="Giáo viên chủ nhiệm / homeroom teacher",
        examples=["Nguyễn Thị Hoa"],
    )
    homeroom_teacher_subject: str = Field(
        min_length=1,
        max_length=64,
        description="Mã tài khoản (`sub`) của giáo viên chủ nhiệm / the homeroom teacher's account id "
        "(`sub`)",
        examples=[EXAMPLE_SUBJECT],
    )
    principal_name: str = Field(
        min_length=1, max_length=200, description="Hiệu trưởng / principal", examples=["Trần Văn Bình"]
    )
    principal_subject: str = Field(
        min_length=1,
        max_length=64,
        description="Mã tài khoản (`sub`) của hiệu trưởng / the principal's account id (`sub`)",
        examples=["0193a4c2-0000-7000-8000-00000000000b"],
    )


class TranscriptCorrectionCreate(TranscriptSigners):
    """Đính chính học bạ: phiên bản mới từ kết quả hiện tại, kèm lý do / A correction: a new version from the
    current results, with the reason."""

    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Lý do đính chính, ghi trong phiên bản mới / why; kept with the new version",
        examples=["Sửa điểm Toán học kì II theo quyết định của hiệu trưởng"],
    )


# Moves and transfers


class MoveCreate(_Request):
    """Chuyển học sinh sang lớp khác của trường trong cùng năm học / Move a student to another class of the
    school in the same school year."""

    to_class_id: str = Field(
        pattern=UUID_PATTERN, description="Lớp chuyển đến / the class to move to", examples=[EXAMPLE_CLASS_ID]
    )
    reason: str = Field(
        min_length=1, max_length=500, description="Lý do / why", examples=["Theo nguyện vọng của gia đình"]
    )
    effective_on: CalendarDate = Field(
        description="Ngày có hiệu lực (YYYY-MM-DD), không ở tương lai / the day it takes effect, not in the "
        "future",
        examples=["2025-11-24"],
    )


class TransferCreate(_Request):
    """Đề nghị một trường khác của đơn vị nhận học sinh / Ask another school of the tenant to take the
    student."""

    to_school_id: str = Field(
        pattern=UUID_PATTERN,
        description="Trường nhận / the receiving school",
        examples=["0193a4c2-1f00-7c4e-9a1b-2f0e4c3d5b6b"],
    )
    reason: str = Field(
        min_length=1, max_length=500, description="Lý do / why", examples=["Gia đình chuyển nơi ở"]
    )
    effective_on: CalendarDate = Field(
        description="Ngày có hiệu lực (YYYY-MM-DD), không ở tương lai / the day it takes effect, not in the "
        "future",
        examples=["2025-11-24"],
    )


class TransferDecision(_Request):
    """Quyết định của trường nhận: nhận vào một lớp (`to_class_id`) hoặc từ chối (`note`) / The receiving
    school's decision: accept into a class (`to_class_id`) or refuse (`note`)."""

    accept: bool = Field(description="true: nhận; false: từ chối / true accepts, false refuses")
    to_class_id: str | None = Field(
        default=None,
        pattern=UUID_PATTERN,
        description="Lớp của trường nhận trong năm học của học sinh; bắt buộc khi nhận / a class of the "
        "receiving school in the student's school year; required to accept",
        examples=[EXAMPLE_CLASS_ID],
    )
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Ghi chú; bắt buộc khi từ chối / a note; required to refuse",
        examples=["Trường đã đủ sĩ số khối 6"],
    )


class DepartureCreate(_Request):
    """Học sinh chuyển đến một trường ngoài đơn vị (tỉnh khác, hệ thống khác) / A student leaves for a school
    outside the tenant (another province, another system)."""

    destination: str = Field(
        min_length=1,
        max_length=300,
        description="Nơi chuyển đến: trường và tỉnh, như gia đình hoặc nhà trường ghi / where the student "
        "goes: the school and its province, as the family or the school gives it",
        examples=["Trường THCS Nguyễn Du, TP. Hồ Chí Minh"],
    )
    reason: str = Field(
        min_length=1, max_length=500, description="Lý do / why", examples=["Gia đình chuyển vào TP. HCM"]
    )
    effective_on: CalendarDate = Field(
        description="Ngày có hiệu lực (YYYY-MM-DD), không ở tương lai / the day it takes effect, not in the "
        "future",
        examples=["2025-11-24"],
    )


class ArrivalForm(_Request):
    """The text fields of the arrival form (``multipart/form-data``, beside the package's ``file``)."""

    effective_on: CalendarDate = Field(
        description="Ngày có hiệu lực (YYYY-MM-DD), không ở tương lai / the day it takes effect, not in the "
        "future",
        examples=["2025-11-24"],
    )


# Diplomas and certificates of completion (upper secondary)

DOCUMENT_NUMBER_DESCRIPTION = (
    "1–32 chữ cái, chữ số, dấu cách, dấu chấm, gạch chéo hoặc gạch nối; lưu dạng chữ hoa / 1-32 letters, "
    "digits, spaces, dots, slashes or hyphens; stored upper-cased"
)


class _DiplomaEntry(_Request):
    classification: DiplomaClassification | None = Field(
        default=None,
        description="Xếp loại nếu mẫu bằng có in (mặc định không có); giấy chứng nhận không có xếp loại / "
        "the classification, for a diploma form that prints one (none by default); never on a certificate",
    )
    register_number: str = Field(
        min_length=1,
        max_length=32,
        description=f"Số vào sổ cấp bằng: {DOCUMENT_NUMBER_DESCRIPTION}; không trùng trong sổ của năm / the "
        "register number, unique in the school's book of the kind and year",
        examples=["125/2026"],
    )
    serial_number: str = Field(
        min_length=1,
        max_length=32,
        description=f"Số hiệu in trên phôi: {DOCUMENT_NUMBER_DESCRIPTION}; không trùng trong đơn vị / the "
        "serial number printed on the blank, unique in the tenant",
        examples=["B 0012345"],
    )
    issued_on: CalendarDate = Field(
        description="Ngày cấp (YYYY-MM-DD): không ở tương lai, không trước năm tốt nghiệp / the issue date: "
        "not in the future, not before the graduation year",
        examples=["2026-07-20"],
    )
    signer_name: str = Field(
        min_length=1, max_length=200, description="Người ký / who signs", examples=["Nguyễn Văn Hải"]
    )
    signer_title: str = Field(
        min_length=1,
        max_length=200,
        description="Chức vụ người ký / the signer's title",
        examples=["Giám đốc Sở Giáo dục và Đào tạo"],
    )


class DiplomaCreate(_DiplomaEntry):
    """Vào sổ gốc một bằng tốt nghiệp THPT hoặc giấy chứng nhận hoàn thành chương trình THPT / An entry of
    the register: an upper-secondary diploma or certificate of programme completion."""

    kind: DiplomaKind = Field(
        description="`upper_secondary_diploma` (bằng tốt nghiệp THPT) hoặc `upper_secondary_completion` "
        "(giấy chứng nhận hoàn thành chương trình giáo dục phổ thông cấp THPT); không còn bằng tốt nghiệp "
        "THCS / the diploma or the certificate of completion; there is no lower-secondary diploma"
    )
    graduation_year: int = Field(
        ge=EARLIEST_GRADUATION_YEAR,
        le=LATEST_GRADUATION_YEAR,
        description="Năm tốt nghiệp, không trước năm kết thúc lớp 12 / the graduation year, not before the "
        "grade-12 year ends",
        examples=[2026],
    )


class DiplomaCorrectionCreate(_DiplomaEntry):
    """Bản đính chính: một dòng mới (số hiệu và số vào sổ mới) thay dòng cũ; loại và năm giữ nguyên, họ tên
    và ngày sinh đọc lại từ hồ sơ học sinh / A corrected entry: a new row (new serial and register numbers)
    replacing the old one; kind and year stay, the name and date of birth are read again from the record."""

    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Lý do đính chính / why",
        examples=["Sai ngày sinh do hồ sơ nhập nhầm"],
    )


class DiplomaRevocation(_Request):
    """Thu hồi văn bằng: vẫn giữ trong sổ gốc, ghi người, thời điểm và lý do / Revoking an entry: it stays
    in the register, with who, when and why."""

    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Lý do thu hồi / why",
        examples=["Quyết định hủy kết quả thi của Sở"],
    )


# Attendance


class SchoolCalendarIn(_Request):
    """Cách trường tổ chức buổi học để điểm danh; gửi đủ mọi trường (thay toàn bộ) / How the school runs its
    days for attendance; every field is set as given (the whole calendar is replaced)."""

    sessions: list[Session] = Field(
        min_length=1,
        max_length=2,
        description="Các buổi trường học (ít nhất một) / the sessions the school runs (at least one)",
        examples=[["morning", "afternoon"]],
    )
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        min_length=1,
        max_length=7,
        description="Các ngày học trong tuần theo ISO: 1 thứ Hai … 7 Chủ nhật / ISO weekdays with school: 1 "
        "Monday … 7 Sunday",
        examples=[[1, 2, 3, 4, 5]],
    )
    main_session: Session = Field(
        description="Buổi tính chuyên cần theo quy định 45 buổi (kế hoạch một buổi/ngày); là một trong "
        "`sessions` / the session counted for the 45-session rule (one session a day); one of `sessions`",
        examples=["morning"],
    )
    morning_cutoff: TimeOfDay = Field(
        description="Sau giờ này (cùng ngày) sửa điểm danh buổi sáng phải có lý do / after this time of the "
        "same day, changing a morning register needs a reason",
        examples=["10:00"],
    )
    afternoon_cutoff: TimeOfDay = Field(
        description="Như trên cho buổi chiều / the same for the afternoon", examples=["16:00"]
    )
    afternoon_starts: TimeOfDay = Field(
        default="12:00",
        description="Lượt quẹt thẻ từ giờ này thuộc buổi chiều (mặc định 12:00) / taps from this time belong "
        "to the afternoon (default 12:00)",
        examples=["12:00"],
    )
    closed_dates: list[CalendarDate] = Field(
        default_factory=list,
        max_length=400,
        description="Ngày nghỉ (lễ, tết, nghỉ đột xuất), tối đa 400 / dates without school (holidays, "
        "closures), at most 400",
        examples=[["2026-01-01", "2026-04-30"]],
    )
    absence_warning_at: int = Field(
        default=35,
        ge=1,
        le=45,
        description="Từ số buổi nghỉ này trong năm học thì cảnh báo (mặc định 35; giới hạn là 45) / the "
        "counter warns from this many absent sessions a year (default 35; the limit is 45)",
        examples=[35],
    )


class MarkIn(_Request):
    """Điểm danh một học sinh / One student's mark."""

    student_id: Uuid = Field(description="Học sinh của lớp / a student of the class")
    status: AttendanceStatus = Field(
        description="`present` có mặt, `absent_excused` vắng có phép (P), `absent_unexcused` vắng không phép "
        "(K), `late` đi muộn, `left_early` về sớm (hai mục cuối tính là có mặt) / present, absent excused, "
        "absent unexcused, late, left early (the last two count as present)"
    )
    note: str = Field(
        default="",
        max_length=500,
        description="Ghi chú (tối đa 500 ký tự) / a note (at most 500 characters)",
        examples=["Ốm, gia đình đã báo"],
    )


def _distinct_students(entries: list[Any]) -> list[Any]:
    # Each student once per submission: the register takes one mark a student.
    _distinct_ids([e.student_id for e in entries])
    return entries


class RegisterMarksIn(_Request):
    """Điểm danh lớp cho một ngày và một buổi, cả lớp hoặc một phần / A class's marks for one date and
    session, all of the class or some of it."""

    entries: Annotated[list[MarkIn], AfterValidator(_distinct_students)] = Field(
        min_length=1,
        max_length=MAX_CLASS_ENTRIES,
        description=f"1–{MAX_CLASS_ENTRIES} học sinh, mỗi học sinh một lần / 1-{MAX_CLASS_ENTRIES} students, "
        "each once",
    )
    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Lý do sửa sau giờ chốt (bắt buộc khi đó: 422 `REASON_REQUIRED`), lưu trong nhật ký sửa "
        "điểm danh / why, for a change after the cut-off (required then: 422 `REASON_REQUIRED`); kept in the "
        "register's trail",
        examples=["Học sinh đến muộn có giấy xác nhận của phòng y tế"],
    )


class LeaveRequestCreate(_Request):
    """Đơn xin nghỉ học cho con / A request for leave for a child."""

    student_id: Uuid = Field(description="Học sinh / the student")
    from_date: CalendarDate = Field(
        description="Nghỉ từ ngày / first day (YYYY-MM-DD)", examples=["2025-11-24"]
    )
    to_date: CalendarDate = Field(
        description="Đến hết ngày, không trước `from_date` / last day, not before `from_date`",
        examples=["2025-11-25"],
    )
    sessions: list[Session] = Field(
        default_factory=list,
        max_length=2,
        description="Các buổi xin nghỉ mỗi ngày; bỏ trống: mọi buổi trường học / the sessions of each day; "
        "empty: every session the school runs",
        examples=[["morning"]],
    )
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Lý do nghỉ / why",
        examples=["Cháu bị sốt, gia đình xin cho cháu nghỉ để đi khám"],
    )


class LeaveDecision(_Request):
    """Quyết định của giáo viên chủ nhiệm (hoặc quản trị viên trường); từ chối cần `note` / The homeroom
    teacher's (or a school admin's) decision; refusing needs `note`."""

    approve: bool = Field(
        description="true: duyệt (các buổi được ghi vắng có phép); false: từ chối / true approves (the "
        "sessions are marked absent excused), false refuses"
    )
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Ghi chú, gia đình sẽ thấy; bắt buộc khi từ chối / a note, shown to the family; required "
        "to refuse",
        examples=["Đã nhận giấy khám bệnh"],
    )


class GateDeviceCreate(_Request):
    """Thiết bị điểm danh ở cổng trường / A check-in terminal at the school's gate."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="Tên thiết bị (vị trí) / the device's name (where it stands)",
        examples=["Cổng chính - làn 1"],
    )
    kind: GateDeviceKind = Field(
        description="`rfid` đầu đọc thẻ RFID/NFC; `face` máy nhận diện khuôn mặt (nhận diện trên thiết bị, "
        "không gửi dữ liệu sinh trắc học) / an RFID/NFC card reader, or a face-recognition terminal "
        "(recognition happens on the device; no biometrics are sent)"
    )


class GateCredentialAssignment(_Request):
    """Học sinh mang thẻ (hoặc mã người trên máy nhận diện) này / The student this card (or the terminal's
    person code) belongs to."""

    student_id: Uuid = Field(description="Học sinh của trường / a student of the school")


class TapIn(_Request):
    """Một lần quẹt thẻ / nhận diện ở thiết bị / One read at a terminal."""

    tap_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="Mã lần đọc do thiết bị đặt (1–64 ký tự ASCII in được), duy nhất trên thiết bị: gửi lại "
        "cùng mã không ghi hai lần / the device's own id for the read (1-64 printable ASCII characters), "
        "unique on the device: sending it again records nothing twice",
        examples=["lane1-000184532"],
    )
    credential: str = Field(
        pattern=GATE_CREDENTIAL_PATTERN,
        description="Số thẻ (UID) hoặc mã người trên thiết bị: 4–64 ký tự `A-Z a-z 0-9 : -` / the card "
        "number (UID) or the terminal's person code: 4-64 characters `A-Z a-z 0-9 : -`",
        examples=["04:A2:3B:1C:5D:80"],
    )
    tapped_at: Instant = Field(
        description="Thời điểm đọc theo đồng hồ thiết bị (RFC 3339 có múi giờ), cả với lô gửi bù khi mất "
        "mạng / when the read happened, by the device's clock (RFC 3339 with a time zone), offline "
        "batches too",
        examples=["2025-11-24T06:52:13+07:00"],
    )


class CheckInBatch(_Request):
    """Các lần đọc của thiết bị: gửi ngay từng lần, hoặc một lô khi có mạng trở lại / A device's reads: live,
    or a batch once the network is back."""

    taps: list[TapIn] = Field(
        min_length=1,
        max_length=MAX_TAPS,
        description=f"1–{MAX_TAPS:,} lần đọc, thứ tự bất kỳ / 1-{MAX_TAPS:,} reads, in any order",
    )


# Semi-boarding (bán trú)


class KitchenIn(_Request):
    """Một bếp của trường và các lớp bếp phục vụ / A kitchen of the school and the classes it feeds."""

    name: str = Field(min_length=1, max_length=100, description="Tên bếp / name", examples=["Bếp khu A"])
    class_ids: list[Uuid] = Field(
        default_factory=list,
        max_length=200,
        description="Các lớp bếp phục vụ; lớp không thuộc bếp nào được tính cho bếp đầu tiên / the classes "
        "it feeds; classes in no kitchen's list go to the first kitchen",
        examples=[[EXAMPLE_CLASS_ID]],
    )


class BoardingSettingsIn(_Request):
    """Điều kiện bán trú công bố cho gia đình; gửi đủ mọi trường (thay toàn bộ) / The school's published
    semi-boarding terms; every field is set as given (the whole settings are replaced)."""

    meal_cutoff: TimeOfDay = Field(
        description="Giờ chốt suất ăn trong ngày: sau giờ này số suất cố định / the day's meal count freezes "
        "at this time",
        examples=["09:00"],
    )
    lunch_price: int = Field(
        ge=0, le=MAX_AMOUNT, description="Giá một bữa trưa (đồng) / one lunch (đồng)", examples=[30000]
    )
    breakfast_price: int = Field(
        ge=0, le=MAX_AMOUNT, description="Giá một bữa sáng (đồng) / one breakfast (đồng)", examples=[15000]
    )
    nap_care_monthly_fee: int = Field(
        ge=0,
        le=MAX_AMOUNT,
        description="Phí chăm sóc bán trú mỗi tháng (đồng), không vượt mức trần của tỉnh / nap care a month "
        "(đồng), within the province's cap",
        examples=[320000],
    )
    meal_refund: MealRefundPolicy = Field(
        description="Hoàn tiền ăn ngày vắng: `none` không hoàn; `notified_before_cutoff` các ngày đã báo "
        "trước giờ chốt; `all_absent_days` mọi ngày vắng buổi chính / meal refunds for absent days: none; "
        "days left out of the frozen count; every day absent from the main session"
    )
    care_refund: CareRefundPolicy = Field(
        description="Hoàn phí chăm sóc: `none`; `pro_rata` theo tỉ lệ ngày học vắng / the care fee: none, or "
        "reduced in proportion to school days absent"
    )
    kitchens: list[KitchenIn] = Field(
        default_factory=list, max_length=20, description="Các bếp (tối đa 20) / kitchens (at most 20)"
    )
    policy_text: str = Field(
        default="",
        max_length=2000,
        description="Quy định bán trú công bố cho gia đình (tiếng Việt, tối đa 2.000 ký tự) / the policy as "
        "published to families (Vietnamese, at most 2,000 characters)",
        examples=["Phụ huynh báo nghỉ trước 9 giờ được hoàn tiền ăn ngày đó."],
    )


class BoardingRegistrationIn(_Request):
    """Đăng ký bán trú của học sinh cho một tháng; thay đăng ký đã có của tháng / A student's semi-boarding
    for a month; replaces the month's registration."""

    lunch: bool = Field(description="Ăn trưa / lunch")
    breakfast: bool = Field(description="Ăn sáng / breakfast")
    nap_care: bool = Field(description="Chăm sóc bán trú (ngủ trưa) / nap care")


class MenuItemIn(_Request):
    """Một bữa của thực đơn / One meal of the menu."""

    meal: Meal = Field(description="`breakfast` bữa sáng, `lunch` bữa trưa / breakfast or lunch")
    dishes: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1,
        max_length=20,
        description="Các món (1–20, mỗi món tối đa 200 ký tự) / dishes (1-20, each at most 200 characters)",
        examples=[["Cơm trắng", "Cá kho tộ", "Canh bí đỏ"]],
    )


class MenuIn(_Request):
    """Thực đơn một ngày; công bố lại thay thực đơn cũ / A date's menu; publishing again replaces it."""

    items: list[MenuItemIn] = Field(
        min_length=1, max_length=2, description="Mỗi bữa một lần / each meal once"
    )


class MealAttendanceEntryIn(_Request):
    """Học sinh có ăn bữa đó không / Whether one student ate the meal."""

    student_id: Uuid = Field(description="Học sinh của lớp / a student of the class")
    ate: bool = Field(description="Đã ăn / ate")


class MealAttendanceIn(_Request):
    """Ai trong lớp đã ăn (điều chỉnh so với suất đã chốt) / Who of the class ate (corrections to what the
    count implied)."""

    entries: Annotated[list[MealAttendanceEntryIn], AfterValidator(_distinct_students)] = Field(
        min_length=1,
        max_length=MAX_CLASS_ENTRIES,
        description=f"1–{MAX_CLASS_ENTRIES} học sinh, mỗi học sinh một lần / 1-{MAX_CLASS_ENTRIES} students, "
        "each once",
    )


class FoodSampleCreate(_Request):
    """Mẫu thức ăn lưu của một bữa (lưu 24 giờ) / A retained food sample of a meal (kept 24 hours)."""

    date: CalendarDate = Field(description="Ngày của bữa ăn / the meal's date", examples=["2025-11-24"])
    meal: Meal = Field(description="`breakfast` hoặc `lunch` / breakfast or lunch")
    dishes: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1,
        max_length=20,
        description="Các món đã lấy mẫu (1–20) / the dishes sampled (1-20)",
        examples=[["Cá kho tộ", "Canh bí đỏ"]],
    )
    sampled_at: Instant = Field(
        description="Thời điểm lấy mẫu (RFC 3339 có múi giờ); hạn lưu là 24 giờ sau đó / when the sample was "
        "taken (RFC 3339 with a time zone); it is kept until 24 hours later",
        examples=["2025-11-24T10:45:00+07:00"],
    )
    storage: str = Field(
        default="",
        max_length=200,
        description="Nơi lưu (tủ, nhiệt độ), tối đa 200 ký tự / storage (fridge, temperature), at most 200 "
        "characters",
        examples=["Tủ mẫu số 1, 2–8 °C"],
    )


class FoodSampleDiscard(_Request):
    """Hủy mẫu khi hết thời hạn lưu / A sample discarded once its retention period is over."""

    discarded_at: Instant = Field(
        description="Thời điểm hủy (RFC 3339 có múi giờ), không trước hạn lưu / when it was discarded (RFC "
        "3339 with a time zone), not before it may be",
        examples=["2025-11-25T11:00:00+07:00"],
    )


# Responses


class School(_Response):
    """Trường học / A school."""

    id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    name: str = Field(examples=["Trường THCS Nguyễn Du"])
    code: str | None = Field(examples=["79000701"])
    levels: list[Level]
    created_at: datetime


class SchoolPage(_Response):
    items: list[School]
    next_page_token: str | None = Field(description="Mã trang sau; null khi hết / next page, null at the end")


class SchoolClass(_Response):
    """Lớp học / A class."""

    id: str = Field(examples=[EXAMPLE_CLASS_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    name: str = Field(examples=["6A1"])
    grade: int = Field(examples=[6])
    school_year: str = Field(examples=["2025-2026"])
    created_at: datetime


class ClassPage(_Response):
    items: list[SchoolClass]
    next_page_token: str | None


class Guardian(_Response):
    """Người giám hộ; số định danh không bao giờ được trả lại / A guardian; the personal identification
    number is never returned."""

    full_name: str
    relationship: str
    phone: str | None
    person_id: str | None = Field(
        description="Mã cá nhân ẩn danh do dịch vụ định danh cấp; null khi chưa khai số định danh / "
        "pseudonymous person id issued by identity; null when no personal identification number was given",
        examples=[EXAMPLE_PERSON_ID],
    )


class Student(_Response):
    """Học sinh / A student."""

    id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    date_of_birth: str = Field(examples=["2014-09-05"])
    sex: Sex | None
    student_code: str | None = Field(
        description="Mã học sinh trên CSDL ngành, khi đã có / sector student code"
    )
    guardians: list[Guardian]
    person_id: str | None = Field(
        default=None,
        description="Mã định danh ẩn danh của học sinh do dịch vụ định danh cấp / the student's pseudonymous "
        "person id issued by identity, when their number was recorded",
    )


class StudentPage(_Response):
    items: list[Student]
    next_page_token: str | None


class Enrolment(_Response):
    """Việc học sinh thuộc một lớp / A student's membership of a class."""

    id: str
    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    enrolled_at: datetime


class EnrolmentResult(_Response):
    enrolment: Enrolment
    student: Student


class RosterEntry(_Response):
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    enrolled_at: datetime


class ClassRoster(_Response):
    """Sĩ số lớp theo điểm danh / A class roster as attendance knows it."""

    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    class_name: str = Field(examples=["6A1"])
    entries: list[RosterEntry]


CheckState = Literal["serving", "failing", "not_configured"]


class Readiness(_Response):
    status: Literal["ready", "not_ready"]
    checks: dict[str, CheckState]


class Page(_Response):
    next_page_token: str | None = Field(description="Mã trang sau; null khi hết / next page, null at the end")


# Tenants

TenantState = Literal["provisioning", "active"]


class Tenant(_Response):
    """Đơn vị (Sở/Phòng GD-ĐT) và tình trạng khởi tạo / A tenant and where its provisioning stands."""

    slug: str = Field(examples=["hcm"])
    display_name: str = Field(examples=["Sở Giáo dục và Đào tạo TP. Hồ Chí Minh"])
    realm: str = Field(examples=["tenant-hcm"])
    state: TenantState | None = Field(
        description="`provisioning`: đang khởi tạo hoặc dừng giữa chừng (xem `last_error`; gửi lại yêu cầu "
        "tạo để tiếp tục); `active`: sẵn sàng / `provisioning`: in progress or stopped half-way (see "
        "`last_error`; create again to resume); `active`: ready"
    )
    completed_steps: list[str] = Field(description="Các bước đã xong / provisioning steps done, in order")
    last_error: str | None = Field(description="Lý do lần khởi tạo gần nhất dừng lại / why it last stopped")
    created_at: datetime | None
    updated_at: datetime | None


# The caller

VerificationState = Literal["pending", "verified", "mismatch", "not_found"]
LinkState = Literal["not_a_guardian", "no_child_linked", "linked"]


class Verification(_Response):
    """Kết quả xác thực danh tính với CSDL quốc gia về dân cư hoặc VNeID / Identity verification against the
    national population database or VNeID."""

    status: VerificationState = Field(
        description="`pending`: chờ CSDL dân cư (tự thử lại); `verified`: khớp; `mismatch`: số có thật nhưng "
        "họ tên hoặc ngày sinh khác (xem `checks`); `not_found`: không có công dân mang số này / `pending`: "
        "waiting for the register (retried); `verified`; `mismatch`: see `checks`; `not_found`: no citizen "
        "holds the number"
    )
    checks: dict[str, bool] = Field(
        description="Từng trường có khớp không / whether each field matches",
        examples=[{"full_name": True, "date_of_birth": False}],
    )
    verified_at: datetime | None = Field(description="Thời điểm CSDL trả lời / when the register answered")
    identification_level: int = Field(
        description="Mức định danh điện tử (Nghị định 69/2024): 0, 1 hoặc 2 / electronic identification "
        "level",
        examples=[2],
    )
    source: str | None = Field(examples=["POPULATION_REGISTRY"])


class SchoolAccess(_Response):
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    school_name: str = Field(examples=["Trường THCS Nguyễn Du"])
    roles: list[str] = Field(examples=[["school_admin"]])


class ClassAccess(_Response):
    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    class_name: str = Field(examples=["6A1"])
    role: str = Field(examples=["homeroom_teacher"])
    subject: str | None = Field(examples=["Toán"])


class Child(_Response):
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    school_name: str = Field(examples=["Trường THCS Nguyễn Du"])
    class_id: str | None = Field(examples=[EXAMPLE_CLASS_ID])
    class_name: str | None = Field(examples=["6A1"])
    relationship: str = Field(examples=["mother"])
    linked_at: datetime | None


class Me(_Response):
    """Người đang đăng nhập: vai trò, trường, lớp, con em, xác thực / The caller: roles, schools, classes,
    children, verification."""

    subject: str = Field(examples=[EXAMPLE_SUBJECT])
    tenant: str = Field(examples=["hcm"])
    display_name: str = Field(examples=["Trần Thị Mai"])
    roles: list[str] = Field(examples=[["guardian"]])
    person_id: str | None = Field(
        description="Mã cá nhân ẩn danh; null khi chưa xác thực danh tính / pseudonymous person id; null "
        "until the identity is verified",
        examples=[EXAMPLE_PERSON_ID],
    )
    verification: Verification | None
    schools: list[SchoolAccess]
    classes: list[ClassAccess]
    children: list[Child]
    link_state: LinkState | None = Field(
        description="`not_a_guardian`; `no_child_linked`: chưa liên kết được con, hãy gửi đề nghị liên kết; "
        "`linked` / `no_child_linked`: send a link request"
    )
    pending_link_requests: int
    tenant_wide: bool = Field(
        description="true với quản trị viên Sở/Phòng: mọi trường của đơn vị / true for an authority admin"
    )
    own_records: list[Child] = Field(
        description="Hồ sơ học sinh của chính người đăng nhập (học sinh, hoặc cựu học sinh sau khi tốt "
        "nghiệp): chỉ xem, suốt đời; `relationship` là `self` / the caller's own student records (a student, "
        "or a former student after graduation): read only, for life; `relationship` is `self`"
    )


# Staff

RowOutcome = Literal["created", "updated", "unchanged", "refused"]


class Assignment(_Response):
    role: str = Field(examples=["teacher"])
    school_id: str | None = Field(examples=[EXAMPLE_SCHOOL_ID])
    class_id: str | None = Field(examples=[EXAMPLE_CLASS_ID])
    subject: str | None = Field(examples=["Toán"])


class StaffMember(_Response):
    """Tài khoản cán bộ / A staff account."""

    account_id: str
    subject: str = Field(examples=[EXAMPLE_SUBJECT])
    username: str = Field(examples=["lan.nguyen"])
    full_name: str = Field(examples=["Nguyễn Thị Lan"])
    staff_code: str | None = Field(description="Mã định danh cán bộ trên CSDL ngành / sector staff code")
    assignments: list[Assignment]
    verification: Verification | None


class StaffPage(Page):
    items: list[StaffMember]


class RowProblem(_Response):
    column: str = Field(examples=["Ngày sinh"])
    reason: str = Field(examples=["INVALID_DATE"])
    message: str = Field(examples=["Ngày sinh không hợp lệ / invalid date of birth"])


class ImportRow(_Response):
    row: int = Field(description="Số dòng trong trang tính (từ 1) / 1-based row number", examples=[2])
    outcome: RowOutcome | None
    problems: list[RowProblem]
    account_id: str | None
    verification_status: VerificationState | None


class StaffImportReport(_Response):
    """Kết quả nhập danh sách cán bộ; nhập lại cùng tệp không thay đổi gì / The staff import report;
    importing the same file again changes nothing."""

    import_id: str
    columns: dict[str, str] = Field(
        description="Cột nhận ra → tiêu đề đã khớp / each recognised column and the header it matched",
        examples=[{"full_name": "Họ và tên", "date_of_birth": "Ngày sinh"}],
    )
    rows: list[ImportRow]
    created: int
    updated: int
    unchanged: int
    refused: int


class CitizenVerification(_Response):
    """Kết quả kiểm tra; không bao giờ chứa số định danh / The result; it never contains the number."""

    person_id: str | None = Field(
        description="Mã cá nhân ẩn danh: cùng một số luôn cho cùng một mã / pseudonymous person id: the same "
        "number always yields the same id",
        examples=[EXAMPLE_PERSON_ID],
    )
    status: VerificationState | None = Field(
        description="`pending`: CSDL dân cư chưa trả lời (tự thử lại); `verified`: khớp; `mismatch`: họ tên "
        "hoặc ngày sinh khác (xem `checks`); `not_found`: không có công dân mang số này / `pending`: the "
        "register did not answer yet (retried); `verified`; `mismatch` (see `checks`); `not_found`"
    )
    checks: dict[str, bool] = Field(
        description="Từng trường có khớp không / whether each field matches",
        examples=[{"full_name": True, "date_of_birth": False}],
    )
    verified_at: datetime | None
    identification_level: int = Field(examples=[0])
    source: str | None = Field(examples=["POPULATION_REGISTRY"])


# Link requests

LinkRequestState = Literal["pending", "approved", "refused"]


class LinkRequest(_Response):
    """Đề nghị liên kết phụ huynh với con / A guardian's request to be linked to a child."""

    id: str = Field(examples=[EXAMPLE_LINK_REQUEST_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    student_id: str | None = Field(
        description="Học sinh nhà trường xác định, khi đã duyệt / the student matched, once approved",
        examples=[EXAMPLE_STUDENT_ID],
    )
    child_full_name: str = Field(examples=["Nguyễn Văn An"])
    child_date_of_birth: str = Field(examples=["2014-09-05"])
    relationship: str = Field(examples=["mother"])
    note: str | None
    state: LinkRequestState | None
    decision_reason: str | None
    requester_name: str | None = Field(examples=["Trần Thị Mai"])
    candidate_student_ids: list[str] = Field(
        default_factory=list,
        description="Cho nhà trường, khi đang chờ: các học sinh của trường có họ tên và ngày sinh khớp với "
        "khai báo (trường vẫn kiểm tra và chọn) / for the school, while pending: its students whose name "
        "and date of birth match the declaration (the school still checks and chooses)",
    )
    created_at: datetime
    decided_at: datetime | None


class LinkRequestPage(Page):
    items: list[LinkRequest]


# Consent

LegalBasis = Literal["law", "consent"]
ConsentState = Literal["granted", "withdrawn"]


class Purpose(_Response):
    """Mục đích xử lý dữ liệu và cơ sở pháp lý (Luật 91/2025/QH15) / A purpose of processing and its legal
    basis."""

    code: str = Field(examples=["photos_in_school_media"])
    title: str = Field(examples=["Đăng ảnh học sinh trên trang của trường / Photos in school media"])
    legal_basis: LegalBasis | None = Field(
        description="`law`: theo luật, không cần đồng ý; `consent`: cần đồng ý, rút lại được / `law`: "
        "required by law; `consent`: rests on consent, withdrawable"
    )
    legal_reference: str | None
    child_consent_from_age_7: bool = Field(
        description="Cần cả sự đồng ý của trẻ từ đủ 7 tuổi / the child's own consent is needed from age 7"
    )


class PurposeList(_Response):
    items: list[Purpose]


class Consent(_Response):
    id: str
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    purpose: str = Field(examples=["photos_in_school_media"])
    given_by: str = Field(description="`guardian` hoặc `child`", examples=["guardian"])
    state: ConsentState | None
    granted_at: datetime | None
    withdrawn_at: datetime | None


class PurposeStatus(_Response):
    purpose: str = Field(examples=["photos_in_school_media"])
    legal_basis: LegalBasis | None
    permitted: bool = Field(
        description="Được xử lý cho mục đích này không / whether processing for the purpose may go ahead"
    )
    missing: list[str] = Field(
        description="Còn thiếu sự đồng ý của ai / whose consent is missing", examples=[["child"]]
    )


class StudentConsents(_Response):
    consents: list[Consent]
    purposes: list[PurposeStatus]


# Audit


class AuditEvent(_Response):
    """Một sự kiện nhật ký; chỉ nêu mã tài khoản/mã đối tượng, không có dữ liệu cá nhân / One audit entry;
    people are named by account or person id, never by personal data."""

    id: str
    occurred_at: datetime
    source: str = Field(examples=["keycloak"])
    action: str = Field(examples=["LOGIN"])
    actor: str | None = Field(examples=[EXAMPLE_SUBJECT])
    target: str | None = Field(examples=[f"student:{EXAMPLE_STUDENT_ID}"])
    outcome: str = Field(examples=["SUCCESS"])
    details: dict[str, str]


class AuditEventPage(Page):
    items: list[AuditEvent]


# Discipline and rewards (Circular 19/2025)


class Violation(_Response):
    """Vi phạm đã ghi nhận và biện pháp giáo dục / A recorded violation and its measure."""

    id: str = Field(examples=[EXAMPLE_VIOLATION_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    occurred_on: str = Field(examples=["2025-11-20"])
    description: str = Field(examples=["Sử dụng điện thoại trong giờ học"])
    severity: Severity | None
    measure: Measure | None
    family_confirmed_at: datetime | None = Field(
        description="Với bản tự kiểm điểm: lúc gia đình xác nhận; null khi chưa / for a self-review: when "
        "the family confirmed it; null until then"
    )
    recorded_at: datetime


class ViolationList(_Response):
    items: list[Violation]


class Reward(_Response):
    """Khen thưởng đã ghi nhận / A recorded reward."""

    id: str = Field(examples=[EXAMPLE_REWARD_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    kind: RewardKind | None
    reason: str = Field(examples=["Đạt giải Nhất cuộc thi Olympic Toán cấp quận"])
    awarded_on: str = Field(examples=["2025-11-20"])
    recorded_at: datetime


class RewardList(_Response):
    items: list[Reward]


# Clubs


class Club(_Response):
    """Câu lạc bộ của trường / A club of a school."""

    id: str = Field(examples=[EXAMPLE_CLUB_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    name: str = Field(examples=["CLB Robotics"])
    description: str = Field(examples=["Lắp ráp và lập trình robot, thi đấu cấp quận"])
    adviser_subject: str = Field(
        description="Tài khoản của giáo viên phụ trách / the adviser's account", examples=[EXAMPLE_SUBJECT]
    )
    capacity: int = Field(description="Số thành viên tối đa; 0: không giới hạn / at most; 0: no limit")
    member_count: int = Field(description="Số thành viên đã duyệt / approved members", examples=[12])


class ClubList(_Response):
    items: list[Club]


class ClubMembership(_Response):
    """Việc học sinh tham gia câu lạc bộ, hoặc đề nghị tham gia / A student's membership of a club, or the
    request for it."""

    id: str = Field(examples=[EXAMPLE_CLUB_MEMBERSHIP_ID])
    club_id: str = Field(examples=[EXAMPLE_CLUB_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    student_name: str = Field(examples=["Nguyễn Văn An"])
    state: MembershipState | None = Field(
        description="`pending`: chờ duyệt; `approved`: là thành viên; `refused`: bị từ chối (xem "
        "`decision_reason`) / `pending`: waiting; `approved`: a member; `refused` (see `decision_reason`)"
    )
    decision_reason: str | None = Field(description="Lý do từ chối / why it was refused")
    sessions_attended: int = Field(
        description="Số buổi sinh hoạt đã tham gia / sessions the student took part in", examples=[3]
    )
    requested_at: datetime


class ClubMembers(_Response):
    """Câu lạc bộ, thành viên và đề nghị đang chờ / The club, its members and pending requests."""

    club: Club
    items: list[ClubMembership]


class ClubSession(_Response):
    """Buổi sinh hoạt câu lạc bộ / A club session."""

    id: str = Field(examples=[EXAMPLE_CLUB_SESSION_ID])
    club_id: str = Field(examples=[EXAMPLE_CLUB_ID])
    held_on: str = Field(examples=["2025-11-22"])
    topic: str = Field(examples=["Lập trình cảm biến siêu âm"])
    present_student_ids: list[str] = Field(examples=[[EXAMPLE_STUDENT_ID]])


class StudentClub(_Response):
    """Một câu lạc bộ nhìn từ phía học sinh / A club as seen from one student."""

    club: Club
    membership: ClubMembership


class StudentClubList(_Response):
    items: list[StudentClub]


# Gradebook


class Subject(_Response):
    """Một môn học hoặc hoạt động giáo dục của chương trình 2018 ở một khối lớp / A subject or educational
    activity of the 2018 curriculum for a grade."""

    code: str = Field(examples=["TOAN"])
    name: str = Field(examples=["Toán"])
    name_en: str = Field(examples=["Mathematics"])
    evaluation: EvaluationKind | None = Field(
        description="`scored`: điểm 10; `comment`: nhận xét Đạt/Chưa đạt; `rated`: tiểu học T/H/C / "
        "`scored`: a 10-point score; `comment`: Đạt / Chưa đạt; `rated`: primary T / H / C"
    )
    periods_per_year: int = Field(examples=[140])
    regular_assessments: int = Field(
        description="Số điểm thường xuyên mỗi học kì (THCS, THPT): 2, 3 hoặc 4 / regular assessments a "
        "semester (secondary): 2, 3 or 4",
        examples=[4],
    )
    tested: bool = Field(description="Tiểu học: có bài kiểm tra định kì / primary: periodic tests")
    mid_tested: bool = Field(
        description="Tiểu học lớp 4–5: cả kiểm tra giữa kì / primary 4-5: also mid-semester"
    )
    elective: bool = Field(description="THPT: môn lựa chọn / upper secondary: an elective")


class SubjectList(_Response):
    items: list[Subject]


class SchoolYear(_Response):
    """Năm học của trường: các học kì và học kì đã khóa sổ / A school's school year: its semesters and which
    are locked."""

    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    name: str = Field(examples=["2025-2026"])
    semester_1_start: str | None = Field(
        description="null khi chưa khai báo các mốc học kì / null until the dates are defined",
        examples=["2025-09-05"],
    )
    semester_1_end: str | None = Field(examples=["2026-01-10"])
    semester_2_start: str | None = Field(examples=["2026-01-12"])
    semester_2_end: str | None = Field(examples=["2026-05-25"])
    locked_semesters: list[int] = Field(description="Học kì đã khóa sổ / locked semesters", examples=[[1]])


class SchoolYearList(_Response):
    items: list[SchoolYear]


class EntryCounts(_Response):
    """Kết quả ghi; gửi lại cùng nội dung không ghi gì / What was written; sending the same again writes
    nothing."""

    written: int = Field(
        description="Giá trị mới hoặc đã đổi (kể cả đã xóa) / values new or changed (cleared included)",
        examples=[32],
    )
    unchanged: int = Field(description="Giá trị đã đúng như vậy / values already as recorded", examples=[0])


class GradebookCell(_Response):
    kind: AssessmentKind | None
    ordinal: int = Field(examples=[1])
    value: str = Field(
        description="Dạng chuẩn / canonical: `8.5`, `D`/`CD`, `T`/`H`/`C`, `9`", examples=["8.5"]
    )
    display: str = Field(description="Như in trên sổ / as printed: `8,5`, `Đ`/`CĐ`", examples=["8,5"])


class GradebookRow(_Response):
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    cells: list[GradebookCell]
    result: str | None = Field(
        description="Điểm trung bình hoặc kết quả học kì như in (`8,3`, `Đ`, `T`); null khi còn thiếu / the "
        "semester's average or result as printed; null while incomplete",
        examples=["8,3"],
    )
    missing: list[str] = Field(
        description="Còn thiếu / still to be entered", examples=[["REGULAR 3", "END_TERM"]]
    )


class Gradebook(_Response):
    """Sổ điểm một môn của lớp trong một học kì; không xếp hạng / One subject's gradebook for a class and
    semester; no ranking."""

    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    subject: Subject
    semester: int = Field(examples=[1])
    locked: bool = Field(description="Học kì đã khóa sổ / the semester is locked")
    rows: list[GradebookRow]


class GradeChange(_Response):
    """Đề nghị sửa điểm sau khóa sổ và dấu vết của nó / A change after the lock and its trail."""

    id: str = Field(examples=[EXAMPLE_GRADE_CHANGE_ID])
    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    subject_code: str = Field(examples=["TOAN"])
    school_year: str = Field(examples=["2025-2026"])
    semester: int = Field(examples=[1])
    kind: AssessmentKind | None
    ordinal: int = Field(examples=[1])
    old_value: str | None = Field(
        description="Dạng chuẩn; null khi chưa có / canonical; null when none", examples=["6"]
    )
    new_value: str = Field(examples=["7"])
    reason: str = Field(examples=["Cộng nhầm điểm bài cuối kì"])
    state: GradeChangeState | None
    requested_by: str = Field(
        description="Tài khoản người đề nghị / the requester's account", examples=[EXAMPLE_SUBJECT]
    )
    requested_at: datetime
    decided_by: str | None = Field(description="Tài khoản hiệu trưởng đã quyết định / the decider's account")
    decided_at: datetime | None
    decision_note: str | None


class GradeChangeList(_Response):
    items: list[GradeChange]


class Explanation(_Response):
    """Quy tắc nào quyết định kết quả và vì môn nào / Which rule decided a result, and because of which
    subjects."""

    rule: str = Field(examples=["KHA"])
    vi: str = Field(examples=["Khá vì môn Ngữ văn có điểm trung bình 6,0 (dưới 6,5)"])
    en: str = Field(examples=["Khá because Ngữ văn averages 6.0 (below 6.5)"])
    subjects: list[str] = Field(examples=[["Ngữ văn"]])


class SubjectResult(_Response):
    subject_code: str = Field(examples=["TOAN"])
    subject_name: str = Field(examples=["Toán"])
    value: str | None = Field(
        description="Dạng chuẩn; null khi còn thiếu / canonical; null while incomplete", examples=["8.3"]
    )
    display: str | None = Field(description="Như in / as printed", examples=["8,3"])
    missing: list[str] = Field(examples=[[]])
    test_score: int | None = Field(
        description="Tiểu học: điểm kiểm tra định kì; null khi không có / primary: the periodic test; null "
        "when none"
    )


class TermResult(_Response):
    """Kết quả một học kì hoặc cả năm. Không bao giờ có xếp hạng hay so sánh với học sinh khác. Phụ huynh chỉ
    thấy kết quả học tập, rèn luyện, lên lớp, khen thưởng khi nhà trường đã công bố (`published`); trước đó
    các trường này là null / A semester's or the year's results. Never a rank or a comparison with other
    students. Guardians see learning, conduct, promotion and award once the school has published them; null
    before."""

    term: Term
    subjects: list[SubjectResult]
    learning: LearningLevel | None = Field(
        description="THCS, THPT: kết quả học tập / secondary: learning result"
    )
    learning_explanation: Explanation | None
    conduct: LearningLevel | None = Field(description="THCS, THPT: kết quả rèn luyện / secondary: conduct")
    conduct_explanation: Explanation | None
    promotion: Promotion | None = Field(
        description="Cả năm: lên lớp, kiểm tra lại/rèn luyện hè, ở lại lớp; null khi chưa biết số buổi nghỉ "
        "/ the year: promoted, re-test, repeat; null until absences are known"
    )
    promotion_explanation: Explanation | None
    award: Award | None = Field(description="Cả năm: Học sinh Xuất sắc, Giỏi, không / the year's award")
    award_explanation: Explanation | None
    primary_result: PrimaryResult | None = Field(description="Tiểu học, cả năm / primary, the year")
    primary_explanation: Explanation | None
    incomplete: list[str] = Field(
        description="Môn (hoặc Rèn luyện) còn thiếu giá trị / subjects (or conduct) still missing values"
    )
    absent_sessions: int | None = Field(
        description="Cả năm: số buổi nghỉ; null khi điểm danh chưa cho biết / the year: sessions absent; "
        "null while attendance cannot say"
    )
    published: bool = Field(description="Đã công bố cho gia đình / published to families")


class StudentResults(_Response):
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    school_year: str = Field(examples=["2025-2026"])
    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    grade: int = Field(examples=[6])
    terms: list[TermResult]


class ResultsPublication(_Response):
    published_at: datetime = Field(description="Lần công bố đầu tiên / when first published")
    students: int = Field(description="Số học sinh của lớp / students of the class", examples=[32])


class StudentImportRow(_Response):
    """Kết quả một dòng của tệp; không có dữ liệu cá nhân / One row of the file; no personal data."""

    row: int = Field(description="Số dòng trong trang tính (từ 1) / 1-based sheet row", examples=[3])
    outcome: RowOutcome | None
    student_id: str | None = Field(examples=[EXAMPLE_STUDENT_ID])
    student_code: str | None = Field(
        description="Mã học sinh của CSDL ngành / sector code", examples=["0123456789"]
    )
    temporary_key: str | None = Field(
        description="Khóa tạm khi tệp chưa có mã học sinh / the temporary key of a student without a code "
        "yet",
        examples=["TAM-3F9A1C2B7E04"],
    )
    column: str | None = Field(
        description="Bị từ chối: cột như tệp ghi / refused: the column as the file spells it",
        examples=["Ngày sinh"],
    )
    reason: str | None = Field(examples=["INVALID_DATE"])
    message: str | None = Field(examples=["Ngày sinh không hợp lệ / invalid date of birth"])


class StudentListImportReport(_Response):
    """Kết quả nhập danh sách học sinh C1-HocSinh; nhập lại cùng tệp không thay đổi gì / The C1-HocSinh import
    report; importing the same file again changes nothing."""

    dry_run: bool = Field(description="Chỉ báo trước, chưa ghi gì / a preview: nothing was written")
    created: int
    updated: int
    unchanged: int
    refused: int
    rows: list[StudentImportRow]
    ignored_headers: list[str] = Field(
        description="Tiêu đề cột không được đọc / header cells the import does not read",
        examples=[["Quốc tịch", "Tôn giáo"]],
    )


class Transcript(_Response):
    """Một phiên bản học bạ số (thông tin; tệp PDF/XML lấy riêng) / One version of a digital transcript (its
    metadata; the PDF and XML documents are fetched apart)."""

    id: str = Field(examples=[EXAMPLE_TRANSCRIPT_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    school_year: str = Field(examples=["2025-2026"])
    version: int = Field(examples=[1])
    supersedes_id: str | None = Field(description="Phiên bản được thay thế / the version this one replaces")
    digest: str = Field(description="SHA-256 (hex) của nội dung / of the canonical content")
    verification_code: str = Field(
        description="Mã xác thực in cạnh mã QR, để người nhận học bạ kiểm tra tại "
        "`/v1/public/transcripts/{tenant}/{id}?code=…` / the code printed beside the QR code, for whoever "
        "receives the transcript to check it",
        examples=["K7M2Q9XP4R"],
    )
    issued_by: str = Field(
        description="Tài khoản người cấp / the issuer's account", examples=[EXAMPLE_SUBJECT]
    )
    issued_at: datetime
    superseded_at: datetime | None = Field(
        description="null khi là phiên bản hiện hành / null while this version is the current one"
    )
    correction_reason: str | None = Field(
        description="Lý do đính chính; null ở phiên bản 1 / null for version 1"
    )


class TranscriptList(_Response):
    items: list[Transcript] = Field(
        description="Năm học mới nhất trước, rồi phiên bản mới nhất trước / newest school year first, then "
        "newest version first"
    )


class TranscriptIssueRow(_Response):
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    student_name: str = Field(examples=["Nguyễn Văn An"])
    outcome: TranscriptIssueOutcome | None
    transcript_id: str | None = Field(
        description="Học bạ mới (`issued`) hoặc đã có (`already_issued`) / the new or the existing transcript"
    )
    missing: list[str] = Field(
        description="`results_incomplete`: còn thiếu gì / what is missing", examples=[["HK I: Toán"]]
    )


class TranscriptIssueReport(_Response):
    """Kết quả cấp học bạ cho từng học sinh của lớp / What issuing did for each student of the class."""

    issued: int = Field(examples=[31])
    students: list[TranscriptIssueRow]


class TranscriptVerification(_Response):
    """Kết quả xác thực công khai: chỉ tính hợp lệ, phiên bản, trường, năm học, ngày cấp và họ tên học sinh,
    không bao giờ có điểm / The public verification: validity, version, school, year, issue date and the
    student's name only, never a result."""

    valid: bool = Field(
        description="Chữ ký của cả PDF và XML hợp lệ và nội dung khớp / both documents' signatures verify "
        "and the content digest matches"
    )
    pdf_valid: bool
    xml_valid: bool
    digest_matches: bool
    version: int = Field(examples=[1])
    superseded: bool = Field(description="Đã có phiên bản mới hơn / a later version replaces this one")
    school_name: str = Field(examples=["Trường THCS Lê Quý Đôn"])
    school_year: str = Field(examples=["2025-2026"])
    issued_on: str = Field(description="Ngày cấp / issue date (YYYY-MM-DD)", examples=["2026-06-01"])
    student_name: str = Field(examples=["Nguyễn Văn An"])


class Movement(_Response):
    """Một lần chuyển lớp hoặc chuyển trường và dấu vết của nó / A move or transfer and its trail."""

    id: str = Field(examples=[EXAMPLE_MOVEMENT_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    kind: MovementKind | None
    state: MovementState | None
    school_year: str = Field(examples=["2025-2026"])
    from_school_id: str | None = Field(
        description="null khi học sinh đến từ ngoài đơn vị (`transfer_in`) / null for an arrival from "
        "outside the tenant (`transfer_in`)",
        examples=[EXAMPLE_SCHOOL_ID],
    )
    from_class_id: str | None = Field(
        description="null khi học sinh đến từ ngoài đơn vị / null for an arrival from outside the tenant",
        examples=[EXAMPLE_CLASS_ID],
    )
    to_school_id: str | None = Field(
        description="null khi học sinh chuyển ra ngoài đơn vị (`transfer_out`) / null for a departure from "
        "the tenant (`transfer_out`)",
        examples=[EXAMPLE_SCHOOL_ID],
    )
    to_class_id: str | None = Field(
        description="null khi yêu cầu chuyển trường đang chờ hoặc bị từ chối, hoặc khi học sinh chuyển ra "
        "ngoài đơn vị / null while a transfer is pending or once refused, and for a departure from the tenant"
    )
    counterpart: str | None = Field(
        description="Ngoài đơn vị: nơi học sinh chuyển đến (`transfer_out`) hoặc trường chuyển đi "
        "(`transfer_in`, như hồ sơ ghi); null trong đơn vị / outside the tenant: where the student went "
        "(`transfer_out`) or the sending school (`transfer_in`, as the package names it); null inside the "
        "tenant",
        examples=["Trường THCS Nguyễn Du, TP. Hồ Chí Minh"],
    )
    effective_on: str = Field(description="YYYY-MM-DD", examples=["2025-11-24"])
    reason: str = Field(examples=["Theo nguyện vọng của gia đình"])
    requested_by: str = Field(
        description="Tài khoản người đề nghị / the requester's account", examples=[EXAMPLE_SUBJECT]
    )
    requested_at: datetime
    decided_by: str | None = Field(description="Tài khoản người quyết định / the decider's account")
    decided_at: datetime | None
    decision_note: str | None


class MovementList(_Response):
    items: list[Movement] = Field(description="Mới nhất trước, tối đa 500 / newest first, at most 500")


class Arrival(_Response):
    """Học sinh được tiếp nhận từ ngoài đơn vị với hồ sơ đã ký: học sinh mới trong lớp và lần chuyển đến /
    A student admitted from outside the tenant with a signed record package: the new student in the class and
    the arrival."""

    student: Student
    movement: Movement


class ReceivedRecord(_Response):
    """Hồ sơ chuyển trường học sinh mang đến (thông tin; tệp XML lấy riêng) / A record package the student
    arrived with (its metadata; the XML is fetched apart)."""

    id: str = Field(examples=[EXAMPLE_RECEIVED_RECORD_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    from_school: str = Field(
        description="Trường chuyển đi, như hồ sơ ghi / the sending school, as the package names it",
        examples=["Trường THCS Nguyễn Du, TP. Hồ Chí Minh"],
    )
    verified: bool = Field(
        description="Chữ ký của trường chuyển đi đã được xác thực khi tiếp nhận / the sending school's "
        "signature verified against the platform's trust roots on arrival"
    )
    received_at: datetime
    size_bytes: int = Field(description="Kích thước tệp XML / the package's size in bytes", examples=[48213])


class ReceivedRecordList(_Response):
    items: list[ReceivedRecord] = Field(description="Cũ nhất trước / oldest first")


class Diploma(_Response):
    """Một dòng của sổ gốc cấp văn bằng / One entry of the register of diplomas and certificates."""

    id: str = Field(examples=[EXAMPLE_DIPLOMA_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    school_id: str = Field(description="Trường cấp / the issuing school", examples=[EXAMPLE_SCHOOL_ID])
    kind: DiplomaKind | None
    status: DiplomaStatus | None
    graduation_year: int = Field(examples=[2026])
    classification: DiplomaClassification | None
    register_number: str = Field(description="Số vào sổ / register number", examples=["125/2026"])
    serial_number: str = Field(description="Số hiệu / serial number", examples=["B 0012345"])
    holder_name: str = Field(
        description="Họ tên như in trên văn bằng / as printed", examples=["Nguyễn Văn An"]
    )
    holder_date_of_birth: str = Field(
        description="Ngày sinh như in trên văn bằng (YYYY-MM-DD) / as printed", examples=["2008-09-05"]
    )
    issued_on: str = Field(description="Ngày cấp / issue date (YYYY-MM-DD)", examples=["2026-07-20"])
    signer_name: str = Field(examples=["Nguyễn Văn Hải"])
    signer_title: str = Field(examples=["Giám đốc Sở Giáo dục và Đào tạo"])
    verification_code: str = Field(
        description="Mã xác thực, cùng số hiệu, để người nhận kiểm tra tại "
        "`/v1/public/diplomas/{tenant}/{serial_number}?code=…` / the code the holder gives, with the serial "
        "number, to whoever should check the document",
        examples=["K7M2Q9XP4R"],
    )
    supersedes_id: str | None = Field(description="Dòng được đính chính / the entry this one corrects")
    correction_reason: str | None
    issued_by: str = Field(
        description="Tài khoản người vào sổ / the account that entered it", examples=[EXAMPLE_SUBJECT]
    )
    issued_at: datetime
    corrected_at: datetime | None = Field(
        description="Khi một bản đính chính thay dòng này / when a corrected entry replaced this one"
    )
    revoked_by: str | None
    revoked_at: datetime | None
    revocation_reason: str | None


class DiplomaList(_Response):
    items: list[Diploma]


class DiplomaVerification(_Response):
    """Kết quả xác thực công khai: chỉ tình trạng, loại, trường, năm tốt nghiệp và họ tên người được cấp /
    The public verification: status, kind, school, graduation year and the holder's name only."""

    status: DiplomaStatus | None = Field(
        description="`valid` còn hiệu lực; `corrected` đã được thay bằng bản đính chính; `revoked` đã bị thu "
        "hồi / `valid`; `corrected`: replaced by a corrected entry; `revoked`"
    )
    kind: DiplomaKind | None
    school_name: str = Field(examples=["Trường THPT Chuyên Lê Hồng Phong"])
    graduation_year: int = Field(examples=[2026])
    holder_name: str = Field(examples=["Nguyễn Văn An"])


# Attendance


class SchoolCalendar(_Response):
    """Cách trường tổ chức buổi học để điểm danh / How a school runs its days for attendance."""

    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    sessions: list[Session] = Field(examples=[["morning", "afternoon"]])
    weekdays: list[int] = Field(
        description="1 thứ Hai … 7 Chủ nhật / 1 Monday … 7 Sunday", examples=[[1, 2, 3, 4, 5]]
    )
    main_session: Session | None = Field(
        description="Buổi tính chuyên cần (45 buổi) / the session counted for the 45-session rule"
    )
    morning_cutoff: str = Field(examples=["10:00"])
    afternoon_cutoff: str = Field(examples=["16:00"])
    afternoon_starts: str = Field(examples=["12:00"])
    closed_dates: list[str] = Field(examples=[["2026-01-01"]])
    absence_warning_at: int = Field(examples=[35])
    configured: bool = Field(
        description="false khi trường chưa cấu hình (đây là giá trị mặc định) / false while the school has "
        "not configured its calendar (these are the defaults)"
    )


class RegisterLine(_Response):
    """Một học sinh của sổ điểm danh / One student of a register."""

    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    status: AttendanceStatus | None = Field(description="null khi chưa điểm danh / null while not marked")
    note: str | None
    leave_request_id: str | None = Field(
        description="Đơn xin nghỉ đã duyệt cho buổi này / an approved leave covering this session",
        examples=[EXAMPLE_LEAVE_ID],
    )
    checked_in_at: datetime | None = Field(
        description="Lần quẹt thẻ đầu tiên ở cổng trong buổi / the session's first gate check-in"
    )
    marked_at: datetime | None
    marked_by: str | None = Field(
        description="Tài khoản điểm danh gần nhất; `leave` khi đơn nghỉ đã duyệt ghi / who marked last "
        "(account); `leave` when an approved leave marked it",
        examples=[EXAMPLE_SUBJECT],
    )


class Register(_Response):
    """Sổ điểm danh của lớp cho một ngày và một buổi / A class's register for one date and session."""

    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    class_name: str = Field(examples=["6A1"])
    date: str = Field(examples=["2025-11-24"])
    session: Session | None
    school_year: str = Field(examples=["2025-2026"])
    lines: list[RegisterLine]
    present: int
    absent_excused: int
    absent_unexcused: int
    late: int
    left_early: int
    unmarked: int
    cutoff_at: datetime | None = Field(
        description="Từ lúc này sửa điểm danh phải có lý do / from when changes need a reason"
    )


class MarkResult(Register):
    """Sổ điểm danh sau khi ghi, và những gì đã ghi / The register once marked, and what marking wrote."""

    changed: int = Field(
        description="Số dòng đã ghi: 0 khi mọi điểm danh đã như vậy / marks written: 0 when everything was "
        "already recorded as given",
        examples=[3],
    )
    after_cutoff: bool = Field(
        description="Thay đổi sau giờ chốt (đã ghi kèm lý do) / the changes came after the cut-off (recorded "
        "with the reason)"
    )


class RegisterChange(_Response):
    """Một lần sửa điểm danh sau giờ chốt / One mark changed after the cut-off."""

    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    date: str = Field(examples=["2025-11-24"])
    session: Session | None
    previous_status: AttendanceStatus | None
    status: AttendanceStatus | None
    reason: str = Field(examples=["Học sinh đến muộn có giấy xác nhận của phòng y tế"])
    changed_by: str = Field(examples=[EXAMPLE_SUBJECT])
    changed_at: datetime


class RegisterChangeList(_Response):
    items: list[RegisterChange]


class StudentAttendanceDay(_Response):
    """Điểm danh của học sinh ở một buổi / A student's mark at one session."""

    date: str = Field(examples=["2025-11-24"])
    session: Session | None
    status: AttendanceStatus | None
    note: str | None


class StudentAttendance(_Response):
    items: list[StudentAttendanceDay] = Field(description="Theo thứ tự ngày, buổi / by date and session")


class AbsenceSummary(_Response):
    """Số buổi nghỉ của học sinh trong năm học (Thông tư 22/2021, điều 12: nghỉ quá 45 buổi không được lên
    lớp) / A student's absences in a school year (Circular 22/2021, art. 12: more than 45 and the student is
    not promoted)."""

    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    school_year: str = Field(examples=["2025-2026"])
    absent_sessions: int = Field(
        description="Số buổi nghỉ tính lên lớp: có phép và không phép, theo kế hoạch một buổi/ngày / "
        "sessions counted for promotion: excused and unexcused, on a one-session-a-day plan",
        examples=[12],
    )
    excused: int = Field(examples=[9])
    unexcused: int = Field(examples=[3])
    limit: int = Field(examples=[45])
    warning_at: int = Field(examples=[35])
    level: AbsenceLevel | None = Field(
        description="`ok`; `approaching` từ ngưỡng cảnh báo; `at_limit` đúng 45 (nghỉ thêm một buổi là không "
        "được lên lớp); `over` quá 45 (rèn luyện trong hè) / `ok`; `approaching` from the warning threshold; "
        "`at_limit` exactly 45; `over` more than 45 (summer re-training)"
    )
    late: int = Field(description="Số buổi đi muộn (không tính nghỉ) / sessions late (not absences)")
    left_early: int = Field(description="Số buổi về sớm / sessions left early")


class ClassAbsenceSummaries(_Response):
    school_year: str = Field(examples=["2025-2026"])
    items: list[AbsenceSummary]


class LeaveRequest(_Response):
    """Đơn xin nghỉ học / A leave request."""

    id: str = Field(examples=[EXAMPLE_LEAVE_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    from_date: str = Field(examples=["2025-11-24"])
    to_date: str = Field(examples=["2025-11-25"])
    sessions: list[Session] = Field(examples=[["morning", "afternoon"]])
    reason: str = Field(examples=["Cháu bị sốt, gia đình xin cho cháu nghỉ để đi khám"])
    status: LeaveStatus | None
    session_count: int = Field(description="Số buổi học đơn xin nghỉ / school sessions covered", examples=[4])
    requested_by: str = Field(examples=[EXAMPLE_SUBJECT])
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class LeaveRequestPage(Page):
    items: list[LeaveRequest] = Field(description="Mới nhất trước / newest first")


class LeaveDecisionResult(_Response):
    leave: LeaveRequest
    marked: int = Field(
        description="Số buổi được ghi vắng có phép khi duyệt / register marks an approval wrote", examples=[4]
    )


class GateDevice(_Response):
    """Thiết bị điểm danh ở cổng trường / A check-in terminal of a school."""

    id: str = Field(examples=[EXAMPLE_DEVICE_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    name: str = Field(examples=["Cổng chính - làn 1"])
    kind: GateDeviceKind | None
    client_id: str = Field(
        description="OAuth client của thiết bị (client credentials) / the device's OAuth client (client "
        "credentials grant)",
        examples=["gate-0193a4c2-5f60-7172-8384-95a6b7c8d9ea"],
    )
    enabled: bool
    registered_at: datetime
    last_seen_at: datetime | None


class GateDeviceRegistration(_Response):
    """Thiết bị mới và thông tin đăng nhập của nó; `client_secret` chỉ hiện một lần / The new device and its
    credentials; `client_secret` is shown this once."""

    device: GateDevice
    client_secret: str = Field(
        description="Bí mật của client, chỉ trả về lần này: cài vào thiết bị, không lưu ở nơi khác / the "
        "client secret, returned this once: put it on the device, keep it nowhere else"
    )
    token_endpoint: str = Field(
        description="Nơi thiết bị lấy mã truy cập (OAuth 2.0 client credentials) / where the device gets "
        "access tokens (OAuth 2.0 client credentials)",
        examples=["https://id.school.example/realms/tenant-demo/protocol/openid-connect/token"],
    )


class GateDeviceList(_Response):
    items: list[GateDevice]


class GateCredential(_Response):
    """Thẻ (hoặc mã người) và học sinh mang nó / A card (or person code) and its student."""

    credential: str = Field(examples=["04:A2:3B:1C:5D:80"])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])


class TapResult(_Response):
    """Kết quả một lần đọc, theo thứ tự gửi / The outcome of one read, in the order sent."""

    tap_id: str = Field(examples=["lane1-000184532"])
    outcome: TapOutcome | None = Field(
        description="`checked_in` lần đầu của học sinh trong buổi; `merged` gộp vào lần điểm danh của buổi "
        "(quẹt lại, hoặc gửi lại); `unknown_credential` không học sinh nào của trường có thẻ này; "
        "`other_school` thẻ của học sinh trường khác; `outside_school_time` không phải ngày/buổi học, hoặc ở "
        "tương lai / `checked_in`: the student's first read of the session; `merged`: merged into the "
        "session's check-in (a repeat, or a re-sent read); `unknown_credential`: no student of the device's "
        "school has it; `other_school`: another school's student; `outside_school_time`: not a school day or "
        "session, or in the future"
    )
    student_id: str | None = Field(
        description="Với `checked_in` và `merged` / for `checked_in` and `merged`",
        examples=[EXAMPLE_STUDENT_ID],
    )
    date: str | None = Field(examples=["2025-11-24"])
    session: Session | None


class CheckInResults(_Response):
    """Kết quả từng lần đọc và tổng số / Each read's outcome, and the counts."""

    checked_in: int = Field(examples=[1])
    merged: int = Field(examples=[0])
    rejected: int = Field(
        description="`unknown_credential`, `other_school`, `outside_school_time`", examples=[0]
    )
    results: list[TapResult]


class ReconciliationLine(_Response):
    """Một học sinh: cổng trường và sổ điểm danh / One student: the gate and the register."""

    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    status: AttendanceStatus | None = Field(description="null khi chưa điểm danh / null while not marked")
    checked_in_at: datetime | None
    flag: ReconciliationFlag | None = Field(
        description="`absent_in_class` đã vào cổng nhưng vắng trong lớp; `not_marked` đã vào cổng, chưa điểm "
        "danh; `no_check_in` có mặt nhưng không quẹt thẻ (để biết: quên thẻ); null khi khớp / "
        "`absent_in_class`: checked in at the gate but absent in class; `not_marked`: checked in, not yet "
        "marked; `no_check_in`: present without a check-in (informational: a forgotten card); null when they "
        "agree"
    )


class GateReconciliation(_Response):
    flagged: int = Field(
        description="Số dòng `absent_in_class` / lines flagged `absent_in_class`", examples=[1]
    )
    lines: list[ReconciliationLine]


# Semi-boarding (bán trú)


class Kitchen(_Response):
    name: str = Field(examples=["Bếp khu A"])
    class_ids: list[str] = Field(examples=[[EXAMPLE_CLASS_ID]])


class BoardingSettings(_Response):
    """Điều kiện bán trú của trường, công bố cho gia đình / A school's published semi-boarding terms."""

    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    meal_cutoff: str = Field(examples=["09:00"])
    lunch_price: int = Field(examples=[30000])
    breakfast_price: int = Field(examples=[15000])
    nap_care_monthly_fee: int = Field(examples=[320000])
    meal_refund: MealRefundPolicy | None
    care_refund: CareRefundPolicy | None
    kitchens: list[Kitchen]
    policy_text: str
    configured: bool = Field(
        description="false khi trường chưa cấu hình / false while the school has not configured them"
    )


class BoardingRegistration(_Response):
    """Đăng ký bán trú của học sinh cho một tháng / A student's semi-boarding for a month."""

    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    month: str = Field(examples=["2025-12"])
    lunch: bool
    breakfast: bool
    nap_care: bool
    effective_date: str = Field(
        description="Ngày học đầu tiên được tính: ngày học đầu tháng, hoặc ngày học đầu tiên chưa chốt "
        "suất / the first school day it counts from: the month's first school day, or the first one not yet "
        "frozen",
        examples=["2025-12-01"],
    )
    registered_by: str = Field(examples=[EXAMPLE_SUBJECT])
    registered_at: datetime


class BoardingRegistrationList(_Response):
    items: list[BoardingRegistration]


class KitchenCount(_Response):
    """Suất ăn của một bếp trong ngày / One kitchen's meals for a date."""

    kitchen: str = Field(examples=["Bếp khu A"])
    lunch: int = Field(examples=[412])
    breakfast: int = Field(examples=[120])
    lunch_absent: int = Field(
        description="Đã đăng ký nhưng không tính (vắng, nghỉ phép biết trước giờ chốt) / registered but left "
        "out (absence or leave known before the count)",
        examples=[9],
    )
    breakfast_absent: int = Field(examples=[2])


class MealCount(_Response):
    """Số suất ăn của trường trong ngày, theo bếp: cập nhật đến giờ chốt, cố định từ đó / A school's meal
    count for a date, per kitchen: live until the cut-off, frozen from it."""

    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    date: str = Field(examples=["2025-11-24"])
    frozen: bool
    cutoff_at: datetime | None
    frozen_at: datetime | None
    kitchens: list[KitchenCount]


class MenuItem(_Response):
    meal: Meal | None
    dishes: list[str] = Field(examples=[["Cơm trắng", "Cá kho tộ", "Canh bí đỏ"]])


class Menu(_Response):
    """Thực đơn một ngày / A date's menu."""

    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    date: str = Field(examples=["2025-11-24"])
    items: list[MenuItem]
    published_at: datetime | None


class MenuList(_Response):
    items: list[Menu]


class MealAttendanceEntry(_Response):
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    ate: bool


class MealAttendance(_Response):
    """Ai trong lớp đã ăn một bữa / Who of a class ate a meal."""

    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    date: str = Field(examples=["2025-11-24"])
    meal: Meal
    entries: list[MealAttendanceEntry] = Field(
        description="Học sinh đã đăng ký: như đã ghi, nếu không thì như số suất đã chốt / the registered "
        "students: as recorded, else as the frozen count implied"
    )


class FoodSample(_Response):
    """Một dòng sổ lưu mẫu thức ăn / An entry of the food-sample retention log."""

    id: str = Field(examples=[EXAMPLE_FOOD_SAMPLE_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    date: str = Field(examples=["2025-11-24"])
    meal: Meal | None
    dishes: list[str] = Field(examples=[["Cá kho tộ", "Canh bí đỏ"]])
    sampled_at: datetime
    keep_until: datetime = Field(description="`sampled_at` + 24 giờ / `sampled_at` + 24 hours")
    discarded_at: datetime | None
    recorded_by: str = Field(examples=[EXAMPLE_SUBJECT])
    discarded_by: str | None
    storage: str | None = Field(examples=["Tủ mẫu số 1, 2–8 °C"])


class FoodSampleList(_Response):
    items: list[FoodSample]


class ChargeLine(_Response):
    """Một khoản của tháng / One item of a student's month."""

    kind: ChargeKind | None
    quantity: int = Field(
        description="Số ngày đã đăng ký (bữa ăn) hoặc 1 (chăm sóc) / days registered (meals) or 1 (care)",
        examples=[20],
    )
    unit_price: int = Field(examples=[30000])
    gross_amount: int = Field(examples=[600000])
    refunded_days: int = Field(description="Số ngày được hoàn / days refunded", examples=[2])
    refund_amount: int = Field(examples=[60000])
    amount: int = Field(examples=[540000])


class BoardingCharge(_Response):
    """Tiền ăn và chăm sóc bán trú của học sinh trong tháng (đồng) / A student's meal and care charges for a
    month (đồng)."""

    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    month: str = Field(examples=["2025-11"])
    lines: list[ChargeLine]
    total: int = Field(examples=[860000])
    version: int = Field(description="Phiên bản đã công bố / the published version", examples=[1])


class BoardingChargeList(_Response):
    items: list[BoardingCharge]


class BoardingChargeRun(_Response):
    """Kết quả tính tiền bán trú một tháng của trường / A school month's computed charges."""

    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    month: str = Field(examples=["2025-11"])
    version: int = Field(examples=[1])
    changed: bool = Field(
        description="false khi kết quả như lần đã công bố (không công bố lại) / false when the charges were "
        "as already published (nothing was published again)"
    )
    total: int = Field(examples=[412000000])
    charges: list[BoardingCharge]

"""Request dependencies, in the order a route declares them: the caller (token verified, rate limited),
path ids, the idempotency key, the backends."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from school_common.auth import TokenVerifier
from school_common.context import Principal
from school_common.errors import DomainError, bilingual

from gateway.access import EdgeAccess
from gateway.clients import Backends
from gateway.middleware import client_ip
from gateway.problems import ProblemError, from_domain_error, missing_field
from gateway.ratelimit import TokenBucketLimiter, retry_after
from gateway.schemas import (
    EXAMPLE_CLASS_ID,
    EXAMPLE_CLUB_ID,
    EXAMPLE_CLUB_MEMBERSHIP_ID,
    EXAMPLE_DEVICE_ID,
    EXAMPLE_DIPLOMA_ID,
    EXAMPLE_FOOD_SAMPLE_ID,
    EXAMPLE_GRADE_CHANGE_ID,
    EXAMPLE_LEAVE_ID,
    EXAMPLE_LINK_REQUEST_ID,
    EXAMPLE_MOVEMENT_ID,
    EXAMPLE_RECEIVED_RECORD_ID,
    EXAMPLE_SCHOOL_ID,
    EXAMPLE_STUDENT_ID,
    EXAMPLE_TRANSCRIPT_ID,
    EXAMPLE_VIOLATION_ID,
    GATE_CREDENTIAL_PATTERN,
    PURPOSE_RE,
    SCHOOL_YEAR_PATTERN,
    SUBJECT_CODE_RE,
    UUID_RE,
    CalendarDate,
    Meal,
    Month,
    Session,
    Term,
)

BEARER_DESCRIPTION = (
    "Mã truy cập OpenID Connect (JWT) do realm Keycloak của đơn vị cấp: "
    "`<issuer>/realms/tenant-<đơn vị>`; đơn vị (tenant) của yêu cầu là realm đã cấp mã. / "
    "OpenID Connect access token (JWT) issued by the tenant's Keycloak realm "
    "`<issuer>/realms/tenant-<tenant>`, audience `school-api`; the tenant of a request is the realm "
    "that issued its token. Mã của quản trị nền tảng (realm `platform`) chỉ dùng được cho `/v1/tenants`. / "
    "Platform operators' tokens (realm `platform`) reach `/v1/tenants` only."
)

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="bearerAuth", bearerFormat="JWT", description=BEARER_DESCRIPTION
)


async def _verified_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """Any valid token: a tenant realm's, or the platform realm's (``principal.is_platform``)."""
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify(credentials.credentials if credentials else "")
    except DomainError as error:
        raise from_domain_error(error) from None
    limiter: TokenBucketLimiter | None = request.app.state.caller_limiter
    if limiter is not None:
        wait = limiter.acquire((principal.tenant, principal.subject))
        if wait > 0:
            raise rate_limited(wait)
    return principal


def rate_limited(wait_s: float) -> ProblemError:
    return ProblemError(
        429,
        "RATE_LIMITED",
        bilingual("Quá nhiều yêu cầu, vui lòng thử lại sau", "too many requests, retry later"),
        headers={"Retry-After": retry_after(wait_s)},
    )


def limit_public(request: Request) -> None:
    """The public routes' own bucket per client IP (``public_limiter``), stricter than the authenticated
    routes' and taken before anything else is looked at, malformed requests included. The client IP is the
    connection's, or the trusted proxy's ``X-Forwarded-For`` (``GATEWAY__HTTP__FORWARDED_ALLOW_IPS``)."""
    limiter: TokenBucketLimiter | None = request.app.state.public_limiter
    if limiter is not None:
        wait = limiter.acquire(("public", client_ip(request.scope)))
        if wait > 0:
            raise rate_limited(wait)


async def authenticate(principal: Annotated[Principal, Depends(_verified_caller)]) -> Principal:
    """A tenant's caller. A platform operator's token has no tenant: it reaches ``/v1/tenants`` only."""
    if principal.is_platform:
        raise ProblemError(
            403,
            "TENANT_TOKEN_REQUIRED",
            bilingual(
                "Thao tác này cần mã truy cập của một đơn vị, không phải của quản trị nền tảng",
                "this operation needs a tenant's access token, not a platform operator's",
            ),
        )
    return principal


#: A caller with a tenant token (every route but /v1/tenants).
Caller = Annotated[Principal, Depends(authenticate)]
#: A caller with a tenant token or a platform operator's token (/v1/tenants).
AnyCaller = Annotated[Principal, Depends(_verified_caller)]


def _backends(request: Request) -> Backends:
    backends: Backends = request.app.state.backends
    return backends


BackendsDep = Annotated[Backends, Depends(_backends)]


def _access(request: Request) -> EdgeAccess:
    access: EdgeAccess = request.app.state.access
    return access


AccessDep = Annotated[EdgeAccess, Depends(_access)]


def _path_id(value: str, reason: str, vi: str, en: str) -> str:
    # A malformed id answers exactly like an id that does not exist, so probing learns nothing.
    if not UUID_RE.fullmatch(value):
        raise ProblemError(404, reason, bilingual(vi, en))
    return value.lower()


def _school_id(
    school_id: Annotated[
        str,
        Path(
            description="Mã trường (UUID) / school id",
            examples=[EXAMPLE_SCHOOL_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    return _path_id(school_id, "SCHOOL_NOT_FOUND", "Không tìm thấy trường", "school not found")


def _class_id(
    class_id: Annotated[
        str,
        Path(
            description="Mã lớp (UUID) / class id",
            examples=[EXAMPLE_CLASS_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    return _path_id(class_id, "CLASS_NOT_FOUND", "Không tìm thấy lớp", "class not found")


def _student_id(
    student_id: Annotated[
        str,
        Path(
            description="Mã học sinh (UUID) / student id",
            examples=[EXAMPLE_STUDENT_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    return _path_id(student_id, "STUDENT_NOT_FOUND", "Không tìm thấy học sinh", "student not found")


def _link_request_id(
    link_request_id: Annotated[
        str,
        Path(
            description="Mã đề nghị liên kết (UUID) / link request id",
            examples=[EXAMPLE_LINK_REQUEST_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    return _path_id(
        link_request_id, "LINK_REQUEST_NOT_FOUND", "Không tìm thấy đề nghị liên kết", "link request not found"
    )


def _violation_id(
    violation_id: Annotated[
        str,
        Path(
            description="Mã vi phạm (UUID) / violation id",
            examples=[EXAMPLE_VIOLATION_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    return _path_id(violation_id, "VIOLATION_NOT_FOUND", "Không tìm thấy vi phạm", "violation not found")


def _club_id(
    club_id: Annotated[
        str,
        Path(
            description="Mã câu lạc bộ (UUID) / club id",
            examples=[EXAMPLE_CLUB_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    return _path_id(club_id, "CLUB_NOT_FOUND", "Không tìm thấy câu lạc bộ", "club not found")


def _club_membership_id(
    membership_id: Annotated[
        str,
        Path(
            description="Mã đề nghị / tư cách thành viên câu lạc bộ (UUID) / club membership id",
            examples=[EXAMPLE_CLUB_MEMBERSHIP_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    # As student-record answers for one that does not exist.
    return _path_id(membership_id, "MEMBERSHIP_NOT_FOUND", "Không tìm thấy yêu cầu", "membership not found")


def _purpose(
    purpose: Annotated[
        str, Path(description="Mã mục đích / purpose code", examples=["photos_in_school_media"])
    ],
) -> str:
    if not PURPOSE_RE.fullmatch(purpose):
        raise ProblemError(
            404, "PURPOSE_NOT_FOUND", bilingual("Không tìm thấy mục đích xử lý", "purpose not found")
        )
    return purpose


def _grade_change_id(
    change_id: Annotated[
        str,
        Path(
            description="Mã đề nghị sửa điểm (UUID) / grade change id",
            examples=[EXAMPLE_GRADE_CHANGE_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    # As student-record answers for one that does not exist.
    return _path_id(
        change_id, "GRADE_CHANGE_NOT_FOUND", "Không tìm thấy đề nghị sửa điểm", "grade change not found"
    )


def _subject_code(
    subject_code: Annotated[
        str, Path(description="Mã môn học, ví dụ `TOAN` / subject code, e.g. `TOAN`", examples=["TOAN"])
    ],
) -> str:
    # As student-record answers for a code the class's grade does not study.
    if not SUBJECT_CODE_RE.fullmatch(subject_code):
        message = bilingual("Khối lớp này không học môn này", "the grade has no such subject")
        raise ProblemError(
            422, "UNKNOWN_SUBJECT", message, errors=[{"field": "subject_code", "message": message}]
        )
    return subject_code.upper()


def _transcript_id(
    transcript_id: Annotated[
        str,
        Path(
            description="Mã học bạ (UUID) / transcript id",
            examples=[EXAMPLE_TRANSCRIPT_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    # As student-record answers for one that does not exist.
    return _path_id(transcript_id, "TRANSCRIPT_NOT_FOUND", "Không tìm thấy học bạ", "transcript not found")


def _movement_id(
    movement_id: Annotated[
        str,
        Path(
            description="Mã yêu cầu chuyển trường (UUID) / movement id",
            examples=[EXAMPLE_MOVEMENT_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    # As student-record answers for one that does not exist.
    return _path_id(movement_id, "MOVEMENT_NOT_FOUND", "Không tìm thấy yêu cầu chuyển", "movement not found")


def _diploma_id(
    diploma_id: Annotated[
        str,
        Path(
            description="Mã dòng sổ gốc văn bằng (UUID) / diploma entry id",
            examples=[EXAMPLE_DIPLOMA_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    # As student-record answers for one that does not exist.
    return _path_id(diploma_id, "DIPLOMA_NOT_FOUND", "Không tìm thấy văn bằng", "diploma not found")


def _received_record_id(
    record_id: Annotated[
        str,
        Path(
            description="Mã hồ sơ chuyển trường đã nhận (UUID) / received record package id",
            examples=[EXAMPLE_RECEIVED_RECORD_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    # As the route answers for a package the student did not arrive with.
    return _path_id(
        record_id, "RECEIVED_RECORD_NOT_FOUND", "Không tìm thấy hồ sơ đã nhận", "received record not found"
    )


def _leave_id(
    leave_id: Annotated[
        str,
        Path(
            description="Mã đơn xin nghỉ (UUID) / leave request id",
            examples=[EXAMPLE_LEAVE_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    # As attendance answers for one that does not exist.
    return _path_id(leave_id, "LEAVE_NOT_FOUND", "Không tìm thấy đơn xin nghỉ", "leave request not found")


def _device_id(
    device_id: Annotated[
        str,
        Path(
            description="Mã thiết bị điểm danh (UUID) / gate device id",
            examples=[EXAMPLE_DEVICE_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    # As attendance answers for one that does not exist.
    return _path_id(device_id, "DEVICE_NOT_FOUND", "Không tìm thấy thiết bị", "gate device not found")


def _food_sample_id(
    sample_id: Annotated[
        str,
        Path(
            description="Mã mẫu thức ăn lưu (UUID) / food sample id",
            examples=[EXAMPLE_FOOD_SAMPLE_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    # As attendance answers for one that does not exist.
    return _path_id(sample_id, "SAMPLE_NOT_FOUND", "Không tìm thấy mẫu thức ăn", "food sample not found")


SchoolId = Annotated[str, Depends(_school_id)]
ClassId = Annotated[str, Depends(_class_id)]
StudentId = Annotated[str, Depends(_student_id)]
LinkRequestId = Annotated[str, Depends(_link_request_id)]
ViolationId = Annotated[str, Depends(_violation_id)]
ClubId = Annotated[str, Depends(_club_id)]
ClubMembershipId = Annotated[str, Depends(_club_membership_id)]
PurposeCode = Annotated[str, Depends(_purpose)]
GradeChangeId = Annotated[str, Depends(_grade_change_id)]
SubjectCode = Annotated[str, Depends(_subject_code)]
TranscriptId = Annotated[str, Depends(_transcript_id)]
MovementId = Annotated[str, Depends(_movement_id)]
DiplomaId = Annotated[str, Depends(_diploma_id)]
ReceivedRecordId = Annotated[str, Depends(_received_record_id)]
LeaveId = Annotated[str, Depends(_leave_id)]
DeviceId = Annotated[str, Depends(_device_id)]
FoodSampleId = Annotated[str, Depends(_food_sample_id)]


def _semester(
    semester: Annotated[int, Path(ge=1, le=2, description="Học kì 1 hoặc 2 / semester 1 or 2", examples=[1])],
) -> int:
    return semester


def _grade(
    grade: Annotated[int, Path(ge=1, le=12, description="Khối lớp 1–12 / grade 1-12", examples=[6])],
) -> int:
    return grade


def _school_year(
    school_year: Annotated[
        str, Path(pattern=SCHOOL_YEAR_PATTERN, description="Năm học / school year", examples=["2025-2026"])
    ],
) -> str:
    return school_year


def _term(
    term: Annotated[
        Term,
        Path(
            description="`semester_1`, `semester_2` hoặc `year` (cả năm) / `semester_1`, `semester_2` or "
            "`year` (the whole school year)",
            examples=["year"],
        ),
    ],
) -> Term:
    return term


#: A semester in a path: 1 or 2 (anything else is 422 on ``semester``).
Semester = Annotated[int, Depends(_semester)]
#: A grade in a path: 1 to 12.
Grade = Annotated[int, Depends(_grade)]
#: A school year in a path, ``2025-2026`` (the service checks the years follow each other).
SchoolYearName = Annotated[str, Depends(_school_year)]
TermName = Annotated[Term, Depends(_term)]


def _day(
    date: Annotated[
        CalendarDate,
        Path(
            description="Ngày (YYYY-MM-DD, giờ Việt Nam) / date (YYYY-MM-DD, Vietnam time)",
            examples=["2025-11-24"],
        ),
    ],
) -> str:
    return date


def _month(
    month: Annotated[Month, Path(description="Tháng (YYYY-MM) / month (YYYY-MM)", examples=["2025-11"])],
) -> str:
    return month


def _session(
    session: Annotated[
        Session,
        Path(
            description="`morning` buổi sáng hoặc `afternoon` buổi chiều / morning or afternoon",
            examples=["morning"],
        ),
    ],
) -> Session:
    return session


def _meal(
    meal: Annotated[
        Meal,
        Path(
            description="`breakfast` bữa sáng hoặc `lunch` bữa trưa / breakfast or lunch", examples=["lunch"]
        ),
    ],
) -> Meal:
    return meal


def _gate_credential(
    credential: Annotated[
        str,
        Path(
            pattern=GATE_CREDENTIAL_PATTERN,
            description="Số thẻ (UID) hoặc mã người trên máy nhận diện: 4–64 ký tự `A-Z a-z 0-9 : -` / the "
            "card number (UID) or the terminal's person code: 4-64 characters `A-Z a-z 0-9 : -`",
            examples=["04:A2:3B:1C:5D:80"],
        ),
    ],
) -> str:
    return credential


#: A date in a path: a real ``YYYY-MM-DD`` day (anything else is 422 on ``date``).
Day = Annotated[str, Depends(_day)]
#: A month in a path: ``YYYY-MM`` (anything else is 422 on ``month``).
MonthName = Annotated[str, Depends(_month)]
#: A session in a path: ``morning`` or ``afternoon``.
SessionName = Annotated[Session, Depends(_session)]
#: A meal in a path: ``breakfast`` or ``lunch``.
MealName = Annotated[Meal, Depends(_meal)]
#: A gate credential in a path: 4 to 64 characters ``[A-Za-z0-9:-]`` (anything else is 422 on ``credential``).
GateCredential = Annotated[str, Depends(_gate_credential)]


def invalid_field(field: str, vi: str, en: str) -> ProblemError:
    """422 ``INVALID_ARGUMENT`` on one field, for a rule between fields the gateway sees alone."""
    message = bilingual(vi, en)
    return ProblemError(422, "INVALID_ARGUMENT", message, errors=[{"field": field, "message": message}])


def check_date_order(first: str, last: str, first_name: str, last_name: str) -> None:
    """``last`` may not come before ``first`` (both are valid ``YYYY-MM-DD`` dates, so text order is date
    order)."""
    if last < first:
        raise invalid_field(
            last_name,
            f"`{last_name}` không được trước `{first_name}`",
            f"`{last_name}` must not be before `{first_name}`",
        )


def exactly_one(**given: str | None) -> None:
    """Exactly one of these query parameters (a list's owner: a class, or a student…)."""
    if sum(value is not None for value in given.values()) != 1:
        names = list(given)
        field = next((name for name, value in given.items() if value is not None), names[0])
        listed_vi = ", ".join(f"`{n}`" for n in names)
        raise invalid_field(
            field,
            f"Cần đúng một trong {listed_vi}",
            f"give exactly one of {listed_vi}",
        )


@dataclass(frozen=True)
class DateRange:
    from_date: str
    to_date: str


_FROM_DESCRIPTION = "Từ ngày (YYYY-MM-DD) / from this date (YYYY-MM-DD)"
_TO_DESCRIPTION = (
    "Đến hết ngày (YYYY-MM-DD), không trước `from` / to this date (YYYY-MM-DD), not before `from`"
)


def _date_range(
    from_date: Annotated[
        CalendarDate, Query(alias="from", description=_FROM_DESCRIPTION, examples=["2025-11-01"])
    ],
    to_date: Annotated[CalendarDate, Query(alias="to", description=_TO_DESCRIPTION, examples=["2025-11-30"])],
) -> DateRange:
    check_date_order(from_date, to_date, "from", "to")
    return DateRange(from_date, to_date)


def _optional_date_range(
    from_date: Annotated[
        CalendarDate | None,
        Query(
            alias="from", description=f"{_FROM_DESCRIPTION}; cùng `to` / with `to`", examples=["2025-11-01"]
        ),
    ] = None,
    to_date: Annotated[
        CalendarDate | None,
        Query(
            alias="to", description=f"{_TO_DESCRIPTION}; cùng `from` / with `from`", examples=["2025-11-30"]
        ),
    ] = None,
) -> DateRange | None:
    if from_date is None and to_date is None:
        return None
    if from_date is None or to_date is None:
        raise missing_field("from" if from_date is None else "to")
    check_date_order(from_date, to_date, "from", "to")
    return DateRange(from_date, to_date)


#: ``?from=&to=``, both required, ``to`` not before ``from``.
Dates = Annotated[DateRange, Depends(_date_range)]
#: ``?from=&to=``, both or neither.
OptionalDates = Annotated[DateRange | None, Depends(_optional_date_range)]

PageSize = Annotated[
    int | None,
    Query(
        ge=1,
        le=200,
        description="Số mục mỗi trang (mặc định 50, tối đa 200) / items per page (default 50, at most 200)",
    ),
]
PageToken = Annotated[
    str | None,
    Query(
        max_length=512,
        description="`next_page_token` của trang trước / the previous page's `next_page_token`",
    ),
]

# As school_common.idempotency (not imported: it pulls in the database stack); services check again.
IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")

IDEMPOTENCY_DESCRIPTION = (
    "Khóa idempotency (1–255 ký tự ASCII in được). Gửi lại cùng khóa với cùng nội dung nhận lại đúng "
    "kết quả lần đầu; cùng khóa với nội dung khác bị từ chối (422); yêu cầu trùng đang xử lý nhận 409. / "
    "Idempotency key (1-255 printable ASCII characters). Retrying with the same key and body returns the "
    "first response; the same key with a different body is refused (422); a concurrent duplicate gets 409."
)


def _idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description=IDEMPOTENCY_DESCRIPTION,
            examples=["3f1c9a52-6a0e-4d8b-9c77-0b1d2e3f4a5b"],
        ),
    ] = None,
) -> str:
    if idempotency_key is None:
        return ""
    if not IDEMPOTENCY_KEY_RE.fullmatch(idempotency_key):
        message = bilingual(
            "Khóa idempotency phải gồm 1–255 ký tự ASCII in được",
            "idempotency key must be 1-255 printable ASCII characters",
        )
        raise ProblemError(
            422, "INVALID_IDEMPOTENCY_KEY", message, errors=[{"field": "Idempotency-Key", "message": message}]
        )
    return idempotency_key


IdempotencyKey = Annotated[str, Depends(_idempotency_key)]

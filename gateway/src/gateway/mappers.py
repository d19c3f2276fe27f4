"""REST bodies ↔ protobuf messages of the backend services."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from school.attendance.v1 import attendance_pb2 as att
from school.identity.v1 import identity_pb2 as idn
from school.student_record.v1 import student_record_pb2 as sr

from gateway import schemas

LEVEL_TO_PB = {
    "primary": sr.SCHOOL_LEVEL_PRIMARY,
    "lower_secondary": sr.SCHOOL_LEVEL_LOWER_SECONDARY,
    "upper_secondary": sr.SCHOOL_LEVEL_UPPER_SECONDARY,
}
PB_TO_LEVEL = {v: k for k, v in LEVEL_TO_PB.items()}
SEX_TO_PB = {"male": sr.SEX_MALE, "female": sr.SEX_FEMALE}
PB_TO_SEX = {v: k for k, v in SEX_TO_PB.items()}
SEVERITY_TO_PB: dict[schemas.Severity, sr.ViolationSeverity.ValueType] = {
    "self": sr.VIOLATION_SEVERITY_SELF,
    "class": sr.VIOLATION_SEVERITY_CLASS,
    "school": sr.VIOLATION_SEVERITY_SCHOOL,
}
PB_TO_SEVERITY = {v: k for k, v in SEVERITY_TO_PB.items()}
MEASURE_TO_PB: dict[schemas.Measure, sr.DisciplineMeasure.ValueType] = {
    "reminder": sr.DISCIPLINE_MEASURE_REMINDER,
    "apology": sr.DISCIPLINE_MEASURE_APOLOGY,
    "criticism": sr.DISCIPLINE_MEASURE_CRITICISM,
    "self_review": sr.DISCIPLINE_MEASURE_SELF_REVIEW,
}
PB_TO_MEASURE = {v: k for k, v in MEASURE_TO_PB.items()}
REWARD_KIND_TO_PB: dict[schemas.RewardKind, sr.RewardKind.ValueType] = {
    "praise_class": sr.REWARD_KIND_PRAISE_CLASS,
    "praise_school": sr.REWARD_KIND_PRAISE_SCHOOL,
    "principal_certificate": sr.REWARD_KIND_PRINCIPAL_CERTIFICATE,
    "commendation_letter": sr.REWARD_KIND_COMMENDATION_LETTER,
}
PB_TO_REWARD_KIND = {v: k for k, v in REWARD_KIND_TO_PB.items()}
PB_TO_MEMBERSHIP_STATE: dict[int, schemas.MembershipState] = {
    sr.MEMBERSHIP_STATE_PENDING: "pending",
    sr.MEMBERSHIP_STATE_APPROVED: "approved",
    sr.MEMBERSHIP_STATE_REFUSED: "refused",
}
ASSESSMENT_KIND_TO_PB: dict[schemas.AssessmentKind, sr.AssessmentKind.ValueType] = {
    "regular": sr.ASSESSMENT_KIND_REGULAR,
    "mid_term": sr.ASSESSMENT_KIND_MID_TERM,
    "end_term": sr.ASSESSMENT_KIND_END_TERM,
    "mid_rating": sr.ASSESSMENT_KIND_MID_RATING,
    "end_rating": sr.ASSESSMENT_KIND_END_RATING,
    "mid_test": sr.ASSESSMENT_KIND_MID_TEST,
    "end_test": sr.ASSESSMENT_KIND_END_TEST,
}
PB_TO_ASSESSMENT_KIND = {v: k for k, v in ASSESSMENT_KIND_TO_PB.items()}
PB_TO_EVALUATION: dict[int, schemas.EvaluationKind] = {
    sr.EVALUATION_SCORED: "scored",
    sr.EVALUATION_COMMENT: "comment",
    sr.EVALUATION_RATED: "rated",
}
GRADE_CHANGE_STATE_TO_PB: dict[schemas.GradeChangeState, sr.GradeChangeState.ValueType] = {
    "pending": sr.GRADE_CHANGE_STATE_PENDING,
    "approved": sr.GRADE_CHANGE_STATE_APPROVED,
    "refused": sr.GRADE_CHANGE_STATE_REFUSED,
}
PB_TO_GRADE_CHANGE_STATE = {v: k for k, v in GRADE_CHANGE_STATE_TO_PB.items()}
#: REST terms ↔ student-record's (0 is the year).
TERM_TO_PB: dict[schemas.Term, int] = {"semester_1": 1, "semester_2": 2, "year": 0}
PB_TO_TERM = {v: k for k, v in TERM_TO_PB.items()}
# Results are strings in the proto ("KHA", "PROMOTED"…): lower-case here; one this gateway does not know is
# null rather than a guess.
LEARNING_LEVELS: dict[str, schemas.LearningLevel] = {
    "TOT": "tot",
    "KHA": "kha",
    "DAT": "dat",
    "CHUA_DAT": "chua_dat",
}
PROMOTIONS: dict[str, schemas.Promotion] = {"PROMOTED": "promoted", "RETEST": "retest", "REPEAT": "repeat"}
AWARDS: dict[str, schemas.Award] = {"XUAT_SAC": "xuat_sac", "GIOI": "gioi", "NONE": "none"}
PRIMARY_RESULTS: dict[str, schemas.PrimaryResult] = {
    "HOAN_THANH_XUAT_SAC": "hoan_thanh_xuat_sac",
    "HOAN_THANH_TOT": "hoan_thanh_tot",
    "HOAN_THANH": "hoan_thanh",
    "CHUA_HOAN_THANH": "chua_hoan_thanh",
}

# identity's enums as the lower-case strings of the REST API; UNSPECIFIED (and values this gateway does not
# know yet) become null.
PB_TO_TENANT_STATE: dict[int, schemas.TenantState] = {
    idn.TENANT_STATE_PROVISIONING: "provisioning",
    idn.TENANT_STATE_ACTIVE: "active",
}
PB_TO_VERIFICATION: dict[int, schemas.VerificationState] = {
    idn.VERIFICATION_STATUS_PENDING: "pending",
    idn.VERIFICATION_STATUS_VERIFIED: "verified",
    idn.VERIFICATION_STATUS_MISMATCH: "mismatch",
    idn.VERIFICATION_STATUS_NOT_FOUND: "not_found",
}
PB_TO_LINK_STATE: dict[int, schemas.LinkState] = {
    idn.LINK_STATE_NOT_A_GUARDIAN: "not_a_guardian",
    idn.LINK_STATE_NO_CHILD_LINKED: "no_child_linked",
    idn.LINK_STATE_LINKED: "linked",
}
PB_TO_ROW_OUTCOME: dict[int, schemas.RowOutcome] = {
    idn.ROW_OUTCOME_CREATED: "created",
    idn.ROW_OUTCOME_UPDATED: "updated",
    idn.ROW_OUTCOME_UNCHANGED: "unchanged",
    idn.ROW_OUTCOME_REFUSED: "refused",
}
LINK_REQUEST_STATE_TO_PB: dict[schemas.LinkRequestState, idn.LinkRequestState.ValueType] = {
    "pending": idn.LINK_REQUEST_STATE_PENDING,
    "approved": idn.LINK_REQUEST_STATE_APPROVED,
    "refused": idn.LINK_REQUEST_STATE_REFUSED,
}
PB_TO_LINK_REQUEST_STATE = {v: k for k, v in LINK_REQUEST_STATE_TO_PB.items()}
PB_TO_LEGAL_BASIS: dict[int, schemas.LegalBasis] = {
    idn.LEGAL_BASIS_LAW: "law",
    idn.LEGAL_BASIS_CONSENT: "consent",
}
PB_TO_CONSENT_STATE: dict[int, schemas.ConsentState] = {
    idn.CONSENT_STATE_GRANTED: "granted",
    idn.CONSENT_STATE_WITHDRAWN: "withdrawn",
}

PB_TO_IMPORT_OUTCOME: dict[int, schemas.RowOutcome] = {
    sr.IMPORT_OUTCOME_CREATED: "created",
    sr.IMPORT_OUTCOME_UPDATED: "updated",
    sr.IMPORT_OUTCOME_UNCHANGED: "unchanged",
    sr.IMPORT_OUTCOME_REFUSED: "refused",
}
PB_TO_TRANSCRIPT_ISSUE_OUTCOME: dict[int, schemas.TranscriptIssueOutcome] = {
    sr.TRANSCRIPT_ISSUE_OUTCOME_ISSUED: "issued",
    sr.TRANSCRIPT_ISSUE_OUTCOME_ALREADY_ISSUED: "already_issued",
    sr.TRANSCRIPT_ISSUE_OUTCOME_RESULTS_INCOMPLETE: "results_incomplete",
}
TRANSCRIPT_FORMAT_TO_PB: dict[schemas.TranscriptFormat, sr.TranscriptFormat.ValueType] = {
    "pdf": sr.TRANSCRIPT_FORMAT_PDF,
    "xml": sr.TRANSCRIPT_FORMAT_XML,
}
PB_TO_MOVEMENT_KIND: dict[int, schemas.MovementKind] = {
    sr.MOVEMENT_KIND_CLASS_MOVE: "class_move",
    sr.MOVEMENT_KIND_SCHOOL_TRANSFER: "school_transfer",
    sr.MOVEMENT_KIND_TRANSFER_OUT: "transfer_out",
    sr.MOVEMENT_KIND_TRANSFER_IN: "transfer_in",
}
MOVEMENT_STATE_TO_PB: dict[schemas.MovementState, sr.MovementState.ValueType] = {
    "pending": sr.MOVEMENT_STATE_PENDING,
    "done": sr.MOVEMENT_STATE_DONE,
    "refused": sr.MOVEMENT_STATE_REFUSED,
}
PB_TO_MOVEMENT_STATE = {v: k for k, v in MOVEMENT_STATE_TO_PB.items()}
DIPLOMA_KIND_TO_PB: dict[schemas.DiplomaKind, sr.DiplomaKind.ValueType] = {
    "upper_secondary_diploma": sr.DIPLOMA_KIND_UPPER_SECONDARY_DIPLOMA,
    "upper_secondary_completion": sr.DIPLOMA_KIND_UPPER_SECONDARY_COMPLETION,
}
PB_TO_DIPLOMA_KIND = {v: k for k, v in DIPLOMA_KIND_TO_PB.items()}
DIPLOMA_CLASSIFICATION_TO_PB: dict[schemas.DiplomaClassification, sr.DiplomaClassification.ValueType] = {
    "gioi": sr.DIPLOMA_CLASSIFICATION_GIOI,
    "kha": sr.DIPLOMA_CLASSIFICATION_KHA,
    "trung_binh": sr.DIPLOMA_CLASSIFICATION_TRUNG_BINH,
}
PB_TO_DIPLOMA_CLASSIFICATION = {v: k for k, v in DIPLOMA_CLASSIFICATION_TO_PB.items()}
PB_TO_DIPLOMA_STATUS: dict[int, schemas.DiplomaStatus] = {
    sr.DIPLOMA_STATUS_VALID: "valid",
    sr.DIPLOMA_STATUS_CORRECTED: "corrected",
    sr.DIPLOMA_STATUS_REVOKED: "revoked",
}

# attendance's enums as the lower-case strings of the REST API (the proto name without its prefix);
# UNSPECIFIED (and values this gateway does not know yet) become null.
SESSION_TO_PB: dict[schemas.Session, att.Session.ValueType] = {
    "morning": att.SESSION_MORNING,
    "afternoon": att.SESSION_AFTERNOON,
}
PB_TO_SESSION = {v: k for k, v in SESSION_TO_PB.items()}
ATTENDANCE_STATUS_TO_PB: dict[schemas.AttendanceStatus, att.AttendanceStatus.ValueType] = {
    "present": att.ATTENDANCE_STATUS_PRESENT,
    "absent_excused": att.ATTENDANCE_STATUS_ABSENT_EXCUSED,
    "absent_unexcused": att.ATTENDANCE_STATUS_ABSENT_UNEXCUSED,
    "late": att.ATTENDANCE_STATUS_LATE,
    "left_early": att.ATTENDANCE_STATUS_LEFT_EARLY,
}
PB_TO_ATTENDANCE_STATUS = {v: k for k, v in ATTENDANCE_STATUS_TO_PB.items()}
PB_TO_ABSENCE_LEVEL: dict[int, schemas.AbsenceLevel] = {
    att.ABSENCE_LEVEL_OK: "ok",
    att.ABSENCE_LEVEL_APPROACHING: "approaching",
    att.ABSENCE_LEVEL_AT_LIMIT: "at_limit",
    att.ABSENCE_LEVEL_OVER: "over",
}
LEAVE_STATUS_TO_PB: dict[schemas.LeaveStatus, att.LeaveStatus.ValueType] = {
    "pending": att.LEAVE_STATUS_PENDING,
    "approved": att.LEAVE_STATUS_APPROVED,
    "refused": att.LEAVE_STATUS_REFUSED,
    "cancelled": att.LEAVE_STATUS_CANCELLED,
}
PB_TO_LEAVE_STATUS = {v: k for k, v in LEAVE_STATUS_TO_PB.items()}
GATE_DEVICE_KIND_TO_PB: dict[schemas.GateDeviceKind, att.GateDeviceKind.ValueType] = {
    "rfid": att.GATE_DEVICE_KIND_RFID,
    "face": att.GATE_DEVICE_KIND_FACE,
}
PB_TO_GATE_DEVICE_KIND = {v: k for k, v in GATE_DEVICE_KIND_TO_PB.items()}
PB_TO_TAP_OUTCOME: dict[int, schemas.TapOutcome] = {
    att.TAP_OUTCOME_CHECKED_IN: "checked_in",
    att.TAP_OUTCOME_MERGED: "merged",
    att.TAP_OUTCOME_UNKNOWN_CREDENTIAL: "unknown_credential",
    att.TAP_OUTCOME_OTHER_SCHOOL: "other_school",
    att.TAP_OUTCOME_OUTSIDE_SCHOOL_TIME: "outside_school_time",
}
PB_TO_RECONCILIATION_FLAG: dict[int, schemas.ReconciliationFlag] = {
    att.RECONCILIATION_FLAG_ABSENT_IN_CLASS: "absent_in_class",
    att.RECONCILIATION_FLAG_NOT_MARKED: "not_marked",
    att.RECONCILIATION_FLAG_NO_CHECK_IN: "no_check_in",
}
MEAL_TO_PB: dict[schemas.Meal, att.Meal.ValueType] = {
    "breakfast": att.MEAL_BREAKFAST,
    "lunch": att.MEAL_LUNCH,
}
PB_TO_MEAL = {v: k for k, v in MEAL_TO_PB.items()}
MEAL_REFUND_TO_PB: dict[schemas.MealRefundPolicy, att.MealRefundPolicy.ValueType] = {
    "none": att.MEAL_REFUND_POLICY_NONE,
    "notified_before_cutoff": att.MEAL_REFUND_POLICY_NOTIFIED_BEFORE_CUTOFF,
    "all_absent_days": att.MEAL_REFUND_POLICY_ALL_ABSENT_DAYS,
}
PB_TO_MEAL_REFUND = {v: k for k, v in MEAL_REFUND_TO_PB.items()}
CARE_REFUND_TO_PB: dict[schemas.CareRefundPolicy, att.CareRefundPolicy.ValueType] = {
    "none": att.CARE_REFUND_POLICY_NONE,
    "pro_rata": att.CARE_REFUND_POLICY_PRO_RATA,
}
PB_TO_CARE_REFUND = {v: k for k, v in CARE_REFUND_TO_PB.items()}
PB_TO_CHARGE_KIND: dict[int, schemas.ChargeKind] = {
    att.CHARGE_KIND_LUNCH: "lunch",
    att.CHARGE_KIND_BREAKFAST: "breakfast",
    att.CHARGE_KIND_NAP_CARE: "nap_care",
}


def _time(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def _optional_time(msg: Message, name: str) -> datetime | None:
    """A timestamp field that may be unset (``verify_time`` while pending, ``decide_time``…)."""
    if not msg.HasField(name):
        return None
    return _time(getattr(msg, name))


def _optional(value: str) -> str | None:
    return value or None


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(UTC))
    return ts


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def rest_fields(prefix: str = "", **renames: str) -> Callable[[str], str]:
    """A ``field_names`` for :meth:`Backends.call`: the service's field path (``ErrorInfo.metadata["field"]``)
    as the REST request names it — without the wrapping message's ``prefix`` (``calendar.``: the REST body
    is the calendar itself), each name renamed (``tap_time`` → ``tapped_at``, ``from_date`` → ``from``);
    indexes stay (``taps[3].tap_time`` → ``taps[3].tapped_at``)."""

    def rename(name: str) -> str:
        if prefix and name.startswith(prefix):
            name = name[len(prefix) :]
        return _NAME.sub(lambda m: renames.get(m.group(0), m.group(0)), name)

    return rename


# Requests


def create_school(body: schemas.SchoolCreate, request_id: str) -> sr.CreateSchoolRequest:
    return sr.CreateSchoolRequest(
        name=body.name,
        code=body.code or "",
        levels=[LEVEL_TO_PB[lv] for lv in body.levels],
        request_id=request_id,
    )


def create_class(school_id: str, body: schemas.ClassCreate, request_id: str) -> sr.CreateClassRequest:
    return sr.CreateClassRequest(
        school_id=school_id,
        name=body.name,
        grade=body.grade,
        school_year=body.school_year,
        request_id=request_id,
    )


def enrol_student(class_id: str, body: schemas.EnrolmentCreate, request_id: str) -> sr.EnrolStudentRequest:
    if body.student is None:
        return sr.EnrolStudentRequest(
            class_id=class_id, student_id=body.student_id or "", request_id=request_id
        )
    new = body.student
    return sr.EnrolStudentRequest(
        class_id=class_id,
        new_student=sr.NewStudent(
            full_name=new.full_name,
            date_of_birth=new.date_of_birth,
            sex=SEX_TO_PB[new.sex],
            guardians=[guardian_pb(g) for g in new.guardians],
            personal_id=new.personal_id or "",
        ),
        request_id=request_id,
    )


def guardian_pb(body: schemas.GuardianIn) -> sr.Guardian:
    """personal_id and date_of_birth only travel to student-record, which passes them to identity."""
    return sr.Guardian(
        full_name=body.full_name,
        relationship=body.relationship,
        phone=body.phone or "",
        personal_id=body.personal_id or "",
        date_of_birth=body.date_of_birth or "",
    )


def add_guardian(student_id: str, body: schemas.GuardianCreate, request_id: str) -> sr.AddGuardianRequest:
    return sr.AddGuardianRequest(student_id=student_id, guardian=guardian_pb(body), request_id=request_id)


def record_violation(
    student_id: str, body: schemas.ViolationCreate, request_id: str
) -> sr.RecordViolationRequest:
    return sr.RecordViolationRequest(
        student_id=student_id,
        occurred_on=body.occurred_on,
        description=body.description,
        severity=SEVERITY_TO_PB[body.severity],
        measure=MEASURE_TO_PB[body.measure],
        request_id=request_id,
    )


def record_reward(student_id: str, body: schemas.RewardCreate, request_id: str) -> sr.RecordRewardRequest:
    return sr.RecordRewardRequest(
        student_id=student_id,
        kind=REWARD_KIND_TO_PB[body.kind],
        reason=body.reason,
        awarded_on=body.awarded_on,
        request_id=request_id,
    )


def create_club(school_id: str, body: schemas.ClubCreate, request_id: str) -> sr.CreateClubRequest:
    return sr.CreateClubRequest(
        school_id=school_id,
        name=body.name,
        description=body.description,
        adviser_subject=body.adviser_subject.lower(),
        capacity=body.capacity,
        request_id=request_id,
    )


def request_club_membership(
    club_id: str, body: schemas.ClubMembershipCreate, request_id: str
) -> sr.RequestClubMembershipRequest:
    return sr.RequestClubMembershipRequest(
        club_id=club_id, student_id=body.student_id.lower(), request_id=request_id
    )


def decide_club_membership(
    membership_id: str, body: schemas.ClubMembershipDecision
) -> sr.DecideClubMembershipRequest:
    return sr.DecideClubMembershipRequest(
        membership_id=membership_id, approve=body.approve, reason=body.reason or ""
    )


def record_club_session(
    club_id: str, body: schemas.ClubSessionCreate, request_id: str
) -> sr.RecordClubSessionRequest:
    return sr.RecordClubSessionRequest(
        club_id=club_id,
        held_on=body.held_on,
        topic=body.topic,
        present_student_ids=[s.lower() for s in body.present_student_ids],
        request_id=request_id,
    )


def define_school_year(
    school_id: str, name: str, body: schemas.SchoolYearDefinition
) -> sr.DefineSchoolYearRequest:
    return sr.DefineSchoolYearRequest(
        school_id=school_id,
        name=name,
        semester_1_start=body.semester_1_start,
        semester_1_end=body.semester_1_end,
        semester_2_start=body.semester_2_start,
        semester_2_end=body.semester_2_end,
    )


def assessment_entry(body: schemas.AssessmentEntryIn) -> sr.AssessmentEntry:
    return sr.AssessmentEntry(
        student_id=body.student_id.lower(),
        kind=ASSESSMENT_KIND_TO_PB[body.kind],
        ordinal=body.ordinal,
        value=body.value,
    )


def record_assessments(
    class_id: str, subject_code: str, semester: int, body: schemas.AssessmentsIn
) -> sr.RecordAssessmentsRequest:
    return sr.RecordAssessmentsRequest(
        class_id=class_id,
        subject_code=subject_code,
        semester=semester,
        entries=[assessment_entry(e) for e in body.entries],
    )


def record_ratings(class_id: str, semester: int, body: schemas.RatingsIn) -> sr.RecordRatingsRequest:
    return sr.RecordRatingsRequest(
        class_id=class_id,
        semester=semester,
        entries=[
            sr.RatingEntry(student_id=e.student_id.lower(), item=e.item, value=e.value) for e in body.entries
        ],
    )


def request_grade_change(
    class_id: str, body: schemas.GradeChangeCreate, request_id: str
) -> sr.RequestGradeChangeRequest:
    return sr.RequestGradeChangeRequest(
        class_id=class_id,
        subject_code=body.subject_code.upper(),
        semester=body.semester,
        entry=assessment_entry(body.entry),
        reason=body.reason,
        request_id=request_id,
    )


def decide_grade_change(change_id: str, body: schemas.GradeChangeDecision) -> sr.DecideGradeChangeRequest:
    return sr.DecideGradeChangeRequest(change_id=change_id, approve=body.approve, note=body.note or "")


def issue_transcripts(
    class_id: str, body: schemas.TranscriptSigners, request_id: str
) -> sr.IssueTranscriptsRequest:
    return sr.IssueTranscriptsRequest(request_id=request_id, class_id=class_id, **body.model_dump())


def correct_transcript(
    transcript_id: str, body: schemas.TranscriptCorrectionCreate, request_id: str
) -> sr.CorrectTranscriptRequest:
    return sr.CorrectTranscriptRequest(
        request_id=request_id, transcript_id=transcript_id, **body.model_dump()
    )


def move_student(student_id: str, body: schemas.MoveCreate, request_id: str) -> sr.MoveStudentRequest:
    return sr.MoveStudentRequest(
        request_id=request_id,
        student_id=student_id,
        to_class_id=body.to_class_id.lower(),
        reason=body.reason,
        effective_on=body.effective_on,
    )


def request_transfer(
    student_id: str, body: schemas.TransferCreate, request_id: str
) -> sr.RequestTransferRequest:
    return sr.RequestTransferRequest(
        request_id=request_id,
        student_id=student_id,
        to_school_id=body.to_school_id.lower(),
        reason=body.reason,
        effective_on=body.effective_on,
    )


def transfer_student_out(
    student_id: str, body: schemas.DepartureCreate, request_id: str
) -> sr.TransferStudentOutRequest:
    return sr.TransferStudentOutRequest(
        request_id=request_id,
        student_id=student_id,
        destination=body.destination,
        reason=body.reason,
        effective_on=body.effective_on,
    )


def decide_transfer(movement_id: str, body: schemas.TransferDecision) -> sr.DecideTransferRequest:
    # The class only goes with an acceptance: a refusal places the student nowhere.
    return sr.DecideTransferRequest(
        movement_id=movement_id,
        accept=body.accept,
        to_class_id=(body.to_class_id or "").lower() if body.accept else "",
        note=body.note or "",
    )


def _diploma_entry(body: schemas.DiplomaCreate | schemas.DiplomaCorrectionCreate) -> dict[str, Any]:
    return {
        "classification": (
            DIPLOMA_CLASSIFICATION_TO_PB[body.classification]
            if body.classification
            else sr.DIPLOMA_CLASSIFICATION_UNSPECIFIED
        ),
        "register_number": body.register_number,
        "serial_number": body.serial_number,
        "issued_on": body.issued_on,
        "signer_name": body.signer_name,
        "signer_title": body.signer_title,
    }


def issue_diploma(student_id: str, body: schemas.DiplomaCreate, request_id: str) -> sr.IssueDiplomaRequest:
    return sr.IssueDiplomaRequest(
        request_id=request_id,
        student_id=student_id,
        kind=DIPLOMA_KIND_TO_PB[body.kind],
        graduation_year=body.graduation_year,
        **_diploma_entry(body),
    )


def correct_diploma(
    diploma_id: str, body: schemas.DiplomaCorrectionCreate, request_id: str
) -> sr.CorrectDiplomaRequest:
    return sr.CorrectDiplomaRequest(
        request_id=request_id, diploma_id=diploma_id, reason=body.reason, **_diploma_entry(body)
    )


def create_tenant(body: schemas.TenantCreate, request_id: str) -> idn.CreateTenantRequest:
    return idn.CreateTenantRequest(slug=body.slug, display_name=body.display_name, request_id=request_id)


def verify_citizen(body: schemas.CitizenVerificationCreate) -> idn.VerifyCitizenRequest:
    return idn.VerifyCitizenRequest(
        personal_id=body.personal_id, full_name=body.full_name, date_of_birth=body.date_of_birth
    )


def create_link_request(body: schemas.LinkRequestCreate, request_id: str) -> idn.CreateLinkRequestRequest:
    return idn.CreateLinkRequestRequest(
        school_id=body.school_id.lower(),
        child_full_name=body.child_full_name,
        child_date_of_birth=body.child_date_of_birth,
        relationship=body.relationship,
        note=body.note or "",
        request_id=request_id,
    )


def decide_link_request(
    link_request_id: str, body: schemas.LinkRequestDecision
) -> idn.DecideLinkRequestRequest:
    return idn.DecideLinkRequestRequest(
        link_request_id=link_request_id,
        approve=body.approve,
        student_id=(body.student_id or "").lower(),
        reason=body.reason or "",
    )


def list_audit_events(
    actions: list[str] | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> idn.ListAuditEventsRequest:
    request = idn.ListAuditEventsRequest(
        actions=actions or [], actor=actor or "", page_size=page_size or 0, page_token=page_token or ""
    )
    if since is not None:
        request.since.CopyFrom(timestamp(since))
    if until is not None:
        request.until.CopyFrom(timestamp(until))
    return request


# attendance requests


def configure_school_calendar(
    school_id: str, body: schemas.SchoolCalendarIn
) -> att.ConfigureSchoolCalendarRequest:
    return att.ConfigureSchoolCalendarRequest(
        calendar=att.SchoolCalendar(
            school_id=school_id,
            sessions=[SESSION_TO_PB[s] for s in body.sessions],
            weekdays=body.weekdays,
            main_session=SESSION_TO_PB[body.main_session],
            morning_cutoff=body.morning_cutoff,
            afternoon_cutoff=body.afternoon_cutoff,
            afternoon_starts=body.afternoon_starts,
            closed_dates=body.closed_dates,
            absence_warning_at=body.absence_warning_at,
        )
    )


def mark_attendance(
    class_id: str, date: str, session: schemas.Session, body: schemas.RegisterMarksIn, request_id: str
) -> att.MarkAttendanceRequest:
    return att.MarkAttendanceRequest(
        request_id=request_id,
        class_id=class_id,
        date=date,
        session=SESSION_TO_PB[session],
        entries=[
            att.MarkEntry(
                student_id=e.student_id.lower(), status=ATTENDANCE_STATUS_TO_PB[e.status], note=e.note
            )
            for e in body.entries
        ],
        reason=body.reason or "",
    )


def request_leave(body: schemas.LeaveRequestCreate, request_id: str) -> att.RequestLeaveRequest:
    return att.RequestLeaveRequest(
        request_id=request_id,
        student_id=body.student_id.lower(),
        from_date=body.from_date,
        to_date=body.to_date,
        sessions=[SESSION_TO_PB[s] for s in body.sessions],
        reason=body.reason,
    )


def decide_leave(leave_id: str, body: schemas.LeaveDecision) -> att.DecideLeaveRequest:
    return att.DecideLeaveRequest(leave_id=leave_id, approve=body.approve, note=body.note or "")


def register_gate_device(
    school_id: str, body: schemas.GateDeviceCreate, request_id: str
) -> att.RegisterGateDeviceRequest:
    return att.RegisterGateDeviceRequest(
        request_id=request_id, school_id=school_id, name=body.name, kind=GATE_DEVICE_KIND_TO_PB[body.kind]
    )


def record_check_ins(body: schemas.CheckInBatch) -> att.RecordCheckInsRequest:
    return att.RecordCheckInsRequest(
        taps=[
            att.Tap(tap_id=t.tap_id, credential=t.credential, tap_time=timestamp(t.tapped_at))
            for t in body.taps
        ]
    )


def configure_boarding(school_id: str, body: schemas.BoardingSettingsIn) -> att.ConfigureBoardingRequest:
    return att.ConfigureBoardingRequest(
        settings=att.BoardingSettings(
            school_id=school_id,
            meal_cutoff=body.meal_cutoff,
            lunch_price=body.lunch_price,
            breakfast_price=body.breakfast_price,
            nap_care_monthly_fee=body.nap_care_monthly_fee,
            meal_refund=MEAL_REFUND_TO_PB[body.meal_refund],
            care_refund=CARE_REFUND_TO_PB[body.care_refund],
            kitchens=[
                att.Kitchen(name=k.name, class_ids=[c.lower() for c in k.class_ids]) for k in body.kitchens
            ],
            policy_text=body.policy_text,
        )
    )


def register_boarding(
    student_id: str, month: str, body: schemas.BoardingRegistrationIn, request_id: str
) -> att.RegisterBoardingRequest:
    return att.RegisterBoardingRequest(
        request_id=request_id,
        student_id=student_id,
        month=month,
        lunch=body.lunch,
        breakfast=body.breakfast,
        nap_care=body.nap_care,
    )


def publish_menu(school_id: str, date: str, body: schemas.MenuIn) -> att.PublishMenuRequest:
    return att.PublishMenuRequest(
        school_id=school_id,
        date=date,
        items=[att.MenuItem(meal=MEAL_TO_PB[i.meal], dishes=i.dishes) for i in body.items],
    )


def record_meal_attendance(
    class_id: str, date: str, meal: schemas.Meal, body: schemas.MealAttendanceIn
) -> att.RecordMealAttendanceRequest:
    return att.RecordMealAttendanceRequest(
        class_id=class_id,
        date=date,
        meal=MEAL_TO_PB[meal],
        entries=[att.MealAttendanceEntry(student_id=e.student_id.lower(), ate=e.ate) for e in body.entries],
    )


def record_food_sample(
    school_id: str, body: schemas.FoodSampleCreate, request_id: str
) -> att.RecordFoodSampleRequest:
    return att.RecordFoodSampleRequest(
        request_id=request_id,
        school_id=school_id,
        date=body.date,
        meal=MEAL_TO_PB[body.meal],
        dishes=body.dishes,
        sample_time=timestamp(body.sampled_at),
        storage=body.storage,
    )


def discard_food_sample(sample_id: str, body: schemas.FoodSampleDiscard) -> att.DiscardFoodSampleRequest:
    return att.DiscardFoodSampleRequest(sample_id=sample_id, discard_time=timestamp(body.discarded_at))


# Responses


def school(msg: sr.School) -> schemas.School:
    return schemas.School(
        id=msg.id,
        name=msg.name,
        code=_optional(msg.code),
        levels=[PB_TO_LEVEL[lv] for lv in msg.levels if lv in PB_TO_LEVEL],
        created_at=_time(msg.create_time),
    )


def school_class(msg: sr.Class) -> schemas.SchoolClass:
    return schemas.SchoolClass(
        id=msg.id,
        school_id=msg.school_id,
        name=msg.name,
        grade=msg.grade,
        school_year=msg.school_year,
        created_at=_time(msg.create_time),
    )


def student(msg: sr.Student) -> schemas.Student:
    return schemas.Student(
        id=msg.id,
        school_id=msg.school_id,
        full_name=msg.full_name,
        date_of_birth=msg.date_of_birth,
        sex=PB_TO_SEX.get(msg.sex),
        student_code=_optional(msg.student_code),
        guardians=[
            # Never personal_id or date_of_birth: input only, even if a service ever echoed them.
            schemas.Guardian(
                full_name=g.full_name,
                relationship=g.relationship,
                phone=_optional(g.phone),
                person_id=_optional(g.person_id),
            )
            for g in msg.guardians
        ],
        person_id=_optional(msg.person_id),
    )


def enrolment(msg: sr.Enrolment) -> schemas.Enrolment:
    return schemas.Enrolment(
        id=msg.id, class_id=msg.class_id, student_id=msg.student_id, enrolled_at=_time(msg.enrol_time)
    )


def roster(msg: att.GetClassRosterResponse) -> schemas.ClassRoster:
    return schemas.ClassRoster(
        class_id=msg.class_id,
        school_id=msg.school_id,
        class_name=msg.class_name,
        entries=[
            schemas.RosterEntry(
                student_id=e.student_id, full_name=e.full_name, enrolled_at=_time(e.enrol_time)
            )
            for e in msg.entries
        ],
    )


def violation(msg: sr.Violation) -> schemas.Violation:
    return schemas.Violation(
        id=msg.id,
        student_id=msg.student_id,
        school_id=msg.school_id,
        occurred_on=msg.occurred_on,
        description=msg.description,
        severity=PB_TO_SEVERITY.get(msg.severity),
        measure=PB_TO_MEASURE.get(msg.measure),
        family_confirmed_at=_optional_time(msg, "family_confirm_time"),
        recorded_at=_time(msg.record_time),
    )


def reward(msg: sr.Reward) -> schemas.Reward:
    return schemas.Reward(
        id=msg.id,
        student_id=msg.student_id,
        school_id=msg.school_id,
        kind=PB_TO_REWARD_KIND.get(msg.kind),
        reason=msg.reason,
        awarded_on=msg.awarded_on,
        recorded_at=_time(msg.record_time),
    )


def club(msg: sr.Club) -> schemas.Club:
    return schemas.Club(
        id=msg.id,
        school_id=msg.school_id,
        name=msg.name,
        description=msg.description,
        adviser_subject=msg.adviser_subject,
        capacity=msg.capacity,
        member_count=msg.member_count,
    )


def club_membership(msg: sr.ClubMembership) -> schemas.ClubMembership:
    return schemas.ClubMembership(
        id=msg.id,
        club_id=msg.club_id,
        student_id=msg.student_id,
        student_name=msg.student_name,
        state=PB_TO_MEMBERSHIP_STATE.get(msg.state),
        decision_reason=_optional(msg.decision_reason),
        sessions_attended=msg.sessions_attended,
        requested_at=_time(msg.request_time),
    )


def club_session(msg: sr.ClubSession) -> schemas.ClubSession:
    return schemas.ClubSession(
        id=msg.id,
        club_id=msg.club_id,
        held_on=msg.held_on,
        topic=msg.topic,
        present_student_ids=list(msg.present_student_ids),
    )


def subject(msg: sr.Subject) -> schemas.Subject:
    return schemas.Subject(
        code=msg.code,
        name=msg.name,
        name_en=msg.name_en,
        evaluation=PB_TO_EVALUATION.get(msg.evaluation),
        periods_per_year=msg.periods_per_year,
        regular_assessments=msg.regular_assessments,
        tested=msg.tested,
        mid_tested=msg.mid_tested,
        elective=msg.elective,
    )


def school_year(msg: sr.SchoolYear) -> schemas.SchoolYear:
    return schemas.SchoolYear(
        school_id=msg.school_id,
        name=msg.name,
        semester_1_start=_optional(msg.semester_1_start),
        semester_1_end=_optional(msg.semester_1_end),
        semester_2_start=_optional(msg.semester_2_start),
        semester_2_end=_optional(msg.semester_2_end),
        locked_semesters=list(msg.locked_semesters),
    )


def gradebook(class_id: str, msg: sr.GetClassGradebookResponse) -> schemas.Gradebook:
    return schemas.Gradebook(
        class_id=class_id,
        subject=subject(msg.subject),
        semester=msg.semester,
        locked=msg.locked,
        rows=[
            schemas.GradebookRow(
                student_id=r.student_id,
                full_name=r.full_name,
                cells=[
                    schemas.GradebookCell(
                        kind=PB_TO_ASSESSMENT_KIND.get(c.kind),
                        ordinal=c.ordinal,
                        value=c.value,
                        display=c.display,
                    )
                    for c in r.cells
                ],
                result=_optional(r.result),
                missing=list(r.missing),
            )
            for r in msg.rows
        ],
    )


def grade_change(msg: sr.GradeChange) -> schemas.GradeChange:
    return schemas.GradeChange(
        id=msg.id,
        class_id=msg.class_id,
        student_id=msg.student_id,
        subject_code=msg.subject_code,
        school_year=msg.school_year,
        semester=msg.semester,
        kind=PB_TO_ASSESSMENT_KIND.get(msg.kind),
        ordinal=msg.ordinal,
        old_value=_optional(msg.old_value),
        new_value=msg.new_value,
        reason=msg.reason,
        state=PB_TO_GRADE_CHANGE_STATE.get(msg.state),
        requested_by=msg.requested_by,
        requested_at=_time(msg.request_time),
        decided_by=_optional(msg.decided_by),
        decided_at=_optional_time(msg, "decide_time"),
        decision_note=_optional(msg.decision_note),
    )


ExplanationField = Literal[
    "learning_explanation",
    "conduct_explanation",
    "promotion_explanation",
    "award_explanation",
    "primary_explanation",
]


def _explanation(msg: sr.TermResult, name: ExplanationField, value: str) -> schemas.Explanation | None:
    # Only with its result: a result hidden from a family hides its explanation too.
    if not value or not msg.HasField(name):
        return None
    e: sr.Explanation = getattr(msg, name)
    return schemas.Explanation(rule=e.rule, vi=e.vi, en=e.en, subjects=list(e.subjects))


def term_result(msg: sr.TermResult) -> schemas.TermResult | None:
    term = PB_TO_TERM.get(msg.term)
    if term is None:
        return None
    learning = LEARNING_LEVELS.get(msg.learning)
    conduct = LEARNING_LEVELS.get(msg.conduct)
    promotion = PROMOTIONS.get(msg.promotion)
    award = AWARDS.get(msg.award)
    primary = PRIMARY_RESULTS.get(msg.primary_result)
    return schemas.TermResult(
        term=term,
        subjects=[
            schemas.SubjectResult(
                subject_code=s.subject_code,
                subject_name=s.subject_name,
                value=_optional(s.value),
                display=_optional(s.display),
                missing=list(s.missing),
                test_score=s.test_score if s.test_score >= 0 else None,
            )
            for s in msg.subjects
        ],
        learning=learning,
        learning_explanation=_explanation(msg, "learning_explanation", learning or ""),
        conduct=conduct,
        conduct_explanation=_explanation(msg, "conduct_explanation", conduct or ""),
        promotion=promotion,
        promotion_explanation=_explanation(msg, "promotion_explanation", promotion or ""),
        award=award,
        award_explanation=_explanation(msg, "award_explanation", award or ""),
        primary_result=primary,
        primary_explanation=_explanation(msg, "primary_explanation", primary or ""),
        incomplete=list(msg.incomplete),
        absent_sessions=msg.absent_sessions if msg.absent_sessions >= 0 else None,
        published=msg.published,
    )


def student_results(msg: sr.GetStudentResultsResponse) -> schemas.StudentResults:
    terms = [term_result(t) for t in msg.terms]
    return schemas.StudentResults(
        student_id=msg.student_id,
        school_year=msg.school_year,
        class_id=msg.class_id,
        grade=msg.grade,
        terms=[t for t in terms if t is not None],
    )


def results_publication(msg: sr.PublishResultsResponse) -> schemas.ResultsPublication:
    return schemas.ResultsPublication(published_at=_time(msg.publish_time), students=msg.students)


# identity


def tenant(msg: idn.Tenant) -> schemas.Tenant:
    return schemas.Tenant(
        slug=msg.slug,
        display_name=msg.display_name,
        realm=msg.realm,
        state=PB_TO_TENANT_STATE.get(msg.state),
        completed_steps=list(msg.completed_steps),
        last_error=_optional(msg.last_error),
        created_at=_optional_time(msg, "create_time"),
        updated_at=_optional_time(msg, "update_time"),
    )


def verification(msg: idn.Verification) -> schemas.Verification | None:
    status = PB_TO_VERIFICATION.get(msg.status)
    if status is None:
        return None
    return schemas.Verification(
        status=status,
        checks={c.field: c.matches for c in msg.checks},
        verified_at=_optional_time(msg, "verify_time"),
        identification_level=msg.identification_level,
        source=_optional(msg.source),
    )


def _verification_of(msg: Any) -> schemas.Verification | None:
    return verification(msg.verification) if msg.HasField("verification") else None


def me(msg: idn.GetMeResponse) -> schemas.Me:
    return schemas.Me(
        subject=msg.subject,
        tenant=msg.tenant,
        display_name=msg.display_name,
        roles=list(msg.roles),
        person_id=_optional(msg.person_id),
        verification=_verification_of(msg),
        schools=[
            schemas.SchoolAccess(school_id=s.school_id, school_name=s.school_name, roles=list(s.roles))
            for s in msg.schools
        ],
        classes=[
            schemas.ClassAccess(
                class_id=c.class_id,
                school_id=c.school_id,
                class_name=c.class_name,
                role=c.role,
                subject=_optional(c.subject),
            )
            for c in msg.classes
        ],
        children=[_child(c) for c in msg.children],
        link_state=PB_TO_LINK_STATE.get(msg.link_state),
        pending_link_requests=msg.pending_link_requests,
        tenant_wide=msg.tenant_wide,
        own_records=[_child(c) for c in msg.own_records],
    )


def _child(c: idn.Child) -> schemas.Child:
    return schemas.Child(
        student_id=c.student_id,
        full_name=c.full_name,
        school_id=c.school_id,
        school_name=c.school_name,
        class_id=_optional(c.class_id),
        class_name=_optional(c.class_name),
        relationship=c.relationship,
        linked_at=_optional_time(c, "link_time"),
    )


def staff_member(msg: idn.StaffMember) -> schemas.StaffMember:
    return schemas.StaffMember(
        account_id=msg.account_id,
        subject=msg.subject,
        username=msg.username,
        full_name=msg.full_name,
        staff_code=_optional(msg.staff_code),
        assignments=[
            schemas.Assignment(
                role=a.role,
                school_id=_optional(a.school_id),
                class_id=_optional(a.class_id),
                subject=_optional(a.subject),
            )
            for a in msg.assignments
        ],
        verification=_verification_of(msg),
    )


def import_report(msg: idn.ImportStaffResponse) -> schemas.StaffImportReport:
    return schemas.StaffImportReport(
        import_id=msg.import_id,
        columns=dict(msg.columns),
        rows=[
            schemas.ImportRow(
                row=r.row,
                outcome=PB_TO_ROW_OUTCOME.get(r.outcome),
                problems=[
                    schemas.RowProblem(column=p.column, reason=p.reason, message=p.message)
                    for p in r.problems
                ],
                account_id=_optional(r.account_id),
                verification_status=PB_TO_VERIFICATION.get(r.verification_status),
            )
            for r in msg.rows
        ],
        created=msg.created,
        updated=msg.updated,
        unchanged=msg.unchanged,
        refused=msg.refused,
    )


def citizen_verification(msg: idn.VerifyCitizenResponse) -> schemas.CitizenVerification:
    v = msg.verification
    return schemas.CitizenVerification(
        person_id=_optional(msg.person_id),
        status=PB_TO_VERIFICATION.get(v.status),
        checks={c.field: c.matches for c in v.checks},
        verified_at=_optional_time(v, "verify_time"),
        identification_level=v.identification_level,
        source=_optional(v.source),
    )


def link_request(msg: idn.LinkRequest) -> schemas.LinkRequest:
    return schemas.LinkRequest(
        id=msg.id,
        school_id=msg.school_id,
        student_id=_optional(msg.student_id),
        child_full_name=msg.child_full_name,
        child_date_of_birth=msg.child_date_of_birth,
        relationship=msg.relationship,
        note=_optional(msg.note),
        state=PB_TO_LINK_REQUEST_STATE.get(msg.state),
        decision_reason=_optional(msg.decision_reason),
        requester_name=_optional(msg.requester_name),
        candidate_student_ids=list(msg.candidate_student_ids),
        created_at=_time(msg.create_time),
        decided_at=_optional_time(msg, "decide_time"),
    )


def purpose(msg: idn.Purpose) -> schemas.Purpose:
    return schemas.Purpose(
        code=msg.code,
        title=msg.title,
        legal_basis=PB_TO_LEGAL_BASIS.get(msg.legal_basis),
        legal_reference=_optional(msg.legal_reference),
        child_consent_from_age_7=msg.child_consent_from_age_7,
    )


def consent(msg: idn.Consent) -> schemas.Consent:
    return schemas.Consent(
        id=msg.id,
        student_id=msg.student_id,
        purpose=msg.purpose,
        given_by=msg.given_by,
        state=PB_TO_CONSENT_STATE.get(msg.state),
        granted_at=_optional_time(msg, "grant_time"),
        withdrawn_at=_optional_time(msg, "withdraw_time"),
    )


def student_consents(msg: idn.ListConsentsResponse) -> schemas.StudentConsents:
    return schemas.StudentConsents(
        consents=[consent(c) for c in msg.consents],
        purposes=[
            schemas.PurposeStatus(
                purpose=p.purpose,
                legal_basis=PB_TO_LEGAL_BASIS.get(p.legal_basis),
                permitted=p.permitted,
                missing=list(p.missing),
            )
            for p in msg.purposes
        ],
    )


def audit_event(msg: idn.AuditEvent) -> schemas.AuditEvent:
    return schemas.AuditEvent(
        id=msg.id,
        occurred_at=_time(msg.occur_time),
        source=msg.source,
        action=msg.action,
        actor=_optional(msg.actor),
        target=_optional(msg.target),
        outcome=msg.outcome,
        details=dict(msg.details),
    )


def student_list_import(msg: sr.ImportStudentsResponse, dry_run: bool) -> schemas.StudentListImportReport:
    return schemas.StudentListImportReport(
        dry_run=dry_run,
        created=msg.created,
        updated=msg.updated,
        unchanged=msg.unchanged,
        refused=msg.refused,
        rows=[
            schemas.StudentImportRow(
                row=r.row,
                outcome=PB_TO_IMPORT_OUTCOME.get(r.outcome),
                student_id=_optional(r.student_id),
                student_code=_optional(r.student_code),
                temporary_key=_optional(r.temporary_key),
                column=_optional(r.column),
                reason=_optional(r.reason),
                message=_optional(r.message),
            )
            for r in msg.rows
        ],
        ignored_headers=list(msg.ignored_headers),
    )


def transcript(msg: sr.Transcript) -> schemas.Transcript:
    return schemas.Transcript(
        id=msg.id,
        student_id=msg.student_id,
        school_id=msg.school_id,
        class_id=msg.class_id,
        school_year=msg.school_year,
        version=msg.version,
        supersedes_id=_optional(msg.supersedes_id),
        digest=msg.digest,
        verification_code=msg.verification_code,
        issued_by=msg.issued_by,
        issued_at=_time(msg.issue_time),
        superseded_at=_optional_time(msg, "superseded_time"),
        correction_reason=_optional(msg.correction_reason),
    )


def transcript_issue(msg: sr.IssueTranscriptsResponse) -> schemas.TranscriptIssueReport:
    return schemas.TranscriptIssueReport(
        issued=msg.issued,
        students=[
            schemas.TranscriptIssueRow(
                student_id=r.student_id,
                student_name=r.student_name,
                outcome=PB_TO_TRANSCRIPT_ISSUE_OUTCOME.get(r.outcome),
                transcript_id=_optional(r.transcript_id),
                missing=list(r.missing),
            )
            for r in msg.students
        ],
    )


def transcript_verification(msg: sr.VerifyTranscriptResponse) -> schemas.TranscriptVerification:
    return schemas.TranscriptVerification(
        valid=msg.valid,
        pdf_valid=msg.pdf_valid,
        xml_valid=msg.xml_valid,
        digest_matches=msg.digest_matches,
        version=msg.version,
        superseded=msg.superseded,
        school_name=msg.school_name,
        school_year=msg.school_year,
        issued_on=msg.issued_on,
        student_name=msg.student_name,
    )


def movement(msg: sr.Movement) -> schemas.Movement:
    return schemas.Movement(
        id=msg.id,
        student_id=msg.student_id,
        kind=PB_TO_MOVEMENT_KIND.get(msg.kind),
        state=PB_TO_MOVEMENT_STATE.get(msg.state),
        school_year=msg.school_year,
        from_school_id=_optional(msg.from_school_id),
        from_class_id=_optional(msg.from_class_id),
        to_school_id=_optional(msg.to_school_id),
        to_class_id=_optional(msg.to_class_id),
        counterpart=_optional(msg.counterpart),
        effective_on=msg.effective_on,
        reason=msg.reason,
        requested_by=msg.requested_by,
        requested_at=_time(msg.request_time),
        decided_by=_optional(msg.decided_by),
        decided_at=_optional_time(msg, "decide_time"),
        decision_note=_optional(msg.decision_note),
    )


def arrival(msg: sr.ImportStudentRecordResponse) -> schemas.Arrival:
    return schemas.Arrival(student=student(msg.student), movement=movement(msg.movement))


def received_record(msg: sr.ReceivedRecord) -> schemas.ReceivedRecord:
    return schemas.ReceivedRecord(
        id=msg.id,
        student_id=msg.student_id,
        from_school=msg.from_school,
        verified=msg.verified,
        received_at=_time(msg.receive_time),
        size_bytes=msg.size_bytes,
    )


def diploma(msg: sr.Diploma) -> schemas.Diploma:
    return schemas.Diploma(
        id=msg.id,
        student_id=msg.student_id,
        school_id=msg.school_id,
        kind=PB_TO_DIPLOMA_KIND.get(msg.kind),
        status=PB_TO_DIPLOMA_STATUS.get(msg.status),
        graduation_year=msg.graduation_year,
        classification=PB_TO_DIPLOMA_CLASSIFICATION.get(msg.classification),
        register_number=msg.register_number,
        serial_number=msg.serial_number,
        holder_name=msg.holder_name,
        holder_date_of_birth=msg.holder_date_of_birth,
        issued_on=msg.issued_on,
        signer_name=msg.signer_name,
        signer_title=msg.signer_title,
        verification_code=msg.verification_code,
        supersedes_id=_optional(msg.supersedes_id),
        correction_reason=_optional(msg.correction_reason),
        issued_by=msg.issued_by,
        issued_at=_time(msg.issue_time),
        corrected_at=_optional_time(msg, "correct_time"),
        revoked_by=_optional(msg.revoked_by),
        revoked_at=_optional_time(msg, "revoke_time"),
        revocation_reason=_optional(msg.revocation_reason),
    )


def diploma_verification(msg: sr.VerifyDiplomaResponse) -> schemas.DiplomaVerification:
    return schemas.DiplomaVerification(
        status=PB_TO_DIPLOMA_STATUS.get(msg.status),
        kind=PB_TO_DIPLOMA_KIND.get(msg.kind),
        school_name=msg.school_name,
        graduation_year=msg.graduation_year,
        holder_name=msg.holder_name,
    )


# attendance


def school_calendar(msg: att.SchoolCalendar) -> schemas.SchoolCalendar:
    return schemas.SchoolCalendar(
        school_id=msg.school_id,
        sessions=[PB_TO_SESSION[s] for s in msg.sessions if s in PB_TO_SESSION],
        weekdays=list(msg.weekdays),
        main_session=PB_TO_SESSION.get(msg.main_session),
        morning_cutoff=msg.morning_cutoff,
        afternoon_cutoff=msg.afternoon_cutoff,
        afternoon_starts=msg.afternoon_starts,
        closed_dates=list(msg.closed_dates),
        absence_warning_at=msg.absence_warning_at,
        configured=msg.configured,
    )


def register_line(msg: att.RegisterLine) -> schemas.RegisterLine:
    return schemas.RegisterLine(
        student_id=msg.student_id,
        full_name=msg.full_name,
        status=PB_TO_ATTENDANCE_STATUS.get(msg.status),
        note=_optional(msg.note),
        leave_request_id=_optional(msg.leave_request_id),
        checked_in_at=_optional_time(msg, "check_in_time"),
        marked_at=_optional_time(msg, "mark_time"),
        marked_by=_optional(msg.marked_by),
    )


def _register_fields(msg: att.Register) -> dict[str, Any]:
    return {
        "class_id": msg.class_id,
        "school_id": msg.school_id,
        "class_name": msg.class_name,
        "date": msg.date,
        "session": PB_TO_SESSION.get(msg.session),
        "school_year": msg.school_year,
        "lines": [register_line(line) for line in msg.lines],
        "present": msg.present,
        "absent_excused": msg.absent_excused,
        "absent_unexcused": msg.absent_unexcused,
        "late": msg.late,
        "left_early": msg.left_early,
        "unmarked": msg.unmarked,
        "cutoff_at": _optional_time(msg, "cutoff_time"),
    }


def register(msg: att.Register) -> schemas.Register:
    return schemas.Register(**_register_fields(msg))


def mark_result(msg: att.MarkAttendanceResponse) -> schemas.MarkResult:
    return schemas.MarkResult(
        **_register_fields(msg.register), changed=msg.changed, after_cutoff=msg.after_cutoff
    )


def register_change(msg: att.RegisterChange) -> schemas.RegisterChange:
    return schemas.RegisterChange(
        student_id=msg.student_id,
        date=msg.date,
        session=PB_TO_SESSION.get(msg.session),
        previous_status=PB_TO_ATTENDANCE_STATUS.get(msg.previous_status),
        status=PB_TO_ATTENDANCE_STATUS.get(msg.status),
        reason=msg.reason,
        changed_by=msg.changed_by,
        changed_at=_time(msg.change_time),
    )


def student_attendance_day(msg: att.StudentAttendanceDay) -> schemas.StudentAttendanceDay:
    return schemas.StudentAttendanceDay(
        date=msg.date,
        session=PB_TO_SESSION.get(msg.session),
        status=PB_TO_ATTENDANCE_STATUS.get(msg.status),
        note=_optional(msg.note),
    )


def absence_summary(msg: att.AbsenceSummary) -> schemas.AbsenceSummary:
    return schemas.AbsenceSummary(
        student_id=msg.student_id,
        full_name=msg.full_name,
        school_year=msg.school_year,
        absent_sessions=msg.absent_sessions,
        excused=msg.excused,
        unexcused=msg.unexcused,
        limit=msg.limit,
        warning_at=msg.warning_at,
        level=PB_TO_ABSENCE_LEVEL.get(msg.level),
        late=msg.late,
        left_early=msg.left_early,
    )


def leave_request(msg: att.LeaveRequest) -> schemas.LeaveRequest:
    return schemas.LeaveRequest(
        id=msg.id,
        student_id=msg.student_id,
        full_name=msg.full_name,
        class_id=msg.class_id,
        school_id=msg.school_id,
        from_date=msg.from_date,
        to_date=msg.to_date,
        sessions=[PB_TO_SESSION[s] for s in msg.sessions if s in PB_TO_SESSION],
        reason=msg.reason,
        status=PB_TO_LEAVE_STATUS.get(msg.status),
        session_count=msg.session_count,
        requested_by=msg.requested_by,
        requested_at=_time(msg.request_time),
        decided_by=_optional(msg.decided_by),
        decided_at=_optional_time(msg, "decision_time"),
        decision_note=_optional(msg.decision_note),
    )


def gate_device(msg: att.GateDevice) -> schemas.GateDevice:
    return schemas.GateDevice(
        id=msg.id,
        school_id=msg.school_id,
        name=msg.name,
        kind=PB_TO_GATE_DEVICE_KIND.get(msg.kind),
        client_id=msg.client_id,
        enabled=msg.enabled,
        registered_at=_time(msg.register_time),
        last_seen_at=_optional_time(msg, "last_seen_time"),
    )


def gate_device_registration(msg: att.RegisterGateDeviceResponse) -> schemas.GateDeviceRegistration:
    return schemas.GateDeviceRegistration(
        device=gate_device(msg.device), client_secret=msg.client_secret, token_endpoint=msg.token_endpoint
    )


def check_in_results(msg: att.RecordCheckInsResponse) -> schemas.CheckInResults:
    return schemas.CheckInResults(
        checked_in=msg.checked_in,
        merged=msg.merged,
        rejected=msg.rejected,
        results=[
            schemas.TapResult(
                tap_id=r.tap_id,
                outcome=PB_TO_TAP_OUTCOME.get(r.outcome),
                student_id=_optional(r.student_id),
                date=_optional(r.date),
                session=PB_TO_SESSION.get(r.session),
            )
            for r in msg.results
        ],
    )


def gate_reconciliation(msg: att.GetGateReconciliationResponse) -> schemas.GateReconciliation:
    return schemas.GateReconciliation(
        flagged=msg.flagged,
        lines=[
            schemas.ReconciliationLine(
                student_id=line.student_id,
                full_name=line.full_name,
                status=PB_TO_ATTENDANCE_STATUS.get(line.status),
                checked_in_at=_optional_time(line, "check_in_time"),
                flag=PB_TO_RECONCILIATION_FLAG.get(line.flag),
            )
            for line in msg.lines
        ],
    )


# semi-boarding


def boarding_settings(msg: att.BoardingSettings) -> schemas.BoardingSettings:
    return schemas.BoardingSettings(
        school_id=msg.school_id,
        meal_cutoff=msg.meal_cutoff,
        lunch_price=msg.lunch_price,
        breakfast_price=msg.breakfast_price,
        nap_care_monthly_fee=msg.nap_care_monthly_fee,
        meal_refund=PB_TO_MEAL_REFUND.get(msg.meal_refund),
        care_refund=PB_TO_CARE_REFUND.get(msg.care_refund),
        kitchens=[schemas.Kitchen(name=k.name, class_ids=list(k.class_ids)) for k in msg.kitchens],
        policy_text=msg.policy_text,
        configured=msg.configured,
    )


def boarding_registration(msg: att.BoardingRegistration) -> schemas.BoardingRegistration:
    return schemas.BoardingRegistration(
        student_id=msg.student_id,
        full_name=msg.full_name,
        class_id=msg.class_id,
        month=msg.month,
        lunch=msg.lunch,
        breakfast=msg.breakfast,
        nap_care=msg.nap_care,
        effective_date=msg.effective_date,
        registered_by=msg.registered_by,
        registered_at=_time(msg.register_time),
    )


def meal_count(msg: att.GetMealCountResponse) -> schemas.MealCount:
    return schemas.MealCount(
        school_id=msg.school_id,
        date=msg.date,
        frozen=msg.frozen,
        cutoff_at=_optional_time(msg, "cutoff_time"),
        frozen_at=_optional_time(msg, "freeze_time"),
        kitchens=[
            schemas.KitchenCount(
                kitchen=k.kitchen,
                lunch=k.lunch,
                breakfast=k.breakfast,
                lunch_absent=k.lunch_absent,
                breakfast_absent=k.breakfast_absent,
            )
            for k in msg.kitchens
        ],
    )


def menu(msg: att.Menu) -> schemas.Menu:
    return schemas.Menu(
        school_id=msg.school_id,
        date=msg.date,
        items=[schemas.MenuItem(meal=PB_TO_MEAL.get(i.meal), dishes=list(i.dishes)) for i in msg.items],
        published_at=_optional_time(msg, "publish_time"),
    )


def meal_attendance(
    class_id: str, date: str, meal: schemas.Meal, entries: Iterable[att.MealAttendanceEntry]
) -> schemas.MealAttendance:
    return schemas.MealAttendance(
        class_id=class_id,
        date=date,
        meal=meal,
        entries=[
            schemas.MealAttendanceEntry(student_id=e.student_id, full_name=e.full_name, ate=e.ate)
            for e in entries
        ],
    )


def food_sample(msg: att.FoodSample) -> schemas.FoodSample:
    return schemas.FoodSample(
        id=msg.id,
        school_id=msg.school_id,
        date=msg.date,
        meal=PB_TO_MEAL.get(msg.meal),
        dishes=list(msg.dishes),
        sampled_at=_time(msg.sample_time),
        keep_until=_time(msg.keep_until),
        discarded_at=_optional_time(msg, "discard_time"),
        recorded_by=msg.recorded_by,
        discarded_by=_optional(msg.discarded_by),
        storage=_optional(msg.storage),
    )


def boarding_charge(msg: att.BoardingCharge) -> schemas.BoardingCharge:
    return schemas.BoardingCharge(
        student_id=msg.student_id,
        full_name=msg.full_name,
        class_id=msg.class_id,
        month=msg.month,
        lines=[
            schemas.ChargeLine(
                kind=PB_TO_CHARGE_KIND.get(line.kind),
                quantity=line.quantity,
                unit_price=line.unit_price,
                gross_amount=line.gross_amount,
                refunded_days=line.refunded_days,
                refund_amount=line.refund_amount,
                amount=line.amount,
            )
            for line in msg.lines
        ],
        total=msg.total,
        version=msg.version,
    )


def boarding_charge_run(msg: att.ComputeBoardingChargesResponse) -> schemas.BoardingChargeRun:
    return schemas.BoardingChargeRun(
        school_id=msg.school_id,
        month=msg.month,
        version=msg.version,
        changed=msg.changed,
        total=msg.total,
        charges=[boarding_charge(c) for c in msg.charges],
    )

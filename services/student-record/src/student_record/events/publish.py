"""Which changes (and reads) emit which events. Each is an outbox row in the use case's own transaction.

Payloads name people by id; the only personal data they carry is what roster consumers need (a student's
display name and date of birth), and guardians travel as identity's pseudonymous person id.
"""

from __future__ import annotations

from datetime import UTC, datetime

from school.events.audit.v1 import events_pb2 as audit
from school.events.student_record.v1 import events_pb2 as events
from school_common.db import UnitOfWork
from school_common.events import Outbox

from student_record.mappers import timestamp
from student_record.models import (
    Diploma,
    Enrolment,
    Guardian,
    Movement,
    School,
    SchoolClass,
    SchoolYear,
    Student,
    Transcript,
    Violation,
)

SCHOOL_CREATED = "school.created"
CLASS_CREATED = "class.created"
STUDENT_ENROLLED = "student.enrolled"
GUARDIAN_ADDED = "guardian.recorded"
PERSONAL_DATA_ACCESSED = "personal_data.accessed"
VIOLATION_RECORDED = "violation.recorded"
GRADES_LOCKED = "grades.locked"
RESULTS_PUBLISHED = "results.published"
STUDENT_TRANSFERRED = "student.transferred"
TRANSCRIPT_ISSUED = "transcript.issued"
SCHOOL_YEAR_DEFINED = "school_year.defined"


def guardian_ref(row: Guardian) -> events.GuardianRef:
    return events.GuardianRef(
        person_id=str(row.person_id) if row.person_id else "", relationship=row.relation
    )


async def school_created(outbox: Outbox, uow: UnitOfWork, row: School) -> None:
    await outbox.add(
        uow, SCHOOL_CREATED, events.SchoolCreated(school_id=str(row.id), name=row.name, code=row.code or "")
    )


async def class_created(outbox: Outbox, uow: UnitOfWork, row: SchoolClass) -> None:
    await outbox.add(
        uow,
        CLASS_CREATED,
        events.ClassCreated(
            class_id=str(row.id),
            school_id=str(row.school_id),
            name=row.name,
            grade=row.grade,
            school_year=row.school_year,
        ),
    )


async def student_enrolled(
    outbox: Outbox, uow: UnitOfWork, enrolment: Enrolment, school_class: SchoolClass, student: Student
) -> None:
    await outbox.add(
        uow,
        STUDENT_ENROLLED,
        events.StudentEnrolled(
            enrolment_id=str(enrolment.id),
            class_id=str(school_class.id),
            school_id=str(school_class.school_id),
            student_id=str(student.id),
            full_name=student.full_name,
            enrol_time=timestamp(enrolment.enrolled_at),
            date_of_birth=student.date_of_birth.isoformat(),
            guardians=[guardian_ref(g) for g in student.guardians],
            person_id=str(student.person_id) if student.person_id else "",
        ),
    )


async def guardian_added(outbox: Outbox, uow: UnitOfWork, student: Student, guardian: Guardian) -> None:
    await outbox.add(
        uow,
        GUARDIAN_ADDED,
        events.GuardianAdded(
            student_id=str(student.id), school_id=str(student.school_id), guardian=guardian_ref(guardian)
        ),
    )


async def personal_data_accessed(
    outbox: Outbox, uow: UnitOfWork, *, actor: str, target: str, subjects: int, operation: str
) -> None:
    """The audit record of a read of personal data, committed with the read: no record, no data."""
    await outbox.add(
        uow,
        PERSONAL_DATA_ACCESSED,
        audit.PersonalDataAccessed(
            actor=actor,
            target=target,
            subjects=subjects,
            operation=operation,
            access_time=timestamp(datetime.now(UTC)),
        ),
    )


async def violation_recorded(outbox: Outbox, uow: UnitOfWork, row: Violation) -> None:
    """No description: consumers that need it read it with their reader's own token."""
    await outbox.add(
        uow,
        VIOLATION_RECORDED,
        events.ViolationRecorded(
            violation_id=str(row.id),
            student_id=str(row.student_id),
            school_id=str(row.school_id),
            severity=row.severity,
            measure=row.measure,
            occurred_on=row.occurred_on.isoformat(),
        ),
    )


async def grades_locked(
    outbox: Outbox, uow: UnitOfWork, school_id: str, school_year: str, semester: int, locked_at: datetime
) -> None:
    await outbox.add(
        uow,
        GRADES_LOCKED,
        events.GradesLocked(
            school_id=school_id, school_year=school_year, semester=semester, lock_time=timestamp(locked_at)
        ),
    )


async def results_published(
    outbox: Outbox,
    uow: UnitOfWork,
    school_class: SchoolClass,
    term: int,
    student_ids: list[str],
    published_at: datetime,
) -> None:
    """No results travel: messaging tells the families, who read them with their own token."""
    await outbox.add(
        uow,
        RESULTS_PUBLISHED,
        events.ResultsPublished(
            class_id=str(school_class.id),
            school_id=str(school_class.school_id),
            school_year=school_class.school_year,
            term=term,
            student_ids=student_ids,
            publish_time=timestamp(published_at),
        ),
    )


async def transcript_issued(outbox: Outbox, uow: UnitOfWork, row: Transcript) -> None:
    """No content: whoever needs the document reads it with their own token (and is logged)."""
    await outbox.add(
        uow,
        TRANSCRIPT_ISSUED,
        events.TranscriptIssued(
            transcript_id=str(row.id),
            student_id=str(row.student_id),
            school_id=str(row.school_id),
            school_year=row.school_year,
            version=row.version,
            supersedes_id=str(row.supersedes_id) if row.supersedes_id else "",
        ),
    )


async def student_transferred(outbox: Outbox, uow: UnitOfWork, row: Movement, student: Student) -> None:
    await outbox.add(
        uow,
        STUDENT_TRANSFERRED,
        events.StudentTransferred(
            movement_id=str(row.id),
            student_id=str(student.id),
            school_year=row.school_year,
            kind=row.kind,
            # Empty on the side outside the tenant (a transfer out or in).
            from_school_id=str(row.from_school_id or ""),
            from_class_id=str(row.from_class_id or ""),
            to_school_id=str(row.to_school_id or ""),
            to_class_id=str(row.to_class_id or ""),
            effective_on=row.effective_on.isoformat(),
            full_name=student.full_name,
            transfer_time=timestamp(row.decided_at or datetime.now(UTC)),
        ),
    )


DIPLOMA_ISSUED = "diploma.issued"
DIPLOMA_REVOKED = "diploma.revoked"


async def diploma_issued(outbox: Outbox, uow: UnitOfWork, row: Diploma) -> None:
    """Ids only: no holder's name, no numbers (whoever needs them reads the register with their token)."""
    await outbox.add(
        uow,
        DIPLOMA_ISSUED,
        events.DiplomaIssued(
            diploma_id=str(row.id),
            student_id=str(row.student_id),
            school_id=str(row.school_id),
            kind=row.kind,
            graduation_year=row.graduation_year,
            supersedes_id=str(row.supersedes_id) if row.supersedes_id else "",
        ),
    )


async def diploma_revoked(outbox: Outbox, uow: UnitOfWork, row: Diploma) -> None:
    await outbox.add(
        uow,
        DIPLOMA_REVOKED,
        events.DiplomaRevoked(
            diploma_id=str(row.id),
            student_id=str(row.student_id),
            school_id=str(row.school_id),
            kind=row.kind,
            graduation_year=row.graduation_year,
        ),
    )


async def school_year_defined(outbox: Outbox, uow: UnitOfWork, row: SchoolYear) -> None:
    await outbox.add(
        uow,
        SCHOOL_YEAR_DEFINED,
        events.SchoolYearDefined(
            school_id=str(row.school_id),
            name=row.name,
            semester_1_start=row.semester_1_start.isoformat(),
            semester_1_end=row.semester_1_end.isoformat(),
            semester_2_start=row.semester_2_start.isoformat(),
            semester_2_end=row.semester_2_end.isoformat(),
        ),
    )

"""Consumers of student-record's events: they keep the class rosters and the schools' years."""

from __future__ import annotations

import uuid
from datetime import UTC, date

from school.events.student_record.v1 import events_pb2 as events
from school_common.db import UnitOfWork
from school_common.events import Event, Subscription
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from attendance.models import RosterClass, RosterEntry, SchoolYear

STREAM = "STUDENT_RECORD"
CLASS_CREATED = "school.student_record.class.created.v1"
STUDENT_ENROLLED = "school.student_record.student.enrolled.v1"
STUDENT_TRANSFERRED = "school.student_record.student.transferred.v1"
SCHOOL_YEAR_DEFINED = "school.student_record.school_year.defined.v1"


async def on_class_created(event: Event, uow: UnitOfWork) -> None:
    payload = event.parse(events.ClassCreated)
    await uow.session.execute(
        insert(RosterClass)
        .values(
            id=uuid.UUID(payload.class_id),
            tenant_id=event.tenant,
            school_id=uuid.UUID(payload.school_id),
            name=payload.name,
            grade=payload.grade,
            school_year=payload.school_year,
        )
        .on_conflict_do_update(index_elements=["id"], set_={"name": payload.name, "grade": payload.grade})
    )


async def on_student_enrolled(event: Event, uow: UnitOfWork) -> None:
    payload = event.parse(events.StudentEnrolled)
    await uow.session.execute(
        insert(RosterEntry)
        .values(
            tenant_id=event.tenant,
            class_id=uuid.UUID(payload.class_id),
            student_id=uuid.UUID(payload.student_id),
            full_name=payload.full_name,
            enrolled_at=payload.enrol_time.ToDatetime(tzinfo=UTC),
        )
        .on_conflict_do_nothing(index_elements=["class_id", "student_id"])
    )


async def on_student_transferred(event: Event, uow: UnitOfWork) -> None:
    """A move or a transfer: the student leaves the old class's roster and joins the new one (none when
    they left for a school outside the tenant)."""
    payload = event.parse(events.StudentTransferred)
    student_id = uuid.UUID(payload.student_id)
    await uow.session.execute(
        delete(RosterEntry).where(
            RosterEntry.class_id == uuid.UUID(payload.from_class_id), RosterEntry.student_id == student_id
        )
    )
    if not payload.to_class_id:  # left for a school outside the tenant
        return
    await uow.session.execute(
        insert(RosterEntry)
        .values(
            tenant_id=event.tenant,
            class_id=uuid.UUID(payload.to_class_id),
            student_id=student_id,
            full_name=payload.full_name,
            enrolled_at=payload.transfer_time.ToDatetime(tzinfo=UTC),
        )
        .on_conflict_do_nothing(index_elements=["class_id", "student_id"])
    )


async def on_school_year_defined(event: Event, uow: UnitOfWork) -> None:
    """A school year's first and last day of school: registers are refused outside them."""
    payload = event.parse(events.SchoolYearDefined)
    starts_on, ends_on = (
        date.fromisoformat(payload.semester_1_start),
        date.fromisoformat(payload.semester_2_end),
    )
    await uow.session.execute(
        insert(SchoolYear)
        .values(
            tenant_id=event.tenant,
            school_id=uuid.UUID(payload.school_id),
            name=payload.name,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        .on_conflict_do_update(
            index_elements=["school_id", "name"], set_={"starts_on": starts_on, "ends_on": ends_on}
        )
    )


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            stream=STREAM,
            durable="attendance-rosters",
            handlers={
                CLASS_CREATED: on_class_created,
                STUDENT_ENROLLED: on_student_enrolled,
                STUDENT_TRANSFERRED: on_student_transferred,
                SCHOOL_YEAR_DEFINED: on_school_year_defined,
            },
        )
    ]

"""identity's read model of students follows student-record's events on a real PostgreSQL: a transfer
moves the student to the receiving school, which is what a family's access is then checked against."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from identity.events.handlers import STUDENT_ENROLLED, STUDENT_TRANSFERRED, Handlers
from identity.models import AuditEvent, Student
from school.events.student_record.v1 import events_pb2 as events
from school_common.db import Database
from school_common.events import Event
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
TENANT = "t-sr-events"
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def event(subject: str, payload: Any) -> Event:
    return Event(
        id=str(uuid.uuid4()),
        type=subject,
        source="/school/student-record",
        subject=subject,
        tenant=TENANT,
        data=payload.SerializeToString(),
        actor="bgh-b",
    )


@pytest.fixture(scope="module")
async def db(make_database) -> AsyncIterator[Database]:
    database = Database(await make_database("identity", ROOT))
    yield database
    await database.dispose()


async def test_a_transfer_moves_the_student_to_the_receiving_school(db) -> None:
    handlers = Handlers(cast(Any, None))  # no guardian in these events: accounts are not reached
    student, school_a, school_b = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    class_a, class_b = str(uuid.uuid4()), str(uuid.uuid4())
    enrolled = events.StudentEnrolled(
        enrolment_id=str(uuid.uuid4()),
        class_id=class_a,
        school_id=school_a,
        student_id=student,
        full_name="An",
    )
    moved = events.StudentTransferred(
        movement_id=str(uuid.uuid4()),
        student_id=student,
        school_year="2025-2026",
        kind="SCHOOL_TRANSFER",
        from_school_id=school_a,
        from_class_id=class_a,
        to_school_id=school_b,
        to_class_id=class_b,
        effective_on="2025-11-20",
        full_name="An",
    )
    async with db.unit_of_work(TENANT) as uow:
        await handlers.student_enrolled(event(STUDENT_ENROLLED, enrolled), uow)
        await handlers.student_transferred(event(STUDENT_TRANSFERRED, moved), uow)
        await uow.commit()
    async with db.unit_of_work(TENANT) as uow:
        row = await uow.session.get_one(Student, uuid.UUID(student))
        assert (str(row.school_id), str(row.class_id)) == (school_b, class_b)
        actions = (
            await uow.session.scalars(
                select(AuditEvent.action).where(AuditEvent.target == f"student:{student}")
            )
        ).all()
    assert sorted(actions) == ["STUDENT_ENROLLED", "STUDENT_SCHOOL_TRANSFER"]

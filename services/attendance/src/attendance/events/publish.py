"""Which changes emit which events. Each is an outbox row in the use case's own transaction; a register's
events are built here and added together (``Outbox.add_many``).

Students are named by id only; reasons given for leave stay in attendance (they may say a child is ill).
Semi-boarding's events (`meals.counted`, `boarding.charges_computed`) are in ``boarding/publish.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from google.protobuf.message import Message
from school.events.attendance.v1 import events_pb2 as events
from school_common.db import UnitOfWork
from school_common.events import Outbox

from attendance.domain.calendar import Session
from attendance.mappers import timestamp
from attendance.models import LeaveRequestRow, RosterClass

ATTENDANCE_MARKED = "attendance.marked"
ABSENCE_RECORDED = "absence.recorded"
LEAVE_REQUESTED = "leave.requested"
LEAVE_DECIDED = "leave.decided"


def attendance_marked(
    klass: RosterClass,
    day: date,
    at: Session,
    changes: Sequence[tuple[uuid.UUID, str, str]],
    *,
    after_cutoff: bool,
    at_time: datetime,
    origin: str,
) -> tuple[str, Message]:
    return (
        ATTENDANCE_MARKED,
        events.AttendanceMarked(
            class_id=str(klass.id),
            school_id=str(klass.school_id),
            date=day.isoformat(),
            session=at.value,
            school_year=klass.school_year,
            changes=[
                events.MarkChange(student_id=str(s), previous_status=previous, status=status)
                for s, previous, status in changes
            ],
            after_cutoff=after_cutoff,
            mark_time=timestamp(at_time),
            origin=origin,
        ),
    )


def absence_recorded(
    klass: RosterClass,
    student_id: uuid.UUID,
    day: date,
    at: Session,
    status: str,
    absent_sessions: int,
    level: str,
    at_time: datetime,
    leave_id: uuid.UUID | None,
) -> tuple[str, Message]:
    return (
        ABSENCE_RECORDED,
        events.AbsenceRecorded(
            student_id=str(student_id),
            class_id=str(klass.id),
            school_id=str(klass.school_id),
            date=day.isoformat(),
            session=at.value,
            status=status,
            school_year=klass.school_year,
            absent_sessions=absent_sessions,
            level=level,
            mark_time=timestamp(at_time),
            leave_request_id=str(leave_id) if leave_id else "",
            class_name=klass.name,
        ),
    )


async def leave_requested(outbox: Outbox, uow: UnitOfWork, row: LeaveRequestRow) -> None:
    await outbox.add(
        uow,
        LEAVE_REQUESTED,
        events.LeaveRequested(
            leave_request_id=str(row.id),
            student_id=str(row.student_id),
            class_id=str(row.class_id),
            school_id=str(row.school_id),
            from_date=row.from_day.isoformat(),
            to_date=row.to_day.isoformat(),
            sessions=list(row.sessions),
            requested_by=row.requested_by,
        ),
    )


async def leave_decided(outbox: Outbox, uow: UnitOfWork, row: LeaveRequestRow) -> None:
    await outbox.add(
        uow,
        LEAVE_DECIDED,
        events.LeaveDecided(
            leave_request_id=str(row.id),
            student_id=str(row.student_id),
            class_id=str(row.class_id),
            school_id=str(row.school_id),
            from_date=row.from_day.isoformat(),
            to_date=row.to_day.isoformat(),
            decision=row.status,
            decided_by=row.decided_by or "",
            requested_by=row.requested_by,
            note=row.decision_note,
        ),
    )

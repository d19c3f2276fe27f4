"""Use cases on class rosters."""

from __future__ import annotations

from school.attendance.v1 import attendance_pb2 as pb
from school_common.access import Action, Callers, Resource
from school_common.db import Database
from sqlalchemy import select

from attendance.calendar.service import load_class
from attendance.mappers import timestamp
from attendance.models import RosterEntry


class RosterService:
    def __init__(self, db: Database, access: Callers) -> None:
        self.db = db
        self.access = access

    async def get_class_roster(self, request: pb.GetClassRosterRequest) -> pb.GetClassRosterResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            roster_class = await load_class(uow.session, request.class_id)
            await caller.authorize(
                Action.READ, Resource.klass(str(roster_class.id), str(roster_class.school_id))
            )
            entries = (
                await uow.session.scalars(
                    select(RosterEntry)
                    .where(RosterEntry.class_id == roster_class.id)
                    .order_by(RosterEntry.full_name, RosterEntry.id)
                )
            ).all()
        return pb.GetClassRosterResponse(
            class_id=str(roster_class.id),
            school_id=str(roster_class.school_id),
            class_name=roster_class.name,
            entries=[
                pb.RosterEntry(
                    student_id=str(e.student_id), full_name=e.full_name, enrol_time=timestamp(e.enrolled_at)
                )
                for e in entries
            ],
        )

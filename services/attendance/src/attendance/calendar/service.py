"""The school's attendance calendar: its use cases and the loaders every other use case shares."""

from __future__ import annotations

import uuid

from school.attendance.v1 import attendance_pb2 as pb
from school_common.access import Action, Callers, Resource
from school_common.db import Database
from school_common.errors import NotFound, bilingual
from school_common.ids import parse_uuid
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.domain.calendar import (
    Calendar,
    Session,
    YearSpan,
    invalid,
    parse_date,
    parse_time_of_day,
)
from attendance.models import RosterClass, RosterEntry, SchoolCalendarRow, SchoolYear

SESSION_TO_PB = {Session.MORNING: pb.SESSION_MORNING, Session.AFTERNOON: pb.SESSION_AFTERNOON}
SESSION_FROM_PB = {v: k for k, v in SESSION_TO_PB.items()}


def session_of(value: int, field_name: str = "session") -> Session:
    try:
        return SESSION_FROM_PB[value]  # type: ignore[index]
    except KeyError:
        raise invalid(
            field_name, "Buổi học là sáng hoặc chiều", "the session is MORNING or AFTERNOON"
        ) from None


def school_not_found() -> NotFound:
    return NotFound("SCHOOL_NOT_FOUND", bilingual("Không tìm thấy trường", "school not found"))


def class_not_found() -> NotFound:
    return NotFound("CLASS_NOT_FOUND", bilingual("Không tìm thấy lớp", "class not found"))


def school_uuid(value: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        raise school_not_found()
    return parsed


async def load_calendar(session: AsyncSession, school_id: uuid.UUID) -> Calendar:
    return calendar_of(school_id, await session.get(SchoolCalendarRow, school_id))


def calendar_of(school_id: uuid.UUID, row: SchoolCalendarRow | None) -> Calendar:
    if row is None:
        return Calendar(school_id=str(school_id))
    return Calendar(
        school_id=str(school_id),
        sessions=frozenset(Session(s) for s in row.sessions),
        weekdays=frozenset(row.weekdays),
        main_session=Session(row.main_session),
        morning_cutoff=row.morning_cutoff,
        afternoon_cutoff=row.afternoon_cutoff,
        afternoon_starts=row.afternoon_starts,
        closed_dates=frozenset(row.closed_dates),
        absence_warning_at=row.absence_warning_at,
        configured=True,
    )


async def load_year(session: AsyncSession, school_id: uuid.UUID, name: str) -> YearSpan:
    row = await session.scalar(
        select(SchoolYear).where(SchoolYear.school_id == school_id, SchoolYear.name == name)
    )
    if row is None:
        return YearSpan.usual(name)
    return YearSpan(name, row.starts_on, row.ends_on)


async def load_class_context(session: AsyncSession, class_id: str) -> tuple[RosterClass, Calendar, YearSpan]:
    """A class with its school's calendar and its school year, in one query (the hot path of marking)."""
    parsed = parse_uuid(class_id)
    found = (
        (
            await session.execute(
                select(RosterClass, SchoolCalendarRow, SchoolYear)
                .outerjoin(SchoolCalendarRow, SchoolCalendarRow.id == RosterClass.school_id)
                .outerjoin(
                    SchoolYear,
                    (SchoolYear.school_id == RosterClass.school_id)
                    & (SchoolYear.name == RosterClass.school_year),
                )
                .where(RosterClass.id == parsed)
            )
        ).first()
        if parsed
        else None
    )
    if found is None:
        raise class_not_found()
    klass, calendar_row, year_row = found
    year = (
        YearSpan(klass.school_year, year_row.starts_on, year_row.ends_on)
        if year_row is not None
        else YearSpan.usual(klass.school_year)
    )
    return klass, calendar_of(klass.school_id, calendar_row), year


async def load_class(session: AsyncSession, class_id: str) -> RosterClass:
    parsed = parse_uuid(class_id)
    row = await session.get(RosterClass, parsed) if parsed else None
    if row is None:
        raise class_not_found()
    return row


def student_not_found() -> NotFound:
    return NotFound("STUDENT_NOT_FOUND", bilingual("Không tìm thấy học sinh", "student not found"))


async def current_placement(
    session: AsyncSession, student_id: uuid.UUID
) -> tuple[RosterEntry, RosterClass, list[str]] | None:
    """The student's latest roster entry, its class, and their classes at that class's school; None for a
    student on no roster (never enrolled here, or gone from the tenant)."""
    rows = (
        await session.execute(
            select(RosterEntry, RosterClass)
            .join(RosterClass, RosterClass.id == RosterEntry.class_id)
            .where(RosterEntry.student_id == student_id)
            .order_by(RosterEntry.enrolled_at.desc(), RosterEntry.id)
        )
    ).all()
    if not rows:
        return None
    entry, klass = rows[0]
    return entry, klass, [str(c.id) for _, c in rows if c.school_id == klass.school_id]


async def student_placement(
    session: AsyncSession, student_id: str
) -> tuple[RosterEntry, RosterClass, list[str]]:
    """:func:`current_placement` of a student given by the caller; STUDENT_NOT_FOUND when none."""
    parsed = parse_uuid(student_id)
    placement = await current_placement(session, parsed) if parsed else None
    if placement is None:
        raise student_not_found()
    return placement


async def school_known(session: AsyncSession, school_id: uuid.UUID) -> bool:
    """Attendance knows a school by its classes (from student-record's events) or its calendar."""
    found = await session.scalar(select(RosterClass.id).where(RosterClass.school_id == school_id).limit(1))
    return found is not None or await session.get(SchoolCalendarRow, school_id) is not None


def calendar_proto(calendar: Calendar) -> pb.SchoolCalendar:
    return pb.SchoolCalendar(
        school_id=calendar.school_id,
        sessions=[SESSION_TO_PB[s] for s in (Session.MORNING, Session.AFTERNOON) if s in calendar.sessions],
        weekdays=sorted(calendar.weekdays),
        main_session=SESSION_TO_PB[calendar.main_session],
        morning_cutoff=calendar.morning_cutoff.strftime("%H:%M"),
        afternoon_cutoff=calendar.afternoon_cutoff.strftime("%H:%M"),
        afternoon_starts=calendar.afternoon_starts.strftime("%H:%M"),
        closed_dates=[d.isoformat() for d in sorted(calendar.closed_dates)],
        absence_warning_at=calendar.absence_warning_at,
        configured=calendar.configured,
    )


def calendar_from_proto(message: pb.SchoolCalendar, school_id: uuid.UUID) -> Calendar:
    if len(message.closed_dates) > 400:
        raise invalid("calendar.closed_dates", "Tối đa 400 ngày nghỉ", "at most 400 closed dates")
    sessions = [session_of(s, "calendar.sessions") for s in message.sessions]
    if len(set(sessions)) != len(sessions):
        raise invalid("calendar.sessions", "Buổi học bị lặp", "a session is listed twice")
    calendar = Calendar(
        school_id=str(school_id),
        sessions=frozenset(sessions),
        weekdays=frozenset(message.weekdays),
        main_session=session_of(message.main_session, "calendar.main_session"),
        morning_cutoff=parse_time_of_day(message.morning_cutoff, "calendar.morning_cutoff"),
        afternoon_cutoff=parse_time_of_day(message.afternoon_cutoff, "calendar.afternoon_cutoff"),
        afternoon_starts=parse_time_of_day(message.afternoon_starts or "12:00", "calendar.afternoon_starts"),
        closed_dates=frozenset(parse_date(d, "calendar.closed_dates") for d in message.closed_dates),
        absence_warning_at=message.absence_warning_at,
        configured=True,
    )
    calendar.check()
    return calendar


class CalendarService:
    def __init__(self, db: Database, access: Callers) -> None:
        self.db = db
        self.access = access

    async def get(self, request: pb.GetSchoolCalendarRequest) -> pb.GetSchoolCalendarResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.READ, Resource.school(str(school_id)))
        async with self.db.unit_of_work(caller.tenant) as uow:
            if not await school_known(uow.session, school_id):
                raise school_not_found()
            calendar = await load_calendar(uow.session, school_id)
        return pb.GetSchoolCalendarResponse(calendar=calendar_proto(calendar))

    async def configure(
        self, request: pb.ConfigureSchoolCalendarRequest
    ) -> pb.ConfigureSchoolCalendarResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.calendar.school_id)
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        calendar = calendar_from_proto(request.calendar, school_id)
        values = {
            "sessions": sorted(s.value for s in calendar.sessions),
            "weekdays": sorted(calendar.weekdays),
            "main_session": calendar.main_session.value,
            "morning_cutoff": calendar.morning_cutoff,
            "afternoon_cutoff": calendar.afternoon_cutoff,
            "afternoon_starts": calendar.afternoon_starts,
            "closed_dates": sorted(calendar.closed_dates),
            "absence_warning_at": calendar.absence_warning_at,
        }
        async with self.db.unit_of_work(caller.tenant) as uow:
            if not await school_known(uow.session, school_id):
                raise school_not_found()
            await uow.session.execute(
                insert(SchoolCalendarRow)
                .values(id=school_id, tenant_id=caller.tenant, **values)
                .on_conflict_do_update(index_elements=["id"], set_=values)
            )
            await uow.commit()
        return pb.ConfigureSchoolCalendarResponse(calendar=calendar_proto(calendar))

"""Class registers: marking a session, reading it, its after-cut-off trail, and the 45-session counter.

A submission is one transaction: the roster, the marks already there and the approved leaves are read
once, only marks that differ are written (one statement), and the events go to the outbox with them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from school.attendance.v1 import attendance_pb2 as pb
from school_common import idempotency
from school_common.access import Action, Caller, Callers, Resource
from school_common.db import Database, UnitOfWork
from school_common.errors import FailedPrecondition, InvalidArgument, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy import any_, bindparam, cast, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.calendar.service import (
    SESSION_TO_PB,
    current_placement,
    load_calendar,
    load_class,
    load_class_context,
    session_of,
    student_not_found,
)
from attendance.domain import registers as rules
from attendance.domain.calendar import (
    ABSENCE_LIMIT,
    Calendar,
    Clock,
    Session,
    YearSpan,
    invalid,
    local_date,
    parse_date,
    parse_school_year,
)
from attendance.events import publish
from attendance.mappers import timestamp
from attendance.models import (
    Mark,
    MarkChange,
    RosterClass,
    RosterEntry,
    SchoolCalendarRow,
)
from attendance.registers.admission import Admission

STATUS_TO_PB = {
    "PRESENT": pb.ATTENDANCE_STATUS_PRESENT,
    "ABSENT_EXCUSED": pb.ATTENDANCE_STATUS_ABSENT_EXCUSED,
    "ABSENT_UNEXCUSED": pb.ATTENDANCE_STATUS_ABSENT_UNEXCUSED,
    "LATE": pb.ATTENDANCE_STATUS_LATE,
    "LEFT_EARLY": pb.ATTENDANCE_STATUS_LEFT_EARLY,
}
STATUS_FROM_PB = {v: k for k, v in STATUS_TO_PB.items()}
LEVEL_TO_PB = {
    "OK": pb.ABSENCE_LEVEL_OK,
    "APPROACHING": pb.ABSENCE_LEVEL_APPROACHING,
    "AT_LIMIT": pb.ABSENCE_LEVEL_AT_LIMIT,
    "OVER": pb.ABSENCE_LEVEL_OVER,
}
#: Marks a whole class fits in; a class has at most 50 students by the charter.
MAX_ENTRIES = 200
MAX_TEXT = 500
MAX_RANGE_DAYS = 400


#: A register's marks in one statement: compiled once, whatever the class size (a multi-row VALUES
#: would be compiled anew for every submission).
UPSERT_MARKS = text(
    "INSERT INTO attendance_marks (id, tenant_id, school_id, class_id, day, session, student_id,"
    " school_year, status, note, marked_by, leave_request_id)"
    " SELECT u.id, :tenant, :school, :class, :day, :session, u.student_id, :year, u.status, u.note,"
    " :marked_by, u.leave_id"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:students AS uuid[]), CAST(:statuses AS text[]),"
    " CAST(:notes AS text[]), CAST(:leaves AS uuid[])) AS u(id, student_id, status, note, leave_id)"
    " ON CONFLICT (class_id, day, session, student_id) DO UPDATE SET status = EXCLUDED.status,"
    " note = EXCLUDED.note, marked_by = EXCLUDED.marked_by, leave_request_id = EXCLUDED.leave_request_id,"
    " updated_at = now()"
)


UUIDS = ARRAY(PG_UUID(as_uuid=True))


def uuid_array(values: Iterable[uuid.UUID]) -> Any:
    """One array parameter (``= ANY(:ids)``): an IN list would be rendered into the SQL for every size."""
    return cast(
        bindparam("ids", list(values), type_=ARRAY(PG_UUID(as_uuid=True))), ARRAY(PG_UUID(as_uuid=True))
    )


@dataclass(frozen=True)
class Counter:
    absent_sessions: int = 0
    excused: int = 0
    unexcused: int = 0
    late: int = 0
    left_early: int = 0


def text_field(value: str, field_name: str) -> str:
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise invalid(field_name, f"Tối đa {MAX_TEXT} ký tự", f"at most {MAX_TEXT} characters")
    return value


def status_of(value: int, field_name: str) -> str:
    try:
        return STATUS_FROM_PB[value]  # type: ignore[index]
    except KeyError:
        raise InvalidArgument(
            "INVALID_STATUS",
            bilingual(
                "Trạng thái là có mặt, vắng có phép, vắng không phép, đi muộn hoặc về sớm",
                "the status is PRESENT, ABSENT_EXCUSED, ABSENT_UNEXCUSED, LATE or LEFT_EARLY",
            ),
            {"field": field_name},
        ) from None


def date_range(from_value: str, to_value: str, *, required: bool) -> tuple[date, date] | None:
    if not from_value and not to_value and not required:
        return None
    start, end = parse_date(from_value, "from_date"), parse_date(to_value, "to_date")
    if start > end:
        raise invalid("to_date", "Ngày kết thúc phải sau ngày bắt đầu", "to_date is before from_date")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise invalid("to_date", f"Tối đa {MAX_RANGE_DAYS} ngày", f"at most {MAX_RANGE_DAYS} days")
    return start, end


async def counters(
    session: AsyncSession, student_ids: Sequence[uuid.UUID], school_year: str
) -> dict[uuid.UUID, Counter]:
    """The 45-session counter of each student: absent excused and unexcused in the main session of the
    school each mark was taken at (a one-session-a-day plan), plus lateness and early leaving."""
    if not student_ids:
        return {}
    main = func.coalesce(SchoolCalendarRow.main_session, literal_column("'MORNING'"))
    in_main = Mark.session == main
    absent = Mark.status.in_(rules.ABSENT)
    rows = await session.execute(
        select(
            Mark.student_id,
            func.count(func.distinct(Mark.day)).filter(in_main, absent),
            func.count(func.distinct(Mark.day)).filter(in_main, Mark.status == "ABSENT_EXCUSED"),
            func.count(func.distinct(Mark.day)).filter(in_main, Mark.status == "ABSENT_UNEXCUSED"),
            func.count().filter(Mark.status == "LATE"),
            func.count().filter(Mark.status == "LEFT_EARLY"),
        )
        .outerjoin(SchoolCalendarRow, SchoolCalendarRow.id == Mark.school_id)
        .where(Mark.student_id == any_(uuid_array(student_ids)), Mark.school_year == school_year)
        .group_by(Mark.student_id)
    )
    return {row[0]: Counter(*row[1:]) for row in rows}


def summary_proto(
    student_id: uuid.UUID, school_year: str, counter: Counter, warning_at: int, full_name: str = ""
) -> pb.AbsenceSummary:
    return pb.AbsenceSummary(
        student_id=str(student_id),
        school_year=school_year,
        absent_sessions=counter.absent_sessions,
        excused=counter.excused,
        unexcused=counter.unexcused,
        limit=ABSENCE_LIMIT,
        warning_at=warning_at,
        level=LEVEL_TO_PB[rules.absence_level(counter.absent_sessions, warning_at)],
        late=counter.late,
        left_early=counter.left_early,
        full_name=full_name,
    )


async def check_ins(
    session: AsyncSession, class_id: uuid.UUID, day: date, at: Session
) -> dict[uuid.UUID, datetime]:
    """The first gate check-in of each student of a class in a session (none before gates are set up)."""
    rows = await session.execute(
        text(
            "SELECT c.student_id, c.first_seen_at FROM gate_check_ins c"
            " JOIN roster_entries r ON r.student_id = c.student_id AND r.class_id = :class_id"
            " WHERE c.day = :day AND c.session = :session"
        ),
        {"class_id": class_id, "day": day, "session": at.value},
    )
    return {student: seen for student, seen in rows}


#: A class's roster with each student's mark in one register and the approved leave covering it.
REGISTER_STATE = text(
    "SELECT r.student_id, r.full_name, m.status, m.note, m.marked_by, m.updated_at,"
    " (SELECT l.id FROM leave_requests l WHERE l.student_id = r.student_id AND l.status = 'APPROVED'"
    "  AND l.from_day <= :day AND l.to_day >= :day AND :session = ANY(l.sessions) LIMIT 1) AS leave_id"
    " FROM roster_entries r"
    " LEFT JOIN attendance_marks m ON m.class_id = r.class_id AND m.student_id = r.student_id"
    "  AND m.day = :day AND m.session = :session"
    " WHERE r.class_id = :class_id ORDER BY r.full_name, r.student_id"
)

MarkState = tuple[str, str, str, datetime]


async def register_state(
    session: AsyncSession, class_id: uuid.UUID, day: date, at: Session
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, MarkState], dict[uuid.UUID, uuid.UUID]]:
    """Roster (student → name, in name order), marks (student → status, note, by, when) and approved
    leaves of a register, in one statement."""
    roster: dict[uuid.UUID, str] = {}
    marks: dict[uuid.UUID, MarkState] = {}
    leaves: dict[uuid.UUID, uuid.UUID] = {}
    rows = await session.execute(REGISTER_STATE, {"class_id": class_id, "day": day, "session": at.value})
    for student_id, name, status, note, marked_by, updated_at, leave_id in rows:
        roster[student_id] = name
        if status is not None:
            marks[student_id] = (status, note, marked_by, updated_at)
        if leave_id is not None:
            leaves[student_id] = leave_id
    return roster, marks, leaves


@dataclass
class Loaded:
    klass: RosterClass
    calendar: Calendar
    year: YearSpan


async def publish_marks(
    outbox: Outbox,
    uow: UnitOfWork,
    loaded: Loaded,
    day: date,
    at: Session,
    changes: Sequence[tuple[uuid.UUID, str, str]],
    leaves: dict[uuid.UUID, uuid.UUID],
    now: datetime,
    after_cutoff: bool,
    origin: str,
) -> None:
    """`attendance.marked` for the changes and `absence.recorded` for each new absence, with the counter
    after it, in one round trip."""
    klass = loaded.klass
    out = [
        publish.attendance_marked(
            klass, day, at, changes, after_cutoff=after_cutoff, at_time=now, origin=origin
        )
    ]
    absences = [(sid, status) for sid, previous, status in changes if rules.is_new_absence(previous, status)]
    if absences:
        counted = await counters(uow.session, [sid for sid, _ in absences], klass.school_year)
        for student_id, status in absences:
            count = counted.get(student_id, Counter()).absent_sessions
            out.append(
                publish.absence_recorded(
                    klass,
                    student_id,
                    day,
                    at,
                    status,
                    count,
                    rules.absence_level(count, loaded.calendar.absence_warning_at),
                    now,
                    leaves.get(student_id),
                )
            )
    await outbox.add_many(uow, out)


class RegisterService:
    def __init__(
        self, db: Database, access: Callers, outbox: Outbox, clock: Clock, admission: Admission | None = None
    ) -> None:
        self.db = db
        self.access = access
        self.outbox = outbox
        self.clock = clock
        self.admission = admission or Admission(limit=1_000_000)

    async def _class(
        self, uow: UnitOfWork, caller: Caller, class_id: str, action: Action
    ) -> tuple[RosterClass, Calendar]:
        klass = await load_class(uow.session, class_id)
        await caller.authorize(action, Resource.klass(str(klass.id), str(klass.school_id)))
        return klass, await load_calendar(uow.session, klass.school_id)

    async def _session(
        self,
        uow: UnitOfWork,
        caller: Caller,
        class_id: str,
        day_value: str,
        session_value: int,
        action: Action,
    ) -> tuple[Loaded, date, Session]:
        at = session_of(session_value)
        day = parse_date(day_value)
        klass, calendar, year = await load_class_context(uow.session, class_id)
        await caller.authorize(action, Resource.klass(str(klass.id), str(klass.school_id)))
        calendar.check_session(day, at, year)
        return Loaded(klass, calendar, year), day, at

    # ------------------------------------------------------------ marking

    async def mark(self, request: pb.MarkAttendanceRequest) -> pb.MarkAttendanceResponse:
        with self.admission.slot():
            return await self._mark(request)

    async def _mark(self, request: pb.MarkAttendanceRequest) -> pb.MarkAttendanceResponse:
        caller = await self.access.current()
        if not request.entries:
            raise invalid("entries", "Cần ít nhất một học sinh", "at least one entry")
        if len(request.entries) > MAX_ENTRIES:
            raise invalid("entries", f"Tối đa {MAX_ENTRIES} học sinh", f"at most {MAX_ENTRIES} entries")
        wanted: dict[uuid.UUID, tuple[str, str]] = {}
        for i, entry in enumerate(request.entries):
            student_id = parse_uuid(entry.student_id)
            if student_id is None:
                raise not_in_class(f"entries[{i}].student_id")
            if student_id in wanted:
                raise invalid(
                    f"entries[{i}].student_id",
                    "Học sinh xuất hiện hai lần",
                    "the student is listed twice",
                    "DUPLICATE_STUDENT",
                )
            wanted[student_id] = (
                status_of(entry.status, f"entries[{i}].status"),
                text_field(entry.note, f"entries[{i}].note"),
            )
        reason = text_field(request.reason, "reason")
        now = self.clock()
        async with self.db.unit_of_work(caller.tenant) as uow:
            loaded, day, at = await self._session(
                uow, caller, request.class_id, request.date, request.session, Action.WRITE
            )
            if day > local_date(now):
                raise FailedPrecondition(
                    "DATE_IN_FUTURE",
                    bilingual("Chưa thể điểm danh cho ngày chưa tới", "the date has not come yet"),
                    {"field": "date"},
                )
            replayed = await idempotency.replay(
                uow, request.request_id, "MarkAttendance", request, pb.MarkAttendanceResponse
            )
            if replayed:
                return replayed
            klass = loaded.klass
            # One submission of a register at a time: two teachers marking it together would both see
            # the same marks before, and a family would hear of one absence twice.
            await uow.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"register:{klass.id}:{day.isoformat()}:{at.value}"},
            )
            roster, existing, leaves = await register_state(uow.session, klass.id, day, at)
            for i, student_id in enumerate(wanted):
                if student_id not in roster:
                    raise not_in_class(f"entries[{i}].student_id")
            after_cutoff = now >= loaded.calendar.cutoff(day, at)
            plan = rules.plan_marks(
                wanted,
                {sid: (m[0], m[1]) for sid, m in existing.items()},
                set(leaves),
                after_cutoff=after_cutoff,
            )
            if plan.needs_reason and not reason:
                raise FailedPrecondition(
                    "REASON_REQUIRED",
                    bilingual(
                        "Đã quá giờ chốt điểm danh: sửa điểm danh cần nêu lý do",
                        "the register is past its cut-off: a change needs a reason",
                    ),
                    {"field": "reason"},
                )
            marked_by = caller.principal.subject[:64]
            if plan.writes:
                writes = list(plan.writes.items())
                await uow.session.execute(
                    UPSERT_MARKS,
                    {
                        "tenant": caller.tenant,
                        "school": klass.school_id,
                        "class": klass.id,
                        "day": day,
                        "session": at.value,
                        "year": klass.school_year,
                        "marked_by": marked_by,
                        "ids": [uuid.uuid4() for _ in writes],
                        "students": [student_id for student_id, _ in writes],
                        "statuses": [status for _, (status, _) in writes],
                        "notes": [note for _, (_, note) in writes],
                        "leaves": [leaves.get(student_id) for student_id, _ in writes],
                    },
                )
            if plan.late_changes:
                await uow.session.execute(
                    insert(MarkChange).values(
                        [
                            {
                                "id": uuid.uuid4(),
                                "tenant_id": caller.tenant,
                                "class_id": klass.id,
                                "day": day,
                                "session": at.value,
                                "student_id": student_id,
                                "previous_status": previous,
                                "status": status,
                                "reason": reason,
                                "changed_by": marked_by,
                            }
                            for student_id, previous, status in plan.late_changes
                        ]
                    )
                )
            if plan.status_changes:
                await publish_marks(
                    self.outbox,
                    uow,
                    loaded,
                    day,
                    at,
                    plan.status_changes,
                    leaves,
                    now,
                    after_cutoff,
                    origin="teacher",
                )
            merged = dict(existing)
            for student_id, (status, note) in plan.writes.items():
                merged[student_id] = (status, note, marked_by, now)
            response = pb.MarkAttendanceResponse(
                register=self._register(loaded, day, at, roster, merged, leaves, {}),
                changed=len(plan.writes),
                after_cutoff=after_cutoff and bool(plan.writes),
            )
            await idempotency.remember(uow, request.request_id, "MarkAttendance", request, response)
            await uow.commit()
        return response

    # ------------------------------------------------------------ reading

    @staticmethod
    async def _roster(session: AsyncSession, class_id: uuid.UUID) -> dict[uuid.UUID, str]:
        rows = await session.execute(
            select(RosterEntry.student_id, RosterEntry.full_name)
            .where(RosterEntry.class_id == class_id)
            .order_by(RosterEntry.full_name, RosterEntry.student_id)
        )
        return {student_id: name for student_id, name in rows}

    def _register(
        self,
        loaded: Loaded,
        day: date,
        at: Session,
        roster: dict[uuid.UUID, str],
        marks: dict[uuid.UUID, tuple[str, str, str, datetime]],
        leaves: dict[uuid.UUID, uuid.UUID],
        seen: dict[uuid.UUID, datetime],
    ) -> pb.Register:
        klass = loaded.klass
        register = pb.Register(
            class_id=str(klass.id),
            school_id=str(klass.school_id),
            class_name=klass.name,
            date=day.isoformat(),
            session=SESSION_TO_PB[at],
            school_year=klass.school_year,
            cutoff_time=timestamp(loaded.calendar.cutoff(day, at)),
        )
        tally = {status: 0 for status in STATUS_TO_PB}
        # Students who left the class keep their marks, after the roster.
        for student_id in [*roster, *(s for s in marks if s not in roster)]:
            line = pb.RegisterLine(student_id=str(student_id), full_name=roster.get(student_id, ""))
            if student_id in marks:
                status, note, marked_by, marked_at = marks[student_id]
                line.status = STATUS_TO_PB[status]
                line.note = note
                line.marked_by = marked_by
                line.mark_time.CopyFrom(timestamp(marked_at))
                tally[status] += 1
            else:
                register.unmarked += 1
            if student_id in leaves:
                line.leave_request_id = str(leaves[student_id])
            if student_id in seen:
                line.check_in_time.CopyFrom(timestamp(seen[student_id]))
            register.lines.append(line)
        register.present = tally["PRESENT"]
        register.absent_excused = tally["ABSENT_EXCUSED"]
        register.absent_unexcused = tally["ABSENT_UNEXCUSED"]
        register.late = tally["LATE"]
        register.left_early = tally["LEFT_EARLY"]
        return register

    async def get_register(self, request: pb.GetRegisterRequest) -> pb.GetRegisterResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            loaded, day, at = await self._session(
                uow, caller, request.class_id, request.date, request.session, Action.READ
            )
            roster, marks, leaves = await register_state(uow.session, loaded.klass.id, day, at)
            # Students who left the class keep their marks (and the leave they were marked with).
            for m in await uow.session.scalars(
                select(Mark).where(
                    Mark.class_id == loaded.klass.id,
                    Mark.day == day,
                    Mark.session == at.value,
                    Mark.student_id.not_in(list(roster)),
                )
            ):
                marks[m.student_id] = (m.status, m.note, m.marked_by, m.updated_at)
                if m.leave_request_id is not None:
                    leaves[m.student_id] = m.leave_request_id
            seen = await check_ins(uow.session, loaded.klass.id, day, at)
        return pb.GetRegisterResponse(register=self._register(loaded, day, at, roster, marks, leaves, seen))

    async def list_changes(self, request: pb.ListRegisterChangesRequest) -> pb.ListRegisterChangesResponse:
        caller = await self.access.current()
        span = date_range(request.from_date, request.to_date, required=False)
        async with self.db.unit_of_work(caller.tenant) as uow:
            klass, _ = await self._class(uow, caller, request.class_id, Action.WRITE)
            query = select(MarkChange).where(MarkChange.class_id == klass.id)
            if span:
                query = query.where(MarkChange.day.between(*span))
            rows = (await uow.session.scalars(query.order_by(MarkChange.created_at.desc()).limit(1000))).all()
        return pb.ListRegisterChangesResponse(
            changes=[
                pb.RegisterChange(
                    student_id=str(r.student_id),
                    date=r.day.isoformat(),
                    session=SESSION_TO_PB[Session(r.session)],
                    previous_status=STATUS_TO_PB[r.previous_status],
                    status=STATUS_TO_PB[r.status],
                    reason=r.reason,
                    changed_by=r.changed_by,
                    change_time=timestamp(r.created_at),
                )
                for r in rows
            ]
        )

    async def _student(
        self, uow: UnitOfWork, caller: Caller, student_value: str
    ) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID], str]:
        """A student's school, classes and name as the rosters know them (or, for one who left, as their
        last mark does), authorized for reading."""
        student_id = parse_uuid(student_value)
        if student_id is None:
            raise student_not_found()
        placement = await current_placement(uow.session, student_id)
        if placement is not None:
            entry, klass, class_ids = placement
            school_id, classes, name = klass.school_id, [uuid.UUID(c) for c in class_ids], entry.full_name
        else:
            last = (
                await uow.session.execute(
                    select(Mark.school_id, Mark.class_id)
                    .where(Mark.student_id == student_id)
                    .order_by(Mark.day.desc())
                    .limit(1)
                )
            ).first()
            if last is None:
                raise student_not_found()
            school_id, classes, name = last[0], [last[1]], ""
        await caller.authorize(
            Action.READ, Resource.student(str(student_id), str(school_id), [str(c) for c in classes])
        )
        return student_id, school_id, classes, name

    async def list_student_attendance(
        self, request: pb.ListStudentAttendanceRequest
    ) -> pb.ListStudentAttendanceResponse:
        caller = await self.access.current()
        span = date_range(request.from_date, request.to_date, required=True)
        assert span is not None
        async with self.db.unit_of_work(caller.tenant) as uow:
            student_id, _, _, _ = await self._student(uow, caller, request.student_id)
            rows = (
                await uow.session.execute(
                    select(Mark.day, Mark.session, Mark.status, Mark.note)
                    .where(Mark.student_id == student_id, Mark.day.between(*span))
                    .order_by(Mark.day, Mark.session.desc())  # MORNING before AFTERNOON
                )
            ).all()
        return pb.ListStudentAttendanceResponse(
            days=[
                pb.StudentAttendanceDay(
                    date=day.isoformat(),
                    session=SESSION_TO_PB[Session(session)],
                    status=STATUS_TO_PB[status],
                    note=note,
                )
                for day, session, status, note in rows
            ]
        )

    async def absence_summary(self, request: pb.GetAbsenceSummaryRequest) -> pb.GetAbsenceSummaryResponse:
        caller = await self.access.current()
        school_year = parse_school_year(request.school_year)
        async with self.db.unit_of_work(caller.tenant) as uow:
            student_id, school_id, _, name = await self._student(uow, caller, request.student_id)
            calendar = await load_calendar(uow.session, school_id)
            counter = (await counters(uow.session, [student_id], school_year)).get(student_id, Counter())
        return pb.GetAbsenceSummaryResponse(
            summary=summary_proto(student_id, school_year, counter, calendar.absence_warning_at, name)
        )

    async def class_absence_summaries(
        self, request: pb.ListClassAbsenceSummariesRequest
    ) -> pb.ListClassAbsenceSummariesResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            klass, calendar = await self._class(uow, caller, request.class_id, Action.READ)
            roster = await self._roster(uow.session, klass.id)
            counted = await counters(uow.session, list(roster), klass.school_year)
        return pb.ListClassAbsenceSummariesResponse(
            school_year=klass.school_year,
            summaries=[
                summary_proto(
                    sid, klass.school_year, counted.get(sid, Counter()), calendar.absence_warning_at, name
                )
                for sid, name in roster.items()
            ],
        )


def not_in_class(field_name: str) -> InvalidArgument:
    return InvalidArgument(
        "STUDENT_NOT_IN_CLASS",
        bilingual("Học sinh không thuộc lớp này", "the student is not in this class"),
        {"field": field_name},
    )

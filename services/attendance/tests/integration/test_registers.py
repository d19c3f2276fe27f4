"""Registers, leave requests and the 45-session counter against real PostgreSQL.

The rosters and the school year come through student-record's event handlers; identity's access scopes
are answered by subject; the clock is fixed (Tuesday 10 March 2026, 08:00 in Hà Nội unless a test moves it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from attendance.calendar.service import CalendarService
from attendance.domain.calendar import ZONE
from attendance.events.handlers import (
    CLASS_CREATED,
    SCHOOL_YEAR_DEFINED,
    STUDENT_ENROLLED,
    on_class_created,
    on_school_year_defined,
    on_student_enrolled,
)
from attendance.leave.service import LeaveService
from attendance.registers.service import RegisterService
from attendance.service import DEFINITION as ATTENDANCE
from school.attendance.v1 import attendance_pb2 as pb
from school.events.attendance.v1 import events_pb2 as att_events
from school.events.student_record.v1 import events_pb2 as events
from school.identity.v1 import identity_pb2 as idpb
from school_common.access import Callers, ScopeResolver
from school_common.context import set_principal
from school_common.db import Database
from school_common.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    Unavailable,
)
from school_common.events import Event, Outbox
from school_common.testing import callers
from school_common.testing.callers import Clock, scopes_by_subject
from sqlalchemy import text

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

TENANT = "t-registers"
YEAR = "2025-2026"
MONDAY, TUESDAY, SATURDAY = "2026-03-09", "2026-03-10", "2026-03-14"
P, AE, AU, LATE = (
    pb.ATTENDANCE_STATUS_PRESENT,
    pb.ATTENDANCE_STATUS_ABSENT_EXCUSED,
    pb.ATTENDANCE_STATUS_ABSENT_UNEXCUSED,
    pb.ATTENDANCE_STATUS_LATE,
)
MORNING, AFTERNOON = pb.SESSION_MORNING, pb.SESSION_AFTERNOON


def start_clock() -> Clock:
    return Clock(ZONE, datetime(2026, 3, 10, 8, 0, tzinfo=ZONE))


#: What identity answers for each caller (by subject); tests add grants.
SCOPES: dict[str, idpb.GetAccessScopeResponse] = {}


from_identity = scopes_by_subject(SCOPES, lambda subject: idpb.GetAccessScopeResponse(subject=subject))


def act_as(subject: str, *roles: str) -> None:
    callers.act_as(TENANT, subject, *roles)


def event(subject: str, payload) -> Event:
    return callers.delivered(TENANT, subject, payload)


@dataclass
class World:
    db: Database
    clock: Clock
    registers: RegisterService
    leave: LeaveService
    calendars: CalendarService

    async def school(self) -> str:
        school = str(uuid.uuid4())
        defined = events.SchoolYearDefined(
            school_id=school,
            name=YEAR,
            semester_1_start="2025-09-05",
            semester_1_end="2026-01-16",
            semester_2_start="2026-01-19",
            semester_2_end="2026-05-29",
        )
        async with self.db.unit_of_work(TENANT) as uow:
            await on_school_year_defined(event(SCHOOL_YEAR_DEFINED, defined), uow)
            await uow.commit()
        SCOPES[f"admin-{school}"] = idpb.GetAccessScopeResponse(
            subject=f"admin-{school}", schools=[idpb.ScopedSchool(school_id=school, role="school_admin")]
        )
        return school

    async def klass(self, school: str, names: list[str]) -> tuple[str, list[str]]:
        """A class with its students, a homeroom teacher ``homeroom-<class>``, a subject teacher
        ``teacher-<class>`` and a guardian ``parent-<student>`` per student."""
        class_id = str(uuid.uuid4())
        students = [str(uuid.uuid4()) for _ in names]
        async with self.db.unit_of_work(TENANT) as uow:
            created = events.ClassCreated(
                class_id=class_id, school_id=school, name="6A1", grade=6, school_year=YEAR
            )
            await on_class_created(event(CLASS_CREATED, created), uow)
            for student, name in zip(students, names, strict=True):
                enrolled = events.StudentEnrolled(
                    enrolment_id=str(uuid.uuid4()),
                    class_id=class_id,
                    school_id=school,
                    student_id=student,
                    full_name=name,
                )
                enrolled.enrol_time.FromDatetime(datetime(2025, 9, 1, tzinfo=UTC))
                await on_student_enrolled(event(STUDENT_ENROLLED, enrolled), uow)
            await uow.commit()
        for role in ("homeroom_teacher", "teacher"):
            subject = f"{role.split('_')[0]}-{class_id}"
            SCOPES[subject] = idpb.GetAccessScopeResponse(
                subject=subject,
                classes=[idpb.ScopedClass(class_id=class_id, school_id=school, role=role, subject="Toán")],
            )
        for student in students:
            SCOPES[f"parent-{student}"] = idpb.GetAccessScopeResponse(
                subject=f"parent-{student}", children=[idpb.ScopedChild(student_id=student, school_id=school)]
            )
        return class_id, students

    async def count(self, sql: str, **params) -> int:
        async with self.db.unit_of_work(TENANT) as uow:
            return int(await uow.session.scalar(text(sql), params))

    async def events(self, event_type: str) -> list[bytes]:
        async with self.db.unit_of_work(TENANT) as uow:
            rows = await uow.session.scalars(
                text("SELECT payload FROM outbox_events WHERE subject = :s ORDER BY id"),
                {"s": f"school.attendance.{event_type}.v1"},
            )
            return [bytes(r) for r in rows]


@pytest.fixture(scope="module")
async def world(make_database):
    db = Database(await make_database("attendance", ATTENDANCE.root))
    access = Callers(ScopeResolver(from_identity, ttl_s=0))
    outbox = Outbox("attendance")
    clock = start_clock()
    yield World(
        db,
        clock,
        RegisterService(db, access, outbox, clock),
        LeaveService(db, access, outbox, clock),
        CalendarService(db, access),
    )
    set_principal(None)
    await db.dispose()


@pytest.fixture(autouse=True)
def reset_clock(world):
    world.clock.at(TUESDAY, "08:00")


def marks(class_id: str, day: str, entries, session=MORNING, reason: str = "", request_id: str = ""):
    return pb.MarkAttendanceRequest(
        request_id=request_id,
        class_id=class_id,
        date=day,
        session=session,
        entries=[pb.MarkEntry(student_id=s, status=st, note=note) for s, st, note in entries],
        reason=reason,
    )


async def refused(call, error=DomainError) -> DomainError:
    with pytest.raises(error) as caught:
        await call
    return caught.value


# ---------------------------------------------------------------- marking


async def test_a_teacher_marks_the_whole_class_and_marking_again_writes_nothing(world):
    school = await world.school()
    class_id, (an, binh, chi) = await world.klass(school, ["Nguyễn An", "Trần Bình", "Lê Chi"])
    act_as(f"teacher-{class_id}", "teacher")
    submission = marks(class_id, TUESDAY, [(an, P, ""), (binh, AU, ""), (chi, LATE, "xe hỏng")])

    first = await world.registers.mark(submission)
    assert first.changed == 3
    assert (first.register.present, first.register.absent_unexcused, first.register.late) == (1, 1, 1)
    assert first.register.unmarked == 0
    stamp = await world.count(
        "SELECT extract(epoch FROM max(updated_at))::bigint FROM attendance_marks WHERE class_id = :c",
        c=class_id,
    )
    marked_events = len(await world.events("attendance.marked"))

    again = await world.registers.mark(submission)
    assert again.changed == 0
    assert [line.status for line in again.register.lines] == [line.status for line in first.register.lines]
    assert len(await world.events("attendance.marked")) == marked_events  # nothing published
    assert (
        await world.count(
            "SELECT extract(epoch FROM max(updated_at))::bigint FROM attendance_marks WHERE class_id = :c",
            c=class_id,
        )
        == stamp
    )
    assert await world.count("SELECT count(*) FROM attendance_marks WHERE class_id = :c", c=class_id) == 3


async def test_a_register_can_be_marked_in_parts_and_read_back_with_the_unmarked(world):
    school = await world.school()
    class_id, (an, binh) = await world.klass(school, ["Nguyễn An", "Trần Bình"])
    act_as(f"teacher-{class_id}", "teacher")
    await world.registers.mark(marks(class_id, TUESDAY, [(an, P, "")]))
    register = (
        await world.registers.get_register(
            pb.GetRegisterRequest(class_id=class_id, date=TUESDAY, session=MORNING)
        )
    ).register
    assert register.unmarked == 1
    assert register.present == 1
    by_student = {line.student_id: line for line in register.lines}
    assert by_student[an].marked_by == f"teacher-{class_id}"
    assert by_student[binh].status == pb.ATTENDANCE_STATUS_UNSPECIFIED


@pytest.mark.parametrize(
    ("case", "reason", "field"),
    [
        ("stranger", "STUDENT_NOT_IN_CLASS", "entries[1].student_id"),
        ("unknown status", "INVALID_STATUS", "entries[0].status"),
        ("no status", "INVALID_STATUS", "entries[0].status"),
        ("another school year", "DATE_OUTSIDE_SCHOOL_YEAR", "date"),
        ("before the year began", "DATE_OUTSIDE_SCHOOL_YEAR", "date"),
        ("afternoon not run", "SESSION_NOT_RUN", "session"),
        ("saturday", "NOT_A_SCHOOL_DAY", "date"),
        ("tomorrow", "DATE_IN_FUTURE", "date"),
        ("twice", "DUPLICATE_STUDENT", "entries[1].student_id"),
        ("bad date", "INVALID_ARGUMENT", "date"),
        ("no session", "INVALID_ARGUMENT", "session"),
        ("long note", "INVALID_ARGUMENT", "entries[0].note"),
    ],
)
async def test_bad_marks_are_refused_with_a_reason_and_change_nothing(world, case, reason, field):
    school = await world.school()
    class_id, (an, binh) = await world.klass(school, ["Nguyễn An", "Trần Bình"])
    _, (other,) = await world.klass(school, ["Phạm Dũng"])
    act_as(f"admin-{school}", "school_admin")
    await world.calendars.configure(
        pb.ConfigureSchoolCalendarRequest(
            calendar=pb.SchoolCalendar(
                school_id=school,
                sessions=[MORNING],
                weekdays=[1, 2, 3, 4, 5],
                main_session=MORNING,
                morning_cutoff="10:00",
                afternoon_cutoff="16:00",
                absence_warning_at=35,
            )
        )
    )
    act_as(f"teacher-{class_id}", "teacher")
    day, session, entries = TUESDAY, MORNING, [(an, P, ""), (binh, AU, "")]
    match case:
        case "stranger":
            entries = [(an, P, ""), (other, P, "")]
        case "unknown status":
            entries = [(an, 9, "")]
        case "no status":
            entries = [(an, pb.ATTENDANCE_STATUS_UNSPECIFIED, "")]
        case "another school year":
            day = "2026-09-15"
        case "before the year began":
            day = "2025-09-04"
        case "afternoon not run":
            session = AFTERNOON
        case "saturday":
            world.clock.at("2026-03-16", "08:00")
            day = SATURDAY
        case "tomorrow":
            day = "2026-03-11"
        case "twice":
            entries = [(an, P, ""), (an, AU, "")]
        case "bad date":
            day = "10/03/2026"
        case "no session":
            session = pb.SESSION_UNSPECIFIED
        case "long note":
            entries = [(an, P, "x" * 501)]
    error = await refused(world.registers.mark(marks(class_id, day, entries, session)))
    assert (error.reason, error.metadata.get("field")) == (reason, field)
    assert await world.count("SELECT count(*) FROM attendance_marks WHERE class_id = :c", c=class_id) == 0


async def test_only_the_class_s_teachers_and_the_school_admin_mark_it(world):
    school = await world.school()
    class_id, (an,) = await world.klass(school, ["Nguyễn An"])
    other_class, _ = await world.klass(school, ["Trần Bình"])
    for subject, roles in ((f"teacher-{other_class}", ("teacher",)), (f"parent-{an}", ("guardian",))):
        act_as(subject, *roles)
        error = await refused(world.registers.mark(marks(class_id, TUESDAY, [(an, P, "")])), PermissionDenied)
        assert error.reason in {"NOT_YOUR_CLASS", "NOT_YOUR_CHILD"}
    act_as(f"admin-{school}", "school_admin")
    assert (await world.registers.mark(marks(class_id, TUESDAY, [(an, P, "")]))).changed == 1


async def test_after_the_cut_off_a_change_needs_a_reason_and_is_kept_in_the_trail(world):
    school = await world.school()
    class_id, (an, binh) = await world.klass(school, ["Nguyễn An", "Trần Bình"])
    act_as(f"teacher-{class_id}", "teacher")
    await world.registers.mark(marks(class_id, TUESDAY, [(an, AU, "")]))
    world.clock.at(TUESDAY, "10:30")  # the default morning cut-off is 10:00

    # A first mark after the cut-off is a late register, not a change: no reason needed.
    late_first = await world.registers.mark(marks(class_id, TUESDAY, [(binh, P, "")]))
    assert late_first.changed == 1
    error = await refused(
        world.registers.mark(marks(class_id, TUESDAY, [(an, LATE, "")])), FailedPrecondition
    )
    assert (error.reason, error.metadata["field"]) == ("REASON_REQUIRED", "reason")
    assert (
        await world.count(
            "SELECT count(*) FROM attendance_marks WHERE class_id = :c AND status = 'ABSENT_UNEXCUSED'",
            c=class_id,
        )
        == 1
    )

    changed = await world.registers.mark(
        marks(class_id, TUESDAY, [(an, LATE, "")], reason="Em đến lúc 9:40, cô nhập nhầm")
    )
    assert changed.changed == 1
    assert changed.after_cutoff
    trail = (await world.registers.list_changes(pb.ListRegisterChangesRequest(class_id=class_id))).changes
    assert [(c.student_id, c.previous_status, c.status, c.reason) for c in trail] == [
        (an, AU, LATE, "Em đến lúc 9:40, cô nhập nhầm")
    ]
    assert trail[0].changed_by == f"teacher-{class_id}"
    marked = att_events.AttendanceMarked.FromString((await world.events("attendance.marked"))[-1])
    assert marked.after_cutoff
    assert marked.class_id == class_id


async def test_an_idempotent_retry_replays_the_first_answer(world):
    school = await world.school()
    class_id, (an,) = await world.klass(school, ["Nguyễn An"])
    act_as(f"teacher-{class_id}", "teacher")
    key = str(uuid.uuid4())
    first = await world.registers.mark(marks(class_id, TUESDAY, [(an, AU, "")], request_id=key))
    retry = await world.registers.mark(marks(class_id, TUESDAY, [(an, AU, "")], request_id=key))
    assert retry == first
    assert retry.changed == 1


# ---------------------------------------------------------------- absences and the counter


async def test_each_new_absence_is_published_once_with_the_counter(world):
    school = await world.school()
    class_id, (an, binh) = await world.klass(school, ["Nguyễn An", "Trần Bình"])
    act_as(f"teacher-{class_id}", "teacher")
    before = len(await world.events("absence.recorded"))

    await world.registers.mark(marks(class_id, MONDAY, [(an, AU, ""), (binh, P, "")]))
    await world.registers.mark(marks(class_id, MONDAY, [(an, AU, ""), (binh, P, "")]))  # again: nothing
    await world.registers.mark(marks(class_id, MONDAY, [(an, AU, "")], session=AFTERNOON))
    await world.registers.mark(marks(class_id, TUESDAY, [(an, AE, "ốm")]))
    published = [
        att_events.AbsenceRecorded.FromString(p) for p in (await world.events("absence.recorded"))[before:]
    ]
    assert [(e.student_id, e.date, e.session, e.status) for e in published] == [
        (an, MONDAY, "MORNING", "ABSENT_UNEXCUSED"),
        (an, MONDAY, "AFTERNOON", "ABSENT_UNEXCUSED"),
        (an, TUESDAY, "MORNING", "ABSENT_EXCUSED"),
    ]
    # One session a day counts (the morning: the school's main session by default).
    assert [e.absent_sessions for e in published] == [1, 1, 2]
    assert published[0].class_name == "6A1"
    assert published[0].school_year == YEAR

    summary = (
        await world.registers.absence_summary(pb.GetAbsenceSummaryRequest(student_id=an, school_year=YEAR))
    ).summary
    assert (summary.absent_sessions, summary.excused, summary.unexcused, summary.limit) == (2, 1, 1, 45)
    assert summary.level == pb.ABSENCE_LEVEL_OK


async def test_the_counter_warns_as_the_limit_approaches(world):
    school = await world.school()
    class_id, (an,) = await world.klass(school, ["Nguyễn An"])
    act_as(f"admin-{school}", "school_admin")
    await world.calendars.configure(
        pb.ConfigureSchoolCalendarRequest(
            calendar=pb.SchoolCalendar(
                school_id=school,
                sessions=[MORNING, AFTERNOON],
                weekdays=[1, 2, 3, 4, 5, 6, 7],
                main_session=MORNING,
                morning_cutoff="10:00",
                afternoon_cutoff="16:00",
                absence_warning_at=3,
            )
        )
    )
    act_as(f"teacher-{class_id}", "teacher")
    for offset in range(3):
        day = (datetime(2026, 3, 1) + timedelta(days=offset)).date().isoformat()
        await world.registers.mark(marks(class_id, day, [(an, AU, "")]))
    last = att_events.AbsenceRecorded.FromString((await world.events("absence.recorded"))[-1])
    assert (last.absent_sessions, last.level) == (3, "APPROACHING")
    listed = await world.registers.class_absence_summaries(
        pb.ListClassAbsenceSummariesRequest(class_id=class_id)
    )
    assert [(s.full_name, s.absent_sessions, s.level) for s in listed.summaries] == [
        ("Nguyễn An", 3, pb.ABSENCE_LEVEL_APPROACHING)
    ]


async def test_a_guardian_reads_their_child_s_attendance_and_nobody_else_s(world):
    school = await world.school()
    class_id, (an, binh) = await world.klass(school, ["Nguyễn An", "Trần Bình"])
    act_as(f"teacher-{class_id}", "teacher")
    await world.registers.mark(marks(class_id, TUESDAY, [(an, AE, "khám răng"), (binh, P, "")]))
    act_as(f"parent-{an}", "guardian")
    days = await world.registers.list_student_attendance(
        pb.ListStudentAttendanceRequest(student_id=an, from_date=MONDAY, to_date=TUESDAY)
    )
    assert [(d.date, d.status, d.note) for d in days.days] == [(TUESDAY, AE, "khám răng")]
    error = await refused(
        world.registers.absence_summary(pb.GetAbsenceSummaryRequest(student_id=binh, school_year=YEAR)),
        PermissionDenied,
    )
    assert error.reason == "NOT_YOUR_CHILD"
    await refused(
        world.registers.get_register(pb.GetRegisterRequest(class_id=class_id, date=TUESDAY, session=MORNING)),
        PermissionDenied,
    )


# ---------------------------------------------------------------- leave requests


def leave(student: str, start: str, end: str, sessions=(), reason="Cháu bị sốt", request_id=""):
    return pb.RequestLeaveRequest(
        request_id=request_id,
        student_id=student,
        from_date=start,
        to_date=end,
        sessions=list(sessions),
        reason=reason,
    )


async def test_an_approved_leave_marks_its_sessions_absent_excused(world):
    school = await world.school()
    class_id, (an, binh) = await world.klass(school, ["Nguyễn An", "Trần Bình"])
    act_as(f"teacher-{class_id}", "teacher")
    await world.registers.mark(marks(class_id, MONDAY, [(an, AU, ""), (binh, P, "")]))
    await world.registers.mark(marks(class_id, TUESDAY, [(an, P, "")], session=MORNING))

    act_as(f"parent-{an}", "guardian")
    asked = (await world.leave.request(leave(an, MONDAY, "2026-03-11"))).leave
    assert asked.status == pb.LEAVE_STATUS_PENDING
    assert asked.session_count == 6  # Monday to Wednesday, morning and afternoon
    requested = att_events.LeaveRequested.FromString((await world.events("leave.requested"))[-1])
    assert (requested.student_id, requested.requested_by) == (an, f"parent-{an}")
    assert "sốt" not in (await world.events("leave.requested"))[-1].decode("utf-8", "replace")

    act_as(f"homeroom-{class_id}", "homeroom_teacher")
    decided = await world.leave.decide(pb.DecideLeaveRequest(leave_id=asked.id, approve=True))
    assert decided.leave.status == pb.LEAVE_STATUS_APPROVED
    # Monday's unexcused morning becomes excused, Tuesday's present morning stays; four more are new.
    assert decided.marked == 5
    days = await world.registers.list_student_attendance(
        pb.ListStudentAttendanceRequest(student_id=an, from_date=MONDAY, to_date="2026-03-11")
    )
    assert [(d.date, d.session, d.status) for d in days.days] == [
        (MONDAY, MORNING, AE),
        (MONDAY, AFTERNOON, AE),
        (TUESDAY, MORNING, P),
        (TUESDAY, AFTERNOON, AE),
        ("2026-03-11", MORNING, AE),
        ("2026-03-11", AFTERNOON, AE),
    ]
    outcome = att_events.LeaveDecided.FromString((await world.events("leave.decided"))[-1])
    assert (outcome.decision, outcome.requested_by) == ("APPROVED", f"parent-{an}")

    # A teacher who marks the student absent that day records an excused absence, with the leave.
    world.clock.at("2026-03-11", "08:00")
    act_as(f"teacher-{class_id}", "teacher")
    register = (
        await world.registers.mark(marks(class_id, "2026-03-11", [(an, AU, ""), (binh, P, "")]))
    ).register
    line = next(line for line in register.lines if line.student_id == an)
    assert (line.status, line.leave_request_id) == (AE, asked.id)


async def test_a_leave_request_from_someone_who_is_not_the_child_s_guardian_is_refused(world):
    school = await world.school()
    class_id, (an, binh) = await world.klass(school, ["Nguyễn An", "Trần Bình"])
    act_as(f"parent-{binh}", "guardian")
    error = await refused(world.leave.request(leave(an, TUESDAY, TUESDAY)), PermissionDenied)
    assert error.reason == "NOT_YOUR_CHILD"
    act_as(f"teacher-{class_id}", "teacher")  # a subject teacher does not ask for a family
    await refused(world.leave.request(leave(an, TUESDAY, TUESDAY)), PermissionDenied)
    assert await world.count("SELECT count(*) FROM leave_requests WHERE class_id = :c", c=class_id) == 0


async def test_only_the_homeroom_teacher_or_the_school_admin_decides(world):
    school = await world.school()
    class_id, (an,) = await world.klass(school, ["Nguyễn An"])
    act_as(f"parent-{an}", "guardian")
    asked = (await world.leave.request(leave(an, TUESDAY, TUESDAY))).leave
    for subject, roles in ((f"teacher-{class_id}", ("teacher",)), (f"parent-{an}", ("guardian",))):
        act_as(subject, *roles)
        await refused(
            world.leave.decide(pb.DecideLeaveRequest(leave_id=asked.id, approve=True)), PermissionDenied
        )
    act_as(f"admin-{school}", "school_admin")
    error = await refused(world.leave.decide(pb.DecideLeaveRequest(leave_id=asked.id, approve=False)))
    assert (error.reason, error.metadata["field"]) == ("INVALID_ARGUMENT", "note")
    refusal = await world.leave.decide(
        pb.DecideLeaveRequest(leave_id=asked.id, approve=False, note="Cần giấy của bác sĩ")
    )
    assert refusal.leave.status == pb.LEAVE_STATUS_REFUSED
    assert refusal.marked == 0
    error = await refused(world.leave.decide(pb.DecideLeaveRequest(leave_id=asked.id, approve=True)))
    assert error.reason == "LEAVE_ALREADY_DECIDED"
    assert await world.count("SELECT count(*) FROM attendance_marks WHERE class_id = :c", c=class_id) == 0


@pytest.mark.parametrize(
    ("case", "reason", "field"),
    [
        ("backwards", "INVALID_ARGUMENT", "to_date"),
        ("too long", "INVALID_ARGUMENT", "to_date"),
        ("no reason", "INVALID_ARGUMENT", "reason"),
        ("another year", "DATE_OUTSIDE_SCHOOL_YEAR", "to_date"),
        ("weekend only", "NO_SCHOOL_SESSIONS", "from_date"),
        ("bad session", "INVALID_ARGUMENT", "sessions"),
        ("overlap", "LEAVE_OVERLAPS", "from_date"),
    ],
)
async def test_bad_leave_requests_are_refused_and_change_nothing(world, case, reason, field):
    school = await world.school()
    class_id, (an,) = await world.klass(school, ["Nguyễn An"])
    act_as(f"parent-{an}", "guardian")
    if case == "overlap":
        await world.leave.request(leave(an, MONDAY, TUESDAY, [MORNING]))
    before = await world.count("SELECT count(*) FROM leave_requests WHERE class_id = :c", c=class_id)
    request = {
        "backwards": leave(an, TUESDAY, MONDAY),
        "too long": leave(an, "2026-03-02", "2026-04-10"),
        "no reason": leave(an, TUESDAY, TUESDAY, reason="  "),
        "another year": leave(an, "2026-05-28", "2026-06-02"),
        "weekend only": leave(an, SATURDAY, "2026-03-15"),
        "bad session": leave(an, TUESDAY, TUESDAY, [7]),
        "overlap": leave(an, TUESDAY, "2026-03-11", [MORNING]),
    }[case]
    error = await refused(world.leave.request(request))
    assert (error.reason, error.metadata.get("field")) == (reason, field)
    if case == "overlap":
        assert isinstance(error, AlreadyExists)
    else:
        assert isinstance(error, InvalidArgument | FailedPrecondition)
    assert await world.count("SELECT count(*) FROM leave_requests WHERE class_id = :c", c=class_id) == before


async def test_the_guardian_withdraws_a_pending_request_and_lists_their_child_s(world):
    school = await world.school()
    class_id, (an,) = await world.klass(school, ["Nguyễn An"])
    act_as(f"parent-{an}", "guardian")
    first = (await world.leave.request(leave(an, MONDAY, MONDAY))).leave
    second = (await world.leave.request(leave(an, TUESDAY, TUESDAY))).leave
    cancelled = await world.leave.cancel(pb.CancelLeaveRequest(leave_id=first.id))
    assert cancelled.leave.status == pb.LEAVE_STATUS_CANCELLED
    listed = await world.leave.list(pb.ListLeaveRequestsRequest(student_id=an, page_size=1))
    assert [x.id for x in listed.leaves] == [second.id]
    assert listed.next_page_token
    rest = await world.leave.list(
        pb.ListLeaveRequestsRequest(student_id=an, page_size=1, page_token=listed.next_page_token)
    )
    assert [(x.id, x.status) for x in rest.leaves] == [(first.id, pb.LEAVE_STATUS_CANCELLED)]
    act_as(f"homeroom-{class_id}", "homeroom_teacher")
    pending = await world.leave.list(
        pb.ListLeaveRequestsRequest(class_id=class_id, status=pb.LEAVE_STATUS_PENDING)
    )
    assert [(x.id, x.full_name) for x in pending.leaves] == [(second.id, "Nguyễn An")]
    error = await refused(world.leave.cancel(pb.CancelLeaveRequest(leave_id=second.id)), PermissionDenied)
    assert error.reason == "NOT_YOUR_REQUEST"


async def test_a_leave_approved_after_the_cut_off_is_in_the_trail(world):
    school = await world.school()
    class_id, (an,) = await world.klass(school, ["Nguyễn An"])
    act_as(f"teacher-{class_id}", "teacher")
    await world.registers.mark(marks(class_id, MONDAY, [(an, AU, "")]))
    act_as(f"parent-{an}", "guardian")
    asked = (await world.leave.request(leave(an, MONDAY, MONDAY, [MORNING]))).leave
    act_as(f"homeroom-{class_id}", "homeroom_teacher")  # on Tuesday: Monday's cut-off has passed
    await world.leave.decide(pb.DecideLeaveRequest(leave_id=asked.id, approve=True))
    trail = (await world.registers.list_changes(pb.ListRegisterChangesRequest(class_id=class_id))).changes
    assert [(c.student_id, c.date, c.previous_status, c.status) for c in trail] == [(an, MONDAY, AU, AE)]
    assert asked.id in trail[0].reason
    assert trail[0].changed_by == f"homeroom-{class_id}"
    marked = att_events.AttendanceMarked.FromString((await world.events("attendance.marked"))[-1])
    assert (marked.origin, marked.after_cutoff) == ("leave", True)


async def test_a_student_who_moved_is_decided_and_marked_in_the_new_class(world):
    from attendance.events.handlers import STUDENT_TRANSFERRED, on_student_transferred

    school = await world.school()
    old_class, (an,) = await world.klass(school, ["Nguyễn An"])
    new_class, _ = await world.klass(school, ["Trần Bình"])
    act_as(f"parent-{an}", "guardian")
    asked = (await world.leave.request(leave(an, TUESDAY, TUESDAY, [MORNING]))).leave
    moved = events.StudentTransferred(
        movement_id=str(uuid.uuid4()),
        student_id=an,
        school_year=YEAR,
        kind="CLASS_MOVE",
        from_school_id=school,
        from_class_id=old_class,
        to_school_id=school,
        to_class_id=new_class,
        effective_on=TUESDAY,
        full_name="Nguyễn An",
    )
    moved.transfer_time.FromDatetime(datetime(2026, 3, 10, tzinfo=UTC))
    async with world.db.unit_of_work(TENANT) as uow:
        await on_student_transferred(event(STUDENT_TRANSFERRED, moved), uow)
        await uow.commit()
    act_as(f"homeroom-{old_class}", "homeroom_teacher")
    await refused(
        world.leave.decide(pb.DecideLeaveRequest(leave_id=asked.id, approve=True)), PermissionDenied
    )
    act_as(f"homeroom-{new_class}", "homeroom_teacher")
    assert (await world.leave.decide(pb.DecideLeaveRequest(leave_id=asked.id, approve=True))).marked == 1
    assert (
        await world.count(
            "SELECT count(*) FROM attendance_marks WHERE student_id = :s AND class_id = :c", s=an, c=new_class
        )
        == 1
    )


async def test_a_double_tap_makes_one_leave_request(world):
    import asyncio

    school = await world.school()
    _, (an,) = await world.klass(school, ["Nguyễn An"])
    act_as(f"parent-{an}", "guardian")
    outcomes = await asyncio.gather(
        *(world.leave.request(leave(an, TUESDAY, TUESDAY)) for _ in range(3)), return_exceptions=True
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, AlreadyExists) for o in outcomes if isinstance(o, BaseException))
    assert await world.count("SELECT count(*) FROM leave_requests WHERE student_id = :s", s=an) == 1


async def test_a_leave_s_reason_is_for_the_family_the_homeroom_teacher_and_the_school_admins(world):
    school = await world.school()
    class_id, (an,) = await world.klass(school, ["Nguyễn An"])
    act_as(f"parent-{an}", "guardian")
    await world.leave.request(leave(an, TUESDAY, TUESDAY, reason="Cháu bị thủy đậu"))
    seen = {}
    for subject, roles in (
        (f"parent-{an}", ("guardian",)),
        (f"homeroom-{class_id}", ("homeroom_teacher",)),
        (f"admin-{school}", ("school_admin",)),
        (f"teacher-{class_id}", ("teacher",)),
    ):
        act_as(subject, *roles)
        query = pb.ListLeaveRequestsRequest(student_id=an) if "parent" in subject else None
        listed = await world.leave.list(query or pb.ListLeaveRequestsRequest(class_id=class_id))
        seen[subject.split("-")[0]] = listed.leaves[0].reason
    assert seen == {
        "parent": "Cháu bị thủy đậu",
        "homeroom": "Cháu bị thủy đậu",
        "admin": "Cháu bị thủy đậu",
        "teacher": "",
    }


async def test_excused_and_unexcused_add_up_to_the_days_counted(world):
    from attendance.events.handlers import STUDENT_TRANSFERRED, on_student_transferred

    school = await world.school()
    first, (an,) = await world.klass(school, ["Nguyễn An"])
    second, _ = await world.klass(school, ["Trần Bình"])
    act_as(f"admin-{school}", "school_admin")
    await world.registers.mark(marks(first, MONDAY, [(an, AE, "")]))
    moved = events.StudentTransferred(
        movement_id=str(uuid.uuid4()),
        student_id=an,
        school_year=YEAR,
        kind="CLASS_MOVE",
        from_school_id=school,
        from_class_id=first,
        to_school_id=school,
        to_class_id=second,
        effective_on=MONDAY,
        full_name="Nguyễn An",
    )
    moved.transfer_time.FromDatetime(datetime(2026, 3, 9, 5, tzinfo=UTC))
    async with world.db.unit_of_work(TENANT) as uow:
        await on_student_transferred(event(STUDENT_TRANSFERRED, moved), uow)
        await uow.commit()
    await world.registers.mark(marks(second, MONDAY, [(an, AE, "")]))  # the same day in the new class
    # The old class's register keeps the mark of the student who left it, after its roster.
    old_register = (
        await world.registers.get_register(
            pb.GetRegisterRequest(class_id=first, date=MONDAY, session=MORNING)
        )
    ).register
    assert [(line.student_id, line.full_name, line.status) for line in old_register.lines] == [(an, "", AE)]
    await world.registers.mark(marks(second, TUESDAY, [(an, AU, "")]))
    summary = (
        await world.registers.absence_summary(pb.GetAbsenceSummaryRequest(student_id=an, school_year=YEAR))
    ).summary
    assert (summary.absent_sessions, summary.excused, summary.unexcused) == (2, 1, 1)


async def test_past_its_capacity_a_process_refuses_a_submission_at_once_and_writes_nothing(world):
    from attendance.registers.admission import Admission

    school = await world.school()
    class_id, (an,) = await world.klass(school, ["Nguyễn An"])
    act_as(f"teacher-{class_id}", "teacher")
    busy = RegisterService(
        world.db,
        world.registers.access,
        world.registers.outbox,
        world.clock,
        Admission(limit=2, retry_after_s=3),
    )
    busy.admission.in_flight = 2  # two submissions being worked on
    error = await refused(busy.mark(marks(class_id, TUESDAY, [(an, AU, "")])), Unavailable)
    assert (error.reason, error.metadata["retry_after_s"]) == ("OVERLOADED", "3")
    assert await world.count("SELECT count(*) FROM attendance_marks WHERE class_id = :c", c=class_id) == 0
    busy.admission.in_flight = 1
    assert (await busy.mark(marks(class_id, TUESDAY, [(an, AU, "")]))).changed == 1
    assert (busy.admission.in_flight, busy.admission.refused) == (1, 1)  # the slot is given back

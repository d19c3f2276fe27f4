"""Semi-boarding against real PostgreSQL: terms, registrations, the meal count frozen at the cut-off,
menus, meal attendance, the food-sample log and the month's charges.

Rosters come through student-record's event handlers; register marks and leave requests (another use
case's tables) are inserted directly; identity's access scopes are answered by subject; the clock is
moved by each test (times are Hà Nội's).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from attendance.boarding.freezer import MealCountFreezer
from attendance.boarding.models import (
    BoardingRegistrationRow,
    BoardingSettingsRow,
    ChargeRunRow,
    MealCountRow,
)
from attendance.boarding.service import BoardingService
from attendance.calendar.service import CalendarService
from attendance.domain.calendar import ZONE
from attendance.events.handlers import (
    CLASS_CREATED,
    SCHOOL_YEAR_DEFINED,
    STUDENT_ENROLLED,
    STUDENT_TRANSFERRED,
    on_class_created,
    on_school_year_defined,
    on_student_enrolled,
    on_student_transferred,
)
from attendance.models import LeaveRequestRow, Mark
from attendance.service import DEFINITION as ATTENDANCE
from google.protobuf.timestamp_pb2 import Timestamp
from school.attendance.v1 import attendance_pb2 as pb
from school.events.attendance.v1 import events_pb2 as att_events
from school.events.student_record.v1 import events_pb2 as events
from school.identity.v1 import identity_pb2 as idpb
from school_common.access import Callers, ScopeResolver
from school_common.context import Principal, set_principal
from school_common.db import Database
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from school_common.events import Event, Outbox
from school_common.testing import callers
from school_common.testing.callers import Clock, scopes_by_subject
from sqlalchemy import func, select, text

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

TENANT = "t-boarding"
YEAR = "2025-2026"
MEALS_COUNTED = "school.attendance.meals.counted.v1"
CHARGES_COMPUTED = "school.attendance.boarding.charges_computed.v1"


def start_clock() -> Clock:
    return Clock(ZONE, datetime(2026, 2, 20, 8, 0, tzinfo=ZONE))


#: What identity answers for each caller (by subject); schools and classes add their people.
SCOPES: dict[str, idpb.GetAccessScopeResponse] = {}


from_identity = scopes_by_subject(SCOPES, lambda subject: idpb.GetAccessScopeResponse(subject=subject))


def act_as(subject: str, *roles: str) -> None:
    callers.act_as(TENANT, subject, *roles)


def event(subject: str, payload, tenant: str = TENANT) -> Event:
    return callers.delivered(tenant, subject, payload)


def ts(day: str, hhmm: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=ZONE))
    return stamp


@dataclass
class School:
    id: str
    classes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def admin(self) -> str:
        return f"admin-{self.id}"

    @property
    def accountant(self) -> str:
        return f"accountant-{self.id}"


@dataclass
class World:
    db: Database
    clock: Clock
    boarding: BoardingService
    calendars: CalendarService
    freezer: MealCountFreezer

    async def school(self, classes: int = 1, students: int = 3) -> School:
        """A school with its classes and students; an admin, an accountant, a homeroom teacher
        ``homeroom-<class>``, a subject teacher ``teacher-<class>`` and a guardian ``parent-<student>``."""
        school = School(str(uuid.uuid4()))
        for role, subject in (("school_admin", school.admin), ("accountant", school.accountant)):
            SCOPES[subject] = idpb.GetAccessScopeResponse(
                subject=subject, schools=[idpb.ScopedSchool(school_id=school.id, role=role)]
            )
        async with self.db.unit_of_work(TENANT) as uow:
            for c in range(classes):
                class_id = str(uuid.uuid4())
                created = events.ClassCreated(
                    class_id=class_id, school_id=school.id, name=f"1A{c + 1}", grade=1, school_year=YEAR
                )
                await on_class_created(event(CLASS_CREATED, created), uow)
                school.classes[class_id] = []
                for s in range(students):
                    student = str(uuid.uuid4())
                    enrolled = events.StudentEnrolled(
                        enrolment_id=str(uuid.uuid4()),
                        class_id=class_id,
                        school_id=school.id,
                        student_id=student,
                        full_name=f"Học sinh {c + 1}-{s + 1}",
                    )
                    enrolled.enrol_time.FromDatetime(datetime(2025, 9, 1, tzinfo=UTC))
                    await on_student_enrolled(event(STUDENT_ENROLLED, enrolled), uow)
                    school.classes[class_id].append(student)
                    SCOPES[f"parent-{student}"] = idpb.GetAccessScopeResponse(
                        subject=f"parent-{student}",
                        children=[idpb.ScopedChild(student_id=student, school_id=school.id)],
                    )
                for role in ("homeroom_teacher", "teacher"):
                    subject = f"{role.split('_')[0]}-{class_id}"
                    SCOPES[subject] = idpb.GetAccessScopeResponse(
                        subject=subject,
                        classes=[idpb.ScopedClass(class_id=class_id, school_id=school.id, role=role)],
                    )
            await uow.commit()
        return school

    async def configure(self, school: School, **changes) -> pb.BoardingSettings:
        settings = pb.BoardingSettings(
            school_id=school.id,
            meal_cutoff="09:00",
            lunch_price=30_000,
            breakfast_price=15_000,
            nap_care_monthly_fee=320_000,
            meal_refund=pb.MEAL_REFUND_POLICY_NONE,
            care_refund=pb.CARE_REFUND_POLICY_NONE,
            kitchens=[pb.Kitchen(name="Bếp chính")],
            policy_text="Hoàn tiền ăn những ngày nghỉ có báo trước 9 giờ.",
        )
        for key, value in changes.items():
            if key == "kitchens":
                del settings.kitchens[:]
                settings.kitchens.extend(value)
            else:
                setattr(settings, key, value)
        act_as(school.admin, "school_admin")
        response = await self.boarding.configure(pb.ConfigureBoardingRequest(settings=settings))
        return response.settings

    async def register(
        self, student: str, month: str, *, lunch=True, breakfast=False, nap_care=False, by: str = ""
    ) -> pb.BoardingRegistration:
        act_as(by or f"parent-{student}", "guardian" if not by else "school_admin")
        response = await self.boarding.register(
            pb.RegisterBoardingRequest(
                student_id=student, month=month, lunch=lunch, breakfast=breakfast, nap_care=nap_care
            )
        )
        return response.registration

    async def count(self, school: School, day: str) -> pb.GetMealCountResponse:
        act_as(school.admin, "school_admin")
        return await self.boarding.meal_count(pb.GetMealCountRequest(school_id=school.id, date=day))

    async def mark(
        self, school: School, student: str, day: str, status: str, session: str = "MORNING"
    ) -> None:
        class_id = next(c for c, students in school.classes.items() if student in students)
        async with self.db.unit_of_work(TENANT) as uow:
            uow.session.add(
                Mark(
                    tenant_id=TENANT,
                    school_id=uuid.UUID(school.id),
                    class_id=uuid.UUID(class_id),
                    day=date.fromisoformat(day),
                    session=session,
                    student_id=uuid.UUID(student),
                    school_year=YEAR,
                    status=status,
                    marked_by="teacher",
                )
            )
            await uow.commit()

    async def leave(
        self,
        school: School,
        student: str,
        first: str,
        last: str,
        status: str = "APPROVED",
        sessions: tuple[str, ...] = ("MORNING", "AFTERNOON"),
    ) -> None:
        class_id = next(c for c, students in school.classes.items() if student in students)
        async with self.db.unit_of_work(TENANT) as uow:
            uow.session.add(
                LeaveRequestRow(
                    tenant_id=TENANT,
                    student_id=uuid.UUID(student),
                    class_id=uuid.UUID(class_id),
                    school_id=uuid.UUID(school.id),
                    from_day=date.fromisoformat(first),
                    to_day=date.fromisoformat(last),
                    sessions=list(sessions),
                    reason="ốm",
                    status=status,
                    requested_by=f"parent-{student}",
                    decided_by=None if status == "PENDING" else "homeroom",
                    session_count=2,
                )
            )
            await uow.commit()

    async def define_year(self, school: School, first: str, last: str, name: str = YEAR) -> None:
        """student-record's `school_year.defined`: the first and last day of school."""
        defined = events.SchoolYearDefined(
            school_id=school.id, name=name, semester_1_start=first, semester_2_end=last
        )
        async with self.db.unit_of_work(TENANT) as uow:
            await on_school_year_defined(event(SCHOOL_YEAR_DEFINED, defined), uow)
            await uow.commit()

    async def transfer_out(self, school: School, student: str) -> None:
        """The student left for a school outside the tenant: off every roster of the school."""
        class_id = next(c for c, students in school.classes.items() if student in students)
        moved = events.StudentTransferred(
            movement_id=str(uuid.uuid4()),
            student_id=student,
            school_year=YEAR,
            kind="TRANSFER_OUT",
            from_school_id=school.id,
            from_class_id=class_id,
        )
        async with self.db.unit_of_work(TENANT) as uow:
            await on_student_transferred(event(STUDENT_TRANSFERRED, moved), uow)
            await uow.commit()

    async def registered_before(self, school: School, student: str, month: str, effective: str) -> None:
        """A registration as it was stored before days outside the school year were skipped."""
        class_id = next(c for c, students in school.classes.items() if student in students)
        async with self.db.unit_of_work(TENANT) as uow:
            uow.session.add(
                BoardingRegistrationRow(
                    tenant_id=TENANT,
                    school_id=uuid.UUID(school.id),
                    class_id=uuid.UUID(class_id),
                    student_id=uuid.UUID(student),
                    month=date.fromisoformat(f"{month}-01"),
                    effective_date=date.fromisoformat(effective),
                    lunch=True,
                    breakfast=False,
                    nap_care=False,
                    registered_by="parent",
                    registered_at=datetime(2025, 8, 1, tzinfo=UTC),
                )
            )
            await uow.commit()

    async def charges(self, school: School, month: str) -> pb.ComputeBoardingChargesResponse:
        act_as(school.accountant, "accountant")
        return await self.boarding.compute_charges(
            pb.ComputeBoardingChargesRequest(school_id=school.id, month=month)
        )

    async def until_waiting(self, task: asyncio.Task) -> None:
        """Until ``task`` waits for a row lock (or is done)."""
        for _ in range(500):
            if task.done():
                return
            async with self.db.unit_of_work(TENANT) as uow:
                waiting = text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if await uow.session.scalar(waiting):
                    return
            await asyncio.sleep(0.01)
        raise AssertionError("the task neither waited for a lock nor finished")

    async def outbox(self, subject: str) -> list[bytes]:
        async with self.db.unit_of_work(TENANT) as uow:
            rows = await uow.session.execute(
                text("SELECT payload FROM outbox_events WHERE subject = :s ORDER BY id"), {"s": subject}
            )
            return [row.payload for row in rows]

    async def counted_events(self, school: School, day: str) -> list[att_events.MealsCounted]:
        found = []
        for payload in await self.outbox(MEALS_COUNTED):
            message = att_events.MealsCounted.FromString(payload)
            if message.school_id == school.id and message.date == day:
                found.append(message)
        return found

    async def charge_events(self, school: School, month: str) -> list[att_events.BoardingChargesComputed]:
        found = []
        for payload in await self.outbox(CHARGES_COMPUTED):
            message = att_events.BoardingChargesComputed.FromString(payload)
            if message.school_id == school.id and message.month == month:
                found.append(message)
        return found

    async def rows(self, model, **where) -> int:
        async with self.db.unit_of_work(TENANT) as uow:
            query = select(func.count()).select_from(model)
            for key, value in where.items():
                query = query.where(getattr(model, key) == value)
            return int(await uow.session.scalar(query) or 0)


@pytest.fixture(scope="module")
async def db(make_database):
    database = Database(await make_database("attendance", ATTENDANCE.root))
    yield database
    set_principal(None)
    await database.dispose()


@pytest.fixture
def world(db) -> World:
    clock = start_clock()
    access = Callers(ScopeResolver(from_identity, ttl_s=0))
    outbox = Outbox("attendance")
    return World(
        db=db,
        clock=clock,
        boarding=BoardingService(db, access, outbox, clock),
        calendars=CalendarService(db, access),
        freezer=MealCountFreezer(db, outbox, clock),
    )


async def lock_settings(uow, school: School) -> None:
    """Holds the school's settings row as a registration or a freeze in progress does."""
    await uow.session.execute(
        select(BoardingSettingsRow).where(BoardingSettingsRow.id == uuid.UUID(school.id)).with_for_update()
    )


def kitchens(response: pb.GetMealCountResponse) -> dict[str, tuple[int, int, int, int]]:
    return {k.kitchen: (k.lunch, k.lunch_absent, k.breakfast, k.breakfast_absent) for k in response.kitchens}


# ---------------------------------------------------------------- terms


async def test_until_configured_the_terms_are_the_defaults_and_families_read_them(world):
    school = await world.school(students=1)
    student = school.classes[next(iter(school.classes))][0]
    act_as(f"parent-{student}", "guardian")
    settings = (
        await world.boarding.get_settings(pb.GetBoardingSettingsRequest(school_id=school.id))
    ).settings
    assert (settings.meal_cutoff, settings.lunch_price, settings.configured) == ("09:00", 0, False)
    assert settings.meal_refund == pb.MEAL_REFUND_POLICY_NONE
    assert [k.name for k in settings.kitchens] == ["Bếp chính"]

    await world.configure(school, meal_refund=pb.MEAL_REFUND_POLICY_NOTIFIED_BEFORE_CUTOFF)
    act_as(f"parent-{student}", "guardian")
    settings = (
        await world.boarding.get_settings(pb.GetBoardingSettingsRequest(school_id=school.id))
    ).settings
    assert settings.configured
    assert settings.lunch_price == 30_000
    assert settings.meal_refund == pb.MEAL_REFUND_POLICY_NOTIFIED_BEFORE_CUTOFF
    assert settings.policy_text.startswith("Hoàn tiền ăn")


async def test_only_a_school_admin_configures_and_strangers_read_nothing(world):
    school = await world.school(students=1)
    class_id = next(iter(school.classes))
    act_as(f"homeroom-{class_id}", "homeroom_teacher")
    with pytest.raises(PermissionDenied) as caught:
        await world.boarding.configure(
            pb.ConfigureBoardingRequest(settings=pb.BoardingSettings(school_id=school.id))
        )
    assert caught.value.reason == "ADMIN_ROLE_REQUIRED"
    act_as("stranger", "guardian")
    with pytest.raises(PermissionDenied):
        await world.boarding.get_settings(pb.GetBoardingSettingsRequest(school_id=school.id))
    act_as("authority", "authority_admin")
    SCOPES["authority"] = idpb.GetAccessScopeResponse(subject="authority", tenant_wide=True)
    with pytest.raises(NotFound):
        await world.boarding.get_settings(pb.GetBoardingSettingsRequest(school_id=str(uuid.uuid4())))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lunch_price": -1}, "settings.lunch_price"),
        ({"nap_care_monthly_fee": 50_000_000}, "settings.nap_care_monthly_fee"),
        ({"meal_cutoff": "9h"}, "settings.meal_cutoff"),
        ({"meal_refund": pb.MEAL_REFUND_POLICY_UNSPECIFIED}, "settings.meal_refund"),
        ({"care_refund": 7}, "settings.care_refund"),
        ({"kitchens": [pb.Kitchen(name="Bếp A"), pb.Kitchen(name="Bếp A")]}, "settings.kitchens.name"),
        (
            {"kitchens": [pb.Kitchen(name="Bếp A", class_ids=[str(uuid.uuid4())])]},
            "settings.kitchens.class_ids",
        ),
        ({"policy_text": "x" * 2001}, "settings.policy_text"),
    ],
)
async def test_bad_terms_are_refused_with_the_field_and_change_nothing(world, changes, field):
    school = await world.school(students=0)
    await world.configure(school)
    with pytest.raises(InvalidArgument) as caught:
        await world.configure(school, **changes)
    assert caught.value.metadata["field"] == field
    act_as(school.admin, "school_admin")
    settings = (
        await world.boarding.get_settings(pb.GetBoardingSettingsRequest(school_id=school.id))
    ).settings
    assert (settings.lunch_price, settings.meal_cutoff, [k.name for k in settings.kitchens]) == (
        30_000,
        "09:00",
        ["Bếp chính"],
    )


async def test_a_class_goes_to_one_kitchen_only(world):
    school = await world.school(classes=2, students=0)
    c1, c2 = list(school.classes)
    with pytest.raises(InvalidArgument) as caught:
        await world.configure(
            school, kitchens=[pb.Kitchen(name="A", class_ids=[c1]), pb.Kitchen(name="B", class_ids=[c1, c2])]
        )
    assert caught.value.metadata["field"] == "settings.kitchens.class_ids"
    assert await world.rows(BoardingSettingsRow, id=uuid.UUID(school.id)) == 0


# ---------------------------------------------------------------- registrations


async def test_a_guardian_registers_their_child_but_not_another_child(world):
    school = await world.school(students=2)
    mine, other = school.classes[next(iter(school.classes))]
    registration = await world.register(mine, "2026-03", lunch=True, nap_care=True)
    assert registration.registered_by == f"parent-{mine}"
    assert (registration.lunch, registration.breakfast, registration.nap_care) == (True, False, True)
    assert registration.effective_date == "2026-03-02"  # a month ahead: its first school day (1st: Sunday)
    assert registration.full_name == "Học sinh 1-1"

    act_as(f"parent-{mine}", "guardian")
    with pytest.raises(PermissionDenied) as caught:
        await world.boarding.register(
            pb.RegisterBoardingRequest(student_id=other, month="2026-03", lunch=True)
        )
    assert caught.value.reason == "NOT_YOUR_CHILD"
    assert await world.rows(BoardingRegistrationRow, student_id=uuid.UUID(other)) == 0


async def test_the_homeroom_teacher_and_the_admin_register_a_subject_teacher_does_not(world):
    school = await world.school(students=2)
    class_id = next(iter(school.classes))
    a, b = school.classes[class_id]
    act_as(f"homeroom-{class_id}", "homeroom_teacher")
    await world.boarding.register(pb.RegisterBoardingRequest(student_id=a, month="2026-03", lunch=True))
    await world.register(b, "2026-03", by=school.admin)
    act_as(f"teacher-{class_id}", "teacher")
    with pytest.raises(PermissionDenied) as caught:
        await world.boarding.register(pb.RegisterBoardingRequest(student_id=a, month="2026-03"))
    assert caught.value.reason == "WRITE_NOT_ALLOWED"


async def test_bad_and_past_months_and_unknown_students_are_refused(world):
    school = await world.school(students=1)
    student = school.classes[next(iter(school.classes))][0]
    for month in ("2026-13", "03-2026", "", "2027-09"):
        with pytest.raises(InvalidArgument) as caught:
            await world.register(student, month)
        assert caught.value.metadata["field"] == "month"
    with pytest.raises(FailedPrecondition) as refused:
        await world.register(student, "2026-01")
    assert refused.value.reason == "MONTH_PASSED"
    with pytest.raises(NotFound):
        await world.register(str(uuid.uuid4()), "2026-03", by=school.admin)
    assert await world.rows(BoardingRegistrationRow, student_id=uuid.UUID(student)) == 0


async def test_registering_again_replaces_from_the_next_day_not_frozen_and_is_idempotent(world):
    school = await world.school(students=1)
    class_id = next(iter(school.classes))
    student = school.classes[class_id][0]
    await world.register(student, "2026-03", lunch=True, breakfast=True)
    world.clock.at("2026-03-10", "08:30")  # before the cut-off: from today
    assert (await world.register(student, "2026-03", lunch=True)).effective_date == "2026-03-10"
    world.clock.at("2026-03-10", "09:00")  # at the cut-off: from tomorrow
    act_as(f"parent-{student}", "guardian")
    request = pb.RegisterBoardingRequest(
        request_id="reg-1", student_id=student, month="2026-03", nap_care=True
    )
    first = await world.boarding.register(request)
    again = await world.boarding.register(request)
    assert first == again
    assert first.registration.effective_date == "2026-03-11"
    # The first registration stays for the days before the 10th, the second for the 10th only.
    assert await world.rows(BoardingRegistrationRow, student_id=uuid.UUID(student)) == 3

    listed = await world.boarding.list_registrations(
        pb.ListBoardingRegistrationsRequest(student_id=student, month="2026-03")
    )
    assert [(r.effective_date, r.lunch, r.nap_care) for r in listed.registrations] == [
        ("2026-03-11", False, True)
    ]
    act_as(f"teacher-{class_id}", "teacher")
    by_class = await world.boarding.list_registrations(
        pb.ListBoardingRegistrationsRequest(class_id=class_id, month="2026-03")
    )
    assert [r.student_id for r in by_class.registrations] == [student]
    act_as(school.admin, "school_admin")
    by_school = await world.boarding.list_registrations(
        pb.ListBoardingRegistrationsRequest(school_id=school.id, month="2026-03")
    )
    assert len(by_school.registrations) == 1
    act_as(f"parent-{student}", "guardian")
    with pytest.raises(PermissionDenied) as caught:
        await world.boarding.list_registrations(
            pb.ListBoardingRegistrationsRequest(school_id=school.id, month="2026-03")
        )
    assert caught.value.reason == "STAFF_ONLY"

    world.clock.at("2026-03-31", "09:00")
    with pytest.raises(FailedPrecondition) as closed:
        await world.register(student, "2026-03")
    assert closed.value.reason == "REGISTRATION_CLOSED"


# ---------------------------------------------------------------- the meal count


async def test_the_meal_count_does_not_move_after_the_cut_off(world):
    school = await world.school(classes=2, students=3)
    c1, c2 = list(school.classes)
    x, y, z = school.classes[c1]
    u, _, _ = school.classes[c2]
    await world.configure(
        school, kitchens=[pb.Kitchen(name="Bếp A"), pb.Kitchen(name="Bếp B", class_ids=[c2])]
    )
    await world.register(x, "2026-03")
    await world.register(y, "2026-03", breakfast=True)
    await world.register(z, "2026-03")
    await world.register(u, "2026-03")

    world.clock.at("2026-03-10", "08:00")
    await world.mark(school, x, "2026-03-10", "ABSENT_EXCUSED")  # known before the cut-off: left out
    live = await world.count(school, "2026-03-10")
    assert not live.frozen
    assert not live.HasField("freeze_time")
    assert kitchens(live) == {"Bếp A": (2, 1, 1, 0), "Bếp B": (1, 0, 0, 0)}

    world.clock.at("2026-03-10", "09:00")
    frozen = await world.count(school, "2026-03-10")
    assert frozen.frozen
    assert frozen.HasField("freeze_time")
    assert frozen.cutoff_time == ts("2026-03-10", "09:00")
    assert kitchens(frozen) == {"Bếp A": (2, 1, 1, 0), "Bếp B": (1, 0, 0, 0)}

    # After the cut-off: an absence marked, an approved leave, a late registration, new kitchens.
    await world.mark(school, y, "2026-03-10", "ABSENT_UNEXCUSED")
    await world.leave(school, z, "2026-03-10", "2026-03-10")
    _, v, _ = school.classes[c2]
    assert (await world.register(v, "2026-03")).effective_date == "2026-03-11"
    await world.configure(school, kitchens=[pb.Kitchen(name="Bếp mới")])
    world.clock.at("2026-03-10", "11:00")
    await world.freezer.freeze_due()
    again = await world.count(school, "2026-03-10")
    assert kitchens(again) == kitchens(frozen)
    assert again.freeze_time == frozen.freeze_time

    counted = await world.counted_events(school, "2026-03-10")
    assert len(counted) == 1
    assert {k.kitchen: (k.lunch, k.breakfast) for k in counted[0].kitchens} == {
        "Bếp A": (2, 1),
        "Bếp B": (1, 0),
    }
    # The next day counts the late registration at the new kitchen; the 10th's absences are over.
    world.clock.at("2026-03-11", "08:00")
    assert kitchens(await world.count(school, "2026-03-11")) == {"Bếp mới": (5, 0, 1, 0)}


async def test_the_freezer_freezes_at_the_cut_off_once_per_school_and_date(world):
    school = await world.school(students=2)
    a, b = school.classes[next(iter(school.classes))]
    await world.configure(school, meal_cutoff="08:30")
    await world.register(a, "2026-03", breakfast=True)
    await world.register(b, "2026-03")

    world.clock.at("2026-03-12", "08:29")
    await world.freezer.freeze_due()
    assert await world.counted_events(school, "2026-03-12") == []
    await world.leave(school, b, "2026-03-12", "2026-03-13")

    world.clock.at("2026-03-12", "08:30")
    await world.freezer.freeze_due()
    await world.mark(school, a, "2026-03-12", "ABSENT_UNEXCUSED")  # too late to count
    await world.freezer.freeze_due()
    world.clock.at("2026-03-12", "14:00")
    await world.freezer.freeze_due()

    counted = await world.counted_events(school, "2026-03-12")
    assert len(counted) == 1
    assert [(k.kitchen, k.lunch, k.breakfast) for k in counted[0].kitchens] == [("Bếp chính", 1, 1)]
    assert counted[0].freeze_time == ts("2026-03-12", "08:30")
    count = await world.count(school, "2026-03-12")
    assert count.frozen
    assert count.freeze_time == ts("2026-03-12", "08:30")
    assert kitchens(count) == {"Bếp chính": (1, 1, 1, 0)}
    async with world.db.unit_of_work(TENANT) as uow:
        row = await uow.session.get(BoardingSettingsRow, uuid.UUID(school.id))
        assert row is not None
        assert row.counted_through == date(2026, 3, 12)

    # Saturday is not a school day: the freezer passes it, a reader is told.
    world.clock.at("2026-03-14", "10:00")
    await world.freezer.freeze_due()
    assert await world.counted_events(school, "2026-03-14") == []
    with pytest.raises(FailedPrecondition) as caught:
        await world.count(school, "2026-03-14")
    assert caught.value.reason == "NOT_A_SCHOOL_DAY"
    # A day the worker missed (Friday) is caught up once its day is past.
    assert len(await world.counted_events(school, "2026-03-13")) == 1


async def test_the_freezer_freezes_each_tenants_schools_inside_that_tenant(world):
    other = "t-boarding-other"
    school, class_id, student = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    async with world.db.unit_of_work(other) as uow:
        created = events.ClassCreated(
            class_id=class_id, school_id=school, name="2B", grade=2, school_year=YEAR
        )
        await on_class_created(event(CLASS_CREATED, created, other), uow)
        enrolled = events.StudentEnrolled(
            enrolment_id=str(uuid.uuid4()),
            class_id=class_id,
            school_id=school,
            student_id=student,
            full_name="Trần Chi",
        )
        enrolled.enrol_time.FromDatetime(datetime(2025, 9, 1, tzinfo=UTC))
        await on_student_enrolled(event(STUDENT_ENROLLED, enrolled, other), uow)
        await uow.commit()
    SCOPES["admin-other"] = idpb.GetAccessScopeResponse(
        subject="admin-other", schools=[idpb.ScopedSchool(school_id=school, role="school_admin")]
    )
    set_principal(Principal(tenant=other, subject="admin-other", roles=frozenset({"school_admin"})))
    await world.boarding.register(pb.RegisterBoardingRequest(student_id=student, month="2026-03", lunch=True))

    world.clock.at("2026-03-17", "09:00")
    await world.freezer.freeze_due()
    async with world.db.unit_of_work(other) as uow:
        payloads = (
            await uow.session.execute(
                text("SELECT tenant_id, payload FROM outbox_events WHERE subject = :s"), {"s": MEALS_COUNTED}
            )
        ).all()
    counted = [(t, att_events.MealsCounted.FromString(p)) for t, p in payloads]
    assert [(t, m.date, [(k.kitchen, k.lunch) for k in m.kitchens]) for t, m in counted] == [
        (other, "2026-03-17", [("Bếp chính", 1)])
    ]
    # Nothing of it is visible from this tenant, not even to its authority.
    assert [m for m in await world.outbox(MEALS_COUNTED) if m in {p for _, p in payloads}] == []
    SCOPES["authority"] = idpb.GetAccessScopeResponse(subject="authority", tenant_wide=True)
    act_as("authority", "authority_admin")
    with pytest.raises(NotFound):
        await world.boarding.get_settings(pb.GetBoardingSettingsRequest(school_id=school))


async def test_families_and_strangers_do_not_read_a_schools_count(world):
    school = await world.school(students=1)
    class_id = next(iter(school.classes))
    student = school.classes[class_id][0]
    world.clock.at("2026-03-10", "08:00")
    for subject, roles, reason in (
        (f"parent-{student}", ("guardian",), "STAFF_ONLY"),
        ("stranger", ("teacher",), "NOT_YOUR_SCHOOL"),
    ):
        act_as(subject, *roles)
        with pytest.raises(PermissionDenied) as caught:
            await world.boarding.meal_count(pb.GetMealCountRequest(school_id=school.id, date="2026-03-10"))
        assert caught.value.reason == reason
    act_as(f"teacher-{class_id}", "teacher")  # staff of the school
    await world.boarding.meal_count(pb.GetMealCountRequest(school_id=school.id, date="2026-03-10"))
    act_as(school.admin, "school_admin")
    with pytest.raises(InvalidArgument) as bad:
        await world.boarding.meal_count(pb.GetMealCountRequest(school_id=school.id, date="10/03/2026"))
    assert bad.value.metadata["field"] == "date"


# ---------------------------------------------------------------- menus


async def test_menus_are_published_replaced_and_read_by_families(world):
    school = await world.school(students=1)
    student = school.classes[next(iter(school.classes))][0]
    world.clock.at("2026-03-05", "15:00")
    act_as(school.admin, "school_admin")
    lunch = pb.MenuItem(meal=pb.MEAL_LUNCH, dishes=["Cơm", "Thịt kho trứng", "Canh cải"])
    await world.boarding.publish_menu(
        pb.PublishMenuRequest(school_id=school.id, date="2026-03-10", items=[lunch])
    )
    breakfast = pb.MenuItem(meal=pb.MEAL_BREAKFAST, dishes=["Phở gà"])
    replaced = await world.boarding.publish_menu(
        pb.PublishMenuRequest(school_id=school.id, date="2026-03-10", items=[lunch, breakfast])
    )
    assert [i.meal for i in replaced.menu.items] == [pb.MEAL_BREAKFAST, pb.MEAL_LUNCH]

    act_as(f"parent-{student}", "guardian")
    menus = await world.boarding.list_menus(
        pb.ListMenusRequest(school_id=school.id, from_date="2026-03-09", to_date="2026-03-13")
    )
    assert len(menus.menus) == 1
    assert list(menus.menus[0].items[1].dishes) == list(lunch.dishes)
    with pytest.raises(PermissionDenied):
        await world.boarding.publish_menu(
            pb.PublishMenuRequest(school_id=school.id, date="2026-03-11", items=[lunch])
        )


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([pb.MenuItem(meal=pb.MEAL_UNSPECIFIED, dishes=["Cơm"])], "items.meal"),
        ([pb.MenuItem(meal=9, dishes=["Cơm"])], "items.meal"),
        ([pb.MenuItem(meal=pb.MEAL_LUNCH, dishes=["Cơm"])] * 2, "items.meal"),
        ([pb.MenuItem(meal=pb.MEAL_LUNCH, dishes=[])], "items.dishes"),
        ([pb.MenuItem(meal=pb.MEAL_LUNCH, dishes=["x" * 201])], "items.dishes"),
        ([], "items"),
    ],
)
async def test_a_bad_menu_is_refused_with_the_field_and_publishes_nothing(world, items, field):
    school = await world.school(students=0)
    act_as(school.admin, "school_admin")
    with pytest.raises(InvalidArgument) as caught:
        await world.boarding.publish_menu(
            pb.PublishMenuRequest(school_id=school.id, date="2026-03-10", items=items)
        )
    assert caught.value.metadata["field"] == field
    menus = await world.boarding.list_menus(
        pb.ListMenusRequest(school_id=school.id, from_date="2026-03-01", to_date="2026-03-31")
    )
    assert list(menus.menus) == []


# ---------------------------------------------------------------- meal attendance


async def test_meal_attendance_starts_from_the_frozen_count_and_takes_corrections(world):
    school = await world.school(students=3)
    class_id = next(iter(school.classes))
    a, b, c = school.classes[class_id]
    await world.register(a, "2026-03")
    await world.register(b, "2026-03")
    world.clock.at("2026-03-10", "08:00")
    await world.mark(school, b, "2026-03-10", "ABSENT_EXCUSED")
    request = pb.GetMealAttendanceRequest(class_id=class_id, date="2026-03-10", meal=pb.MEAL_LUNCH)
    act_as(f"teacher-{class_id}", "teacher")
    with pytest.raises(FailedPrecondition) as early:
        await world.boarding.meal_attendance(request)
    assert early.value.reason == "MEAL_COUNT_NOT_FROZEN"

    world.clock.at("2026-03-10", "11:30")
    got = await world.boarding.meal_attendance(request)
    assert {e.student_id: e.ate for e in got.entries} == {a: True, b: False}
    assert len(await world.counted_events(school, "2026-03-10")) == 1  # the first read froze it

    recorded = await world.boarding.record_meal_attendance(
        pb.RecordMealAttendanceRequest(
            class_id=class_id,
            date="2026-03-10",
            meal=pb.MEAL_LUNCH,
            entries=[
                pb.MealAttendanceEntry(student_id=a, ate=False),
                pb.MealAttendanceEntry(student_id=b, ate=True),
            ],
        )
    )
    assert {e.student_id: e.ate for e in recorded.entries} == {a: False, b: True}
    assert {e.student_id: e.ate for e in (await world.boarding.meal_attendance(request)).entries} == {
        a: False,
        b: True,
    }
    with pytest.raises(FailedPrecondition) as unregistered:
        await world.boarding.record_meal_attendance(
            pb.RecordMealAttendanceRequest(
                class_id=class_id,
                date="2026-03-10",
                meal=pb.MEAL_LUNCH,
                entries=[pb.MealAttendanceEntry(student_id=c, ate=True)],
            )
        )
    assert unregistered.value.reason == "STUDENT_NOT_REGISTERED"
    with pytest.raises(InvalidArgument) as unknown_meal:
        await world.boarding.record_meal_attendance(
            pb.RecordMealAttendanceRequest(
                class_id=class_id, date="2026-03-10", entries=[pb.MealAttendanceEntry(student_id=a)]
            )
        )
    assert unknown_meal.value.metadata["field"] == "meal"
    act_as(f"parent-{a}", "guardian")
    with pytest.raises(PermissionDenied):
        await world.boarding.meal_attendance(request)


# ---------------------------------------------------------------- the food-sample log


async def test_a_food_sample_is_kept_24_hours_before_it_may_be_discarded(world):
    school = await world.school(students=0)
    act_as(school.admin, "school_admin")
    world.clock.at("2026-03-10", "11:00")
    request = pb.RecordFoodSampleRequest(
        request_id="sample-1",
        school_id=school.id,
        date="2026-03-10",
        meal=pb.MEAL_LUNCH,
        dishes=["Thịt kho trứng", "Canh cải"],
        sample_time=ts("2026-03-10", "10:30"),
        storage="Tủ mẫu số 1, 2–8°C",
    )
    sample = (await world.boarding.record_food_sample(request)).sample
    assert (await world.boarding.record_food_sample(request)).sample == sample
    assert sample.keep_until == ts("2026-03-11", "10:30")
    assert sample.recorded_by == school.admin

    world.clock.at("2026-03-11", "10:29")
    with pytest.raises(FailedPrecondition) as early:
        await world.boarding.discard_food_sample(pb.DiscardFoodSampleRequest(sample_id=sample.id))
    assert early.value.reason == "SAMPLE_RETENTION_NOT_OVER"
    world.clock.at("2026-03-11", "17:00")
    with pytest.raises(FailedPrecondition):  # an earlier discard time is no way round it
        await world.boarding.discard_food_sample(
            pb.DiscardFoodSampleRequest(sample_id=sample.id, discard_time=ts("2026-03-11", "09:00"))
        )
    discarded = (
        await world.boarding.discard_food_sample(pb.DiscardFoodSampleRequest(sample_id=sample.id))
    ).sample
    assert discarded.discard_time == ts("2026-03-11", "17:00")
    assert discarded.discarded_by == school.admin

    listed = await world.boarding.list_food_samples(
        pb.ListFoodSamplesRequest(school_id=school.id, from_date="2026-03-01", to_date="2026-03-31")
    )
    assert [s.id for s in listed.samples] == [sample.id]
    with pytest.raises(InvalidArgument) as too_long:
        await world.boarding.list_food_samples(
            pb.ListFoodSamplesRequest(school_id=school.id, from_date="2026-01-01", to_date="2026-06-30")
        )
    assert too_long.value.metadata["field"] == "to_date"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"meal": pb.MEAL_UNSPECIFIED}, "meal"),
        ({"sample_time": ts("2026-03-10", "12:00")}, "sample_time"),  # in the future
        ({"sample_time": ts("2026-03-09", "10:30")}, "sample_time"),  # another day
        ({"dishes": []}, "dishes"),
        ({"date": "2026-3-10"}, "date"),
    ],
)
async def test_a_bad_food_sample_is_refused_with_the_field(world, changes, field):
    school = await world.school(students=0)
    act_as(school.admin, "school_admin")
    world.clock.at("2026-03-10", "11:00")
    request = pb.RecordFoodSampleRequest(
        school_id=school.id,
        date="2026-03-10",
        meal=pb.MEAL_LUNCH,
        dishes=["Cơm"],
        sample_time=ts("2026-03-10", "10:30"),
    )
    for key, value in changes.items():
        if key == "dishes":
            del request.dishes[:]
        elif key == "sample_time":
            request.sample_time.CopyFrom(value)
        else:
            setattr(request, key, value)
    with pytest.raises(InvalidArgument) as caught:
        await world.boarding.record_food_sample(request)
    assert caught.value.metadata["field"] == field
    listed = await world.boarding.list_food_samples(
        pb.ListFoodSamplesRequest(school_id=school.id, from_date="2026-03-01", to_date="2026-03-31")
    )
    assert list(listed.samples) == []


# ---------------------------------------------------------------- charges


def line(charge: pb.BoardingCharge, kind: int) -> tuple[int, int, int, int, int, int]:
    found = next(item for item in charge.lines if item.kind == kind)
    return (
        found.quantity,
        found.unit_price,
        found.gross_amount,
        found.refunded_days,
        found.refund_amount,
        found.amount,
    )


async def test_charges_follow_each_refund_policy_and_only_a_change_publishes_a_version(world):
    """March 2026 with 2 March closed: 21 school days. Lunch 30,000, breakfast 15,000, nap care 320,000.

    A (lunch, breakfast, nap care): 3 March absent marked before the cut-off (left out, absent);
    4 March marked absent after the count froze (absent only); 5 March on approved leave without a
    mark (left out only). B (lunch): absent one afternoon (not the main session): no refund ever.
    """
    school = await world.school(students=3)
    class_id = next(iter(school.classes))
    a, b, c = school.classes[class_id]
    act_as(school.admin, "school_admin")
    await world.calendars.configure(
        pb.ConfigureSchoolCalendarRequest(
            calendar=pb.SchoolCalendar(
                school_id=school.id,
                sessions=[pb.SESSION_MORNING, pb.SESSION_AFTERNOON],
                weekdays=[1, 2, 3, 4, 5],
                main_session=pb.SESSION_MORNING,
                morning_cutoff="10:00",
                afternoon_cutoff="16:00",
                afternoon_starts="12:00",
                closed_dates=["2026-03-02"],
                absence_warning_at=35,
            )
        )
    )
    await world.configure(school)
    await world.register(a, "2026-03", lunch=True, breakfast=True, nap_care=True)
    await world.register(b, "2026-03", lunch=True)
    await world.register(c, "2026-03", lunch=False)  # registered for nothing: no charge

    world.clock.at("2026-03-03", "07:30")
    await world.mark(school, a, "2026-03-03", "ABSENT_EXCUSED")
    world.clock.at("2026-03-03", "09:05")
    await world.freezer.freeze_due()
    world.clock.at("2026-03-04", "09:05")
    await world.count(school, "2026-03-04")
    await world.mark(school, a, "2026-03-04", "ABSENT_UNEXCUSED")
    await world.mark(school, b, "2026-03-04", "ABSENT_UNEXCUSED", session="AFTERNOON")
    await world.leave(school, a, "2026-03-05", "2026-03-05")

    world.clock.at("2026-03-31", "08:59")
    act_as(school.accountant, "accountant")
    request = pb.ComputeBoardingChargesRequest(school_id=school.id, month="2026-03")
    with pytest.raises(FailedPrecondition) as early:
        await world.boarding.compute_charges(request)
    assert early.value.reason == "MONTH_NOT_OVER"

    world.clock.at("2026-04-01", "08:00")
    v1 = await world.boarding.compute_charges(request)
    assert (v1.version, v1.changed) == (1, True)
    charges = {ch.student_id: ch for ch in v1.charges}
    assert set(charges) == {a, b}
    assert line(charges[a], pb.CHARGE_KIND_LUNCH) == (21, 30_000, 630_000, 0, 0, 630_000)
    assert line(charges[a], pb.CHARGE_KIND_BREAKFAST) == (21, 15_000, 315_000, 0, 0, 315_000)
    assert line(charges[a], pb.CHARGE_KIND_NAP_CARE) == (1, 320_000, 320_000, 0, 0, 320_000)
    assert charges[a].total == 1_265_000
    assert line(charges[b], pb.CHARGE_KIND_LUNCH) == (21, 30_000, 630_000, 0, 0, 630_000)
    assert v1.total == 1_895_000
    # Every school day's count froze (the missing ones at the computation), each once.
    for day in ("2026-03-03", "2026-03-05", "2026-03-31"):
        assert len(await world.counted_events(school, day)) == 1
    assert await world.counted_events(school, "2026-03-02") == []  # closed

    # The same again: nothing changes, nothing is published.
    again = await world.boarding.compute_charges(request)
    assert (again.version, again.changed, again.total) == (1, False, v1.total)
    assert len(await world.charge_events(school, "2026-03")) == 1

    await world.configure(
        school,
        meal_refund=pb.MEAL_REFUND_POLICY_NOTIFIED_BEFORE_CUTOFF,
        care_refund=pb.CARE_REFUND_POLICY_PRO_RATA,
    )
    act_as(school.accountant, "accountant")
    v2 = await world.boarding.compute_charges(request)
    assert (v2.version, v2.changed) == (2, True)
    charges = {ch.student_id: ch for ch in v2.charges}
    assert line(charges[a], pb.CHARGE_KIND_LUNCH) == (21, 30_000, 630_000, 2, 60_000, 570_000)
    assert line(charges[a], pb.CHARGE_KIND_BREAKFAST) == (21, 15_000, 315_000, 2, 30_000, 285_000)
    # 320,000 × 3 / 21 = 45,714.28… → 45,714
    assert line(charges[a], pb.CHARGE_KIND_NAP_CARE) == (1, 320_000, 320_000, 3, 45_714, 274_286)
    assert charges[a].total == 1_129_286
    assert charges[b].total == 630_000

    await world.configure(
        school, meal_refund=pb.MEAL_REFUND_POLICY_ALL_ABSENT_DAYS, care_refund=pb.CARE_REFUND_POLICY_PRO_RATA
    )
    act_as(school.admin, "school_admin")
    v3 = await world.boarding.compute_charges(
        pb.ComputeBoardingChargesRequest(request_id="charges-3", school_id=school.id, month="2026-03")
    )
    replay = await world.boarding.compute_charges(
        pb.ComputeBoardingChargesRequest(request_id="charges-3", school_id=school.id, month="2026-03")
    )
    assert replay == v3
    charges = {ch.student_id: ch for ch in v3.charges}
    assert (v3.version, v3.changed) == (3, True)
    assert line(charges[a], pb.CHARGE_KIND_LUNCH) == (21, 30_000, 630_000, 3, 90_000, 540_000)
    assert line(charges[a], pb.CHARGE_KIND_BREAKFAST) == (21, 15_000, 315_000, 3, 45_000, 270_000)
    assert charges[a].total == 540_000 + 270_000 + 274_286
    assert charges[b].total == 630_000

    published = await world.charge_events(school, "2026-03")
    assert [e.version for e in published] == [1, 2, 3]
    last = published[-1]
    assert last.total == v3.total
    students = {s.student_id: s for s in last.students}
    assert set(students) == {a, b}
    assert {i.kind: (i.refunded_days, i.amount) for i in students[a].items} == {
        "LUNCH": (3, 540_000),
        "BREAKFAST": (3, 270_000),
        "NAP_CARE": (3, 274_286),
    }

    # Lists: the guardian sees their child's latest version, not another child's; the school's staff
    # who keep accounts see the month.
    act_as(f"parent-{a}", "guardian")
    mine = await world.boarding.list_charges(pb.ListBoardingChargesRequest(student_id=a))
    assert [(ch.month, ch.version, ch.total) for ch in mine.charges] == [("2026-03", 3, charges[a].total)]
    with pytest.raises(PermissionDenied):
        await world.boarding.list_charges(pb.ListBoardingChargesRequest(student_id=b))
    with pytest.raises(PermissionDenied):
        await world.boarding.list_charges(pb.ListBoardingChargesRequest(school_id=school.id, month="2026-03"))
    act_as(school.accountant, "accountant")
    month = await world.boarding.list_charges(
        pb.ListBoardingChargesRequest(school_id=school.id, month="2026-03")
    )
    assert {ch.student_id: ch.version for ch in month.charges} == {a: 3, b: 3}
    act_as(f"teacher-{class_id}", "teacher")
    with pytest.raises(PermissionDenied) as teacher:
        await world.boarding.compute_charges(request)
    assert teacher.value.reason == "ADMIN_ROLE_REQUIRED"


async def test_a_bad_month_is_refused_for_charges(world):
    school = await world.school(students=0)
    act_as(school.admin, "school_admin")
    with pytest.raises(InvalidArgument) as caught:
        await world.boarding.compute_charges(
            pb.ComputeBoardingChargesRequest(school_id=school.id, month="2026-3")
        )
    assert caught.value.metadata["field"] == "month"
    assert await world.charge_events(school, "2026-03") == []


# ---------------------------------------------------------------- charges come from the frozen counts


def weekdays(first: str, last: str) -> list[str]:
    day, end, found = date.fromisoformat(first), date.fromisoformat(last), []
    while day <= end:
        if day.isoweekday() <= 5:
            found.append(day.isoformat())
        day += timedelta(days=1)
    return found


async def test_a_student_who_left_is_charged_only_the_days_the_kitchen_counted(world):
    """Registered for March's lunches, A leaves the school (a transfer out) on Friday 6 March, before its
    count: the counts from the 6th do not hold A, and neither do the charges."""
    school = await world.school(students=2)
    class_id = next(iter(school.classes))
    a, b = school.classes[class_id]
    await world.configure(school, meal_refund=pb.MEAL_REFUND_POLICY_NOTIFIED_BEFORE_CUTOFF)
    await world.register(a, "2026-03")
    await world.register(b, "2026-03")
    for day in ("2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"):
        world.clock.at(day, "09:00")
        assert kitchens(await world.count(school, day)) == {"Bếp chính": (2, 0, 0, 0)}
    world.clock.at("2026-03-06", "08:00")
    await world.transfer_out(school, a)
    world.clock.at("2026-03-06", "09:00")
    assert kitchens(await world.count(school, "2026-03-06")) == {"Bếp chính": (1, 0, 0, 0)}

    world.clock.at("2026-04-01", "08:00")
    charged = {ch.student_id: ch for ch in (await world.charges(school, "2026-03")).charges}
    assert line(charged[a], pb.CHARGE_KIND_LUNCH) == (4, 30_000, 120_000, 0, 0, 120_000)
    assert charged[a].class_id == class_id  # the class the counts saw them in
    assert line(charged[b], pb.CHARGE_KIND_LUNCH) == (22, 30_000, 660_000, 0, 0, 660_000)


async def test_a_registration_waits_for_a_freeze_in_progress_and_starts_after_the_frozen_day(world):
    """At 08:59:59 a guardian registers while the 09:00 freeze holds the school: the registration reads
    the clock once the freeze has committed, so it starts the next day, never on a day not counted."""
    school = await world.school(students=2)
    a, b = school.classes[next(iter(school.classes))]
    await world.configure(school)
    await world.register(a, "2026-03")
    world.clock.at("2026-03-10", "08:59")
    async with world.db.unit_of_work(TENANT) as freezing:
        await lock_settings(freezing, school)
        registering = asyncio.create_task(world.register(b, "2026-03"))
        await world.until_waiting(registering)
        world.clock.at("2026-03-10", "09:00")
        await freezing.commit()
    registration = await registering
    assert registration.effective_date == "2026-03-11"
    assert kitchens(await world.count(school, "2026-03-10")) == {"Bếp chính": (1, 0, 0, 0)}

    world.clock.at("2026-04-01", "08:00")
    charged = {ch.student_id: ch for ch in (await world.charges(school, "2026-03")).charges}
    assert line(charged[b], pb.CHARGE_KIND_LUNCH)[0] == 15  # 11 to 31 March
    assert line(charged[a], pb.CHARGE_KIND_LUNCH)[0] == 22


async def test_a_read_that_freezes_waits_for_a_registration_in_progress_and_counts_it(world):
    """A registration holding the school at 08:59 commits after a read at 09:00 asked for the count:
    the read freezes once the registration committed, with it."""
    school = await world.school(students=2)
    class_id = next(iter(school.classes))
    a, b = school.classes[class_id]
    await world.configure(school)
    await world.register(a, "2026-03")
    world.clock.at("2026-03-10", "08:59")
    async with world.db.unit_of_work(TENANT) as registering:
        await lock_settings(registering, school)
        registering.session.add(
            BoardingRegistrationRow(
                tenant_id=TENANT,
                school_id=uuid.UUID(school.id),
                class_id=uuid.UUID(class_id),
                student_id=uuid.UUID(b),
                month=date(2026, 3, 1),
                effective_date=date(2026, 3, 10),
                lunch=True,
                breakfast=False,
                nap_care=False,
                registered_by=f"parent-{b}",
                registered_at=world.clock(),
            )
        )
        await registering.session.flush()
        world.clock.at("2026-03-10", "09:00")
        reading = asyncio.create_task(world.count(school, "2026-03-10"))
        await world.until_waiting(reading)
        await registering.commit()
    count = await reading
    assert count.frozen
    assert kitchens(count) == {"Bếp chính": (2, 0, 0, 0)}
    assert [k.lunch for k in (await world.counted_events(school, "2026-03-10"))[0].kitchens] == [2]


# ---------------------------------------------------------------- the school year


async def test_a_registration_counts_from_a_school_day_of_the_school_year(world):
    """The year runs from Friday 5 September 2025 to Friday 29 May 2026."""
    school = await world.school(students=3)
    a, b, c = school.classes[next(iter(school.classes))]
    await world.define_year(school, "2025-09-05", "2026-05-29")
    world.clock.at("2025-08-20", "10:00")
    assert (await world.register(a, "2025-09")).effective_date == "2025-09-05"  # a month ahead
    world.clock.at("2025-09-01", "10:00")
    assert (await world.register(b, "2025-09")).effective_date == "2025-09-05"  # before the year starts
    world.clock.at("2026-03-14", "10:00")  # a Saturday: from Monday
    assert (await world.register(c, "2026-03")).effective_date == "2026-03-16"
    world.clock.at("2026-06-01", "08:00")  # the summer: no school day to count
    with pytest.raises(FailedPrecondition) as summer:
        await world.register(a, "2026-06")
    assert summer.value.reason == "REGISTRATION_CLOSED"
    with pytest.raises(FailedPrecondition) as july:
        await world.register(a, "2026-07")
    assert july.value.reason == "REGISTRATION_CLOSED"


async def test_days_outside_the_school_year_are_never_counted_served_or_charged(world):
    """The year runs from Friday 5 September 2025 to Friday 29 May 2026; registrations stored from the
    1st of September and of June: nothing is counted, served or charged outside the year."""
    school = await world.school(students=2)
    class_id = next(iter(school.classes))
    a, b = school.classes[class_id]
    await world.define_year(school, "2025-09-05", "2026-05-29")
    world.clock.at("2025-08-20", "10:00")
    await world.configure(school)
    for student in (a, b):
        await world.registered_before(school, student, "2025-09", "2025-09-01")

    for day in ("2025-09-01", "2025-09-02", "2025-09-03", "2025-09-04", "2025-09-05"):
        world.clock.at(day, "09:30")
        await world.freezer.freeze_due()
    for day in ("2025-09-01", "2025-09-02", "2025-09-03", "2025-09-04"):
        assert await world.counted_events(school, day) == []
    assert [k.lunch for k in (await world.counted_events(school, "2025-09-05"))[0].kitchens] == [2]

    act_as(f"teacher-{class_id}", "teacher")
    with pytest.raises(FailedPrecondition) as before:
        await world.boarding.meal_count(pb.GetMealCountRequest(school_id=school.id, date="2025-09-03"))
    assert (before.value.reason, before.value.metadata["field"]) == ("DATE_OUTSIDE_SCHOOL_YEAR", "date")
    act_as(school.admin, "school_admin")
    lunch = pb.MenuItem(meal=pb.MEAL_LUNCH, dishes=["Cơm"])
    for day in ("2025-09-04", "2026-06-02"):
        with pytest.raises(FailedPrecondition) as menu:
            await world.boarding.publish_menu(
                pb.PublishMenuRequest(school_id=school.id, date=day, items=[lunch])
            )
        assert (menu.value.reason, menu.value.metadata["field"]) == ("DATE_OUTSIDE_SCHOOL_YEAR", "date")
    await world.boarding.publish_menu(
        pb.PublishMenuRequest(school_id=school.id, date="2025-09-05", items=[lunch])
    )

    world.clock.at("2025-10-01", "08:00")
    september = await world.charges(school, "2025-09")
    # 5, 8–12, 15–19, 22–26, 29–30 September: 18 school days.
    assert {ch.student_id: line(ch, pb.CHARGE_KIND_LUNCH)[0] for ch in september.charges} == {a: 18, b: 18}
    for day in ("2025-09-01", "2025-09-04"):
        assert await world.counted_events(school, day) == []

    # The summer.
    await world.registered_before(school, b, "2026-06", "2026-06-01")
    world.clock.at("2026-06-02", "10:00")
    await world.freezer.freeze_due()
    assert await world.counted_events(school, "2026-06-02") == []
    with pytest.raises(FailedPrecondition) as after:
        await world.count(school, "2026-06-02")
    assert after.value.reason == "DATE_OUTSIDE_SCHOOL_YEAR"
    world.clock.at("2026-07-01", "08:00")
    june = await world.charges(school, "2026-06")
    assert (june.version, june.changed, list(june.charges)) == (0, False, [])
    assert await world.rows(MealCountRow, school_id=uuid.UUID(school.id), day=date(2026, 6, 2)) == 0


async def test_reading_an_old_date_or_charging_an_old_month_stores_and_publishes_nothing(world):
    school = await world.school(students=1)
    class_id = next(iter(school.classes))
    student = school.classes[class_id][0]
    await world.configure(school)
    await world.register(student, "2026-03")
    world.clock.at("2026-03-10", "10:00")
    act_as(f"teacher-{class_id}", "teacher")  # reads, writes nothing
    old = await world.boarding.meal_count(pb.GetMealCountRequest(school_id=school.id, date="2001-01-08"))
    assert old.frozen
    assert not old.HasField("freeze_time")
    assert kitchens(old) == {"Bếp chính": (0, 0, 0, 0)}
    assert await world.counted_events(school, "2001-01-08") == []

    january = await world.charges(school, "2001-01")
    assert (january.version, january.changed, list(january.charges), january.total) == (0, False, [], 0)
    assert await world.charges(school, "2001-01") == january
    assert await world.rows(MealCountRow, school_id=uuid.UUID(school.id)) == 0
    assert await world.rows(ChargeRunRow, school_id=uuid.UUID(school.id)) == 0
    assert await world.charge_events(school, "2001-01") == []

    # A school that never used semi-boarding: nothing either.
    never = await world.school(students=1)
    nothing = await world.charges(never, "2026-02")
    assert (nothing.version, nothing.changed, list(nothing.charges)) == (0, False, [])
    assert await world.rows(ChargeRunRow, school_id=uuid.UUID(never.id)) == 0
    assert await world.charge_events(never, "2026-02") == []


# ---------------------------------------------------------------- the freezer at scale


class WatchedFreezer(MealCountFreezer):
    """Counts the schools being frozen at once."""

    running = 0
    peak = 0

    async def freeze_school(self, tenant: str, school_id: uuid.UUID) -> int:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(0.01)
            return await super().freeze_school(tenant, school_id)
        finally:
            self.running -= 1


async def test_one_pass_freezes_every_due_school_four_at_a_time_skipping_a_locked_one(world):
    schools = [await world.school(students=1) for _ in range(7)]
    for school in schools:
        await world.register(school.classes[next(iter(school.classes))][0], "2026-03")
    freezer = WatchedFreezer(world.db, Outbox("attendance"), world.clock, batch=3)
    busy = schools[0]
    world.clock.at("2026-03-19", "09:00")
    async with world.db.unit_of_work(TENANT) as holding:  # another worker (or a use case) has it
        await lock_settings(holding, busy)
        await asyncio.wait_for(freezer.freeze_due(), timeout=60)
        await holding.commit()
    for school in schools[1:]:
        assert len(await world.counted_events(school, "2026-03-19")) == 1
    assert await world.counted_events(busy, "2026-03-19") == []
    assert freezer.peak == 3  # the batch is full: as many as it holds, up to 4

    world.clock.at("2026-03-19", "09:01")
    await freezer.freeze_due()
    assert len(await world.counted_events(busy, "2026-03-19")) == 1  # taken at the next pass
    world.clock.at("2026-03-20", "09:00")
    wide = WatchedFreezer(world.db, Outbox("attendance"), world.clock, batch=100)
    await wide.freeze_due()
    assert wide.peak == 4
    for school in schools:
        assert len(await world.counted_events(school, "2026-03-20")) == 1


# ---------------------------------------------------------------- the meal session


async def test_an_afternoon_only_school_leaves_out_those_absent_from_its_afternoon(world):
    school = await world.school(students=3)
    a, b, c = school.classes[next(iter(school.classes))]
    act_as(school.admin, "school_admin")
    await world.calendars.configure(
        pb.ConfigureSchoolCalendarRequest(
            calendar=pb.SchoolCalendar(
                school_id=school.id,
                sessions=[pb.SESSION_AFTERNOON],
                weekdays=[1, 2, 3, 4, 5],
                main_session=pb.SESSION_AFTERNOON,
                morning_cutoff="10:00",
                afternoon_cutoff="16:00",
                afternoon_starts="12:00",
                absence_warning_at=35,
            )
        )
    )
    await world.configure(school, meal_refund=pb.MEAL_REFUND_POLICY_NOTIFIED_BEFORE_CUTOFF)
    for student in (a, b, c):
        await world.register(student, "2026-03")
    world.clock.at("2026-03-10", "08:00")
    await world.mark(school, a, "2026-03-10", "ABSENT_EXCUSED", session="AFTERNOON")
    await world.leave(school, b, "2026-03-10", "2026-03-10", sessions=("AFTERNOON",))
    world.clock.at("2026-03-10", "09:00")
    assert kitchens(await world.count(school, "2026-03-10")) == {"Bếp chính": (1, 2, 0, 0)}

    world.clock.at("2026-04-01", "08:00")
    charged = {ch.student_id: ch for ch in (await world.charges(school, "2026-03")).charges}
    assert line(charged[a], pb.CHARGE_KIND_LUNCH) == (22, 30_000, 660_000, 1, 30_000, 630_000)
    assert line(charged[b], pb.CHARGE_KIND_LUNCH) == (22, 30_000, 660_000, 1, 30_000, 630_000)
    assert line(charged[c], pb.CHARGE_KIND_LUNCH)[3] == 0

"""A school's meal count for a date: who is registered, grouped by kitchen, minus those known absent
before the cut-off; and its freezing, shared by the use cases (the first read at or after the cut-off,
the charges) and the worker's freezer.

A frozen count is a snapshot per student (counted, or left out) under a unique (school, date) key:
whoever inserts the key first writes the snapshot and the one `meals.counted` event in the same
transaction; later marks, leaves and registrations do not move it.

Freezing and registering are serialised by one lock, the school's ``boarding_settings`` row (FOR
UPDATE, :func:`lock_settings`): each reads the clock and the frozen days only once it holds the lock,
so a registration either commits before the snapshot is taken (and is in it) or starts counting after
the frozen day.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from school_common.db import UnitOfWork
from school_common.events import Outbox
from school_common.ids import uuid7
from sqlalchemy import insert as sa_insert
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.boarding import publish
from attendance.boarding.models import (
    BoardingRegistrationRow,
    BoardingSettingsRow,
    MealCountEntry,
    MealCountRow,
)
from attendance.boarding.rules import CarePolicy, Kitchen, MealPolicy, SchoolDays, Terms, school_years_between
from attendance.calendar.service import load_calendar, load_year
from attendance.domain.calendar import Clock, Session
from attendance.models import LeaveRequestRow, Mark, RosterClass, RosterEntry

ABSENT = ("ABSENT_EXCUSED", "ABSENT_UNEXCUSED")


def terms_of(row: BoardingSettingsRow) -> Terms:
    return Terms(
        school_id=str(row.id),
        meal_cutoff=row.meal_cutoff,
        lunch_price=row.lunch_price,
        breakfast_price=row.breakfast_price,
        nap_care_monthly_fee=row.nap_care_monthly_fee,
        meal_refund=MealPolicy(row.meal_refund),
        care_refund=CarePolicy(row.care_refund),
        kitchens=tuple(Kitchen(k["name"], tuple(k.get("class_ids", ()))) for k in row.kitchens)
        or Terms(school_id="").kitchens,
        policy_text=row.policy_text,
        configured=row.configured,
    )


def settings_values(terms: Terms) -> dict[str, Any]:
    return {
        "meal_cutoff": terms.meal_cutoff,
        "lunch_price": terms.lunch_price,
        "breakfast_price": terms.breakfast_price,
        "nap_care_monthly_fee": terms.nap_care_monthly_fee,
        "meal_refund": terms.meal_refund.value,
        "care_refund": terms.care_refund.value,
        "kitchens": [{"name": k.name, "class_ids": list(k.class_ids)} for k in terms.kitchens],
        "policy_text": terms.policy_text,
        "configured": terms.configured,
    }


async def school_days(session: AsyncSession, school_id: uuid.UUID, first: date, last: date) -> SchoolDays:
    """The school's school days (its calendar and the spans of the school years ``first``..``last`` fall
    in), and with them its meal session."""
    calendar = await load_calendar(session, school_id)
    years = {name: await load_year(session, school_id, name) for name in school_years_between(first, last)}
    return SchoolDays(calendar, years)


async def lock_settings(
    uow: UnitOfWork, school_id: uuid.UUID, *, skip_locked: bool = False
) -> BoardingSettingsRow | None:
    """The school's settings row, locked FOR UPDATE until the transaction ends: the lock that serialises
    registering and freezing (and computing charges). None when the school has no row (it never used
    semi-boarding, so nobody is registered), or with ``skip_locked`` when another transaction holds it."""
    return await uow.session.scalar(
        select(BoardingSettingsRow)
        .where(BoardingSettingsRow.id == school_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )


async def ensure_settings(uow: UnitOfWork, school_id: uuid.UUID) -> None:
    """A row with the default terms, so the freezer knows a school whose families use semi-boarding."""
    await uow.session.execute(
        insert(BoardingSettingsRow)
        .values(id=school_id, tenant_id=uow.tenant, **settings_values(Terms(school_id=str(school_id))))
        .on_conflict_do_nothing(index_elements=["id"])
    )


@dataclass(frozen=True)
class Counted:
    """One registered student in a count."""

    student_id: uuid.UUID
    class_id: uuid.UUID
    kitchen: str
    lunch: bool
    breakfast: bool
    counted: bool


@dataclass(frozen=True)
class KitchenTally:
    kitchen: str
    lunch: int = 0
    breakfast: int = 0
    lunch_absent: int = 0
    breakfast_absent: int = 0


@dataclass(frozen=True)
class Count:
    school_id: uuid.UUID
    day: date
    cutoff_at: datetime
    entries: list[Counted]
    kitchens: list[str]
    frozen_at: datetime | None = None

    def tallies(self) -> list[KitchenTally]:
        names = list(self.kitchens) + sorted({e.kitchen for e in self.entries} - set(self.kitchens))
        tallies = []
        for name in names:
            mine = [e for e in self.entries if e.kitchen == name]
            tallies.append(
                KitchenTally(
                    name,
                    lunch=sum(1 for e in mine if e.lunch and e.counted),
                    breakfast=sum(1 for e in mine if e.breakfast and e.counted),
                    lunch_absent=sum(1 for e in mine if e.lunch and not e.counted),
                    breakfast_absent=sum(1 for e in mine if e.breakfast and not e.counted),
                )
            )
        return tallies


def latest_per_student(rows: Iterable[BoardingRegistrationRow]) -> dict[uuid.UUID, BoardingRegistrationRow]:
    """Each student's registration with the latest effective date among ``rows``."""
    latest: dict[uuid.UUID, BoardingRegistrationRow] = {}
    for row in rows:
        held = latest.get(row.student_id)
        if held is None or row.effective_date > held.effective_date:
            latest[row.student_id] = row
    return latest


async def roster_classes(
    session: AsyncSession, school_id: uuid.UUID, student_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Each student's class on the school's rosters (students no longer on one are absent)."""
    if not student_ids:
        return {}
    rows = await session.execute(
        select(RosterEntry.student_id, RosterEntry.class_id)
        .join(RosterClass, RosterClass.id == RosterEntry.class_id)
        .where(RosterClass.school_id == school_id, RosterEntry.student_id.in_(student_ids))
        .order_by(RosterEntry.enrolled_at)
    )
    return {student: klass for student, klass in rows.all()}


async def known_absent(
    session: AsyncSession, day: date, meal_session: Session, student_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Students absent from the meal session (the calendar's main session) as known now: an approved
    leave covering it, or an absent mark in its register."""
    if not student_ids:
        return set()
    marked = await session.scalars(
        select(Mark.student_id).where(
            Mark.day == day,
            Mark.session == meal_session.value,
            Mark.status.in_(ABSENT),
            Mark.student_id.in_(student_ids),
        )
    )
    on_leave = await session.scalars(
        select(LeaveRequestRow.student_id).where(
            LeaveRequestRow.student_id.in_(student_ids),
            LeaveRequestRow.status == "APPROVED",
            LeaveRequestRow.from_day <= day,
            LeaveRequestRow.to_day >= day,
            LeaveRequestRow.sessions.contains([meal_session.value]),
        )
    )
    return set(marked.all()) | set(on_leave.all())


async def covered(session: AsyncSession, school_id: uuid.UUID, day: date) -> bool:
    """Whether any registration of the school is in force on ``day`` (else there is no count to take)."""
    found = await session.scalar(
        select(BoardingRegistrationRow.id)
        .where(
            BoardingRegistrationRow.school_id == school_id,
            BoardingRegistrationRow.month == day.replace(day=1),
            BoardingRegistrationRow.effective_date <= day,
        )
        .limit(1)
    )
    return found is not None


async def live(session: AsyncSession, terms: Terms, day: date, meal_session: Session) -> Count:
    """The count as it stands now. It holds every student on a roster of the school whose registration
    in force has a meal or nap care (care alone: no meal, but the day is theirs to be charged for)."""
    school_id = uuid.UUID(terms.school_id)
    rows = await session.scalars(
        select(BoardingRegistrationRow).where(
            BoardingRegistrationRow.school_id == school_id,
            BoardingRegistrationRow.month == day.replace(day=1),
            BoardingRegistrationRow.effective_date <= day,
        )
    )
    eating = {s: r for s, r in latest_per_student(rows.all()).items() if r.lunch or r.breakfast or r.nap_care}
    students = sorted(eating)
    classes = await roster_classes(session, school_id, students)
    absent = await known_absent(session, day, meal_session, [s for s in students if s in classes])
    entries = [
        Counted(
            student_id=student,
            class_id=classes[student],
            kitchen=terms.kitchen_of(str(classes[student])),
            lunch=eating[student].lunch,
            breakfast=eating[student].breakfast,
            counted=student not in absent,
        )
        for student in students
        if student in classes
    ]
    return Count(school_id, day, terms.cutoff(day), entries, [k.name for k in terms.kitchens])


async def snapshot(session: AsyncSession, school_id: uuid.UUID, day: date) -> Count | None:
    """The frozen count, if it froze."""
    head = await session.scalar(
        select(MealCountRow).where(MealCountRow.school_id == school_id, MealCountRow.day == day)
    )
    if head is None:
        return None
    rows = await session.scalars(
        select(MealCountEntry)
        .where(MealCountEntry.school_id == school_id, MealCountEntry.day == day)
        .order_by(MealCountEntry.student_id)
    )
    entries = [Counted(r.student_id, r.class_id, r.kitchen, r.lunch, r.breakfast, r.counted) for r in rows]
    return Count(school_id, day, head.cutoff_at, entries, list(head.kitchens), head.frozen_at)


async def frozen_days(session: AsyncSession, school_id: uuid.UUID, first: date, last: date) -> set[date]:
    days = await session.scalars(
        select(MealCountRow.day).where(
            MealCountRow.school_id == school_id, MealCountRow.day >= first, MealCountRow.day <= last
        )
    )
    return set(days.all())


async def freeze(
    uow: UnitOfWork, outbox: Outbox, clock: Clock, school_id: uuid.UUID, day: date, meal_session: Session
) -> Count | None:
    """Freezes the day's count (once): the snapshot and `meals.counted`, in the caller's transaction.

    It takes the school's settings row lock first (:func:`lock_settings`; a no-op when the caller holds
    it) and only then reads the clock, the terms and the registrations. When the count is frozen
    already that snapshot is returned and nothing is written. None, writing and publishing nothing, when
    no registration of the school is in force on the day (a school that never used semi-boarding, or a
    day before anyone registered): there is no count to take. The caller checks that ``day`` is a school
    day whose cut-off has passed."""
    row = await lock_settings(uow, school_id)
    if row is None:
        return None
    now = clock()
    frozen = await snapshot(uow.session, school_id, day)
    if frozen is not None:
        return frozen
    if not await covered(uow.session, school_id, day):
        return None
    terms = terms_of(row)
    kitchens = [k.name for k in terms.kitchens]
    inserted = await uow.session.scalar(
        insert(MealCountRow)
        .values(
            id=uuid7(),
            tenant_id=uow.tenant,
            school_id=school_id,
            day=day,
            cutoff_at=terms.cutoff(day),
            frozen_at=now,
            kitchens=kitchens,
        )
        .on_conflict_do_nothing(index_elements=["school_id", "day"])
        .returning(MealCountRow.id)
    )
    if inserted is None:  # frozen meanwhile (we waited for that transaction's key)
        frozen = await snapshot(uow.session, school_id, day)
        assert frozen is not None
        return frozen
    count = await live(uow.session, terms, day, meal_session)
    if count.entries:
        await uow.session.execute(
            sa_insert(MealCountEntry),
            [
                {
                    "id": uuid7(),
                    "tenant_id": uow.tenant,
                    "school_id": school_id,
                    "day": day,
                    "student_id": e.student_id,
                    "class_id": e.class_id,
                    "kitchen": e.kitchen,
                    "lunch": e.lunch,
                    "breakfast": e.breakfast,
                    "counted": e.counted,
                }
                for e in count.entries
            ],
        )
    frozen = Count(school_id, day, count.cutoff_at, count.entries, kitchens, now)
    await publish.meals_counted(outbox, uow, frozen)
    return frozen

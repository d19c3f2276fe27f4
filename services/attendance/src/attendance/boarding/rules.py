"""Semi-boarding rules (bán trú): a school's terms, its school days, which registration is in force on a
day, when a registration starts counting, and a month's charges with refunds by the school's published
policy.

Pure: no I/O, no clock. Amounts are whole Vietnamese đồng; dates are the school's (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from school_common.errors import FailedPrecondition, bilingual

from attendance.domain.calendar import (
    Calendar,
    Session,
    YearSpan,
    invalid,
    local_datetime,
    school_year_of,
)


class Meal(StrEnum):
    BREAKFAST = "BREAKFAST"
    LUNCH = "LUNCH"


class MealPolicy(StrEnum):
    #: No refund for absent days.
    NONE = "NONE"
    #: Days the student was left out of the frozen count (absence known before the cut-off).
    NOTIFIED_BEFORE_CUTOFF = "NOTIFIED_BEFORE_CUTOFF"
    #: Every day absent from the main session, notified or not (and every day left out).
    ALL_ABSENT_DAYS = "ALL_ABSENT_DAYS"


class CarePolicy(StrEnum):
    NONE = "NONE"
    #: The monthly fee reduced in proportion to the school days absent.
    PRO_RATA = "PRO_RATA"


class ChargeKind(StrEnum):
    LUNCH = "LUNCH"
    BREAKFAST = "BREAKFAST"
    NAP_CARE = "NAP_CARE"


DEFAULT_CUTOFF = time(9, 0)
DEFAULT_KITCHEN = "Bếp chính"
#: Sanity bounds: a provincial cap (configured per tenant elsewhere) is always far below them.
MAX_MEAL_PRICE = 1_000_000
MAX_CARE_FEE = 20_000_000
MAX_KITCHENS = 20
MAX_KITCHEN_NAME = 100
MAX_POLICY_TEXT = 2000
#: Dishes of a menu item or a food sample.
MAX_DISHES = 20
MAX_DISH_NAME = 200
#: Decision 1246/QĐ-BYT: a sample of every dish is kept at least 24 hours.
SAMPLE_RETENTION = timedelta(hours=24)
#: The longest range a menu or food-sample listing covers.
MAX_RANGE_DAYS = 92


@dataclass(frozen=True)
class Kitchen:
    name: str
    class_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Terms:
    """A school's published semi-boarding terms (defaults until it configures them)."""

    school_id: str
    meal_cutoff: time = DEFAULT_CUTOFF
    lunch_price: int = 0
    breakfast_price: int = 0
    nap_care_monthly_fee: int = 0
    meal_refund: MealPolicy = MealPolicy.NONE
    care_refund: CarePolicy = CarePolicy.NONE
    kitchens: tuple[Kitchen, ...] = (Kitchen(DEFAULT_KITCHEN),)
    policy_text: str = ""
    configured: bool = False

    def cutoff(self, day: date) -> datetime:
        """When the day's meal count freezes."""
        return local_datetime(day, self.meal_cutoff)

    def kitchen_of(self, class_id: str) -> str:
        """The kitchen that feeds a class: the one listing it, else the first."""
        for kitchen in self.kitchens:
            if class_id in kitchen.class_ids:
                return kitchen.name
        return self.kitchens[0].name

    def price(self, meal: Meal) -> int:
        return self.lunch_price if meal is Meal.LUNCH else self.breakfast_price

    def check(self) -> None:
        """Raise InvalidArgument (with the field) for terms a school may not publish."""
        for name, value, bound in (
            ("settings.lunch_price", self.lunch_price, MAX_MEAL_PRICE),
            ("settings.breakfast_price", self.breakfast_price, MAX_MEAL_PRICE),
            ("settings.nap_care_monthly_fee", self.nap_care_monthly_fee, MAX_CARE_FEE),
        ):
            if not 0 <= value <= bound:
                raise invalid(
                    name,
                    f"Số tiền từ 0 đến {bound:,} đồng".replace(",", "."),
                    f"an amount from 0 to {bound:,} VND",
                )
        if len(self.policy_text) > MAX_POLICY_TEXT:
            raise invalid(
                "settings.policy_text",
                f"Quy định tối đa {MAX_POLICY_TEXT} ký tự",
                f"the policy text is at most {MAX_POLICY_TEXT} characters",
            )
        if not 1 <= len(self.kitchens) <= MAX_KITCHENS:
            raise invalid(
                "settings.kitchens",
                f"Từ 1 đến {MAX_KITCHENS} bếp",
                f"from 1 to {MAX_KITCHENS} kitchens",
            )
        names: set[str] = set()
        classes: set[str] = set()
        for kitchen in self.kitchens:
            if not kitchen.name or len(kitchen.name) > MAX_KITCHEN_NAME:
                raise invalid(
                    "settings.kitchens.name",
                    f"Tên bếp từ 1 đến {MAX_KITCHEN_NAME} ký tự",
                    f"a kitchen name has 1 to {MAX_KITCHEN_NAME} characters",
                )
            if kitchen.name.casefold() in names:
                raise invalid(
                    "settings.kitchens.name",
                    f"Tên bếp bị trùng: {kitchen.name}",
                    f"two kitchens are named {kitchen.name}",
                )
            names.add(kitchen.name.casefold())
            for class_id in kitchen.class_ids:
                if class_id in classes:
                    raise invalid(
                        "settings.kitchens.class_ids",
                        "Một lớp chỉ thuộc một bếp",
                        "a class is fed by one kitchen only",
                    )
                classes.add(class_id)


# ---------------------------------------------------------------- school days


@dataclass(frozen=True)
class SchoolDays:
    """Semi-boarding's one notion of a school day, used by counts, the freezer, menus, charges and
    registrations alike: a school day of the school's calendar (weekday, not closed) inside its school
    year (``years``: the spans of the school years the days asked about fall in, by name; a year not
    given admits no day)."""

    calendar: Calendar
    years: Mapping[str, YearSpan]

    @property
    def meal_session(self) -> Session:
        """The session whose register and leaves say who is absent from meals: the calendar's main
        session (the counter's), for the count and the charges alike."""
        return self.calendar.main_session

    def in_year(self, day: date) -> bool:
        span = self.years.get(school_year_of(day))
        return span is not None and day in span

    def __call__(self, day: date) -> bool:
        return self.in_year(day) and self.calendar.is_school_day(day)

    def check(self, day: date, field_name: str = "date") -> None:
        """Refuse a date that is not a school day: ``DATE_OUTSIDE_SCHOOL_YEAR`` (as registers do), else
        ``NOT_A_SCHOOL_DAY``."""
        if not self.in_year(day):
            name = school_year_of(day)
            span = self.years.get(name)
            within = f" ({span.start:%d/%m/%Y}–{span.end:%d/%m/%Y})" if span is not None else ""
            raise FailedPrecondition(
                "DATE_OUTSIDE_SCHOOL_YEAR",
                bilingual(
                    f"Ngày {day:%d/%m/%Y} không thuộc năm học {name}{within}",
                    f"{day.isoformat()} is outside school year {name}",
                ),
                {"field": field_name},
            )
        if not self.calendar.is_school_day(day):
            raise FailedPrecondition(
                "NOT_A_SCHOOL_DAY",
                bilingual(f"Ngày {day:%d/%m/%Y} trường không học", f"{day.isoformat()} is not a school day"),
                {"field": field_name},
            )


def school_years_between(first: date, last: date) -> list[str]:
    """The names of the school years ``first``..``last`` fall in, in order."""
    start, end = int(school_year_of(first)[:4]), int(school_year_of(last)[:4])
    return [f"{year}-{year + 1}" for year in range(start, end + 1)]


# ---------------------------------------------------------------- registrations


@dataclass(frozen=True)
class Plan:
    """A student's registration for a month from a date on (a later one replaces it from its date)."""

    effective_date: date
    lunch: bool = False
    breakfast: bool = False
    nap_care: bool = False

    def has(self, kind: ChargeKind | Meal) -> bool:
        if kind == ChargeKind.NAP_CARE:
            return self.nap_care
        return self.lunch if kind == ChargeKind.LUNCH else self.breakfast


def in_force(plans: Iterable[Plan], day: date) -> Plan | None:
    """The registration that applies on ``day``: the latest that started on or before it."""
    started = [p for p in plans if p.effective_date <= day]
    return max(started, key=lambda p: p.effective_date) if started else None


def effective_date(
    month: Sequence[date],
    today: date,
    now: datetime,
    cutoff: Callable[[date], datetime],
    frozen: set[date],
    school_day: Callable[[date], bool],
) -> date | None:
    """The first school day of ``month`` a registration made ``now`` counts from: for a month ahead its
    first school day, else the first school day from today whose count is not frozen (its cut-off not
    passed and no snapshot taken). ``None`` when no school day of the month is left."""
    for day in month:
        if day < today or not school_day(day):
            continue
        if now >= cutoff(day) or day in frozen:
            continue
        return day
    return None


# ---------------------------------------------------------------- charges


@dataclass(frozen=True)
class ChargeLine:
    kind: ChargeKind
    #: Days registered (meals) or 1 (care).
    quantity: int
    unit_price: int
    gross_amount: int
    refunded_days: int
    refund_amount: int

    @property
    def amount(self) -> int:
        return self.gross_amount - self.refund_amount


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def pro_rata_refund(fee: int, absent_days: int, school_days: int) -> int:
    """fee × absent / school days, to the whole đồng (half up)."""
    if school_days <= 0 or absent_days <= 0:
        return 0
    return round_half_up(Decimal(fee) * Decimal(min(absent_days, school_days)) / Decimal(school_days))


def refunded_meal_days(
    policy: MealPolicy, days: Iterable[date], left_out: set[date], absent: set[date]
) -> int:
    """Days of a meal's registered ``days`` refunded by the school's policy."""
    if policy is MealPolicy.NONE:
        return 0
    refundable = left_out if policy is MealPolicy.NOTIFIED_BEFORE_CUTOFF else left_out | absent
    return sum(1 for day in days if day in refundable)


@dataclass(frozen=True)
class Held:
    """What a day's frozen count held for a student: the meals it counted them for, and whether they
    were counted (False: left out, their absence known before the cut-off)."""

    lunch: bool = False
    breakfast: bool = False
    counted: bool = True

    def has(self, meal: Meal) -> bool:
        return self.lunch if meal is Meal.LUNCH else self.breakfast


def student_lines(
    terms: Terms,
    school_days: Sequence[date],
    plans: Sequence[Plan],
    absent: set[date],
    counts: Mapping[date, Held | None],
) -> list[ChargeLine]:
    """A student's lines for a month.

    ``school_days`` are the month's school days; ``plans`` the student's registrations of the month;
    ``absent`` the days marked absent (excused or not) in the meal session's register; ``counts`` the
    frozen counts: for each day that has one, what it held for the student (``None``: they were not on
    it, e.g. no longer on a roster of the school).

    A day with a frozen count is charged from it, never from the registration: the meals it counted the
    student for (counted, or left out: left out is what NOTIFIED_BEFORE_CUTOFF refunds), and nap care
    when they were on it and registered for care; a student not on a day's count is charged nothing for
    that day. A day without a count (none was taken) falls back to the registration in force.

    Meals: one line per meal held on at least one school day, the quantity being those days.
    Nap care: the monthly fee when held on at least one school day; PRO_RATA refunds the fee in
    proportion to the days absent (or left out) among the days held for care.
    """
    meals: dict[Meal, list[date]] = {Meal.LUNCH: [], Meal.BREAKFAST: []}
    care_days: list[date] = []
    left_out: set[date] = set()
    for day in school_days:
        plan = in_force(plans, day)
        if day in counts:
            held = counts[day]
            if held is None:
                continue
            if not held.counted:
                left_out.add(day)
            for meal, days in meals.items():
                if held.has(meal):
                    days.append(day)
        elif plan is not None:
            for meal, days in meals.items():
                if plan.has(meal):
                    days.append(day)
        if plan is not None and plan.nap_care:
            care_days.append(day)
    lines: list[ChargeLine] = []
    for meal, kind in ((Meal.LUNCH, ChargeKind.LUNCH), (Meal.BREAKFAST, ChargeKind.BREAKFAST)):
        days = meals[meal]
        if not days:
            continue
        price = terms.price(meal)
        refunded = refunded_meal_days(terms.meal_refund, days, left_out, absent)
        lines.append(ChargeLine(kind, len(days), price, price * len(days), refunded, price * refunded))
    if care_days:
        fee = terms.nap_care_monthly_fee
        missed = sum(1 for d in care_days if d in absent or d in left_out)
        if terms.care_refund is CarePolicy.PRO_RATA:
            refunded, refund = missed, pro_rata_refund(fee, missed, len(care_days))
        else:
            refunded, refund = 0, 0
        lines.append(ChargeLine(ChargeKind.NAP_CARE, 1, fee, fee, refunded, refund))
    return lines


def lines_key(lines: Iterable[ChargeLine]) -> list[list[object]]:
    """A comparable, JSON-friendly form of a student's lines (stored, and compared on recompute)."""
    return [
        [
            line.kind.value,
            line.quantity,
            line.unit_price,
            line.gross_amount,
            line.refunded_days,
            line.refund_amount,
        ]
        for line in lines
    ]


def lines_from_key(stored: Iterable[Sequence[Any]]) -> list[ChargeLine]:
    return [
        ChargeLine(ChargeKind(str(kind)), int(quantity), int(price), int(gross), int(days), int(refund))
        for kind, quantity, price, gross, days, refund in stored
    ]

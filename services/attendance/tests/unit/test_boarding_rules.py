"""Semi-boarding's pure rules: terms, school days, registrations in force, when a registration counts,
charges from the frozen counts and refunds by each policy (amounts hand-computed)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from attendance.boarding.rules import (
    CarePolicy,
    ChargeKind,
    ChargeLine,
    Held,
    Kitchen,
    MealPolicy,
    Plan,
    SchoolDays,
    Terms,
    effective_date,
    in_force,
    lines_from_key,
    lines_key,
    pro_rata_refund,
    refunded_meal_days,
    school_years_between,
    student_lines,
)
from attendance.domain.calendar import ZONE, Calendar, Session, YearSpan, month_days
from school_common.errors import FailedPrecondition, InvalidArgument

SCHOOL = "00000000-0000-0000-0000-000000000001"
#: Ten school days: 2-6 and 9-13 March 2026.
DAYS = [date(2026, 3, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13)]


def terms(**changes) -> Terms:
    base = Terms(
        school_id=SCHOOL,
        lunch_price=30_000,
        breakfast_price=15_000,
        nap_care_monthly_fee=320_000,
    )
    return Terms(**{**base.__dict__, **changes})


def by_kind(lines: list[ChargeLine]) -> dict[ChargeKind, ChargeLine]:
    return {line.kind: line for line in lines}


# ---------------------------------------------------------------- terms


def test_defaults_cut_off_at_nine_with_one_kitchen_and_no_refunds():
    default = Terms(school_id=SCHOOL)
    assert default.meal_cutoff == time(9, 0)
    assert [k.name for k in default.kitchens] == ["Bếp chính"]
    assert (default.lunch_price, default.breakfast_price, default.nap_care_monthly_fee) == (0, 0, 0)
    assert default.meal_refund is MealPolicy.NONE
    assert default.care_refund is CarePolicy.NONE
    default.check()


def test_a_class_eats_at_its_kitchen_and_an_unlisted_one_at_the_first():
    t = terms(kitchens=(Kitchen("Bếp A"), Kitchen("Bếp B", ("c2",))))
    assert t.kitchen_of("c2") == "Bếp B"
    assert t.kitchen_of("c1") == "Bếp A"


def test_the_cut_off_is_the_schools_local_time_on_the_day():
    t = terms(meal_cutoff=time(8, 30))
    assert t.cutoff(date(2026, 3, 10)) == datetime(2026, 3, 10, 8, 30, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lunch_price": -1}, "settings.lunch_price"),
        ({"breakfast_price": 1_000_001}, "settings.breakfast_price"),
        ({"nap_care_monthly_fee": -5}, "settings.nap_care_monthly_fee"),
        ({"policy_text": "x" * 2001}, "settings.policy_text"),
        ({"kitchens": ()}, "settings.kitchens"),
        ({"kitchens": (Kitchen("Bếp A"), Kitchen("bếp a"))}, "settings.kitchens.name"),
        ({"kitchens": (Kitchen(""),)}, "settings.kitchens.name"),
        ({"kitchens": (Kitchen("A", ("c1",)), Kitchen("B", ("c1",)))}, "settings.kitchens.class_ids"),
    ],
)
def test_terms_a_school_may_not_publish_are_refused_with_the_field(changes, field):
    with pytest.raises(InvalidArgument) as caught:
        terms(**changes).check()
    assert caught.value.metadata["field"] == field


def test_prices_at_their_bounds_are_accepted():
    terms(lunch_price=0, breakfast_price=1_000_000, nap_care_monthly_fee=20_000_000).check()


# ---------------------------------------------------------------- registrations


def test_the_registration_in_force_is_the_latest_started():
    early, later = Plan(date(2026, 3, 1), lunch=True), Plan(date(2026, 3, 11), breakfast=True)
    assert in_force([later, early], date(2026, 3, 10)) == early
    assert in_force([later, early], date(2026, 3, 11)) == later
    assert in_force([later], date(2026, 3, 10)) is None


def cutoff_at_nine(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), ZONE)


MARCH = month_days(date(2026, 3, 1))
#: Monday to Friday, in the usual span of 2025-2026 (15 August to 31 May).
WEEKDAYS = SchoolDays(Calendar(school_id=SCHOOL), {"2025-2026": YearSpan.usual("2025-2026")})


def test_a_registration_counts_from_today_before_the_cut_off_and_from_tomorrow_after():
    today = date(2026, 3, 10)
    before = datetime(2026, 3, 10, 8, 59, tzinfo=ZONE)
    at = datetime(2026, 3, 10, 9, 0, tzinfo=ZONE)
    assert effective_date(MARCH, today, before, cutoff_at_nine, set(), WEEKDAYS) == today
    assert effective_date(MARCH, today, at, cutoff_at_nine, set(), WEEKDAYS) == date(2026, 3, 11)


def test_a_day_already_frozen_is_skipped_even_before_its_cut_off():
    # The count froze, then the school moved its cut-off later: that day stays as counted.
    today = date(2026, 3, 10)
    now = datetime(2026, 3, 10, 8, 0, tzinfo=ZONE)
    assert effective_date(MARCH, today, now, cutoff_at_nine, {today}, WEEKDAYS) == date(2026, 3, 11)


def test_a_month_ahead_counts_from_its_first_school_day_and_a_month_counted_out_has_none():
    feb_20 = datetime(2026, 2, 20, 10, 0, tzinfo=ZONE)
    # 1 March 2026 is a Sunday.
    assert effective_date(MARCH, date(2026, 2, 20), feb_20, cutoff_at_nine, set(), WEEKDAYS) == date(
        2026, 3, 2
    )
    last = datetime(2026, 3, 31, 9, 0, tzinfo=ZONE)
    assert effective_date(MARCH, date(2026, 3, 31), last, cutoff_at_nine, set(), WEEKDAYS) is None


def test_a_registration_counts_from_the_next_school_day_of_the_school_year():
    # The year starts on Friday 5 September 2025: registered on Monday 1st after the cut-off, from the 5th.
    year = SchoolDays(
        Calendar(school_id=SCHOOL), {"2025-2026": YearSpan("2025-2026", date(2025, 9, 5), date(2026, 5, 29))}
    )
    september = month_days(date(2025, 9, 1))
    now = datetime(2025, 9, 1, 10, 0, tzinfo=ZONE)
    assert effective_date(september, date(2025, 9, 1), now, cutoff_at_nine, set(), year) == date(2025, 9, 5)
    # Registered on Saturday: from Monday, not Sunday.
    saturday = datetime(2026, 3, 14, 10, 0, tzinfo=ZONE)
    assert effective_date(MARCH, date(2026, 3, 14), saturday, cutoff_at_nine, set(), WEEKDAYS) == date(
        2026, 3, 16
    )
    # After the year's last day (Friday 29 May) no school day is left in the month, nor in the summer.
    may_29 = datetime(2026, 5, 29, 9, 30, tzinfo=ZONE)
    may = month_days(date(2026, 5, 1))
    assert effective_date(may, date(2026, 5, 29), may_29, cutoff_at_nine, set(), year) is None
    july = month_days(date(2026, 7, 1))
    assert effective_date(july, date(2026, 5, 29), may_29, cutoff_at_nine, set(), year) is None


# ---------------------------------------------------------------- school days


def test_a_school_day_is_a_calendar_school_day_inside_the_school_year():
    days = SchoolDays(
        Calendar(school_id=SCHOOL, closed_dates=frozenset({date(2025, 9, 8)})),
        {"2025-2026": YearSpan("2025-2026", date(2025, 9, 5), date(2026, 5, 29))},
    )
    assert not days(date(2025, 9, 1))  # a weekday before the year starts
    assert not days(date(2025, 9, 4))
    assert days(date(2025, 9, 5))
    assert not days(date(2025, 9, 6))  # Saturday
    assert not days(date(2025, 9, 8))  # closed
    assert days(date(2026, 5, 29))
    assert not days(date(2026, 6, 1))  # summer
    assert not days(date(2026, 7, 15))
    assert not days(date(2026, 9, 7))  # a year not given admits nothing


def test_a_date_that_is_not_a_school_day_is_refused_with_its_reason():
    days = SchoolDays(
        Calendar(school_id=SCHOOL), {"2025-2026": YearSpan("2025-2026", date(2025, 9, 5), date(2026, 5, 29))}
    )
    with pytest.raises(FailedPrecondition) as outside:
        days.check(date(2025, 9, 3))
    assert (outside.value.reason, outside.value.metadata["field"]) == ("DATE_OUTSIDE_SCHOOL_YEAR", "date")
    with pytest.raises(FailedPrecondition) as weekend:
        days.check(date(2025, 9, 6))
    assert (weekend.value.reason, weekend.value.metadata["field"]) == ("NOT_A_SCHOOL_DAY", "date")
    days.check(date(2025, 9, 5))


def test_meals_follow_the_calendars_main_session():
    afternoon = Calendar(
        school_id=SCHOOL, sessions=frozenset({Session.AFTERNOON}), main_session=Session.AFTERNOON
    )
    assert SchoolDays(afternoon, {}).meal_session is Session.AFTERNOON
    assert WEEKDAYS.meal_session is Session.MORNING


def test_the_school_years_a_range_falls_in():
    assert school_years_between(date(2026, 3, 1), date(2026, 3, 31)) == ["2025-2026"]
    assert school_years_between(date(2026, 7, 25), date(2026, 8, 1)) == ["2025-2026", "2026-2027"]


# ---------------------------------------------------------------- refunds


def test_pro_rata_rounds_half_up_to_the_whole_dong():
    assert pro_rata_refund(320_000, 3, 21) == 45_714  # 45,714.28…
    assert pro_rata_refund(100_000, 1, 8) == 12_500
    assert pro_rata_refund(5, 1, 2) == 3  # 2.5 → 3
    assert pro_rata_refund(7, 1, 6) == 1  # 1.1666… → 1
    assert pro_rata_refund(320_000, 0, 21) == 0
    assert pro_rata_refund(320_000, 30, 21) == 320_000  # never more than the fee
    assert pro_rata_refund(320_000, 1, 0) == 0


def test_meal_days_refunded_by_each_policy():
    days = DAYS
    left_out = {date(2026, 3, 3), date(2026, 3, 5)}
    absent = {date(2026, 3, 3), date(2026, 3, 4)}
    assert refunded_meal_days(MealPolicy.NONE, days, left_out, absent) == 0
    assert refunded_meal_days(MealPolicy.NOTIFIED_BEFORE_CUTOFF, days, left_out, absent) == 2
    assert refunded_meal_days(MealPolicy.ALL_ABSENT_DAYS, days, left_out, absent) == 3
    # Only days the meal was registered for.
    assert refunded_meal_days(MealPolicy.ALL_ABSENT_DAYS, days[3:], left_out, absent) == 1


# ---------------------------------------------------------------- a student's month

FULL = [Plan(date(2026, 3, 1), lunch=True, breakfast=True, nap_care=True)]
LEFT_OUT = {date(2026, 3, 3), date(2026, 3, 5)}  # absence known before the cut-off
ABSENT = {date(2026, 3, 3), date(2026, 3, 4)}  # marked absent in the main session


def counted(
    plans: list[Plan], left_out: frozenset[date] | set[date] = frozenset()
) -> dict[date, Held | None]:
    """Frozen counts of ``DAYS`` as the freezer takes them: the meals registered, left out when known
    absent; a student registered for nothing is not on them."""
    held: dict[date, Held | None] = dict.fromkeys(DAYS)
    for day in DAYS:
        plan = in_force(plans, day)
        if plan is not None and (plan.lunch or plan.breakfast or plan.nap_care):
            held[day] = Held(plan.lunch, plan.breakfast, day not in left_out)
    return held


COUNTED = counted(FULL, LEFT_OUT)


def test_no_refund_policy_charges_every_registered_day():
    lines = by_kind(student_lines(terms(), DAYS, FULL, ABSENT, COUNTED))
    assert lines[ChargeKind.LUNCH] == ChargeLine(ChargeKind.LUNCH, 10, 30_000, 300_000, 0, 0)
    assert lines[ChargeKind.BREAKFAST] == ChargeLine(ChargeKind.BREAKFAST, 10, 15_000, 150_000, 0, 0)
    assert lines[ChargeKind.NAP_CARE] == ChargeLine(ChargeKind.NAP_CARE, 1, 320_000, 320_000, 0, 0)
    assert sum(line.amount for line in lines.values()) == 770_000


def test_notified_before_cutoff_refunds_the_days_left_out_of_the_count():
    t = terms(meal_refund=MealPolicy.NOTIFIED_BEFORE_CUTOFF, care_refund=CarePolicy.PRO_RATA)
    lines = by_kind(student_lines(t, DAYS, FULL, ABSENT, COUNTED))
    assert lines[ChargeKind.LUNCH].refunded_days == 2
    assert lines[ChargeKind.LUNCH].refund_amount == 60_000
    assert lines[ChargeKind.LUNCH].amount == 240_000
    assert lines[ChargeKind.BREAKFAST].amount == 150_000 - 30_000
    # Care: 3 of 10 days missed (3, 4 and 5 March): 320,000 × 3 / 10 = 96,000.
    assert lines[ChargeKind.NAP_CARE].refunded_days == 3
    assert lines[ChargeKind.NAP_CARE].refund_amount == 96_000
    assert lines[ChargeKind.NAP_CARE].amount == 224_000


def test_all_absent_days_refunds_every_day_absent_or_left_out():
    t = terms(meal_refund=MealPolicy.ALL_ABSENT_DAYS)
    lines = by_kind(student_lines(t, DAYS, FULL, ABSENT, COUNTED))
    assert (lines[ChargeKind.LUNCH].refunded_days, lines[ChargeKind.LUNCH].amount) == (3, 210_000)
    assert (lines[ChargeKind.BREAKFAST].refunded_days, lines[ChargeKind.BREAKFAST].amount) == (3, 105_000)
    assert lines[ChargeKind.NAP_CARE].refund_amount == 0  # care policy NONE


def test_a_registration_changed_mid_month_charges_each_day_by_the_one_in_force():
    plans = [
        Plan(date(2026, 3, 1), lunch=True, breakfast=True),
        Plan(date(2026, 3, 9), lunch=True, nap_care=True),  # breakfast dropped, care added from the 9th
    ]
    t = terms(care_refund=CarePolicy.PRO_RATA)
    lines = by_kind(student_lines(t, DAYS, plans, {date(2026, 3, 10)}, counted(plans)))
    assert lines[ChargeKind.LUNCH].quantity == 10
    assert lines[ChargeKind.BREAKFAST].quantity == 5
    # Care registered for 5 school days, 1 absent: 320,000 / 5 = 64,000.
    assert lines[ChargeKind.NAP_CARE].refund_amount == 64_000


def test_a_student_registered_for_nothing_has_no_lines():
    nothing = [Plan(date(2026, 3, 1))]
    assert student_lines(terms(), DAYS, nothing, set(), counted(nothing)) == []
    assert student_lines(terms(), DAYS, nothing, set(), {}) == []


def test_a_day_is_charged_from_its_frozen_count_not_from_the_registration():
    # Registered for March, left the school on Friday 6 March: the counts from the 6th do not hold them.
    t = terms(meal_refund=MealPolicy.NOTIFIED_BEFORE_CUTOFF, care_refund=CarePolicy.PRO_RATA)
    held = counted(FULL, {date(2026, 3, 3)})
    held |= {day: None for day in DAYS if day >= date(2026, 3, 6)}
    lines = by_kind(student_lines(t, DAYS, FULL, set(), held))
    assert lines[ChargeKind.LUNCH] == ChargeLine(ChargeKind.LUNCH, 4, 30_000, 120_000, 1, 30_000)
    assert lines[ChargeKind.BREAKFAST] == ChargeLine(ChargeKind.BREAKFAST, 4, 15_000, 60_000, 1, 15_000)
    # Care: 1 of the 4 days held missed: 320,000 / 4 = 80,000.
    assert lines[ChargeKind.NAP_CARE] == ChargeLine(ChargeKind.NAP_CARE, 1, 320_000, 320_000, 1, 80_000)
    # Nobody on any count: nothing at all, whatever the registration says.
    assert student_lines(t, DAYS, FULL, set(), dict.fromkeys(DAYS)) == []


def test_the_count_says_which_meals_a_day_is_charged_for():
    # The count held lunch only on the 2nd (e.g. breakfast registered later): breakfast is not charged.
    held: dict[date, Held | None] = {date(2026, 3, 2): Held(lunch=True), date(2026, 3, 3): Held(True, True)}
    lines = by_kind(student_lines(terms(), DAYS[:2], FULL, set(), held))
    assert (lines[ChargeKind.LUNCH].quantity, lines[ChargeKind.BREAKFAST].quantity) == (2, 1)


def test_a_day_without_a_count_falls_back_to_the_registration_in_force():
    lunch = [Plan(date(2026, 3, 1), lunch=True)]
    held = {date(2026, 3, 2): None}  # a count was taken on the 2nd without them; none on the 3rd
    lines = by_kind(student_lines(terms(), DAYS[:2], lunch, set(), held))
    assert lines[ChargeKind.LUNCH].quantity == 1


def test_lines_survive_their_stored_form():
    lines = student_lines(terms(care_refund=CarePolicy.PRO_RATA), DAYS, FULL, ABSENT, COUNTED)
    assert lines_from_key(lines_key(lines)) == lines


def test_retention_is_a_day():
    from attendance.boarding.rules import SAMPLE_RETENTION

    assert timedelta(hours=24) == SAMPLE_RETENTION

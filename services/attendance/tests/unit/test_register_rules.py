"""Pure rules of registers and the calendar."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest
from attendance.domain.calendar import (
    Calendar,
    Session,
    YearSpan,
    absence_level,
    parse_month,
    school_year_of,
)
from attendance.domain.registers import is_new_absence, plan_marks
from school_common.errors import FailedPrecondition, InvalidArgument

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_an_identical_submission_plans_no_write():
    recorded = {A: ("PRESENT", ""), B: ("ABSENT_UNEXCUSED", "")}
    plan = plan_marks(dict(recorded), recorded, set(), after_cutoff=True)
    assert not plan.writes
    assert not plan.status_changes
    assert not plan.needs_reason


def test_a_note_alone_is_written_without_a_status_change_or_a_reason():
    plan = plan_marks({A: ("PRESENT", "quên thẻ")}, {A: ("PRESENT", "")}, set(), after_cutoff=True)
    assert plan.writes == {A: ("PRESENT", "quên thẻ")}
    assert not plan.status_changes
    assert not plan.needs_reason


def test_after_the_cut_off_only_a_changed_status_needs_a_reason():
    plan = plan_marks(
        {A: ("LATE", ""), B: ("PRESENT", "")}, {A: ("ABSENT_UNEXCUSED", "")}, set(), after_cutoff=True
    )
    assert plan.late_changes == [(A, "ABSENT_UNEXCUSED", "LATE")]
    assert plan.status_changes == [(A, "ABSENT_UNEXCUSED", "LATE"), (B, "", "PRESENT")]
    assert plan.needs_reason
    before = plan_marks({A: ("LATE", "")}, {A: ("ABSENT_UNEXCUSED", "")}, set(), after_cutoff=False)
    assert not before.needs_reason


def test_an_absence_on_approved_leave_is_excused():
    plan = plan_marks({A: ("ABSENT_UNEXCUSED", ""), B: ("PRESENT", "")}, {}, {A, B}, after_cutoff=False)
    assert plan.writes == {A: ("ABSENT_EXCUSED", ""), B: ("PRESENT", "")}


@pytest.mark.parametrize(
    ("previous", "status", "new"),
    [
        ("", "ABSENT_UNEXCUSED", True),
        ("PRESENT", "ABSENT_EXCUSED", True),
        ("ABSENT_UNEXCUSED", "ABSENT_EXCUSED", True),
        ("ABSENT_EXCUSED", "ABSENT_EXCUSED", False),
        ("ABSENT_EXCUSED", "PRESENT", False),
        ("", "LATE", False),
    ],
)
def test_which_changes_are_news_for_a_family(previous, status, new):
    assert is_new_absence(previous, status) is new


@pytest.mark.parametrize(
    ("count", "level"),
    [(0, "OK"), (34, "OK"), (35, "APPROACHING"), (44, "APPROACHING"), (45, "AT_LIMIT"), (46, "OVER")],
)
def test_the_45_session_levels(count, level):
    assert absence_level(count, 35) == level


def test_a_calendar_places_taps_and_cut_offs_in_vietnam_time():
    calendar = Calendar(school_id="s")
    # 04:59 UTC is 11:59 in Hà Nội: still the morning; 05:00 UTC is the afternoon.
    assert calendar.session_at(datetime(2026, 3, 10, 4, 59, tzinfo=UTC)) == (
        date(2026, 3, 10),
        Session.MORNING,
    )
    assert calendar.session_at(datetime(2026, 3, 10, 5, 0, tzinfo=UTC)) == (
        date(2026, 3, 10),
        Session.AFTERNOON,
    )
    assert calendar.cutoff(date(2026, 3, 10), Session.MORNING) == datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def test_a_calendar_refuses_sessions_days_and_dates_it_does_not_hold():
    calendar = Calendar(
        school_id="s", sessions=frozenset({Session.MORNING}), closed_dates=frozenset({date(2026, 4, 30)})
    )
    year = YearSpan("2025-2026", date(2025, 9, 5), date(2026, 5, 29))
    calendar.check_session(date(2026, 3, 10), Session.MORNING, year)
    for day, session, reason in [
        (date(2026, 3, 10), Session.AFTERNOON, "SESSION_NOT_RUN"),
        (date(2026, 3, 14), Session.MORNING, "NOT_A_SCHOOL_DAY"),
        (date(2026, 4, 30), Session.MORNING, "NOT_A_SCHOOL_DAY"),
        (date(2026, 6, 1), Session.MORNING, "DATE_OUTSIDE_SCHOOL_YEAR"),
    ]:
        with pytest.raises(FailedPrecondition) as caught:
            calendar.check_session(day, session, year)
        assert caught.value.reason == reason


def test_a_calendar_that_cannot_work_is_refused():
    with pytest.raises(InvalidArgument):
        Calendar(school_id="s", sessions=frozenset({Session.AFTERNOON}), main_session=Session.MORNING).check()
    with pytest.raises(InvalidArgument):
        Calendar(school_id="s", morning_cutoff=time(13, 0)).check()
    with pytest.raises(InvalidArgument):
        Calendar(school_id="s", absence_warning_at=46).check()


def test_school_years_and_months():
    assert school_year_of(date(2026, 3, 10)) == "2025-2026"
    assert school_year_of(date(2026, 8, 20)) == "2026-2027"
    assert parse_month("2026-02") == date(2026, 2, 1)
    with pytest.raises(InvalidArgument):
        parse_month("2026-13")

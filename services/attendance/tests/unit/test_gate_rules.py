"""The gate's pure rules: tap validation, what becomes of each tap, merging into check-ins, the flags."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from attendance.domain.calendar import ZONE, Calendar, Session, YearSpan
from attendance.gate import rules
from attendance.gate.service import flag
from google.protobuf.timestamp_pb2 import Timestamp
from school.attendance.v1 import attendance_pb2 as pb
from school_common.errors import InvalidArgument

SCHOOL, OTHER = uuid.uuid4(), uuid.uuid4()
AN, BINH, CHI = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
DAY = date(2025, 11, 20)  # a Thursday
NOW = datetime(2025, 11, 20, 17, 0, tzinfo=ZONE)
OWNERS = {
    "CARD-AN": rules.Owner(SCHOOL, AN),
    "CARD-BINH": rules.Owner(SCHOOL, BINH),
    "CARD-CHI": rules.Owner(OTHER, CHI),
}


def local(hour: int, minute: int, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def taps(*items: tuple[str, str, datetime]) -> list[rules.Tap]:
    return [rules.Tap(i, tap_id, card, at) for i, (tap_id, card, at) in enumerate(items)]


def plan(items: list[rules.Tap], recorded: dict[str, rules.Result] | None = None, **calendar) -> rules.Plan:
    return rules.plan(
        items,
        school_id=SCHOOL,
        calendar=Calendar(school_id=str(SCHOOL), **calendar),
        years=YearSpan.usual,
        now=NOW,
        owners=OWNERS,
        on_roster=lambda student, school: school == SCHOOL and student in {AN, BINH},
        recorded=recorded or {},
    )


def test_the_earliest_tap_is_the_check_in_whatever_the_order() -> None:
    result = plan(
        taps(
            ("1", "CARD-AN", local(7, 10)),
            ("2", "CARD-AN", local(7, 2)),
            ("1", "CARD-AN", local(7, 10)),  # the same tap twice
            ("3", "CARD-BINH", local(13, 0)),
        )
    )
    assert len(result.new_taps) == 3
    morning = result.check_ins[(AN, DAY, Session.MORNING)]
    assert (morning.first_at, morning.last_at, morning.taps, morning.first_index) == (
        local(7, 2),
        local(7, 10),
        2,
        1,
    )
    result.finish({(AN, DAY, Session.MORNING), (BINH, DAY, Session.AFTERNOON)})
    assert [r.outcome for r in result.results] == [
        rules.Outcome.MERGED,
        rules.Outcome.CHECKED_IN,
        rules.Outcome.MERGED,
        rules.Outcome.CHECKED_IN,
    ]


def test_a_check_in_that_already_existed_leaves_every_tap_merged() -> None:
    result = plan(taps(("1", "CARD-AN", local(7, 0))))
    result.finish(set())
    assert result.results[0].outcome is rules.Outcome.MERGED


def test_a_recorded_tap_changes_nothing() -> None:
    recorded = {"1": rules.Result(rules.Outcome.CHECKED_IN, AN, DAY, Session.MORNING)}
    result = plan(taps(("1", "CARD-AN", local(6, 0))), recorded)
    assert result.new_taps == []
    assert result.check_ins == {}
    assert result.results == [rules.Result(rules.Outcome.MERGED, AN, DAY, Session.MORNING)]


@pytest.mark.parametrize(
    ("card", "at", "outcome"),
    [
        ("CARD-CHI", local(7, 0), rules.Outcome.OTHER_SCHOOL),
        ("CARD-NOBODY", local(7, 0), rules.Outcome.UNKNOWN_CREDENTIAL),
        ("CARD-AN", local(7, 0, date(2025, 11, 23)), rules.Outcome.OUTSIDE_SCHOOL_TIME),  # Sunday
        (
            "CARD-AN",
            local(7, 0, date(2025, 6, 12)),
            rules.Outcome.OUTSIDE_SCHOOL_TIME,
        ),  # June: no school year
        ("CARD-AN", local(17, 6), rules.Outcome.OUTSIDE_SCHOOL_TIME),  # the future
        ("CARD-AN", local(17, 4), rules.Outcome.MERGED),  # within the clock skew
    ],
)
def test_what_a_tap_that_cannot_count_becomes(card, at, outcome) -> None:
    result = plan(taps(("1", card, at)))
    assert result.results[0].outcome is outcome
    assert (result.results[0].student_id is None) is (outcome not in rules.ACCEPTED)


def test_a_card_of_the_school_whose_student_left_counts_for_nothing() -> None:
    owners = {"CARD-LEFT": rules.Owner(SCHOOL, CHI)}
    result = rules.plan(
        taps(("1", "CARD-LEFT", local(7, 0))),
        school_id=SCHOOL,
        calendar=Calendar(school_id=str(SCHOOL)),
        years=YearSpan.usual,
        now=NOW,
        owners=owners,
        on_roster=lambda student, school: False,
        recorded={},
    )
    assert result.results[0].outcome is rules.Outcome.OTHER_SCHOOL


def test_a_school_without_afternoons_refuses_afternoon_taps_and_closed_days() -> None:
    result = plan(
        taps(("1", "CARD-AN", local(14, 0)), ("2", "CARD-AN", local(7, 0))),
        sessions=frozenset({Session.MORNING}),
        closed_dates=frozenset({DAY}),
    )
    assert {r.outcome for r in result.results} == {rules.Outcome.OUTSIDE_SCHOOL_TIME}


def stamp(at: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(at.astimezone(UTC))
    return value


def test_taps_are_checked_field_by_field() -> None:
    good = pb.Tap(tap_id="a", credential="04:a1:b2", tap_time=stamp(local(7, 0)))
    [parsed] = rules.parse_taps([good])
    assert (parsed.credential, parsed.at) == ("04:A1:B2", local(7, 0))
    for bad, field in (
        ([], "taps"),
        ([good] * (rules.MAX_TAPS + 1), "taps"),
        ([good, pb.Tap(tap_id="", credential="CARD", tap_time=stamp(local(7, 0)))], "taps[1].tap_id"),
        ([pb.Tap(tap_id="a", credential="C D E F", tap_time=stamp(local(7, 0)))], "taps[0].credential"),
        ([pb.Tap(tap_id="a", credential="CAR", tap_time=stamp(local(7, 0)))], "taps[0].credential"),
        ([pb.Tap(tap_id="a", credential="CARD")], "taps[0].tap_time"),
    ):
        with pytest.raises(InvalidArgument) as caught:
            rules.parse_taps(bad)
        assert caught.value.metadata["field"] == field


@pytest.mark.parametrize(
    ("status", "checked_in", "expected"),
    [
        ("ABSENT_UNEXCUSED", True, pb.RECONCILIATION_FLAG_ABSENT_IN_CLASS),
        ("ABSENT_EXCUSED", True, pb.RECONCILIATION_FLAG_ABSENT_IN_CLASS),
        (None, True, pb.RECONCILIATION_FLAG_NOT_MARKED),
        ("PRESENT", True, pb.RECONCILIATION_FLAG_UNSPECIFIED),
        ("LATE", False, pb.RECONCILIATION_FLAG_NO_CHECK_IN),
        ("LEFT_EARLY", False, pb.RECONCILIATION_FLAG_NO_CHECK_IN),
        ("PRESENT", False, pb.RECONCILIATION_FLAG_NO_CHECK_IN),
        ("ABSENT_EXCUSED", False, pb.RECONCILIATION_FLAG_UNSPECIFIED),
        (None, False, pb.RECONCILIATION_FLAG_UNSPECIFIED),
    ],
)
def test_reconciliation_flags(status, checked_in, expected) -> None:
    assert flag(status, local(7, 0) if checked_in else None) == expected

"""Gate check-in rules, no I/O: which taps are valid, what becomes of each, and the check-ins they make.

A tap names a credential (an RFID card UID or a face terminal's person code — never biometrics). It
counts for a student when the credential is one of the device's school and the student is on a roster of
that school, and when its time falls in a session the school holds (a school day, in the school year, not
in the future beyond a small clock skew). Taps that count are merged into one check-in per student, date
and session: the earliest time is the check-in, whatever order the taps arrive in.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from school.attendance.v1 import attendance_pb2 as pb

from attendance.domain.calendar import Calendar, Session, YearSpan, invalid, school_year_of

MAX_TAPS = 5000
MAX_TAP_ID = 64
#: A device's clock may run this much ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)
_CREDENTIAL = re.compile(r"[A-Za-z0-9:-]{4,64}")


class Outcome(StrEnum):
    CHECKED_IN = "CHECKED_IN"
    MERGED = "MERGED"
    UNKNOWN_CREDENTIAL = "UNKNOWN_CREDENTIAL"
    OTHER_SCHOOL = "OTHER_SCHOOL"
    OUTSIDE_SCHOOL_TIME = "OUTSIDE_SCHOOL_TIME"


ACCEPTED = frozenset({Outcome.CHECKED_IN, Outcome.MERGED})

#: Whether a student is on a roster of a school.
RosterCheck = Callable[[uuid.UUID, uuid.UUID], bool]
#: A school year's span by name ("2025-2026").
YearsOf = Callable[[str], YearSpan]


def credential(value: str, field_name: str = "credential") -> str:
    """A credential as stored: 4 to 64 characters [A-Za-z0-9:-], upper-case (readers differ in the case
    of hexadecimal card UIDs)."""
    if not _CREDENTIAL.fullmatch(value):
        raise invalid(
            field_name,
            "Mã thẻ hoặc mã người trên thiết bị gồm 4–64 ký tự chữ, số, ':' hoặc '-'",
            "a credential is 4-64 characters [A-Za-z0-9:-]",
        )
    return value.upper()


@dataclass(frozen=True)
class Tap:
    index: int
    tap_id: str
    credential: str
    at: datetime


def parse_taps(taps: Sequence[pb.Tap]) -> list[Tap]:
    """The batch's taps, checked: 1 to 5,000, each with its id (1-64 characters), credential and time."""
    if not 1 <= len(taps) <= MAX_TAPS:
        raise invalid(
            "taps", f"Gửi từ 1 đến {MAX_TAPS} lượt quẹt mỗi lần", f"send 1 to {MAX_TAPS} taps at a time"
        )
    parsed = []
    for index, tap in enumerate(taps):
        if not 1 <= len(tap.tap_id) <= MAX_TAP_ID or not tap.tap_id.isprintable():
            raise invalid(
                f"taps[{index}].tap_id",
                f"Mã lượt quẹt gồm 1–{MAX_TAP_ID} ký tự",
                f"tap_id is 1-{MAX_TAP_ID} printable characters",
            )
        value = credential(tap.credential, f"taps[{index}].credential")
        at = None
        if tap.HasField("tap_time"):
            try:
                at = tap.tap_time.ToDatetime(tzinfo=UTC)
            except (ValueError, OverflowError):
                at = None
        if at is None or at.year < 2000:
            raise invalid(
                f"taps[{index}].tap_time",
                "Thiếu hoặc sai thời điểm quẹt thẻ",
                "tap_time is required and must be a real time",
            )
        parsed.append(Tap(index, tap.tap_id, value, at))
    return parsed


@dataclass(frozen=True)
class Owner:
    """Whose a credential is: the school that assigned it and the student."""

    school_id: uuid.UUID
    student_id: uuid.UUID


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    student_id: uuid.UUID | None = None
    day: date | None = None
    session: Session | None = None


@dataclass
class CheckIn:
    """What a batch adds to one (student, date, session) check-in."""

    student_id: uuid.UUID
    day: date
    session: Session
    first_at: datetime
    last_at: datetime
    taps: int
    #: The tap (index in the batch) that is the check-in when this batch makes it.
    first_index: int


@dataclass
class Plan:
    results: list[Result]
    #: New taps that count, once each (first occurrence of a tap id not recorded before).
    new_taps: list[tuple[Tap, Result]] = field(default_factory=list)
    check_ins: dict[tuple[uuid.UUID, date, Session], CheckIn] = field(default_factory=dict)

    def finish(self, created: set[tuple[uuid.UUID, date, Session]]) -> None:
        """Marks as CHECKED_IN the first tap of each check-in this batch created (``created``: the keys
        inserted, not found already there)."""
        for key in created:
            first = self.check_ins[key].first_index
            self.results[first] = Result(Outcome.CHECKED_IN, *key)


def place(calendar: Calendar, years: YearsOf, at: datetime, now: datetime) -> tuple[date, Session] | None:
    """The school date and session of a tap, or None outside the school's time (or in the future)."""
    if at > now + CLOCK_SKEW:
        return None
    day, session = calendar.session_at(at)
    if session not in calendar.sessions or not calendar.is_school_day(day):
        return None
    if day not in years(school_year_of(day)):
        return None
    return day, session


def plan(
    taps: Sequence[Tap],
    *,
    school_id: uuid.UUID,
    calendar: Calendar,
    years: YearsOf,
    now: datetime,
    owners: Mapping[str, Owner],
    on_roster: RosterCheck,
    recorded: Mapping[str, Result],
) -> Plan:
    """What becomes of each tap of a device of ``school_id``.

    ``owners``: credential → its owner in the tenant; ``on_roster(student, school)``: whether the student
    is on a roster of the school; ``recorded``: tap id → the result of a tap of this device already
    recorded (a re-sent batch: MERGED, changes nothing). A tap id repeated in the batch counts once.
    Every tap that counts is MERGED until :meth:`Plan.finish` names the check-ins' first taps.
    """
    result = Plan(results=[])
    seen: dict[str, Result] = {
        k: Result(Outcome.MERGED, v.student_id, v.day, v.session) for k, v in recorded.items()
    }
    for tap in taps:
        if tap.tap_id in seen:
            result.results.append(seen[tap.tap_id])
            continue
        owner = owners.get(tap.credential)
        if owner is None:
            result.results.append(Result(Outcome.UNKNOWN_CREDENTIAL))
            continue
        if owner.school_id != school_id or not on_roster(owner.student_id, school_id):
            # Known in the tenant, but not as a student of this school: another school's card, or the
            # card of a student who has left the school.
            result.results.append(Result(Outcome.OTHER_SCHOOL))
            continue
        placed = place(calendar, years, tap.at, now)
        if placed is None:
            result.results.append(Result(Outcome.OUTSIDE_SCHOOL_TIME))
            continue
        day, session = placed
        accepted = Result(Outcome.MERGED, owner.student_id, day, session)
        seen[tap.tap_id] = accepted
        result.results.append(accepted)
        result.new_taps.append((tap, accepted))
        key = (owner.student_id, day, session)
        check_in = result.check_ins.get(key)
        if check_in is None:
            result.check_ins[key] = CheckIn(owner.student_id, day, session, tap.at, tap.at, 1, tap.index)
            continue
        check_in.taps += 1
        if tap.at < check_in.first_at:
            check_in.first_at, check_in.first_index = tap.at, tap.index
        check_in.last_at = max(check_in.last_at, tap.at)
    return result

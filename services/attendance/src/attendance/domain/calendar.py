"""A school's attendance calendar: which days and sessions it runs, its cut-offs, and its school years.

Pure rules, no I/O. Every date and time of day is in the school's time zone; Việt Nam has one
(Asia/Ho_Chi_Minh, UTC+7, no daylight saving).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from school_common.errors import FailedPrecondition, InvalidArgument, bilingual

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

#: Clock of the use cases (tests pass a fixed one).
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Session(StrEnum):
    MORNING = "MORNING"
    AFTERNOON = "AFTERNOON"


#: Circular 22/2021 art. 12: promoted with at most 45 sessions absent in the year.
ABSENCE_LIMIT = 45
DEFAULT_WARNING_AT = 35

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def invalid(field_name: str, vi: str, en: str, reason: str = "INVALID_ARGUMENT") -> InvalidArgument:
    return InvalidArgument(reason, bilingual(vi, en), {"field": field_name})


def parse_date(value: str, field_name: str = "date") -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(field_name, "Ngày theo dạng YYYY-MM-DD", "a date as YYYY-MM-DD") from None


def parse_time_of_day(value: str, field_name: str) -> time:
    match = _HHMM.match(value)
    if not match:
        raise invalid(field_name, "Giờ theo dạng HH:MM", "a time of day as HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


def parse_month(value: str, field_name: str = "month") -> date:
    """The first day of a "YYYY-MM" month."""
    match = _MONTH.match(value)
    if not match:
        raise invalid(field_name, "Tháng theo dạng YYYY-MM", "a month as YYYY-MM")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_days(first: date) -> list[date]:
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return [first + timedelta(days=i) for i in range((following - first).days)]


def parse_school_year(value: str, field_name: str = "school_year") -> str:
    match = _YEAR.match(value)
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise invalid(field_name, "Năm học theo dạng 2025-2026", "a school year as 2025-2026")
    return value


def local_datetime(day: date, at: time) -> datetime:
    return datetime.combine(day, at, ZONE)


def local_date(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


@dataclass(frozen=True)
class YearSpan:
    """A school year's first and last day of school. From student-record's `school_year.defined`; until a
    school defines the year, a usual span (15 August to 31 May) that admits every school day a year has."""

    name: str
    start: date
    end: date
    defined: bool = True

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    @staticmethod
    def usual(name: str) -> YearSpan:
        first = int(name[:4])
        return YearSpan(name, date(first, 8, 15), date(first + 1, 5, 31), defined=False)


@dataclass(frozen=True)
class Calendar:
    school_id: str
    sessions: frozenset[Session] = frozenset({Session.MORNING, Session.AFTERNOON})
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    main_session: Session = Session.MORNING
    morning_cutoff: time = time(10, 0)
    afternoon_cutoff: time = time(16, 0)
    afternoon_starts: time = time(12, 0)
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    absence_warning_at: int = DEFAULT_WARNING_AT
    configured: bool = False

    def check(self) -> None:
        """Raise for a calendar a school may not save."""
        if not self.sessions:
            raise invalid("calendar.sessions", "Trường phải học ít nhất một buổi", "at least one session")
        if self.main_session not in self.sessions:
            raise invalid(
                "calendar.main_session",
                "Buổi tính chuyên cần phải là một buổi trường học",
                "the main session must be one the school runs",
            )
        if not self.weekdays or not self.weekdays <= set(range(1, 8)):
            raise invalid("calendar.weekdays", "Ngày học trong tuần từ 1 (thứ Hai) đến 7", "weekdays are 1-7")
        if not 1 <= self.absence_warning_at <= ABSENCE_LIMIT:
            raise invalid(
                "calendar.absence_warning_at",
                f"Ngưỡng cảnh báo từ 1 đến {ABSENCE_LIMIT} buổi",
                f"the warning threshold is 1 to {ABSENCE_LIMIT}",
            )
        if self.morning_cutoff >= self.afternoon_starts and Session.AFTERNOON in self.sessions:
            raise invalid(
                "calendar.afternoon_starts",
                "Buổi chiều phải bắt đầu sau giờ chốt buổi sáng",
                "the afternoon must start after the morning cut-off",
            )

    def is_school_day(self, day: date) -> bool:
        return day.isoweekday() in self.weekdays and day not in self.closed_dates

    def cutoff(self, day: date, session: Session) -> datetime:
        return local_datetime(
            day, self.morning_cutoff if session is Session.MORNING else self.afternoon_cutoff
        )

    def session_at(self, moment: datetime) -> tuple[date, Session]:
        """The date and session a moment (a gate tap) belongs to."""
        local = moment.astimezone(ZONE)
        session = Session.AFTERNOON if local.time() >= self.afternoon_starts else Session.MORNING
        return local.date(), session

    def school_sessions(
        self, start: date, end: date, sessions: Iterable[Session] = ()
    ) -> Iterator[tuple[date, Session]]:
        wanted = [s for s in (Session.MORNING, Session.AFTERNOON) if s in (set(sessions) or self.sessions)]
        day = start
        while day <= end:
            if self.is_school_day(day):
                for s in wanted:
                    if s in self.sessions:
                        yield day, s
            day += timedelta(days=1)

    def check_session(self, day: date, session: Session, year: YearSpan, field_name: str = "date") -> None:
        """Refuse a register date and session the school does not hold."""
        if session not in self.sessions:
            raise FailedPrecondition(
                "SESSION_NOT_RUN",
                bilingual(
                    f"Trường không học buổi {SESSION_VI[session]}",
                    f"the school does not run a {session.lower()} session",
                ),
                {"field": "session"},
            )
        if day not in year:
            raise FailedPrecondition(
                "DATE_OUTSIDE_SCHOOL_YEAR",
                bilingual(
                    f"Ngày {day:%d/%m/%Y} không thuộc năm học {year.name}"
                    f" ({year.start:%d/%m/%Y}–{year.end:%d/%m/%Y})",
                    f"{day.isoformat()} is outside school year {year.name}",
                ),
                {"field": field_name},
            )
        if not self.is_school_day(day):
            raise FailedPrecondition(
                "NOT_A_SCHOOL_DAY",
                bilingual(f"Ngày {day:%d/%m/%Y} trường không học", f"{day.isoformat()} is not a school day"),
                {"field": field_name},
            )


SESSION_VI = {Session.MORNING: "sáng", Session.AFTERNOON: "chiều"}


def absence_level(absent_sessions: int, warning_at: int) -> str:
    if absent_sessions > ABSENCE_LIMIT:
        return "OVER"
    if absent_sessions == ABSENCE_LIMIT:
        return "AT_LIMIT"
    if absent_sessions >= warning_at:
        return "APPROACHING"
    return "OK"


def school_year_of(day: date) -> str:
    """The school year a date usually falls in (August starts a new one)."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"

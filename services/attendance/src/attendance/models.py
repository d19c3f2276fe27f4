"""attendance's tables. Rosters and school years are read models of student-record's events; gate and
semi-boarding tables live beside their use cases (``gate/models.py``, ``boarding/models.py``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from school_common.db import IdMixin, TenantMixin, TimestampMixin, new_metadata
from sqlalchemy import Date, DateTime, Integer, SmallInteger, String, Time, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = new_metadata()


class RosterClass(IdMixin, TenantMixin, TimestampMixin, Base):
    """A class as attendance knows it; ``id`` is student-record's class id."""

    __tablename__ = "roster_classes"

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    name: Mapped[str] = mapped_column(String(50))
    grade: Mapped[int] = mapped_column(Integer)
    school_year: Mapped[str] = mapped_column(String(9))


class RosterEntry(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "roster_entries"
    __table_args__ = (UniqueConstraint("class_id", "student_id"),)

    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SchoolYear(IdMixin, TenantMixin, TimestampMixin, Base):
    """A school year's dates as student-record defined them (`school_year.defined`)."""

    __tablename__ = "school_years"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str] = mapped_column(String(9))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class SchoolCalendarRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """A school's attendance calendar (``id`` is the school id); absent until the school configures it."""

    __tablename__ = "school_calendars"

    sessions: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    weekdays: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger))
    main_session: Mapped[str] = mapped_column(String(10))
    morning_cutoff: Mapped[time] = mapped_column(Time)
    afternoon_cutoff: Mapped[time] = mapped_column(Time)
    afternoon_starts: Mapped[time] = mapped_column(Time)
    closed_dates: Mapped[list[date]] = mapped_column(ARRAY(Date))
    absence_warning_at: Mapped[int] = mapped_column(SmallInteger)


class Mark(IdMixin, TenantMixin, TimestampMixin, Base):
    """One student's mark in a class register (class, date, session)."""

    __tablename__ = "attendance_marks"
    __table_args__ = (UniqueConstraint("class_id", "day", "session", "student_id"),)

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    day: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(10))
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    school_year: Mapped[str] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    marked_by: Mapped[str] = mapped_column(String(64))
    leave_request_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)


class MarkChange(IdMixin, TenantMixin, TimestampMixin, Base):
    """A mark changed after its session's cut-off: who, when, from what, and why."""

    __tablename__ = "attendance_mark_changes"

    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    day: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(10))
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    previous_status: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500))
    changed_by: Mapped[str] = mapped_column(String(64))


class LeaveRequestRow(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "leave_requests"

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    from_day: Mapped[date] = mapped_column(Date)
    to_day: Mapped[date] = mapped_column(Date)
    sessions: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10))
    requested_by: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    session_count: Mapped[int] = mapped_column(Integer)

"""Semi-boarding tables (migration 0004). Every row is tenant-owned, under row-level security."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from school_common.db import IdMixin, TenantMixin, TimestampMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from attendance.models import Base


class BoardingSettingsRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """A school's semi-boarding terms (``id`` is the school id). A row with defaults (``configured``
    false) is made when a school's first student registers, so the freezer knows the school. The
    freezer alone reads these rows across tenants (an infrastructure SELECT policy) to find schools
    whose count is due; it then freezes inside each tenant."""

    __tablename__ = "boarding_settings"

    meal_cutoff: Mapped[time] = mapped_column(Time)
    lunch_price: Mapped[int] = mapped_column(BigInteger)
    breakfast_price: Mapped[int] = mapped_column(BigInteger)
    nap_care_monthly_fee: Mapped[int] = mapped_column(BigInteger)
    meal_refund: Mapped[str] = mapped_column(String(30))
    care_refund: Mapped[str] = mapped_column(String(20))
    #: [{"name": ..., "class_ids": [...]}, ...] in the school's order; the first takes unlisted classes.
    kitchens: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    policy_text: Mapped[str] = mapped_column(String(2000))
    configured: Mapped[bool] = mapped_column(Boolean)
    #: The freezer has dealt with every day up to this one (frozen, or not a school day).
    counted_through: Mapped[date | None] = mapped_column(Date, nullable=True)


class BoardingRegistrationRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """A student's registration for a month from ``effective_date`` on. Re-registering replaces it; in
    the current month the replacement starts at the next day not yet frozen, so the days already counted
    keep the registration they were counted with (it stays as the earlier row)."""

    __tablename__ = "boarding_registrations"
    __table_args__ = (
        UniqueConstraint("student_id", "month", "effective_date"),
        Index("ix_boarding_registrations_school_month", "school_id", "month"),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    #: The month's first day.
    month: Mapped[date] = mapped_column(Date)
    effective_date: Mapped[date] = mapped_column(Date)
    lunch: Mapped[bool] = mapped_column(Boolean)
    breakfast: Mapped[bool] = mapped_column(Boolean)
    nap_care: Mapped[bool] = mapped_column(Boolean)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MealCountRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """A school's frozen meal count for a date (one per school and date: it freezes once)."""

    __tablename__ = "meal_counts"
    __table_args__ = (UniqueConstraint("school_id", "day"),)

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    day: Mapped[date] = mapped_column(Date)
    cutoff_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    frozen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The school's kitchens when the count froze, in order.
    kitchens: Mapped[list[str]] = mapped_column(ARRAY(String(100)))


class MealCountEntry(IdMixin, TenantMixin, TimestampMixin, Base):
    """One registered student in a frozen count: the meals registered, the kitchen, and whether they
    were counted or left out (absence known before the cut-off)."""

    __tablename__ = "meal_count_entries"
    __table_args__ = (
        UniqueConstraint("school_id", "day", "student_id"),
        Index("ix_meal_count_entries_student_day", "student_id", "day"),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    day: Mapped[date] = mapped_column(Date)
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    kitchen: Mapped[str] = mapped_column(String(100))
    lunch: Mapped[bool] = mapped_column(Boolean)
    breakfast: Mapped[bool] = mapped_column(Boolean)
    counted: Mapped[bool] = mapped_column(Boolean)


class MenuRow(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "boarding_menus"
    __table_args__ = (UniqueConstraint("school_id", "day"),)

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    day: Mapped[date] = mapped_column(Date)
    #: [{"meal": "LUNCH", "dishes": [...]}, ...], breakfast first.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MealAttendanceRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """A recorded correction of who ate a meal (without one, the frozen count says)."""

    __tablename__ = "meal_attendance_entries"
    __table_args__ = (UniqueConstraint("class_id", "day", "meal", "student_id"),)

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    day: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(10))
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    ate: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(64))


class FoodSampleRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """An entry of the food-sample retention log (Decision 1246/QĐ-BYT)."""

    __tablename__ = "food_samples"
    __table_args__ = (Index("ix_food_samples_school_day", "school_id", "day"),)

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    day: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(10))
    dishes: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    sample_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    keep_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    storage: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(64))
    discarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    discarded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ChargeRunRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """A computed version of a school's month of charges; the highest version is the one in force."""

    __tablename__ = "boarding_charge_runs"
    __table_args__ = (UniqueConstraint("school_id", "month", "version"),)

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    month: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)
    #: SHA-256 of the charges' canonical form: a recompute with the same digest changes nothing.
    digest: Mapped[str] = mapped_column(String(64))
    computed_by: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StudentChargeRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """One student's month in a computed version."""

    __tablename__ = "boarding_charges"
    __table_args__ = (UniqueConstraint("run_id", "student_id"),)

    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("boarding_charge_runs.id"))
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    month: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    #: [[kind, quantity, unit_price, gross_amount, refunded_days, refund_amount], ...]
    lines: Mapped[list[list[Any]]] = mapped_column(JSONB)
    total: Mapped[int] = mapped_column(BigInteger)

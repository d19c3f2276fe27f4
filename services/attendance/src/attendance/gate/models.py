"""Gate check-in tables: devices, the credentials that name students, recorded taps and check-ins."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from school_common.db import IdMixin, TenantMixin, TimestampMixin
from sqlalchemy import Boolean, Date, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from attendance.models import Base


class GateDevice(IdMixin, TenantMixin, TimestampMixin, Base):
    """A check-in terminal of a school and its own OAuth client (``gate-<id>``, made by identity)."""

    __tablename__ = "gate_devices"

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: RFID or FACE.
    kind: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class GateCredential(IdMixin, TenantMixin, TimestampMixin, Base):
    """A card UID or a face terminal's person code naming one student of a school (never biometrics)."""

    __tablename__ = "gate_credentials"
    __table_args__ = (UniqueConstraint("tenant_id", "credential"),)

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    #: Stored upper-case: card readers differ in the case of hexadecimal UIDs.
    credential: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    assigned_by: Mapped[str] = mapped_column(String(64))


class GateTap(IdMixin, TenantMixin, TimestampMixin, Base):
    """A tap that counted (checked in or merged), by the device's own id: a re-sent batch finds it here."""

    __tablename__ = "gate_taps"
    __table_args__ = (UniqueConstraint("device_id", "tap_id"),)

    device_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    tap_id: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    tapped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    day: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(10))


class GateCheckIn(IdMixin, TenantMixin, TimestampMixin, Base):
    """A student's check-in for a date and session: the first tap's time (whatever the order of arrival),
    the last one's, how many taps were merged into it and the device of the first."""

    __tablename__ = "gate_check_ins"
    __table_args__ = (UniqueConstraint("student_id", "day", "session"),)

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    day: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(10))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taps: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))

"""attendance's tables. Rosters are a read model of student-record's events."""

from __future__ import annotations

import uuid
from datetime import datetime

from school_common.db import IdMixin, TenantMixin, TimestampMixin, new_metadata
from sqlalchemy import DateTime, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
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

"""identity's tables. Every tenant-owned table is under row-level security; ``tenants`` is the platform's."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from school_common.db import IdMixin, TenantMixin, TimestampMixin, new_metadata
from sqlalchemy import Date, DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = new_metadata()


class Tenant(IdMixin, TimestampMixin, Base):
    """An education authority and the provisioning of its realm. Platform-owned: no RLS, no personal data."""

    __tablename__ = "tenants"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # PROVISIONING, ACTIVE
    completed_steps: Mapped[list[str]] = mapped_column(JSONB, default=list)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))


class Person(IdMixin, TenantMixin, TimestampMixin, Base):
    """A natural person known by personal identification number; ``id`` is the pseudonymous person id."""

    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("tenant_id", "personal_id_hash"),)

    personal_id_hash: Mapped[bytes] = mapped_column(LargeBinary)
    personal_id_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    full_name: Mapped[str] = mapped_column(String(150))
    # Unknown for a person known only through VNeID (its number is vouched for; the date is not sent).
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    # PENDING, VERIFIED, MISMATCH, NOT_FOUND
    verification_status: Mapped[str] = mapped_column(String(20))
    verification_checks: Mapped[dict[str, bool]] = mapped_column(JSONB, default=dict)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    identification_level: Mapped[int] = mapped_column(Integer, default=0)
    verification_source: Mapped[str] = mapped_column(String(32), default="")


class PendingVerification(IdMixin, TenantMixin, TimestampMixin, Base):
    """A person waiting for the population registry; the worker reaches these across tenants."""

    __tablename__ = "pending_verifications"
    __table_args__ = (UniqueConstraint("person_id"),)

    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str | None] = mapped_column(String(100))


class Account(IdMixin, TenantMixin, TimestampMixin, Base):
    """A Keycloak user of the tenant as identity knows it (``subject`` is the Keycloak user id)."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "subject"), UniqueConstraint("tenant_id", "username"))

    subject: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20))  # staff, guardian, student
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    staff_code: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(255))


class Assignment(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint(
            "account_id", "role", "school_id", "class_id", "subject", postgresql_nulls_not_distinct=True
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    role: Mapped[str] = mapped_column(String(32))
    school_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    subject: Mapped[str] = mapped_column(String(100), default="")


class School(TenantMixin, TimestampMixin, Base):
    """Read model of student-record's schools (``id`` is student-record's id)."""

    __tablename__ = "schools"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    code: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(200))


class SchoolClass(TenantMixin, TimestampMixin, Base):
    """Read model of student-record's classes."""

    __tablename__ = "classes"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    name: Mapped[str] = mapped_column(String(50))
    school_year: Mapped[str] = mapped_column(String(9))


class Student(TenantMixin, TimestampMixin, Base):
    """Read model of enrolled students: what /v1/me and link requests need."""

    __tablename__ = "students"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    # The student's own person id, when the school recorded their number (for the child's consent).
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)


class Guardianship(IdMixin, TenantMixin, TimestampMixin, Base):
    """A guardian recorded by the school at enrolment, by person id."""

    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("student_id", "person_id"),)

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    relationship: Mapped[str] = mapped_column(String(32))


class GuardianLink(IdMixin, TenantMixin, TimestampMixin, Base):
    """A guardian account linked to a child: automatically or by an approved request."""

    __tablename__ = "guardian_links"
    __table_args__ = (UniqueConstraint("account_id", "student_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    relationship: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # AUTOMATIC, REQUEST


class LinkRequest(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "link_requests"
    __table_args__ = (Index("ix_link_requests_school_state", "school_id", "state"),)

    requester_account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    child_full_name: Mapped[str] = mapped_column(String(200))
    child_date_of_birth: Mapped[date] = mapped_column(Date)
    relationship: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(16))  # PENDING, APPROVED, REFUSED
    student_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Consent(IdMixin, TenantMixin, TimestampMixin, Base):
    """The current consent of one party for one purpose about one child (history is in the audit trail)."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("student_id", "purpose", "given_by"),)

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    purpose: Mapped[str] = mapped_column(String(50))
    given_by: Mapped[str] = mapped_column(String(16))  # guardian, child
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    state: Mapped[str] = mapped_column(String(16))  # GRANTED, WITHDRAWN
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(IdMixin, TenantMixin, Base):
    """One audit entry. Names people only by subject or id; ``details`` holds no personal data."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source_event_id"),
        Index("ix_audit_events_tenant_time", "tenant_id", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64), default="")
    target: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Id of the event at its source (Keycloak event id, CloudEvent id): copying twice changes nothing.
    source_event_id: Mapped[str | None] = mapped_column(String(100))


class StaffImport(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "staff_imports"

    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    imported_by: Mapped[str] = mapped_column(String(64))
    report: Mapped[bytes] = mapped_column(LargeBinary)

"""student-record's tables. Every table is tenant-owned and under row-level security."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from school_common.db import IdMixin, TenantMixin, TimestampMixin, new_metadata
from sqlalchemy import (
    ARRAY,
    Boolean,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship


class Base(DeclarativeBase):
    metadata = new_metadata()


class School(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "schools"
    __table_args__ = (UniqueConstraint("tenant_id", "code"), UniqueConstraint("tenant_id", "id"))

    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(32))
    levels: Mapped[list[str]] = mapped_column(ARRAY(String(32)))


class SchoolClass(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "classes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "school_id", "school_year", "name"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "school_id"], ["schools.tenant_id", "schools.id"]),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    name: Mapped[str] = mapped_column(String(50))
    grade: Mapped[int] = mapped_column(Integer)
    school_year: Mapped[str] = mapped_column(String(9))


class Student(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "students"
    __table_args__ = (
        UniqueConstraint("tenant_id", "student_code"),
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "school_id"], ["schools.tenant_id", "schools.id"]),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16))
    # Mã học sinh, assigned by the sector database after upload (Circular 42/2021); empty until then.
    student_code: Mapped[str | None] = mapped_column(String(32))
    # identity's pseudonymous person id, when the school declared the student's personal identification
    # number; the number itself is never stored here.
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Until the sector code arrives: the school's temporary key (never both, a CHECK constraint).
    temporary_key: Mapped[str | None] = mapped_column(String(32))
    # The sector database's "Trạng thái HS" (sector.StudentStatus) and the day it took effect.
    status: Mapped[str] = mapped_column(String(32), server_default="STUDYING", default="STUDYING")
    status_date: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(500), server_default="", default="")

    guardians: Mapped[list[Guardian]] = relationship(
        back_populates="student", lazy="selectin", order_by="Guardian.id", cascade="all, delete-orphan"
    )


class Guardian(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "guardians"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "student_id"], ["students.tenant_id", "students.id"]),
        # A person is recorded once per student.
        Index(
            "uq_guardians_student_id_person_id",
            "student_id",
            "person_id",
            unique=True,
            postgresql_where=text("person_id IS NOT NULL"),
        ),
    )

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(32))  # mother, father, guardian, grandparent, other
    phone: Mapped[str | None] = mapped_column(String(20))
    # Pseudonymous person id issued by identity when the school declared the guardian's personal
    # identification number; the number itself is never stored here.
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    student: Mapped[Student] = relationship(back_populates="guardians")


class Enrolment(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("class_id", "student_id"),
        ForeignKeyConstraint(["tenant_id", "class_id"], ["classes.tenant_id", "classes.id"]),
        ForeignKeyConstraint(["tenant_id", "student_id"], ["students.tenant_id", "students.id"]),
    )

    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    school_year: Mapped[str] = mapped_column(String(9))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Violation(IdMixin, TenantMixin, TimestampMixin, Base):
    """A violation and its educational measure (Circular 19/2025)."""

    __tablename__ = "violations"

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    recorded_by: Mapped[str] = mapped_column(String(64))
    occurred_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(1000))
    severity: Mapped[str] = mapped_column(String(16))  # SELF, CLASS, SCHOOL
    measure: Mapped[str] = mapped_column(String(16))  # REMINDER, APOLOGY, CRITICISM, SELF_REVIEW
    family_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    family_confirmed_by: Mapped[str | None] = mapped_column(String(64))


class Reward(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "rewards"

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    recorded_by: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    awarded_on: Mapped[date] = mapped_column(Date)


class Club(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "clubs"

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    adviser_subject: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int] = mapped_column(Integer, default=0)


class ClubMembership(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "club_memberships"

    club_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    state: Mapped[str] = mapped_column(String(16))  # PENDING, APPROVED, REFUSED
    requested_by: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_reason: Mapped[str | None] = mapped_column(String(500))


class ClubSession(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "club_sessions"

    club_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(64))


class ClubAttendance(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "club_attendances"

    session_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)


class SchoolYear(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "school_years"

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str] = mapped_column(String(9))
    semester_1_start: Mapped[date] = mapped_column(Date)
    semester_1_end: Mapped[date] = mapped_column(Date)
    semester_2_start: Mapped[date] = mapped_column(Date)
    semester_2_end: Mapped[date] = mapped_column(Date)


class SemesterLock(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "semester_locks"

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    school_year: Mapped[str] = mapped_column(String(9))
    semester: Mapped[int] = mapped_column(SmallInteger)
    locked_by: Mapped[str] = mapped_column(String(64))


class Assessment(IdMixin, TenantMixin, TimestampMixin, Base):
    """One recorded value of the gradebook (canonical text, see domain/gradebook.py)."""

    __tablename__ = "assessments"

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    school_year: Mapped[str] = mapped_column(String(9))
    semester: Mapped[int] = mapped_column(SmallInteger)
    subject: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    ordinal: Mapped[int] = mapped_column(SmallInteger)
    value: Mapped[str] = mapped_column(String(8))
    recorded_by: Mapped[str] = mapped_column(String(64))


class Rating(IdMixin, TenantMixin, TimestampMixin, Base):
    """A homeroom teacher's rating: CONDUCT, or a primary quality or competence."""

    __tablename__ = "ratings"

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    school_year: Mapped[str] = mapped_column(String(9))
    semester: Mapped[int] = mapped_column(SmallInteger)
    item: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(64))


class GradeChange(IdMixin, TenantMixin, TimestampMixin, Base):
    """A change of a locked value: requested with a reason, decided by the principal. The audit trail."""

    __tablename__ = "grade_changes"

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    school_year: Mapped[str] = mapped_column(String(9))
    semester: Mapped[int] = mapped_column(SmallInteger)
    subject: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    ordinal: Mapped[int] = mapped_column(SmallInteger)
    old_value: Mapped[str] = mapped_column(String(8))
    new_value: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(String(500), default="")


class ResultPublication(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "result_publications"

    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    school_year: Mapped[str] = mapped_column(String(9))
    term: Mapped[int] = mapped_column(SmallInteger)
    published_by: Mapped[str] = mapped_column(String(64))


class Transcript(IdMixin, TenantMixin, TimestampMixin, Base):
    """A signed transcript (học bạ số) of one student for one school year, in one version. Immutable once
    written, except ``superseded_at`` when a correction replaces it. The documents load only on demand."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("student_id", "school_year", "version"),)

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    class_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    school_year: Mapped[str] = mapped_column(String(9))
    version: Mapped[int] = mapped_column(Integer)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    digest: Mapped[str] = mapped_column(String(64))
    verification_code: Mapped[str] = mapped_column(String(16))
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    xml: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    correction_reason: Mapped[str] = mapped_column(String(500), default="")
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TranscriptCopy(IdMixin, TenantMixin, TimestampMixin, Base):
    """One copy of a transcript's document handed out: who, when (``created_at``), which format."""

    __tablename__ = "transcript_copies"

    transcript_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    copied_by: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(8))


class Movement(IdMixin, TenantMixin, TimestampMixin, Base):
    """A move between classes (done at once) or a transfer between schools (pending until the receiving
    school decides): the request and its trail."""

    __tablename__ = "movements"

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(16))  # CLASS_MOVE, SCHOOL_TRANSFER
    state: Mapped[str] = mapped_column(String(16))  # PENDING, DONE, REFUSED
    school_year: Mapped[str] = mapped_column(String(9))
    # Empty on the side outside the tenant (a transfer out or in); ``counterpart`` names that school.
    from_school_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    from_class_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    to_school_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    to_class_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    counterpart: Mapped[str] = mapped_column(String(300), default="")
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(String(500), default="")


class Diploma(IdMixin, TenantMixin, TimestampMixin, Base):
    """An entry of a school's register of upper-secondary diplomas and certificates of completion. Never
    edited in place: a correction is a new entry (``supersedes_id``) and marks this one ``corrected_at``;
    a revocation marks it ``revoked_at`` and it stays. Holder's name and date of birth as printed."""

    __tablename__ = "diplomas"

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(32))  # UPPER_SECONDARY_DIPLOMA, UPPER_SECONDARY_COMPLETION
    graduation_year: Mapped[int] = mapped_column(SmallInteger)
    classification: Mapped[str | None] = mapped_column(String(16))  # GIOI, KHA, TRUNG_BINH
    register_number: Mapped[str] = mapped_column(String(32))
    serial_number: Mapped[str] = mapped_column(String(32))
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_date_of_birth: Mapped[date] = mapped_column(Date)
    issued_on: Mapped[date] = mapped_column(Date)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_title: Mapped[str] = mapped_column(String(200))
    verification_code: Mapped[str] = mapped_column(String(16))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    correction_reason: Mapped[str] = mapped_column(String(500), default="")
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    corrected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revocation_reason: Mapped[str | None] = mapped_column(String(500))


class ReceivedRecord(IdMixin, TenantMixin, TimestampMixin, Base):
    """A record package a student arrived with from outside the tenant, kept as received."""

    __tablename__ = "received_records"

    student_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    from_school: Mapped[str] = mapped_column(String(300))
    verified: Mapped[bool] = mapped_column(Boolean)
    package: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    received_by: Mapped[str] = mapped_column(String(64))

"""School years (read model), school calendars, register marks and their after-cut-off trail, leave requests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from school_common.migrations import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)


def _common() -> list[sa.Column]:
    return [
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.create_table(
        "school_years",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("name", sa.String(9), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("school_id", "name"),
    )
    op.create_table(
        "school_calendars",
        *_common(),
        sa.Column("sessions", postgresql.ARRAY(sa.String(10)), nullable=False),
        sa.Column("weekdays", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("main_session", sa.String(10), nullable=False),
        sa.Column("morning_cutoff", sa.Time(), nullable=False),
        sa.Column("afternoon_cutoff", sa.Time(), nullable=False),
        sa.Column("afternoon_starts", sa.Time(), nullable=False),
        sa.Column("closed_dates", postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column("absence_warning_at", sa.SmallInteger(), nullable=False),
    )
    op.create_table(
        "attendance_marks",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("class_id", UUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session", sa.String(10), nullable=False),
        sa.Column("student_id", UUID, nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("marked_by", sa.String(64), nullable=False),
        sa.Column("leave_request_id", UUID, nullable=True),
        sa.UniqueConstraint("class_id", "day", "session", "student_id"),
        sa.CheckConstraint(
            "status IN ('PRESENT', 'ABSENT_EXCUSED', 'ABSENT_UNEXCUSED', 'LATE', 'LEFT_EARLY')",
            name="attendance_marks_status",
        ),
        sa.CheckConstraint("session IN ('MORNING', 'AFTERNOON')", name="attendance_marks_session"),
    )
    # The 45-session counter and a student's history read by student and year.
    op.create_index(
        "ix_attendance_marks_student_year", "attendance_marks", ["student_id", "school_year", "day"]
    )
    op.create_table(
        "attendance_mark_changes",
        *_common(),
        sa.Column("class_id", UUID, nullable=False, index=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session", sa.String(10), nullable=False),
        sa.Column("student_id", UUID, nullable=False),
        sa.Column("previous_status", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "leave_requests",
        *_common(),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.Column("class_id", UUID, nullable=False, index=True),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("from_day", sa.Date(), nullable=False),
        sa.Column("to_day", sa.Date(), nullable=False),
        sa.Column("sessions", postgresql.ARRAY(sa.String(10)), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(500), nullable=False, server_default=""),
        sa.Column("session_count", sa.Integer(), nullable=False),
        sa.CheckConstraint("from_day <= to_day", name="leave_requests_range"),
        sa.CheckConstraint(
            "status IN ('PENDING', 'APPROVED', 'REFUSED', 'CANCELLED')", name="leave_requests_status"
        ),
        # Nobody decides their own request.
        sa.CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="leave_requests_decider"),
    )
    for table in (
        "school_years",
        "school_calendars",
        "attendance_marks",
        "attendance_mark_changes",
        "leave_requests",
    ):
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in (
        "leave_requests",
        "attendance_mark_changes",
        "attendance_marks",
        "school_calendars",
        "school_years",
    ):
        op.drop_table(table)

"""Moves between classes and transfers between schools: the requests and the trail.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from school_common.migrations import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "movements",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.CheckConstraint("tenant_id <> ''", name="tenant_present"),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "student_id"], ["students.tenant_id", "students.id"]),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("from_school_id", UUID, nullable=False, index=True),
        sa.Column("from_class_id", UUID, nullable=False),
        sa.Column("to_school_id", UUID, nullable=False, index=True),
        sa.Column("to_class_id", UUID, nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(500), nullable=False, server_default=""),
        sa.CheckConstraint("kind IN ('CLASS_MOVE', 'SCHOOL_TRANSFER')", name="kind_known"),
        sa.CheckConstraint("state IN ('PENDING', 'DONE', 'REFUSED')", name="state_known"),
        sa.CheckConstraint("state <> 'DONE' OR to_class_id IS NOT NULL", name="done_has_class"),
    )
    # At most one pending transfer per student.
    op.create_index(
        "uq_movements_pending_student",
        "movements",
        ["student_id"],
        unique=True,
        postgresql_where=sa.text("state = 'PENDING'"),
    )
    enable_tenant_rls("movements")


def downgrade() -> None:
    op.drop_table("movements")

"""Class rosters (read model of student-record events); outbox, inbox and idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from school_common.migrations import (
    create_infrastructure_tables,
    drop_infrastructure_tables,
    enable_tenant_rls,
)
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common() -> list[sa.Column]:
    return [
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.create_table(
        "roster_classes",
        *_common(),
        sa.Column("school_id", postgresql.UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
    )
    op.create_table(
        "roster_entries",
        *_common(),
        sa.Column("class_id", postgresql.UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("student_id", postgresql.UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("class_id", "student_id"),
    )
    enable_tenant_rls("roster_classes")
    enable_tenant_rls("roster_entries")
    create_infrastructure_tables()


def downgrade() -> None:
    drop_infrastructure_tables()
    op.drop_table("roster_entries")
    op.drop_table("roster_classes")

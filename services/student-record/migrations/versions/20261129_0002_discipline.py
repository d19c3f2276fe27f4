"""Violations and rewards (Circular 19/2025).

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


def _common() -> list[sa.Column | sa.Constraint]:
    return [
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.CheckConstraint("tenant_id <> ''", name="tenant_present"),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "student_id"], ["students.tenant_id", "students.id"]),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "violations",
        *_common(),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("description", sa.String(1000), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("measure", sa.String(16), nullable=False),
        sa.Column("family_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("family_confirmed_by", sa.String(64), nullable=True),
        # The measures of Circular 19/2025; suspension and expulsion cannot be stored.
        sa.CheckConstraint(
            "measure IN ('REMINDER', 'APOLOGY', 'CRITICISM', 'SELF_REVIEW')", name="measure_allowed"
        ),
        sa.CheckConstraint("severity IN ('SELF', 'CLASS', 'SCHOOL')", name="severity_known"),
    )
    op.create_table(
        "rewards",
        *_common(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("awarded_on", sa.Date(), nullable=False),
    )
    enable_tenant_rls("violations")
    enable_tenant_rls("rewards")


def downgrade() -> None:
    op.drop_table("rewards")
    op.drop_table("violations")

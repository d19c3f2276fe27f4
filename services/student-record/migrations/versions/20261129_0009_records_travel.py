"""Transfers out of and into the tenant: movements without a school of the tenant on one side, and the
record packages students arrive with.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from school_common.migrations import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.alter_column("movements", "to_school_id", nullable=True)
    op.alter_column("movements", "from_school_id", nullable=True)
    op.alter_column("movements", "from_class_id", nullable=True)
    op.add_column("movements", sa.Column("counterpart", sa.String(300), nullable=False, server_default=""))
    op.drop_constraint("ck_movements_kind_known", "movements")
    op.create_check_constraint(
        "ck_movements_kind_known",
        "movements",
        "kind IN ('CLASS_MOVE', 'SCHOOL_TRANSFER', 'TRANSFER_OUT', 'TRANSFER_IN')",
    )
    op.drop_constraint("ck_movements_done_has_class", "movements")
    op.create_check_constraint(
        "ck_movements_done_has_class",
        "movements",
        "state <> 'DONE' OR to_class_id IS NOT NULL OR kind = 'TRANSFER_OUT'",
    )
    op.create_table(
        "received_records",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.CheckConstraint("tenant_id <> ''", name="tenant_present"),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "student_id"], ["students.tenant_id", "students.id"]),
        sa.Column("from_school", sa.String(300), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("package", sa.LargeBinary(), nullable=False),
        sa.Column("received_by", sa.String(64), nullable=False),
    )
    enable_tenant_rls("received_records")


def downgrade() -> None:
    op.drop_table("received_records")
    op.drop_constraint("ck_movements_done_has_class", "movements")
    op.create_check_constraint(
        "ck_movements_done_has_class", "movements", "state <> 'DONE' OR to_class_id IS NOT NULL"
    )
    op.drop_constraint("ck_movements_kind_known", "movements")
    op.create_check_constraint(
        "ck_movements_kind_known", "movements", "kind IN ('CLASS_MOVE', 'SCHOOL_TRANSFER')"
    )
    op.drop_column("movements", "counterpart")

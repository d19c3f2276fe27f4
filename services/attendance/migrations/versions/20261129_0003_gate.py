"""Gate check-in devices: devices, credentials (card UID / person code → student), taps, check-ins.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from school_common.migrations import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)
TABLES = ("gate_devices", "gate_credentials", "gate_taps", "gate_check_ins")


def _common() -> list[sa.Column]:
    return [
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.create_table(
        "gate_devices",
        *_common(),
        sa.Column("school_id", UUID, nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('RFID', 'FACE')", name="gate_devices_kind"),
    )
    op.create_table(
        "gate_credentials",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("credential", sa.String(64), nullable=False),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.Column("assigned_by", sa.String(64), nullable=False),
        # One card (or person code) names one student in the tenant.
        sa.UniqueConstraint("tenant_id", "credential"),
    )
    op.create_table(
        "gate_taps",
        *_common(),
        sa.Column("device_id", UUID, nullable=False),
        sa.Column("tap_id", sa.String(64), nullable=False),
        sa.Column("student_id", UUID, nullable=False),
        sa.Column("tapped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session", sa.String(10), nullable=False),
        # A re-sent batch finds its taps here and changes nothing.
        sa.UniqueConstraint("device_id", "tap_id"),
    )
    op.create_table(
        "gate_check_ins",
        *_common(),
        sa.Column("student_id", UUID, nullable=False),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session", sa.String(10), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taps", sa.Integer(), nullable=False),
        sa.Column("device_id", UUID, nullable=False),
        # One check-in per student, date and session.
        sa.UniqueConstraint("student_id", "day", "session"),
        sa.CheckConstraint("session IN ('MORNING', 'AFTERNOON')", name="gate_check_ins_session"),
        sa.CheckConstraint("first_seen_at <= last_seen_at", name="gate_check_ins_order"),
        sa.CheckConstraint("taps >= 1", name="gate_check_ins_taps"),
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)

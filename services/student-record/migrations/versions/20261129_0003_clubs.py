"""Clubs, memberships, sessions and participation.

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
TABLES = ("clubs", "club_memberships", "club_sessions", "club_attendances")


def _common() -> list[sa.Column | sa.Constraint]:
    return [
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.CheckConstraint("tenant_id <> ''", name="tenant_present"),
    ]


def upgrade() -> None:
    op.create_table(
        "clubs",
        *_common(),
        sa.Column("school_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "school_id"], ["schools.tenant_id", "schools.id"]),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(1000), nullable=False, server_default=""),
        sa.Column("adviser_subject", sa.String(64), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("tenant_id", "school_id", "name"),
    )
    op.create_table(
        "club_memberships",
        *_common(),
        sa.Column("club_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "club_id"], ["clubs.tenant_id", "clubs.id"]),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "student_id"], ["students.tenant_id", "students.id"]),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decision_reason", sa.String(500), nullable=True),
        sa.UniqueConstraint("club_id", "student_id"),
    )
    op.create_table(
        "club_sessions",
        *_common(),
        sa.Column("club_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "club_id"], ["clubs.tenant_id", "clubs.id"]),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(300), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "club_attendances",
        *_common(),
        sa.Column("session_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "session_id"], ["club_sessions.tenant_id", "club_sessions.id"]),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.UniqueConstraint("session_id", "student_id"),
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)

"""Signed transcripts (học bạ số): one row per student, school year and version, with both signed
documents, and the log of every copy handed out.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from school_common.migrations import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
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
    ]


def upgrade() -> None:
    op.create_table(
        "transcripts",
        *_common(),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "student_id"], ["students.tenant_id", "students.id"]),
        sa.Column("school_id", UUID, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "school_id"], ["schools.tenant_id", "schools.id"]),
        sa.Column("class_id", UUID, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "class_id"], ["classes.tenant_id", "classes.id"]),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", UUID, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id", "supersedes_id"], ["transcripts.tenant_id", "transcripts.id"]),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("verification_code", sa.String(16), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("correction_reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("student_id", "school_year", "version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("(version = 1) = (supersedes_id IS NULL)", name="only_corrections_supersede"),
    )
    op.create_table(
        "transcript_copies",
        *_common(),
        sa.Column("transcript_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "transcript_id"], ["transcripts.tenant_id", "transcripts.id"]),
        sa.Column("copied_by", sa.String(64), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.CheckConstraint("format IN ('PDF', 'XML')", name="format_known"),
    )
    for table in ("transcripts", "transcript_copies"):
        enable_tenant_rls(table)


def downgrade() -> None:
    op.drop_table("transcript_copies")
    op.drop_table("transcripts")

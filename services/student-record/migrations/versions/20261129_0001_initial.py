"""Schools, classes, students, guardians, enrolments; outbox, inbox and idempotency keys.

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

TABLES = ("schools", "classes", "students", "guardians", "enrolments")


def _common() -> list[sa.Column | sa.Constraint]:
    return [
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # Foreign keys ignore RLS, so they name the tenant too: a row can only point into its own tenant.
        sa.UniqueConstraint("tenant_id", "id"),
        sa.CheckConstraint("tenant_id <> ''", name="tenant_present"),
    ]


def _same_tenant(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"])


def upgrade() -> None:
    op.create_table(
        "schools",
        *_common(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("code", sa.String(32), nullable=True),
        sa.Column("levels", postgresql.ARRAY(sa.String(32)), nullable=False),
        sa.UniqueConstraint("tenant_id", "code"),
    )
    op.create_table(
        "classes",
        *_common(),
        sa.Column("school_id", postgresql.UUID(as_uuid=True), nullable=False, index=True),
        _same_tenant("school_id", "schools"),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.UniqueConstraint("tenant_id", "school_id", "school_year", "name"),
        sa.CheckConstraint("grade BETWEEN 1 AND 12", name="grade_range"),
    )
    op.create_table(
        "students",
        *_common(),
        sa.Column("school_id", postgresql.UUID(as_uuid=True), nullable=False, index=True),
        _same_tenant("school_id", "schools"),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(16), nullable=False),
        sa.Column("student_code", sa.String(32), nullable=True),
        # identity's pseudonymous person id; the personal identification number is never stored here.
        sa.Column("person_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "student_code"),
    )
    op.create_table(
        "guardians",
        *_common(),
        sa.Column("student_id", postgresql.UUID(as_uuid=True), nullable=False, index=True),
        _same_tenant("student_id", "students"),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("relation", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        # identity's pseudonymous person id; the personal identification number is never stored here.
        sa.Column("person_id", postgresql.UUID(as_uuid=True), nullable=True),
    )
    op.create_index(
        "uq_guardians_student_id_person_id",
        "guardians",
        ["student_id", "person_id"],
        unique=True,
        postgresql_where=sa.text("person_id IS NOT NULL"),
    )
    op.create_table(
        "enrolments",
        *_common(),
        sa.Column("class_id", postgresql.UUID(as_uuid=True), nullable=False, index=True),
        _same_tenant("class_id", "classes"),
        sa.Column("student_id", postgresql.UUID(as_uuid=True), nullable=False, index=True),
        _same_tenant("student_id", "students"),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("class_id", "student_id"),
    )
    # One class per student per school year.
    op.create_index(
        "uq_enrolments_student_id_school_year", "enrolments", ["student_id", "school_year"], unique=True
    )
    for table in TABLES:
        enable_tenant_rls(table)
    create_infrastructure_tables()


def downgrade() -> None:
    drop_infrastructure_tables()
    for table in reversed(TABLES):
        op.drop_table(table)

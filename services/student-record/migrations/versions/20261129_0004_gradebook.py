"""School years, the gradebook (assessments and ratings), semester locks, approved changes after the lock,
and results publications.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from school_common.migrations import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)
TABLES = ("school_years", "semester_locks", "assessments", "ratings", "grade_changes", "result_publications")


def _common() -> list[sa.Column | sa.Constraint]:
    return [
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.CheckConstraint("tenant_id <> ''", name="tenant_present"),
    ]


def _school() -> list[sa.Column | sa.Constraint]:
    return [
        sa.Column("school_id", UUID, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "school_id"], ["schools.tenant_id", "schools.id"]),
    ]


def _student_in_class() -> list[sa.Column | sa.Constraint]:
    return [
        sa.Column("class_id", UUID, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "class_id"], ["classes.tenant_id", "classes.id"]),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "student_id"], ["students.tenant_id", "students.id"]),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("semester", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("semester IN (1, 2)", name="semester_known"),
    ]


def upgrade() -> None:
    op.create_table(
        "school_years",
        *_common(),
        *_school(),
        sa.Column("name", sa.String(9), nullable=False),
        sa.Column("semester_1_start", sa.Date(), nullable=False),
        sa.Column("semester_1_end", sa.Date(), nullable=False),
        sa.Column("semester_2_start", sa.Date(), nullable=False),
        sa.Column("semester_2_end", sa.Date(), nullable=False),
        sa.UniqueConstraint("tenant_id", "school_id", "name"),
        sa.CheckConstraint(
            "semester_1_start < semester_1_end AND semester_1_end < semester_2_start "
            "AND semester_2_start < semester_2_end",
            name="semesters_in_order",
        ),
    )
    op.create_table(
        "semester_locks",
        *_common(),
        *_school(),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("semester", sa.SmallInteger(), nullable=False),
        sa.Column("locked_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("tenant_id", "school_id", "school_year", "semester"),
    )
    op.create_table(
        "assessments",
        *_common(),
        *_school(),
        *_student_in_class(),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ordinal", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.String(8), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("student_id", "school_year", "semester", "subject", "kind", "ordinal"),
        sa.CheckConstraint("ordinal BETWEEN 1 AND 4", name="ordinal_range"),
    )
    op.create_index("ix_assessments_class_subject", "assessments", ["class_id", "subject", "semester"])
    op.create_table(
        "ratings",
        *_common(),
        *_school(),
        *_student_in_class(),
        sa.Column("item", sa.String(32), nullable=False),
        sa.Column("value", sa.String(16), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("student_id", "school_year", "semester", "item"),
    )
    op.create_table(
        "grade_changes",
        *_common(),
        *_school(),
        *_student_in_class(),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ordinal", sa.SmallInteger(), nullable=False),
        sa.Column("old_value", sa.String(8), nullable=False),
        sa.Column("new_value", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(500), nullable=False, server_default=""),
        sa.CheckConstraint("state IN ('PENDING', 'APPROVED', 'REFUSED')", name="state_known"),
        # The principal's approval is a second person's: nobody approves their own request.
        sa.CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="four_eyes"),
    )
    op.create_index("ix_grade_changes_school_state", "grade_changes", ["school_id", "state"])
    op.create_table(
        "result_publications",
        *_common(),
        *_school(),
        sa.Column("class_id", UUID, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "class_id"], ["classes.tenant_id", "classes.id"]),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("term", sa.SmallInteger(), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("class_id", "term"),
        sa.CheckConstraint("term IN (0, 1, 2)", name="term_known"),
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)

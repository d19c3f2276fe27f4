"""Tenants, persons, accounts, assignments, read models, links, consents, audit; outbox, inbox, idempotency.

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

UUID = postgresql.UUID(as_uuid=True)
TENANT_TABLES = (
    "persons",
    "accounts",
    "assignments",
    "schools",
    "classes",
    "students",
    "guardianships",
    "guardian_links",
    "link_requests",
    "consents",
    "audit_events",
    "staff_imports",
)


def _times() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def _owned(pk: bool = True) -> list[sa.Column]:
    return [
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
    ]


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("slug", sa.String(63), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column(
            "completed_steps", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        *_times(),
    )
    op.create_table(
        "persons",
        *_owned(),
        sa.Column("personal_id_hash", sa.LargeBinary(), nullable=False),
        sa.Column("personal_id_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("full_name", sa.String(150), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("verification_status", sa.String(20), nullable=False),
        sa.Column(
            "verification_checks", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("identification_level", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("verification_source", sa.String(32), nullable=False, server_default=""),
        *_times(),
        sa.UniqueConstraint("tenant_id", "personal_id_hash"),
    )
    op.create_table(
        "pending_verifications",
        *_owned(),
        sa.Column("person_id", UUID, nullable=False, unique=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("last_error", sa.String(100), nullable=True),
        *_times(),
    )
    op.create_table(
        "accounts",
        *_owned(),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("person_id", UUID, nullable=True, index=True),
        sa.Column("staff_code", sa.String(50), nullable=True),
        sa.Column("email", sa.String(255), nullable=True),
        *_times(),
        sa.UniqueConstraint("tenant_id", "subject"),
        sa.UniqueConstraint("tenant_id", "username"),
    )
    op.create_table(
        "assignments",
        *_owned(),
        sa.Column("account_id", UUID, nullable=False, index=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("school_id", UUID, nullable=True),
        sa.Column("class_id", UUID, nullable=True),
        sa.Column("subject", sa.String(100), nullable=False, server_default=""),
        *_times(),
        sa.UniqueConstraint(
            "account_id", "role", "school_id", "class_id", "subject", postgresql_nulls_not_distinct=True
        ),
    )
    op.create_table(
        "schools",
        *_owned(),
        sa.Column("code", sa.String(50), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        *_times(),
    )
    op.create_table(
        "classes",
        *_owned(),
        sa.Column("school_id", UUID, nullable=False, index=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        *_times(),
    )
    op.create_table(
        "students",
        *_owned(),
        sa.Column("school_id", UUID, nullable=False, index=True),
        sa.Column("class_id", UUID, nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("person_id", UUID, nullable=True, index=True),
        *_times(),
    )
    op.create_table(
        "guardianships",
        *_owned(),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.Column("person_id", UUID, nullable=False, index=True),
        sa.Column("relationship", sa.String(32), nullable=False),
        *_times(),
        sa.UniqueConstraint("student_id", "person_id"),
    )
    op.create_table(
        "guardian_links",
        *_owned(),
        sa.Column("account_id", UUID, nullable=False, index=True),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.Column("relationship", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        *_times(),
        sa.UniqueConstraint("account_id", "student_id"),
    )
    op.create_table(
        "link_requests",
        *_owned(),
        sa.Column("requester_account_id", UUID, nullable=False, index=True),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("child_full_name", sa.String(200), nullable=False),
        sa.Column("child_date_of_birth", sa.Date(), nullable=False),
        sa.Column("relationship", sa.String(32), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("student_id", UUID, nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decision_reason", sa.String(500), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        *_times(),
    )
    op.create_index("ix_link_requests_school_state", "link_requests", ["school_id", "state"])
    op.create_table(
        "consents",
        *_owned(),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.Column("purpose", sa.String(50), nullable=False),
        sa.Column("given_by", sa.String(16), nullable=False),
        sa.Column("account_id", UUID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        *_times(),
        sa.UniqueConstraint("student_id", "purpose", "given_by"),
    )
    op.create_table(
        "audit_events",
        *_owned(),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False, server_default=""),
        sa.Column("target", sa.String(200), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("source_event_id", sa.String(100), nullable=True),
        sa.UniqueConstraint("tenant_id", "source_event_id"),
    )
    op.create_index("ix_audit_events_tenant_time", "audit_events", ["tenant_id", "occurred_at"])
    op.create_table(
        "staff_imports",
        *_owned(),
        sa.Column("file_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("report", sa.LargeBinary(), nullable=False),
        *_times(),
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    # The verification worker finds due rows of every tenant, then works on each inside its tenant.
    enable_tenant_rls("pending_verifications", infrastructure="ALL")
    create_infrastructure_tables()


def downgrade() -> None:
    drop_infrastructure_tables()
    for table in ("pending_verifications", *reversed(TENANT_TABLES), "tenants"):
        op.drop_table(table)

"""The register of upper-secondary diplomas (bằng tốt nghiệp THPT) and certificates of programme
completion (giấy chứng nhận hoàn thành chương trình THPT): one row per entry, never edited in place but
for the marks of a correction or a revocation. There is no lower-secondary diploma (abolished from
1/1/2026): the kind's CHECK cannot hold one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from school_common.migrations import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "diplomas",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.CheckConstraint("tenant_id <> ''", name="tenant_present"),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.ForeignKeyConstraint(["tenant_id", "student_id"], ["students.tenant_id", "students.id"]),
        sa.Column("school_id", UUID, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "school_id"], ["schools.tenant_id", "schools.id"]),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("graduation_year", sa.SmallInteger(), nullable=False),
        sa.Column("classification", sa.String(16), nullable=True),
        sa.Column("register_number", sa.String(32), nullable=False),
        sa.Column("serial_number", sa.String(32), nullable=False),
        # As printed on the document: the register is the lifelong proof of what was issued.
        sa.Column("holder_name", sa.String(200), nullable=False),
        sa.Column("holder_date_of_birth", sa.Date(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("signer_title", sa.String(200), nullable=False),
        sa.Column("verification_code", sa.String(16), nullable=False),
        sa.Column("supersedes_id", UUID, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id", "supersedes_id"], ["diplomas.tenant_id", "diplomas.id"]),
        sa.Column("correction_reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        sa.Column("revocation_reason", sa.String(500), nullable=True),
        # Số hiệu: printed on the blank form, one per document in the tenant, corrections included.
        sa.UniqueConstraint("tenant_id", "serial_number", name="uq_diplomas_serial"),
        # Số vào sổ: one entry number per book (a school's book of a kind for a graduation year).
        sa.UniqueConstraint(
            "tenant_id",
            "school_id",
            "graduation_year",
            "kind",
            "register_number",
            name="uq_diplomas_register",
        ),
        sa.CheckConstraint(
            "kind IN ('UPPER_SECONDARY_DIPLOMA', 'UPPER_SECONDARY_COMPLETION')", name="kind_known"
        ),
        sa.CheckConstraint(
            "classification IS NULL OR (kind = 'UPPER_SECONDARY_DIPLOMA'"
            " AND classification IN ('GIOI', 'KHA', 'TRUNG_BINH'))",
            name="classification_on_diplomas_only",
        ),
        sa.CheckConstraint("graduation_year BETWEEN 2000 AND 2999", name="graduation_year_plausible"),
        sa.CheckConstraint("EXTRACT(YEAR FROM issued_on) >= graduation_year", name="issued_after_year"),
        sa.CheckConstraint("(supersedes_id IS NULL) = (correction_reason = '')", name="corrections_say_why"),
        sa.CheckConstraint("corrected_at IS NULL OR revoked_at IS NULL", name="corrected_or_revoked"),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL)"
            " AND (revoked_at IS NULL) = (coalesce(revocation_reason, '') = '')",
            name="revocations_say_who_and_why",
        ),
    )
    op.create_index("ix_diplomas_school_id_graduation_year", "diplomas", ["school_id", "graduation_year"])
    # One active entry per student and kind; a correction replaces an entry once.
    op.create_index(
        "uq_diplomas_active",
        "diplomas",
        ["student_id", "kind"],
        unique=True,
        postgresql_where=sa.text("corrected_at IS NULL AND revoked_at IS NULL"),
    )
    op.create_index(
        "uq_diplomas_supersedes",
        "diplomas",
        ["supersedes_id"],
        unique=True,
        postgresql_where=sa.text("supersedes_id IS NOT NULL"),
    )
    enable_tenant_rls("diplomas")


def downgrade() -> None:
    op.drop_table("diplomas")

"""Students as the sector database knows them: a temporary key until the sector student code arrives, the
sector status ("Trạng thái HS") with its date, and the address.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("students", sa.Column("temporary_key", sa.String(32), nullable=True))
    op.add_column("students", sa.Column("status", sa.String(32), nullable=False, server_default="STUDYING"))
    op.add_column("students", sa.Column("status_date", sa.Date(), nullable=True))
    op.add_column("students", sa.Column("address", sa.String(500), nullable=False, server_default=""))
    op.create_unique_constraint(
        "uq_students_tenant_id_temporary_key", "students", ["tenant_id", "temporary_key"]
    )
    # Until the sector database assigns the code, a student is known by the temporary key; never both.
    op.create_check_constraint(
        "ck_students_code_or_temporary_key", "students", "student_code IS NULL OR temporary_key IS NULL"
    )


def downgrade() -> None:
    op.drop_constraint("ck_students_code_or_temporary_key", "students")
    op.drop_constraint("uq_students_tenant_id_temporary_key", "students")
    for column in ("address", "status_date", "status", "temporary_key"):
        op.drop_column("students", column)

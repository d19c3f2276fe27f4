"""Semi-boarding: settings, registrations, frozen meal counts, menus, meal attendance, the food-sample
log and computed charges.

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
MEALS = "('BREAKFAST', 'LUNCH')"

TABLES = (
    "boarding_registrations",
    "meal_counts",
    "meal_count_entries",
    "boarding_menus",
    "meal_attendance_entries",
    "food_samples",
    "boarding_charge_runs",
    "boarding_charges",
)


def _common() -> list[sa.Column]:
    return [
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.create_table(
        "boarding_settings",
        *_common(),
        sa.Column("meal_cutoff", sa.Time(), nullable=False),
        sa.Column("lunch_price", sa.BigInteger(), nullable=False),
        sa.Column("breakfast_price", sa.BigInteger(), nullable=False),
        sa.Column("nap_care_monthly_fee", sa.BigInteger(), nullable=False),
        sa.Column("meal_refund", sa.String(30), nullable=False),
        sa.Column("care_refund", sa.String(20), nullable=False),
        sa.Column("kitchens", postgresql.JSONB(), nullable=False),
        sa.Column("policy_text", sa.String(2000), nullable=False, server_default=""),
        sa.Column("configured", sa.Boolean(), nullable=False),
        sa.Column("counted_through", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "lunch_price >= 0 AND breakfast_price >= 0 AND nap_care_monthly_fee >= 0",
            name="boarding_settings_prices",
        ),
        sa.CheckConstraint(
            "meal_refund IN ('NONE', 'NOTIFIED_BEFORE_CUTOFF', 'ALL_ABSENT_DAYS')",
            name="boarding_settings_meal_refund",
        ),
        sa.CheckConstraint("care_refund IN ('NONE', 'PRO_RATA')", name="boarding_settings_care_refund"),
    )
    op.create_table(
        "boarding_registrations",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("class_id", UUID, nullable=False),
        sa.Column("student_id", UUID, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("lunch", sa.Boolean(), nullable=False),
        sa.Column("breakfast", sa.Boolean(), nullable=False),
        sa.Column("nap_care", sa.Boolean(), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("student_id", "month", "effective_date"),
        sa.CheckConstraint(
            "extract(day FROM month) = 1 AND effective_date >= month"
            " AND effective_date < month + interval '1 month'",
            name="boarding_registrations_month",
        ),
    )
    op.create_index(
        "ix_boarding_registrations_school_month", "boarding_registrations", ["school_id", "month"]
    )
    op.create_table(
        "meal_counts",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cutoff_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kitchens", postgresql.ARRAY(sa.String(100)), nullable=False),
        # It freezes once: the unique key is what makes `meals.counted` go out exactly once.
        sa.UniqueConstraint("school_id", "day"),
    )
    op.create_table(
        "meal_count_entries",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("student_id", UUID, nullable=False),
        sa.Column("class_id", UUID, nullable=False, index=True),
        sa.Column("kitchen", sa.String(100), nullable=False),
        sa.Column("lunch", sa.Boolean(), nullable=False),
        sa.Column("breakfast", sa.Boolean(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("school_id", "day", "student_id"),
    )
    op.create_index("ix_meal_count_entries_student_day", "meal_count_entries", ["student_id", "day"])
    op.create_table(
        "boarding_menus",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("items", postgresql.JSONB(), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("school_id", "day"),
    )
    op.create_table(
        "meal_attendance_entries",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("class_id", UUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("meal", sa.String(10), nullable=False),
        sa.Column("student_id", UUID, nullable=False),
        sa.Column("ate", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("class_id", "day", "meal", "student_id"),
        sa.CheckConstraint(f"meal IN {MEALS}", name="meal_attendance_entries_meal"),
    )
    op.create_table(
        "food_samples",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("meal", sa.String(10), nullable=False),
        sa.Column("dishes", postgresql.ARRAY(sa.String(200)), nullable=False),
        sa.Column("sample_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("storage", sa.String(200), nullable=False, server_default=""),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discarded_by", sa.String(64), nullable=True),
        sa.CheckConstraint(f"meal IN {MEALS}", name="food_samples_meal"),
        # Decision 1246/QĐ-BYT: kept at least 24 hours.
        sa.CheckConstraint("keep_until >= sample_time + interval '24 hours'", name="food_samples_retention"),
        sa.CheckConstraint(
            "discarded_at IS NULL OR discarded_at >= keep_until", name="food_samples_discarded_after"
        ),
    )
    op.create_index("ix_food_samples_school_day", "food_samples", ["school_id", "day"])
    op.create_table(
        "boarding_charge_runs",
        *_common(),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("computed_by", sa.String(64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("school_id", "month", "version"),
        sa.CheckConstraint("version >= 1", name="boarding_charge_runs_version"),
    )
    op.create_table(
        "boarding_charges",
        *_common(),
        sa.Column("run_id", UUID, sa.ForeignKey("boarding_charge_runs.id"), nullable=False),
        sa.Column("school_id", UUID, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("student_id", UUID, nullable=False, index=True),
        sa.Column("class_id", UUID, nullable=False),
        sa.Column("lines", postgresql.JSONB(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("run_id", "student_id"),
    )
    # The meal-count freezer lists the schools whose count is due across tenants (read only), then
    # freezes each inside its own tenant.
    enable_tenant_rls("boarding_settings", infrastructure="SELECT")
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    op.drop_table("boarding_settings")

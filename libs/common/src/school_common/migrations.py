"""What every service's Alembic migrations share: RLS policies, infrastructure tables, grants, runner.

Migrations run as their own step (``python -m <service> migrate``; a Helm hook Job in Kubernetes) as the
owner role in ``DATABASE__MIGRATION_URL``; the application role (the user of ``DATABASE__URL``) is then
granted DML on every table, and nothing more.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, op
from alembic.config import Config
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from school_common.db import INFRASTRUCTURE_SETTING, TENANT_SETTING
from school_common.settings import DatabaseSettings


def enable_tenant_rls(table: str, infrastructure: str | None = None) -> None:
    """Turns on row-level security for a tenant-owned table (inside an Alembic migration).

    ``infrastructure`` ("ALL", "SELECT" or "DELETE") adds a policy for units of work opened with
    ``infrastructure=True``: the outbox relay and maintenance jobs, which work across tenants (attendance's
    meal-count freezer only lists ``boarding_settings``: "SELECT").
    """
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    predicate = f"tenant_id = current_setting('{TENANT_SETTING}', true)"
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({predicate}) WITH CHECK ({predicate})")
    if infrastructure:
        flag = f"current_setting('{INFRASTRUCTURE_SETTING}', true) = 'on'"
        check = f" WITH CHECK ({flag})" if infrastructure == "ALL" else ""
        op.execute(f"CREATE POLICY infrastructure ON {table} FOR {infrastructure} USING ({flag}){check}")


def create_infrastructure_tables() -> None:
    """The outbox, inbox and idempotency tables, the same in every service (inside a migration).

    All three are under RLS like tenant data; the relay reaches every tenant's outbox rows, and the
    maintenance job every tenant's expired idempotency keys, through the infrastructure policy
    (docs/decisions/0003-infrastructure-tables-under-rls.md).
    """
    op.create_table(
        "outbox_events",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_outbox_events_pending", "outbox_events", ["id"], postgresql_where=sa.text("published_at IS NULL")
    )
    op.create_table(
        "inbox_events",
        sa.Column("consumer", sa.String(255), primary_key=True),
        sa.Column("source", sa.String(255), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    enable_tenant_rls("outbox_events", infrastructure="ALL")
    enable_tenant_rls("inbox_events")
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("operation", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    enable_tenant_rls("idempotency_keys", infrastructure="DELETE")


def drop_infrastructure_tables() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("inbox_events")
    op.drop_table("outbox_events")


def grant_application_role(connection: Connection, app_role: str) -> None:
    quoted = connection.dialect.identifier_preparer.quote(app_role)
    connection.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
    connection.execute(
        sa.text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
    )
    connection.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
    connection.execute(sa.text(f"REVOKE ALL ON alembic_version FROM {quoted}"))


def run_env(target_metadata: sa.MetaData) -> None:
    """The body of a service's ``migrations/env.py`` (online mode, async engine)."""
    from alembic import context

    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    app_role = config.get_main_option("school.app_role")
    assert url, "sqlalchemy.url is set by school_common.migrations.upgrade"

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
            if app_role:
                grant_application_role(connection, app_role)

    async def run_async() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(do_run)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run_async())


def alembic_config(service_root: Path, settings: DatabaseSettings) -> Config:
    config = Config(str(service_root / "alembic.ini"))
    config.set_main_option("script_location", str(service_root / "migrations"))
    url = (settings.migration_url or settings.url).get_secret_value()
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    app_user = make_url(settings.url.get_secret_value()).username
    migration_user = make_url(url).username
    if app_user and app_user != migration_user:
        config.set_main_option("school.app_role", app_user)
    return config


def upgrade(service_root: Path, settings: DatabaseSettings, revision: str = "head") -> None:
    command.upgrade(alembic_config(service_root, settings), revision)

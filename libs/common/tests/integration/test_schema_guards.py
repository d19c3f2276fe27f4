"""Every service's migrated schema keeps the platform's guarantees: tenant tables under forced RLS with a
policy, the application role without BYPASSRLS and without DDL rights."""

from __future__ import annotations

import importlib

import asyncpg
import pytest
from school_common.db import asyncpg_dsn

pytestmark = pytest.mark.asyncio(loop_scope="session")

SERVICES = ["identity", "student_record", "attendance", "payments", "messaging", "health"]
WITHOUT_RLS = {"alembic_version"}
# Platform-owned tables, holding no tenant's data (docs/decisions/0007): identity's list of tenants.
PLATFORM_TABLES = {"identity": {"tenants"}}


@pytest.mark.parametrize("module", SERVICES)
async def test_tenant_tables_are_under_forced_row_level_security(make_database, module):
    definition = importlib.import_module(f"{module}.service").DEFINITION
    settings = await make_database(definition.name, definition.root)
    owner = await asyncpg.connect(asyncpg_dsn(settings.migration_url.get_secret_value()))
    try:
        tables = await owner.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " EXISTS (SELECT 1 FROM information_schema.columns i"
            "         WHERE i.table_name = c.relname AND i.column_name = 'tenant_id') AS tenant_owned,"
            " (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname) AS policies"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        assert {"outbox_events", "inbox_events", "idempotency_keys"} <= {t["relname"] for t in tables}
        for table in tables:
            if table["relname"] in WITHOUT_RLS | PLATFORM_TABLES.get(module, set()):
                continue
            assert table["tenant_owned"], f"{module}.{table['relname']} has no tenant_id"
            assert table["relrowsecurity"], f"{module}.{table['relname']} has RLS off"
            assert table["relforcerowsecurity"], f"{module}.{table['relname']} does not FORCE RLS"
            assert table["policies"] >= 1, f"{module}.{table['relname']} has no policy"
    finally:
        await owner.close()
    app = await asyncpg.connect(asyncpg_dsn(settings.url.get_secret_value()))
    try:
        role = await app.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert not role["rolsuper"]
        assert not role["rolbypassrls"]
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("CREATE TABLE sneaky (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("ALTER TABLE outbox_events DISABLE ROW LEVEL SECURITY")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.fetch("SELECT * FROM alembic_version")
    finally:
        await app.close()

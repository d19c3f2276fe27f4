"""Create a service's database and its two roles: an owner (migrations) and an app role (no BYPASSRLS)."""

from __future__ import annotations

import asyncpg

from school_common.settings import DatabaseSettings


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe identifier: {name!r}")
    return f'"{name}"'


async def provision_database(
    admin_dsn: str, database: str, host: str, port: int, owner_password: str, app_password: str
) -> DatabaseSettings:
    owner, app = f"{database}_owner", f"{database}_app"
    conn = await asyncpg.connect(admin_dsn)
    try:
        for role, password in ((owner, owner_password), (app, app_password)):
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            # Passwords are ours (generated or dev-only); quote them as literals.
            literal = "'" + password.replace("'", "''") + "'"
            attributes = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB"
            await conn.execute(f"{verb} ROLE {_ident(role)} {attributes} PASSWORD {literal}")
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f"CREATE DATABASE {_ident(database)} OWNER {_ident(owner)}")
        await conn.execute(f"REVOKE ALL ON DATABASE {_ident(database)} FROM PUBLIC")
        await conn.execute(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {_ident(app)}")
    finally:
        await conn.close()
    db_conn = await asyncpg.connect(admin_dsn.rsplit("/", 1)[0] + f"/{database}")
    try:
        await db_conn.execute(f"ALTER SCHEMA public OWNER TO {_ident(owner)}")
        await db_conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    finally:
        await db_conn.close()
    return DatabaseSettings(
        url=f"postgresql+asyncpg://{app}:{app_password}@{host}:{port}/{database}",
        migration_url=f"postgresql+asyncpg://{owner}:{owner_password}@{host}:{port}/{database}",
    )


async def drop_database(admin_dsn: str, database: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_ident(database)} WITH (FORCE)")
    finally:
        await conn.close()

"""Pytest fixtures: a real PostgreSQL and a real NATS JetStream per test run, migrated databases.

Enable with ``pytest_plugins = ["school_common.testing.fixtures"]`` in a conftest.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio

from school_common.app import Running, ServiceDefinition, start
from school_common.migrations import upgrade
from school_common.settings import DatabaseSettings, Environment, NatsSettings
from school_common.testing.provision import provision_database
from school_common.testing.servers import (
    Process,
    admin_dsn,
    free_port,
    init_cluster,
    nats_command,
    pg_system_user,
    postgres_command,
    wait_port,
    wait_postgres,
)


@dataclass
class PostgresHandle:
    port: int
    process: Process
    datadir: Path

    @property
    def admin_dsn(self) -> str:
        return admin_dsn(self.port)

    def restart_stopped(self) -> None:
        """Start again after :meth:`stop` (for tests of a database outage)."""
        self.process = Process.spawn(
            "postgres",
            postgres_command(self.datadir, self.port, fast=True),
            user=pg_system_user(),
            log=self.datadir.parent / "postgres.log",
        )


@dataclass
class NatsHandle:
    port: int
    process: Process
    store: Path

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def restart(self) -> None:
        self.process = Process.spawn("nats", nats_command(self.port, self.store))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_server() -> AsyncIterator[PostgresHandle]:
    root = Path(tempfile.mkdtemp(prefix="school-test-pg-"))
    datadir = root / "data"
    await asyncio.to_thread(init_cluster, datadir)
    port = free_port()
    process = Process.spawn(
        "postgres",
        postgres_command(datadir, port, fast=True),
        user=pg_system_user(),
        log=root / "postgres.log",
    )
    handle = PostgresHandle(port, process, datadir)
    try:
        await wait_postgres(port)
        yield handle
    finally:
        handle.process.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def nats_server() -> AsyncIterator[NatsHandle]:
    root = Path(tempfile.mkdtemp(prefix="school-test-nats-"))
    port = free_port()
    handle = NatsHandle(port, Process.spawn("nats", nats_command(port, root)), root)
    try:
        await wait_port(port)
        yield handle
    finally:
        handle.process.stop()
        shutil.rmtree(root, ignore_errors=True)


MakeDatabase = Callable[[str, Path], Awaitable[DatabaseSettings]]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def make_database(postgres_server: PostgresHandle) -> MakeDatabase:
    """``await make_database("student_record", service_root)``: a new, migrated database for this run."""

    async def make(service: str, root: Path) -> DatabaseSettings:
        name = f"{service}_{uuid.uuid4().hex[:8]}"
        settings = await provision_database(
            postgres_server.admin_dsn,
            name,
            "127.0.0.1",
            postgres_server.port,
            owner_password=uuid.uuid4().hex,
            app_password=uuid.uuid4().hex,
        )
        await asyncio.to_thread(upgrade, root, settings)
        return settings

    return make


StartService = Callable[..., Awaitable[Running]]


@pytest_asyncio.fixture(loop_scope="session")
async def start_service(make_database: MakeDatabase, nats_server: NatsHandle) -> AsyncIterator[StartService]:
    """``await start_service(DEFINITION, {"serve", "relay"}, auth=AuthSettings(...))``: a service's
    components in-process, on a new migrated database, this run's NATS and a free port; stopped after
    the test. Returns :class:`school_common.app.Running` (``.port``, ``.shutdown()``)."""
    started: list[Running] = []

    async def run(definition: ServiceDefinition, components: set[str], **overrides: Any) -> Running:
        database = await make_database(definition.name, definition.root)
        values: dict[str, Any] = {
            "database": database,
            "nats": NatsSettings(url=nats_server.url),
            # A dict, so that a service's own GrpcSettings subclass keeps its defaults.
            "grpc": {"port": 0, "readiness_interval_s": 0.2},
            # Tests run with development defaults (keys, the local registry); a test may still ask for
            # production explicitly.
            "environment": Environment.TEST,
        } | overrides
        running = await start(definition, definition.settings_type.model_validate(values), components)
        started.append(running)
        return running

    yield run
    for running in reversed(started):
        await running.shutdown()

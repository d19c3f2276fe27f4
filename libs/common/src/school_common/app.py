"""The component runner every service's ``__main__`` uses: ``serve | worker | relay | all | migrate``.

One image, several Kubernetes components: ``serve`` is the gRPC API, ``worker`` runs the event consumers,
``relay`` publishes the outbox, ``migrate`` applies the Alembic migrations and exits. ``all`` runs api,
worker and relay in one process (the one-machine stack). Every long-running component serves gRPC health.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from nats.aio.client import Client as Nats

from school_common.auth import TokenVerifier
from school_common.db import Database
from school_common.events.consumer import ConsumerRunner, Subscription
from school_common.events.nats import connect
from school_common.events.outbox import Outbox
from school_common.events.relay import Relay
from school_common.grpc.server import build_server, follow_readiness, mark_live, mark_stopping
from school_common.idempotency import purge_expired
from school_common.logging import configure_logging
from school_common.settings import Environment, ServiceSettings
from school_common.telemetry import configure_telemetry

log = logging.getLogger(__name__)

COMPONENTS = ("serve", "worker", "relay", "all", "migrate")


@dataclass
class Deps:
    """What a service's servicers and handlers are built from."""

    settings: ServiceSettings
    db: Database
    outbox: Outbox


@dataclass
class ServiceDefinition:
    name: str  # snake_case, e.g. "student_record": database, stream and subject names derive from it
    settings_type: type[ServiceSettings]
    root: Path  # the service folder holding alembic.ini and migrations/
    servicers: Callable[[Deps], list[Callable[[grpc.aio.Server], None]]]
    service_names: list[str] = field(default_factory=list)
    subscriptions: Callable[[Deps], list[Subscription]] | None = None
    # Loops of the worker component besides the consumers (retries, synchronisation); each runs until the
    # event it is given is set. Readiness fails if one of them ends.
    background: Callable[[Deps], list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]]] | None = None
    # Methods anyone may call without a token ("/package.Service/Method"): what a public page asks for
    # on behalf of an anonymous visitor. Each must decide from its request alone what it may show.
    public_methods: list[str] = field(default_factory=list)

    @property
    def migrations_root(self) -> Path:
        # In an image the package is installed and the migrations are copied beside it (SERVICE_ROOT).
        return Path(os.environ.get("SERVICE_ROOT", str(self.root)))


@dataclass
class Running:
    port: int
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def shutdown(self) -> None:
        self.stop.set()
        await self.task


async def _connect_nats(settings: ServiceSettings, name: str, stop: asyncio.Event) -> Nats | None:
    delay = 0.5
    while not stop.is_set():
        try:
            return await connect(settings.nats, name)
        except Exception as exc:
            log.warning("nats not reachable yet", extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 5.0)
    return None


async def start(definition: ServiceDefinition, settings: ServiceSettings, components: set[str]) -> Running:
    """Starts the components in this event loop; returns once the gRPC port is bound."""
    stop = asyncio.Event()
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(_run(definition, settings, components, stop, bound))
    try:
        port = await bound
    except RuntimeError:
        await task  # raises what went wrong (a port in use, a bad setting)
        raise
    return Running(port=port, stop=stop, task=task)


async def _run(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    components: set[str],
    stop: asyncio.Event,
    bound: asyncio.Future[int],
) -> None:
    db = Database(settings.database, application_name=f"{definition.name}-{'+'.join(sorted(components))}")
    deps = Deps(settings=settings, db=db, outbox=Outbox(definition.name))
    api = "serve" in components
    verifier = TokenVerifier(settings.auth) if api else None
    server: grpc.aio.Server | None = None
    health_servicer = None
    tasks: list[asyncio.Task[Any]] = []
    workers: list[asyncio.Task[Any]] = []  # relay and consumers: readiness fails if one of them ends
    nc: Nats | None = None
    try:
        server, health_servicer, port = build_server(
            settings.grpc,
            domain=f"{definition.name.replace('_', '-')}.school",
            verifier=verifier,
            register=definition.servicers(deps) if api else (),
            service_names=definition.service_names if api else (),
            reflection_enabled=settings.environment != Environment.PRODUCTION,
            public_methods=definition.public_methods if api else (),
        )
        await server.start()
        await mark_live(health_servicer)
        bound.set_result(port)
        log.info("component started", extra={"components": sorted(components), "port": port})

        needs_nats = bool({"worker", "relay"} & components)
        checks: dict[str, Callable[[], Any]] = {"database": db.ping}
        if needs_nats:
            checks["nats"] = lambda: _nats_ok(nc)
            checks["workers"] = lambda: _workers_ok(workers)
        tasks.append(
            asyncio.create_task(
                follow_readiness(health_servicer, checks, settings.grpc.readiness_interval_s, stop)
            )
        )

        if needs_nats:
            nc = await _connect_nats(settings, f"{definition.name}-{'+'.join(sorted(components))}", stop)
        if nc is not None:
            js = nc.jetstream()
            if "relay" in components:
                workers.append(asyncio.create_task(Relay(db, js, definition.name).run(stop)))
                tasks.append(asyncio.create_task(_maintenance(db, stop)))
            if "worker" in components and definition.subscriptions is not None:
                consumer = ConsumerRunner(db, js, definition.subscriptions(deps))
                workers.append(asyncio.create_task(consumer.run(stop)))
            if "worker" in components and definition.background is not None:
                for loop_fn in definition.background(deps):
                    workers.append(asyncio.create_task(loop_fn(stop)))
        await stop.wait()
    finally:
        if not bound.done():
            bound.set_exception(RuntimeError("component failed to start"))
        log.info("component stopping", extra={"components": sorted(components)})
        stop.set()
        if health_servicer is not None:
            await mark_stopping(health_servicer)
        if server is not None:
            await server.stop(settings.grpc.shutdown_grace_s)
        # Relay and consumers finish the message or batch in hand (they watch `stop`), then end.
        for t in [*workers, *tasks]:
            try:
                await asyncio.wait_for(t, timeout=settings.grpc.shutdown_grace_s)
            except Exception as exc:  # a task that ended in error, or did not end in time
                if not isinstance(exc, TimeoutError | asyncio.CancelledError):
                    log.error("component task failed", extra={"error": type(exc).__name__})
        if nc is not None:
            # drain() flushes what was published; it waits up to 30 s by default, too long for a
            # rolling update, and hangs on a connection that is reconnecting.
            try:
                await asyncio.wait_for(nc.drain(), timeout=min(settings.grpc.shutdown_grace_s, 5.0))
            except Exception:
                with contextlib.suppress(Exception):
                    await nc.close()
        if verifier is not None:
            await verifier.aclose()
        await db.dispose()


async def _maintenance(db: Database, stop: asyncio.Event, every_s: float = 600.0) -> None:
    """Cross-tenant housekeeping, run by the relay component (one per service): expired idempotency keys."""
    while not stop.is_set():
        try:
            async with db.unit_of_work(None, infrastructure=True) as uow:
                purged = await purge_expired(uow)
                await uow.commit()
            if purged:
                log.info("expired idempotency keys purged", extra={"count": purged})
        except Exception as exc:
            log.warning("maintenance pass failed", extra={"error": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)


async def _workers_ok(workers: list[asyncio.Task[Any]]) -> bool:
    return not any(t.done() for t in workers)


async def _nats_ok(nc: Nats | None) -> bool:
    return nc is not None and nc.is_connected


def main(definition: ServiceDefinition, argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    component = args[0] if args else "serve"
    if component not in COMPONENTS:
        print(f"usage: python -m {definition.name} {{{'|'.join(COMPONENTS)}}}", file=sys.stderr)
        raise SystemExit(2)
    settings = definition.settings_type.load()
    configure_logging(settings.service_name or definition.name, settings.log_level)
    configure_telemetry(definition.name.replace("_", "-"))
    if component == "migrate":
        from school_common.migrations import upgrade

        upgrade(definition.migrations_root, settings.database)
        log.info("migrations applied")
        return
    components = {"serve", "worker", "relay"} if component == "all" else {component}
    raise SystemExit(asyncio.run(_main(definition, settings, components)))


async def _main(definition: ServiceDefinition, settings: ServiceSettings, components: set[str]) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # before start-up, so an early SIGTERM is graceful too
        loop.add_signal_handler(sig, stopping.set)
    try:
        running = await start(definition, settings, components)
    except Exception as exc:
        log.error("component failed to start", extra={"error": type(exc).__name__, "detail": str(exc)[:200]})
        return 1
    if stopping.is_set():
        running.stop.set()
    loop.add_signal_handler(signal.SIGTERM, running.stop.set)
    loop.add_signal_handler(signal.SIGINT, running.stop.set)
    await running.task
    return 0

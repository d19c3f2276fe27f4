"""The outbox relay: publishes committed outbox rows to JetStream, at least once, oldest first.

Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` so a second relay (a rolling update) never
publishes the rows the first holds; each is published with ``Nats-Msg-Id`` = the row id, so a row published
twice (a relay killed after the publish and before its commit) is dropped by JetStream's duplicate window,
and the consumers' inbox catches anything older. A pass stops at the first row that fails and the relay
backs off as a whole, so later rows never overtake it; with one relay per service (the chart's default)
events leave in id order. The relay wakes on ``NOTIFY`` from the committing transaction and polls as a
fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from nats.js.client import JetStreamContext
from nats.js.errors import NoStreamResponseError
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from school_common.db import Database, asyncpg_dsn
from school_common.events.cloudevents import Event, stream_for, stream_subjects
from school_common.events.nats import ensure_stream_until
from school_common.events.outbox import channel_for
from school_common.telemetry import extract_context, inject_headers

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("school_common.events.relay")


class Relay:
    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        service: str,
        *,
        batch_size: int = 100,
        poll_interval_s: float = 1.0,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.db = db
        self.js = js
        self.service = service
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self.published = 0
        self.failures = 0  # consecutive failed passes

    async def run(self, stop: asyncio.Event) -> None:
        await self._ensure_stream(stop)
        try:
            while not stop.is_set():
                await self._listen()
                try:
                    count, failed = await self.publish_pending()
                except Exception as exc:  # the database is away: try again after a pause
                    log.warning("outbox relay pass failed", extra={"error": type(exc).__name__})
                    count, failed = 0, exc
                if isinstance(failed, NoStreamResponseError):  # the stream is gone (NATS lost its store)
                    await self._ensure_stream(stop)
                self.failures = self.failures + 1 if failed else 0
                if count >= self.batch_size and not failed:
                    continue
                pause = (
                    min(self.max_backoff_s, 0.5 * 2 ** min(self.failures, 10))
                    if failed
                    else self.poll_interval_s
                )
                await self._sleep(pause, stop, wake_early=not failed)
        finally:
            if self._listener is not None:
                with contextlib.suppress(Exception):
                    await self._listener.close()

    async def _ensure_stream(self, stop: asyncio.Event) -> None:
        await ensure_stream_until(self.js, stream_for(self.service), stream_subjects(self.service), stop)

    async def _sleep(self, seconds: float, stop: asyncio.Event, *, wake_early: bool) -> None:
        self._wake.clear()
        waiters = [asyncio.ensure_future(stop.wait())]
        if wake_early:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    async def _listen(self) -> None:
        """LISTEN on the service's channel; again after the database restarted (until then: polling)."""
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            conn = await asyncpg.connect(asyncpg_dsn(self.db.settings.url.get_secret_value()), timeout=5)
            await conn.add_listener(channel_for(self.service), lambda *_: self._wake.set())
            self._listener = conn
        except Exception:
            self._listener = None

    async def publish_pending(self) -> tuple[int, BaseException | None]:
        """Publishes one batch, oldest first, up to the first failure; returns (published, failure)."""
        async with self.db.unit_of_work(None, infrastructure=True) as uow:
            rows = (
                await uow.session.execute(
                    text(
                        "SELECT id, tenant_id, subject, type, source, payload, headers, created_at"
                        " FROM outbox_events WHERE published_at IS NULL"
                        " ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"
                    ),
                    {"n": self.batch_size},
                )
            ).all()
            if not rows:
                return 0, None
            done: list[Any] = []
            failure: BaseException | None = None
            for row in rows:
                try:
                    await self._publish(row)
                    done.append(row.id)
                except Exception as exc:
                    failure = exc
                    await uow.session.execute(
                        text(
                            "UPDATE outbox_events SET attempts = attempts + 1, last_error = :e WHERE id = :id"
                        ),
                        {"e": type(exc).__name__, "id": row.id},
                    )
                    log.warning(
                        "outbox publish failed; will retry",
                        extra={"event_id": str(row.id), "error": type(exc).__name__},
                    )
                    break
            if done:
                await uow.session.execute(
                    text("UPDATE outbox_events SET published_at = now() WHERE id = ANY(:ids)"), {"ids": done}
                )
            await uow.commit()
            self.published += len(done)
            return len(done), failure

    async def _publish(self, row: Any) -> None:
        stored: dict[str, str] = dict(row.headers or {})
        event = Event(
            id=str(row.id),
            type=row.type,
            source=row.source,
            subject=row.subject,
            tenant=row.tenant_id,
            data=bytes(row.payload),
            time=row.created_at,
            dataschema=stored.get("ce-dataschema", ""),
            actor=stored.get("ce-actor", ""),
        )
        parent = extract_context(stored)
        with _tracer.start_as_current_span(
            f"{row.subject} publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": row.subject,
                "messaging.message.id": event.id,
            },
        ):
            headers = inject_headers(event.headers())
            await self.js.publish(row.subject, event.data, headers=headers, timeout=5)

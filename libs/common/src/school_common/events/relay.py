"""The outbox relay: publishes committed outbox rows to JetStream, at least once, in order of creation.

Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` so several relays can run; each is published
with ``Nats-Msg-Id`` = the row id, so a row published twice (a relay killed after the publish and before
its commit) is dropped by JetStream's duplicate window, and the consumers' inbox catches anything older.
The relay wakes on ``NOTIFY`` from the committing transaction and polls as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from nats.js.client import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from school_common.db import Database, asyncpg_dsn
from school_common.events.cloudevents import Event, stream_for, stream_subjects
from school_common.events.nats import ensure_stream
from school_common.telemetry import extract_context

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
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_stream(self.js, stream_for(self.service), stream_subjects(self.service))
        listener = await self._listen()
        try:
            while not stop.is_set():
                try:
                    count = await self.publish_pending()
                except Exception:
                    log.exception("outbox relay pass failed")
                    count = 0
                if count >= self.batch_size:
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                    try:
                        await asyncio.wait(
                            waiters, timeout=self.poll_interval_s, return_when=asyncio.FIRST_COMPLETED
                        )
                    finally:
                        for w in waiters:
                            w.cancel()
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(asyncpg_dsn(self.db.settings.url.get_secret_value()), timeout=5)
            await conn.add_listener(f"outbox_{self.service}", lambda *_: self._wake.set())
            return conn
        except Exception:
            log.warning("outbox relay cannot LISTEN; polling only")
            return None

    async def publish_pending(self) -> int:
        """Publishes one batch; returns how many rows it published."""
        async with self.db.unit_of_work(None) as uow:
            rows = (
                await uow.session.execute(
                    text(
                        "SELECT id, tenant_id, subject, type, source, payload, headers, created_at, attempts"
                        " FROM outbox_events WHERE published_at IS NULL AND available_at <= now()"
                        " ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"
                    ),
                    {"n": self.batch_size},
                )
            ).all()
            if not rows:
                return 0
            done: list[Any] = []
            failed: tuple[Any, str] | None = None
            for row in rows:
                try:
                    await self._publish(row)
                    done.append(row.id)
                except Exception as exc:
                    failed = (row, type(exc).__name__)
                    break  # keep order: the rest waits for the next pass
            if done:
                await uow.session.execute(
                    text("UPDATE outbox_events SET published_at = now() WHERE id = ANY(:ids)"), {"ids": done}
                )
            if failed:
                row, error = failed
                backoff = min(self.max_backoff_s, 0.5 * 2 ** min(row.attempts, 10))
                await uow.session.execute(
                    text(
                        "UPDATE outbox_events SET attempts = attempts + 1, last_error = :e,"
                        " available_at = now() + make_interval(secs => :b) WHERE id = :id"
                    ),
                    {"e": error, "b": backoff, "id": row.id},
                )
                log.warning(
                    "outbox publish failed; will retry", extra={"event_id": str(row.id), "error": error}
                )
            await uow.commit()
            self.published += len(done)
            return len(done)

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
            headers = event.headers()
            from school_common.telemetry import inject_headers

            inject_headers(headers)
            await self.js.publish(row.subject, event.data, headers=headers, timeout=5)

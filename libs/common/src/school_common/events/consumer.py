"""The consumer runner: durable pull consumers, an inbox for exactly-once effects, dead letters.

For each message: open a unit of work for the event's tenant, record ``(consumer, source, id)`` in the
inbox (a duplicate ends here), run the handler, commit, then ack. A failing handler never acks: the
message is redelivered with backoff, and once a delivery numbered ``max_deliver`` or later fails in the
handler it is copied to ``school.dlq.<consumer>`` (stream ``DEAD_LETTERS``) with the error type, then
terminated. A failure of PostgreSQL itself is not the event's fault: it is redelivered without end and
never dead-lettered. JetStream's own delivery limit is off, so no message can run out of deliveries
without reaching the dead-letter stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import text

from school_common.auth import valid_tenant
from school_common.context import set_tenant
from school_common.db import Database, UnitOfWork
from school_common.events.cloudevents import Event
from school_common.events.nats import DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS, ensure_stream_until
from school_common.failures import is_transient
from school_common.telemetry import extract_context

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("school_common.events.consumer")

Handler = Callable[[Event, UnitOfWork], Awaitable[None]]


@dataclass
class Subscription:
    stream: str
    durable: str  # <consumer-service>-<purpose>
    handlers: dict[str, Handler]  # subject -> handler
    max_deliver: int = 5
    ack_wait_s: float = 30.0
    backoff_s: list[float] = field(default_factory=lambda: [1.0, 2.0, 5.0, 10.0])


class ConsumerRunner:
    def __init__(
        self, db: Database, js: JetStreamContext, subscriptions: list[Subscription], *, batch: int = 20
    ):
        self.db = db
        self.js = js
        self.subscriptions = subscriptions
        self.batch = batch
        self.processed = 0
        self.dead_lettered = 0

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_stream_until(self.js, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS, stop, max_age_days=30)
        tasks = [asyncio.create_task(self._run_one(s, stop)) for s in self.subscriptions]
        try:
            await stop.wait()
            # Each loop sees `stop` between batches and ends after the message in hand.
            await asyncio.wait(tasks, timeout=10)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    async def _subscribe(self, sub: Subscription, stop: asyncio.Event) -> object | None:
        config = ConsumerConfig(
            durable_name=sub.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=-1,  # the runner dead-letters (see the module docstring)
            ack_wait=sub.ack_wait_s,
            filter_subjects=sorted(sub.handlers),
        )
        delay = 0.5
        while not stop.is_set():
            try:
                # add_consumer creates the durable consumer or updates it to this configuration.
                await self.js.add_consumer(sub.stream, config=config)
                return await self.js.pull_subscribe_bind(durable=sub.durable, stream=sub.stream)
            except NotFoundError:
                log.info("waiting for stream", extra={"stream": sub.stream, "consumer": sub.durable})
            except Exception as exc:
                log.warning(
                    "cannot subscribe yet", extra={"consumer": sub.durable, "error": type(exc).__name__}
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 5.0)
        return None

    async def _run_one(self, sub: Subscription, stop: asyncio.Event) -> None:
        psub = await self._subscribe(sub, stop)
        while psub is not None and not stop.is_set():
            try:
                messages = await psub.fetch(self.batch, timeout=1.0)  # type: ignore[attr-defined]
            except (NatsTimeoutError, TimeoutError):
                continue
            except NotFoundError:
                log.warning("consumer or stream gone; subscribing again", extra={"consumer": sub.durable})
                psub = await self._subscribe(sub, stop)
                continue
            except Exception as exc:
                log.warning("fetch failed", extra={"consumer": sub.durable, "error": type(exc).__name__})
                await asyncio.sleep(1.0)
                continue
            for msg in messages:
                try:
                    await self.handle(sub, msg)
                except Exception as exc:  # acking or dead-lettering failed (NATS trouble): it comes back
                    log.warning(
                        "message left for redelivery",
                        extra={"consumer": sub.durable, "error": type(exc).__name__},
                    )

    async def handle(self, sub: Subscription, msg: Msg) -> None:
        try:
            event = Event.from_message(msg.subject, msg.headers, msg.data)
            if not valid_tenant(event.tenant):
                raise ValueError("ce-tenantid is not a tenant")
        except ValueError as exc:
            await self._dead_letter(sub, msg, f"invalid event: {exc}")
            return
        parent = extract_context({k: v for k, v in (msg.headers or {}).items()})
        with _tracer.start_as_current_span(
            f"{msg.subject} process",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": msg.subject,
                "messaging.consumer.group.name": sub.durable,
                "messaging.message.id": event.id,
            },
        ) as span:
            try:
                await self._process(sub, event)
            except Exception as exc:
                # The type only: an exception's text may carry SQL parameters, i.e. personal data.
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR))
                delivered = msg.metadata.num_delivered if msg.metadata else 1
                if is_transient(exc):
                    log.warning(
                        "event waits for the database", extra={"consumer": sub.durable, "event_id": event.id}
                    )
                    await msg.nak(delay=sub.backoff_s[-1])
                    return
                log.warning(
                    "event handler failed",
                    extra={
                        "consumer": sub.durable,
                        "event_id": event.id,
                        "delivery": delivered,
                        "error": type(exc).__name__,
                    },
                )
                if delivered >= sub.max_deliver:
                    await self._dead_letter(sub, msg, type(exc).__name__)
                else:
                    delay = sub.backoff_s[min(delivered - 1, len(sub.backoff_s) - 1)]
                    await msg.nak(delay=delay)
                return
            await msg.ack()
            self.processed += 1

    async def _process(self, sub: Subscription, event: Event) -> None:
        handler = sub.handlers.get(event.subject)
        set_tenant(event.tenant)
        async with self.db.unit_of_work(event.tenant) as uow:
            inserted = await uow.session.scalar(
                text(
                    "INSERT INTO inbox_events (consumer, source, event_id, tenant_id, type)"
                    " VALUES (:c, :s, :i, :t, :ty) ON CONFLICT DO NOTHING RETURNING 1"
                ),
                {"c": sub.durable, "s": event.source, "i": event.id, "t": event.tenant, "ty": event.type},
            )
            if inserted is None:
                log.info("duplicate event ignored", extra={"consumer": sub.durable, "event_id": event.id})
                return
            if handler is not None:
                await handler(event, uow)
            await uow.commit()

    async def _dead_letter(self, sub: Subscription, msg: Msg, error: str) -> None:
        headers = dict(msg.headers or {})
        headers.pop("Nats-Msg-Id", None)
        headers["school-dlq-error"] = error[:500]
        headers["school-dlq-original-subject"] = msg.subject
        headers["school-dlq-consumer"] = sub.durable
        await self.js.publish(f"school.dlq.{sub.durable}", msg.data, headers=headers, timeout=5)
        await msg.term()
        self.dead_lettered += 1
        log.error("event dead-lettered", extra={"consumer": sub.durable, "subject": msg.subject})

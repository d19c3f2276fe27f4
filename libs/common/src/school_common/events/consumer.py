"""The consumer runner: durable pull consumers, an inbox for exactly-once effects, dead letters.

For each message: open a unit of work for the event's tenant, record ``(consumer, source, id)`` in the
inbox (a duplicate ends here), run the handler, commit, then ack. A failing handler never acks: the
message is redelivered with backoff, and after ``max_deliver`` attempts it is copied to
``school.dlq.<consumer>`` (stream ``DEAD_LETTERS``) with the error, then terminated.
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

from school_common.context import set_tenant
from school_common.db import Database, UnitOfWork
from school_common.events.cloudevents import Event
from school_common.events.nats import DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS, ensure_stream
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
        await ensure_stream(self.js, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS, max_age_days=30)
        tasks = [asyncio.create_task(self._run_one(s, stop)) for s in self.subscriptions]
        try:
            await stop.wait()
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    async def _subscribe(self, sub: Subscription, stop: asyncio.Event) -> object:
        config = ConsumerConfig(
            durable_name=sub.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=sub.max_deliver,
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
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise asyncio.CancelledError

    async def _run_one(self, sub: Subscription, stop: asyncio.Event) -> None:
        psub = await self._subscribe(sub, stop)
        while not stop.is_set():
            try:
                messages = await psub.fetch(self.batch, timeout=1.0)  # type: ignore[attr-defined]
            except (NatsTimeoutError, TimeoutError):
                continue
            except Exception as exc:
                log.warning("fetch failed", extra={"consumer": sub.durable, "error": type(exc).__name__})
                await asyncio.sleep(1.0)
                continue
            for msg in messages:
                await self.handle(sub, msg)

    async def handle(self, sub: Subscription, msg: Msg) -> None:
        try:
            event = Event.from_message(msg.subject, msg.headers, msg.data)
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
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR))
                delivered = msg.metadata.num_delivered if msg.metadata else 1
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

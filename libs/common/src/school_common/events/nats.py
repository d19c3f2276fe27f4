"""NATS connection and JetStream stream provisioning."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from nats.aio.client import Client
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from school_common.settings import NatsSettings

log = logging.getLogger(__name__)

DEAD_LETTER_STREAM = "DEAD_LETTERS"
DEAD_LETTER_SUBJECTS = ["school.dlq.>"]


async def connect(settings: NatsSettings, name: str) -> Client:
    async def on_error(exc: Exception) -> None:
        log.warning("nats error", extra={"error": type(exc).__name__})

    return await nats.connect(
        settings.url,
        name=name,
        connect_timeout=settings.connect_timeout_s,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        allow_reconnect=True,
        error_cb=on_error,
    )


async def ensure_stream_until(
    js: JetStreamContext, name: str, subjects: list[str], stop: asyncio.Event, max_age_days: int = 7
) -> None:
    """:func:`ensure_stream`, retried with backoff until it works or ``stop`` is set (JetStream may
    still be starting, or NATS briefly away)."""
    delay = 0.5
    while not stop.is_set():
        try:
            await ensure_stream(js, name, subjects, max_age_days)
            return
        except Exception as exc:
            log.warning("cannot create stream yet", extra={"stream": name, "error": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(delay * 2, 10.0)


async def ensure_stream(js: JetStreamContext, name: str, subjects: list[str], max_age_days: int = 7) -> None:
    config = StreamConfig(
        name=name,
        subjects=subjects,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=max_age_days * 24 * 3600,
        duplicate_window=120,
    )
    try:
        await js.stream_info(name)
        await js.update_stream(config)
    except NotFoundError:
        await js.add_stream(config)

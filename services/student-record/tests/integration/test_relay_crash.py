"""A relay process killed (SIGKILL) in the middle of a batch: every event is stored once in JetStream."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid

import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy
from school.events.student_record.v1 import events_pb2 as events
from school_common.app import start
from school_common.db import Database
from school_common.events import Outbox
from school_common.settings import GrpcSettings, NatsSettings, ServiceSettings
from school_common.testing.servers import free_port
from sqlalchemy import text
from student_record.service import DEFINITION

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

EVENTS = 300
SUBJECT = "school.student_record.class.created.v1"


async def published(db: Database, tenant: str) -> int:
    async with db.unit_of_work(tenant) as uow:
        return int(
            await uow.session.scalar(
                text("SELECT count(*) FROM outbox_events WHERE published_at IS NOT NULL")
            )
        )


async def test_a_relay_killed_mid_batch_loses_nothing_and_stores_nothing_twice(make_database, nats_server):
    tenant = f"t-kill-{uuid.uuid4().hex[:6]}"
    settings = await make_database("student_record", DEFINITION.root)
    db = Database(settings)
    outbox = Outbox("student_record")
    async with db.unit_of_work(tenant) as uow:
        for _ in range(EVENTS):
            await outbox.add(uow, "class.created", events.ClassCreated(class_id=str(uuid.uuid4())))
        await uow.commit()

    nc = await nats.connect(nats_server.url)
    first_publish = asyncio.Event()

    async def seen(msg) -> None:
        if (msg.headers or {}).get("ce-tenantid") == tenant:
            first_publish.set()

    await nc.subscribe(SUBJECT, cb=seen)
    env = os.environ | {
        "DATABASE__URL": settings.url.get_secret_value(),
        "NATS__URL": nats_server.url,
        "GRPC__PORT": str(free_port()),
        "ENVIRONMENT": "test",
    }
    relay = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "student_record",
        "relay",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await asyncio.wait_for(first_publish.wait(), timeout=30)
        relay.send_signal(signal.SIGKILL)  # between publishing and committing its batch
        await relay.wait()
    finally:
        if relay.returncode is None:
            relay.kill()
    assert await published(db, tenant) < EVENTS, "the relay finished before it was killed"

    running = await start(
        DEFINITION,
        ServiceSettings(database=settings, nats=NatsSettings(url=nats_server.url), grpc=GrpcSettings(port=0)),
        {"relay"},
    )
    try:
        for _ in range(300):  # up to 30 s
            if await published(db, tenant) == EVENTS:
                break
            await asyncio.sleep(0.1)
        assert await published(db, tenant) == EVENTS
    finally:
        await running.shutdown()

    js = nc.jetstream()
    reader = await js.pull_subscribe(
        SUBJECT,
        durable=f"test-kill-{uuid.uuid4().hex[:6]}",
        stream="STUDENT_RECORD",
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    stored: list[str] = []
    while True:
        try:
            batch = await reader.fetch(500, timeout=1)
        except Exception:
            break
        stored += [m.headers["ce-id"] for m in batch if m.headers.get("ce-tenantid") == tenant]
    await nc.close()
    await db.dispose()
    assert len(stored) == EVENTS
    assert len(set(stored)) == EVENTS

"""The enrolment → roster path on real PostgreSQL and NATS JetStream: outbox, relay, consumer, inbox."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import nats
import pytest
from attendance.service import DEFINITION as ATTENDANCE
from nats.js.api import ConsumerConfig
from school.events.student_record.v1 import events_pb2 as events
from school.identity.v1 import identity_pb2 as idpb
from school.student_record.v1 import student_record_pb2 as pb
from school_common.access import Callers, ScopeResolver
from school_common.app import start
from school_common.context import Principal, set_principal
from school_common.db import Database
from school_common.events import Event, Outbox, Subscription
from school_common.settings import GrpcSettings, NatsSettings, ServiceSettings
from sqlalchemy import text
from student_record.enrolments.service import EnrolmentService
from student_record.schools.service import SchoolService
from student_record.service import DEFINITION as STUDENT_RECORD

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

SR_ROOT = Path(STUDENT_RECORD.root)
AT_ROOT = Path(ATTENDANCE.root)


def settings_for(db, nats_url: str) -> ServiceSettings:
    return ServiceSettings(database=db, nats=NatsSettings(url=nats_url), grpc=GrpcSettings(port=0))


@pytest.fixture(scope="module")
async def stack(make_database, nats_server):
    sr_db = await make_database("student_record", SR_ROOT)
    at_db = await make_database("attendance", AT_ROOT)
    sr, at = Database(sr_db), Database(at_db)
    yield {
        "sr_settings": settings_for(sr_db, nats_server.url),
        "at_settings": settings_for(at_db, nats_server.url),
        "sr": sr,
        "at": at,
        "nats": nats_server,
    }
    await sr.dispose()
    await at.dispose()


async def authority_scope(principal: Principal) -> idpb.GetAccessScopeResponse:
    return idpb.GetAccessScopeResponse(subject=principal.subject, tenant_wide=True)


class NoRegistrations:
    """These enrolments declare no guardian: identity is never asked to register anyone."""

    async def register_person(self, principal, person):
        raise AssertionError("no guardian is declared here")


async def enrol(stack, tenant: str, name: str = "Nguyễn Văn An"):
    set_principal(Principal(tenant=tenant, subject="admin", roles=frozenset({"authority_admin"})))
    outbox = Outbox("student_record")
    access = Callers(ScopeResolver(authority_scope))
    schools = SchoolService(stack["sr"], outbox, access)
    enrolments = EnrolmentService(stack["sr"], outbox, access, NoRegistrations())
    school = (
        await schools.create_school(
            pb.CreateSchoolRequest(name="Trường Tiểu học Nguyễn Trãi", levels=[pb.SCHOOL_LEVEL_PRIMARY])
        )
    ).school
    klass = getattr(
        await schools.create_class(
            pb.CreateClassRequest(school_id=school.id, name="1A", grade=1, school_year="2025-2026")
        ),
        "class",
    )
    response = await enrolments.enrol_student(
        pb.EnrolStudentRequest(
            class_id=klass.id,
            new_student=pb.NewStudent(full_name=name, date_of_birth="2019-03-01", sex=pb.SEX_FEMALE),
        )
    )
    return klass, response


async def roster(stack, tenant: str, class_id: str) -> list[str]:
    async with stack["at"].unit_of_work(tenant) as uow:
        return list(
            (
                await uow.session.scalars(
                    text("SELECT full_name FROM roster_entries WHERE class_id = CAST(:c AS uuid)"),
                    {"c": class_id},
                )
            ).all()
        )


async def wait_for(predicate, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = await predicate()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


async def test_enrolment_reaches_the_roster_within_5_seconds(stack):
    relay = await start(STUDENT_RECORD, stack["sr_settings"], {"relay"})
    worker = await start(ATTENDANCE, stack["at_settings"], {"worker"})
    try:
        klass, _ = await enrol(stack, "t-flow")
        began = time.monotonic()
        names = await wait_for(lambda: roster(stack, "t-flow", klass.id), timeout_s=5)
        assert names == ["Nguyễn Văn An"], f"not on the roster after {time.monotonic() - began:.1f}s"
    finally:
        await relay.shutdown()
        await worker.shutdown()


async def test_event_committed_while_no_relay_runs_is_delivered_later(stack):
    # The "relay killed between commit and publish" case: the row is committed, nothing published yet.
    klass, _ = await enrol(stack, "t-late")
    async with stack["sr"].unit_of_work("t-late") as uow:
        pending = await uow.session.scalar(
            text("SELECT count(*) FROM outbox_events WHERE tenant_id = 't-late' AND published_at IS NULL")
        )
    assert pending == 3  # school.created, class.created, student.enrolled
    relay = await start(STUDENT_RECORD, stack["sr_settings"], {"relay"})
    worker = await start(ATTENDANCE, stack["at_settings"], {"worker"})
    try:
        assert await wait_for(lambda: roster(stack, "t-late", klass.id)) == ["Nguyễn Văn An"]
    finally:
        await relay.shutdown()
        await worker.shutdown()


async def test_relay_crash_after_publish_and_redelivery_change_the_roster_once(stack):
    klass, enrolled = await enrol(stack, "t-dup", "Trần Thị Mai")
    worker = await start(ATTENDANCE, stack["at_settings"], {"worker"})
    nc = await nats.connect(stack["nats"].url)
    js = nc.jetstream()
    try:
        relay = await start(STUDENT_RECORD, stack["sr_settings"], {"relay"})
        assert await wait_for(lambda: roster(stack, "t-dup", klass.id)) == ["Trần Thị Mai"]
        await relay.shutdown()
        # A relay that published and died before marking the rows: they are published again.
        async with stack["sr"].unit_of_work("t-dup") as uow:
            await uow.session.execute(
                text("UPDATE outbox_events SET published_at = NULL WHERE tenant_id = 't-dup'")
            )
            await uow.commit()
        relay = await start(STUDENT_RECORD, stack["sr_settings"], {"relay"})
        await asyncio.sleep(1.0)
        await relay.shutdown()
        # And the same CloudEvent redelivered past JetStream's duplicate window (a new Nats-Msg-Id).
        async with stack["sr"].unit_of_work("t-dup") as uow:
            row = (
                await uow.session.execute(
                    text(
                        "SELECT id, subject, source, payload FROM outbox_events"
                        " WHERE tenant_id = 't-dup' AND subject LIKE '%student.enrolled%'"
                    )
                )
            ).one()
        event = Event(
            id=str(row.id),
            type=row.subject,
            source=row.source,
            subject=row.subject,
            tenant="t-dup",
            data=bytes(row.payload),
        )
        headers = event.headers() | {"Nats-Msg-Id": str(uuid.uuid4())}
        await js.publish(row.subject, event.data, headers=headers)
        await asyncio.sleep(1.0)
        assert await roster(stack, "t-dup", klass.id) == ["Trần Thị Mai"]
        assert await inbox_count(stack, "t-dup", str(row.id)) == 1
        assert enrolled.student.full_name == "Trần Thị Mai"
    finally:
        await worker.shutdown()
        await nc.close()


async def test_events_survive_a_nats_outage(stack):
    relay = await start(STUDENT_RECORD, stack["sr_settings"], {"relay"})
    worker = await start(ATTENDANCE, stack["at_settings"], {"worker"})
    try:
        stack["nats"].process.stop()
        klass, _ = await enrol(stack, "t-outage", "Lê Văn Hùng")  # the write does not need NATS
        await asyncio.sleep(1.5)
        assert await roster(stack, "t-outage", klass.id) == []
        stack["nats"].restart()
        assert await wait_for(lambda: roster(stack, "t-outage", klass.id), timeout_s=30) == ["Lê Văn Hùng"]
    finally:
        if not stack["nats"].process.alive():
            stack["nats"].restart()
        await relay.shutdown()
        await worker.shutdown()


async def run_consumer(stack, durable: str, handler, **kwargs):
    """A consumer runner on the attendance database with one subscription; returns (stop, task, js, nc)."""
    from school_common.events import ConsumerRunner
    from school_common.events.nats import ensure_stream

    nc = await nats.connect(stack["nats"].url)
    js = nc.jetstream()
    await ensure_stream(js, "STUDENT_RECORD", ["school.student_record.>"])
    # A subject of its own, so that the events of other tests do not reach this consumer.
    sub = Subscription(
        stream="STUDENT_RECORD",
        durable=durable,
        handlers={f"school.student_record.{durable.replace('-', '_')}.created.v1": handler},
        **kwargs,
    )
    stop = asyncio.Event()
    runner = ConsumerRunner(stack["at"], js, [sub])
    return stop, asyncio.create_task(runner.run(stop)), js, nc, runner


def class_created(tenant: str, durable: str) -> Event:
    subject = f"school.student_record.{durable.replace('-', '_')}.created.v1"
    return Event(
        id=str(uuid.uuid4()),
        type=subject,
        source="/school/student-record",
        subject=subject,
        tenant=tenant,
        data=events.ClassCreated(class_id=str(uuid.uuid4())).SerializeToString(),
    )


async def test_the_inbox_makes_a_redelivered_event_take_effect_once(stack):
    effects: list[str] = []

    async def not_idempotent(event: Event, uow) -> None:
        effects.append(event.id)

    durable = f"attendance-test-inbox-{uuid.uuid4().hex[:6]}"
    stop, task, js, nc, runner = await run_consumer(stack, durable, not_idempotent)
    try:
        event = class_created("t-inbox", durable)
        for _ in range(3):  # the same CloudEvent three times, past JetStream's de-duplication
            await js.publish(
                event.subject, event.data, headers=event.headers() | {"Nats-Msg-Id": str(uuid.uuid4())}
            )
        # All three deliveries are handled and acked (the runner counts acks), the effect happens once.
        assert await wait_for(lambda: asyncio.sleep(0, runner.processed >= 3), timeout_s=10)
        assert runner.processed == 3
        assert effects == [event.id]
    finally:
        stop.set()
        await task
        await nc.close()


async def inbox_count(stack, tenant: str, event_id: str) -> int:
    async with stack["at"].unit_of_work(tenant) as uow:
        return int(
            await uow.session.scalar(
                text("SELECT count(*) FROM inbox_events WHERE event_id = :i"), {"i": event_id}
            )
        )


async def test_failing_handler_never_acks_and_dead_letters_after_max_deliver(stack):
    from school_common.events.nats import DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS, ensure_stream

    attempts: list[str] = []

    async def failing(event: Event, uow) -> None:
        attempts.append(event.id)
        raise RuntimeError("handler bug")

    durable = f"attendance-test-dlq-{uuid.uuid4().hex[:6]}"
    stop, task, js, nc, runner = await run_consumer(stack, durable, failing, max_deliver=3, backoff_s=[0.1])
    await ensure_stream(js, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS)
    dlq = await js.pull_subscribe(
        f"school.dlq.{durable}",
        durable=f"{durable}-reader",
        stream=DEAD_LETTER_STREAM,
        config=ConsumerConfig(),
    )
    try:
        event = class_created("t-dlq", durable)
        await js.publish(event.subject, event.data, headers=event.headers())
        dead = await wait_for(lambda: _fetch(dlq), timeout_s=30)
        assert dead, "the event never reached the dead-letter subject"
        assert [m.headers["ce-id"] for m in dead] == [event.id]
        assert dead[0].headers["school-dlq-error"] == "RuntimeError"
        assert dead[0].headers["school-dlq-original-subject"] == event.subject
        assert attempts == [event.id] * 3  # never acked: delivered again until max_deliver
        assert runner.dead_lettered == 1
        assert await inbox_count(stack, "t-dlq", event.id) == 0  # the failed effect was rolled back
    finally:
        stop.set()
        await task
        await nc.close()


async def _fetch(psub):
    try:
        return await psub.fetch(50, timeout=0.2)
    except Exception:
        return []


async def test_a_database_outage_never_sends_events_to_the_dead_letters(stack):
    from sqlalchemy.exc import OperationalError

    attempts: list[str] = []

    async def database_away(event: Event, uow) -> None:
        attempts.append(event.id)
        if attempts.count(event.id) <= 5:  # more than max_deliver
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError())

    durable = f"attendance-test-outage-{uuid.uuid4().hex[:6]}"
    stop, task, js, nc, runner = await run_consumer(
        stack, durable, database_away, max_deliver=2, backoff_s=[0.05]
    )
    try:
        event = class_created("t-db-away", durable)
        await js.publish(event.subject, event.data, headers=event.headers())
        assert await wait_for(lambda: asyncio.sleep(0, attempts.count(event.id) >= 6), timeout_s=20)
        assert runner.dead_lettered == 0
        assert await inbox_count(stack, "t-db-away", event.id) == 1
    finally:
        stop.set()
        await task
        await nc.close()

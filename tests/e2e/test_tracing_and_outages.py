"""The real request path in one process, with its own PostgreSQL and NATS, and the stack's Keycloak tokens:
gateway → student-record (gRPC) → outbox → relay → JetStream → attendance consumer.

Owning the databases and the broker lets these tests take them down mid-journey without touching the
running stack.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from attendance.service import DEFINITION as ATTENDANCE
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from school_common.app import start
from school_common.settings import AuthSettings, GrpcSettings, NatsSettings, ServiceSettings
from school_common.telemetry import configure_telemetry
from student_record.service import DEFINITION as STUDENT_RECORD

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
async def path(stack, tokens, make_database, nats_server) -> AsyncIterator[dict[str, Any]]:
    configure_telemetry("e2e", extra_processors=[SimpleSpanProcessor(EXPORTER)])
    from gateway.app import create_app
    from gateway.settings import GatewaySettings, GrpcClientSettings, RateLimitSettings, ServicesSettings

    auth = AuthSettings(issuer_base_url=stack["keycloak"]["base_url"])
    running = []
    ports = {}
    for definition, components in ((STUDENT_RECORD, {"serve", "relay"}), (ATTENDANCE, {"serve", "worker"})):
        db = await make_database(definition.name, definition.root)
        settings = ServiceSettings(
            database=db,
            nats=NatsSettings(url=nats_server.url),
            auth=auth,
            grpc=GrpcSettings(port=0, readiness_interval_s=0.5),
        )
        service = await start(definition, settings, components)
        running.append(service)
        ports[definition.name] = service.port
    gateway_settings = GatewaySettings(
        auth=auth,
        services=ServicesSettings(
            student_record=f"127.0.0.1:{ports['student_record']}",
            attendance=f"127.0.0.1:{ports['attendance']}",
            # Access scopes come from the stack's identity (the path under test is student-record's).
            identity=stack["services"]["identity"]["grpc"],
            payments="",
            messaging="",
            health="",
        ),
        grpc=GrpcClientSettings(deadline_s=5.0, readiness_cache_s=0),
        rate_limit=RateLimitSettings(enabled=False),
    )
    app = create_app(gateway_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {tokens('demo', 'authority_admin')}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", headers=headers, timeout=20
        ) as api:
            yield {"api": api}
    for service in running:
        await service.shutdown()


async def make_class(api: httpx.AsyncClient) -> str:
    school = await api.post(
        "/v1/schools", json={"name": f"Trường {uuid.uuid4().hex[:6]}", "levels": ["primary"]}
    )
    assert school.status_code == 201, school.text
    klass = await api.post(
        f"/v1/schools/{school.json()['id']}/classes",
        json={"name": "2A", "grade": 2, "school_year": "2025-2026"},
    )
    assert klass.status_code == 201, klass.text
    return str(klass.json()["id"])


def enrolment(name: str) -> dict[str, Any]:
    return {"student": {"full_name": name, "date_of_birth": "2018-01-15", "sex": "female"}}


async def roster(api: httpx.AsyncClient, class_id: str) -> list[str]:
    response = await api.get(f"/v1/attendance/classes/{class_id}/roster")
    return [e["full_name"] for e in response.json()["entries"]] if response.status_code == 200 else []


async def eventually(predicate, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = await predicate()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def test_one_trace_from_the_gateway_to_the_consumer(path):
    api = path["api"]
    class_id = await make_class(api)
    EXPORTER.clear()
    response = await api.post(f"/v1/classes/{class_id}/students", json=enrolment("Đinh Thị Thu Hà"))
    assert response.status_code == 201, response.text
    assert await eventually(lambda: roster(api, class_id), 10) == ["Đinh Thị Thu Hà"]

    def spans_named(fragment: str, kind: SpanKind | None = None) -> list:
        return [
            s
            for s in EXPORTER.get_finished_spans()
            if fragment in s.name and (kind is None or s.kind == kind)
        ]

    consumed = await eventually(
        lambda: asyncio.sleep(0, spans_named("student.enrolled.v1 process", SpanKind.CONSUMER)), 5
    )
    assert consumed, "no consumer span"
    trace_id = consumed[0].context.trace_id
    in_trace = [s for s in EXPORTER.get_finished_spans() if s.context.trace_id == trace_id]
    kinds = {(s.kind, s.name) for s in in_trace}
    assert any(k == SpanKind.SERVER and "/v1/classes" in n for k, n in kinds), kinds  # gateway HTTP
    assert any(k == SpanKind.CLIENT and "EnrolStudent" in n for k, n in kinds), kinds  # gateway → gRPC
    assert any(k == SpanKind.SERVER and "EnrolStudent" in n for k, n in kinds), kinds  # student-record
    assert any(k == SpanKind.PRODUCER and n.endswith("student.enrolled.v1 publish") for k, n in kinds), kinds
    # Nothing personal in span attributes.
    for span in in_trace:
        assert "Đinh" not in str(dict(span.attributes or {}))


async def test_a_database_outage_is_a_clear_503_and_nothing_is_half_written(path, postgres_server):
    api = path["api"]
    class_id = await make_class(api)
    key = f"outage-{uuid.uuid4()}"
    postgres_server.process.stop()
    try:
        response = await api.post(
            f"/v1/classes/{class_id}/students",
            json=enrolment("Hồ Ngọc Trâm"),
            headers={"Idempotency-Key": key},
        )
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "retry-after" in {h.lower() for h in response.headers}
    finally:
        postgres_server.restart_stopped()
    retried = await eventually(lambda: _post_ok(api, class_id, key), 30)
    assert retried is not None, "the service did not recover after the database came back"
    students = (await api.get(f"/v1/classes/{class_id}/students")).json()["items"]
    assert [s["full_name"] for s in students] == ["Hồ Ngọc Trâm"]


async def _post_ok(api: httpx.AsyncClient, class_id: str, key: str) -> httpx.Response | None:
    response = await api.post(
        f"/v1/classes/{class_id}/students", json=enrolment("Hồ Ngọc Trâm"), headers={"Idempotency-Key": key}
    )
    return response if response.status_code == 201 else None


async def test_a_nats_outage_delays_events_and_loses_none(path, nats_server):
    api = path["api"]
    class_id = await make_class(api)
    await eventually(lambda: _class_known(api, class_id), 10)
    nats_server.process.stop()
    try:
        response = await api.post(f"/v1/classes/{class_id}/students", json=enrolment("Mai Anh Tuấn"))
        assert response.status_code == 201, response.text  # the write needs only PostgreSQL
        await asyncio.sleep(1)
        assert await roster(api, class_id) == []
    finally:
        nats_server.restart()
    assert await eventually(lambda: roster(api, class_id), 30) == ["Mai Anh Tuấn"]


async def _class_known(api: httpx.AsyncClient, class_id: str) -> bool:
    return (await api.get(f"/v1/attendance/classes/{class_id}/roster")).status_code == 200

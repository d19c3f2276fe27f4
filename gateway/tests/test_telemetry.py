"""One trace from the HTTP request through the gRPC call: the lead follows it on to NATS and consumers."""

from __future__ import annotations

import grpc
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from school_common.telemetry import configure_telemetry

from gateway.tests.conftest import MakeClient
from gateway.tests.support import SCHOOL_ID, Failure, Fakes, bearer


async def test_grpc_client_span_is_a_child_of_the_http_server_span(
    make_client: MakeClient, fakes: Fakes, token: str
) -> None:
    exporter = InMemorySpanExporter()
    configure_telemetry("gateway-test", [SimpleSpanProcessor(exporter)])
    fakes.student_record.recorder.failures["ListClasses"] = Failure(
        grpc.StatusCode.NOT_FOUND, "Không tìm thấy trường / school not found", "SCHOOL_NOT_FOUND"
    )
    async with make_client() as client:
        ok = await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(token))
        missing = await client.get(f"/v1/schools/{SCHOOL_ID}/classes", headers=bearer(token))
    assert ok.status_code == 200

    spans = exporter.get_finished_spans()
    [server] = [s for s in spans if s.kind == SpanKind.SERVER and s.name == "GET /v1/schools/{school_id}"]
    [client_span] = [s for s in spans if s.kind == SpanKind.CLIENT and s.name.endswith("/GetSchool")]
    assert client_span.parent is not None
    assert client_span.parent.span_id == server.context.span_id
    assert client_span.context.trace_id == server.context.trace_id

    # The trace context crosses into the service in the call metadata.
    traceparent = fakes.student_record.recorder.calls[0].metadata["traceparent"]
    assert traceparent.split("-")[1] == format(server.context.trace_id, "032x")

    # Problems name their trace, for support.
    [failed] = [
        s
        for s in exporter.get_finished_spans()
        if s.kind == SpanKind.SERVER and s.name == "GET /v1/schools/{school_id}/classes"
    ]
    assert missing.json()["trace_id"] == format(failed.context.trace_id, "032x")

    # No personal data or token in span attributes.
    for span in exporter.get_finished_spans():
        assert token not in str(dict(span.attributes or {}))

"""OpenTelemetry, configured only by the standard ``OTEL_*`` variables.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, spans go to that collector; without it, the tracer provider
still makes spans (so trace ids reach logs and travel in ``traceparent``) but exports nothing.
Context crosses gRPC through the gRPC instrumentation and NATS through the ``traceparent`` header
(see :mod:`school_common.events`).
"""

from __future__ import annotations

import os

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured = False


def configure_telemetry(
    service_name: str, extra_processors: list[SpanProcessor] | None = None
) -> TracerProvider:
    """Installs the global tracer provider once per process and returns it."""
    global _configured
    current = trace.get_tracer_provider()
    if _configured and isinstance(current, TracerProvider):
        for processor in extra_processors or []:
            current.add_span_processor(processor)
        return current
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    if (
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        and os.environ.get("OTEL_TRACES_EXPORTER", "otlp") != "none"
    ):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for processor in extra_processors or []:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _configured = True
    return provider


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Adds ``traceparent`` (and ``tracestate``) of the current context to ``headers``."""
    propagate.inject(headers)
    return headers


def extract_context(headers: dict[str, str]) -> Context:
    return propagate.extract(headers)


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)

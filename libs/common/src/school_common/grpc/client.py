"""Client helpers: channels with OpenTelemetry, call metadata carrying the caller's token."""

from __future__ import annotations

import grpc


def channel(target: str) -> grpc.aio.Channel:
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return grpc.aio.insecure_channel(
        target,
        interceptors=aio_client_interceptors(),
        options=[("grpc.keepalive_time_ms", 30000), ("grpc.enable_retries", 1)],
    )


def auth_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)

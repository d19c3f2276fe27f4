"""Client helpers: channels with OpenTelemetry, call metadata carrying the caller's token."""

from __future__ import annotations

import grpc


def channel(target: str, max_receive_message_bytes: int | None = None) -> grpc.aio.Channel:
    """A client channel with OTel; ``max_receive_message_bytes`` raises gRPC's 4 MiB limit on answers for
    callers that receive documents (a signed transcript, an exported spreadsheet)."""
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    options: list[tuple[str, int]] = [("grpc.keepalive_time_ms", 30000), ("grpc.enable_retries", 1)]
    if max_receive_message_bytes is not None:
        options.append(("grpc.max_receive_message_length", max_receive_message_bytes))
    return grpc.aio.insecure_channel(target, interceptors=aio_client_interceptors(), options=options)


def auth_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)

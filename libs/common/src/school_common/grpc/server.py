"""The gRPC server every component runs: health (liveness ``""`` and ``readiness``), reflection outside
production, OpenTelemetry, the platform interceptor, and graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from school_common.auth import TokenVerifier
from school_common.grpc.interceptors import ServerInterceptor
from school_common.settings import GrpcSettings

log = logging.getLogger(__name__)

READINESS = "readiness"

ReadinessCheck = Callable[[], Awaitable[bool]]


def build_server(
    settings: GrpcSettings,
    *,
    domain: str,
    verifier: TokenVerifier | None,
    register: Iterable[Callable[[grpc.aio.Server], None]] = (),
    service_names: Iterable[str] = (),
    reflection_enabled: bool = False,
    public_methods: Iterable[str] = (),
) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    server = grpc.aio.server(
        interceptors=[
            aio_server_interceptor(),
            ServerInterceptor(
                verifier, domain, settings.default_deadline_s, settings.max_deadline_s, public_methods
            ),
        ],
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", settings.max_receive_message_bytes),
        ],
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for add in register:
        add(server)
    if reflection_enabled:  # answers without a token: development and test only
        names = [
            *service_names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ]
        reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port(f"{settings.host}:{settings.port}")
    if port == 0:
        raise RuntimeError(f"cannot bind gRPC on {settings.host}:{settings.port}")
    return server, health_servicer, port


async def follow_readiness(
    health_servicer: health.aio.HealthServicer,
    checks: dict[str, ReadinessCheck],
    interval_s: float,
    stop: asyncio.Event,
) -> None:
    """Sets ``readiness`` SERVING while every check passes; logs each change."""
    last: bool | None = None
    while not stop.is_set():
        results = {}
        for name, check in checks.items():
            try:
                results[name] = await asyncio.wait_for(check(), timeout=max(interval_s, 1.0))
            except Exception:
                results[name] = False
        ok = all(results.values())
        if ok != last:
            status = (
                health_pb2.HealthCheckResponse.SERVING if ok else health_pb2.HealthCheckResponse.NOT_SERVING
            )
            await health_servicer.set(READINESS, status)
            log.info(
                "readiness changed", extra={"ready": ok, **{f"check_{k}": v for k, v in results.items()}}
            )
            last = ok
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)


async def mark_live(health_servicer: health.aio.HealthServicer) -> None:
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set(READINESS, health_pb2.HealthCheckResponse.NOT_SERVING)


async def mark_stopping(health_servicer: health.aio.HealthServicer) -> None:
    """On SIGTERM: stop taking new work before the listener closes."""
    await health_servicer.enter_graceful_shutdown()

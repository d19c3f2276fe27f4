"""gRPC channels to the backend services: one per service, opened at start-up, closed at shutdown.

Every call carries the caller's own bearer token (the service verifies it again) and a deadline; the few
methods a service declares public are called with no token at all (:meth:`Backends.call_public`). Channels
come from :func:`school_common.grpc.client.channel`, so each call is a client span, child of the HTTP
request's span, with ``traceparent`` in the call metadata.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from school.attendance.v1 import attendance_pb2_grpc
from school.identity.v1 import identity_pb2_grpc
from school.student_record.v1 import student_record_pb2_grpc
from school_common.context import Principal
from school_common.grpc.client import auth_metadata, channel

from gateway.problems import FieldNames, ProblemError, from_rpc_error
from gateway.schemas import CheckState
from gateway.settings import GatewaySettings

R = TypeVar("R")

# The health-service name every component reports readiness under (school_common.grpc.server.READINESS,
# not imported: that module pulls in the database stack the gateway does not use).
READINESS = "readiness"

# The services the gateway's routes call today; /readyz checks these.
ROUTED_SERVICES = ("identity", "student_record", "attendance")


class Backends:
    def __init__(self, settings: GatewaySettings) -> None:
        self.deadline_s = settings.grpc.deadline_s
        self.readiness_timeout_s = settings.grpc.readiness_timeout_s
        self.readiness_cache_s = settings.grpc.readiness_cache_s
        self.channels: dict[str, grpc.aio.Channel] = {
            name: channel(target, settings.grpc.max_receive_message_bytes)
            for name, target in settings.services.configured().items()
        }
        self._readiness: tuple[float, dict[str, CheckState]] | None = None
        self._readiness_lock = asyncio.Lock()

    def _channel(self, name: str) -> grpc.aio.Channel:
        found = self.channels.get(name)
        if found is None:
            raise ProblemError(
                503, "SERVICE_NOT_CONFIGURED", "Dịch vụ chưa được cấu hình / service not configured"
            )
        return found

    @property
    def identity(self) -> identity_pb2_grpc.IdentityServiceStub:
        return identity_pb2_grpc.IdentityServiceStub(self._channel("identity"))

    @property
    def student_record(self) -> student_record_pb2_grpc.StudentRecordServiceStub:
        return student_record_pb2_grpc.StudentRecordServiceStub(self._channel("student_record"))

    @property
    def attendance(self) -> attendance_pb2_grpc.AttendanceServiceStub:
        return attendance_pb2_grpc.AttendanceServiceStub(self._channel("attendance"))

    async def call(
        self,
        method: Callable[..., Awaitable[R]],
        request: Any,
        principal: Principal,
        field_names: FieldNames | None = None,
        timeout_s: float | None = None,
    ) -> R:
        """Calls ``method`` as ``principal``; a failure becomes the matching problem. ``timeout_s``
        overrides the deadline for the few calls that are long by nature (provisioning a realm)."""
        return await self._invoke(method, request, auth_metadata(principal.token), field_names, timeout_s)

    async def call_public(
        self,
        method: Callable[..., Awaitable[R]],
        request: Any,
        field_names: FieldNames | None = None,
        timeout_s: float | None = None,
    ) -> R:
        """Calls one of the few methods a service declares public (``ServiceDefinition.public_methods``,
        e.g. transcript verification) for an anonymous visitor: no ``authorization`` metadata at all, so
        no token, the caller's or the gateway's, ever travels with it."""
        return await self._invoke(method, request, (), field_names, timeout_s)

    async def _invoke(
        self,
        method: Callable[..., Awaitable[R]],
        request: Any,
        metadata: tuple[tuple[str, str], ...],
        field_names: FieldNames | None,
        timeout_s: float | None,
    ) -> R:
        try:
            return await method(request, metadata=metadata, timeout=timeout_s or self.deadline_s)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error, _method_name(method), field_names) from None

    async def readiness(self) -> dict[str, CheckState]:
        """``serving`` / ``failing`` / ``not_configured`` for each routed service (briefly cached)."""
        async with self._readiness_lock:
            now = time.monotonic()
            if self._readiness and now - self._readiness[0] < self.readiness_cache_s:
                return self._readiness[1]
            names = list(ROUTED_SERVICES)
            results = await asyncio.gather(*(self._check(name) for name in names))
            checks = dict(zip(names, results, strict=True))
            self._readiness = (time.monotonic(), checks)
            return checks

    async def _check(self, name: str) -> CheckState:
        found = self.channels.get(name)
        if found is None:
            return "not_configured"
        stub = health_pb2_grpc.HealthStub(found)
        try:
            response = await stub.Check(
                health_pb2.HealthCheckRequest(service=READINESS), timeout=self.readiness_timeout_s
            )
        except grpc.aio.AioRpcError:
            return "failing"
        return "serving" if response.status == health_pb2.HealthCheckResponse.SERVING else "failing"

    async def close(self, grace_s: float | None = None) -> None:
        await asyncio.gather(*(c.close(grace_s) for c in self.channels.values()), return_exceptions=True)


def _method_name(method: object) -> str:
    raw = getattr(method, "_method", b"")
    return raw.decode() if isinstance(raw, bytes) else str(raw or "unknown")

"""Every service runs the way the platform promises: health and readiness, nothing without a token."""

from __future__ import annotations

import asyncio
import importlib

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from school_common.grpc.status import parse_rpc_error
from school_common.settings import AuthSettings

pytestmark = pytest.mark.asyncio(loop_scope="session")

SERVICES = ["identity", "student_record", "attendance", "payments", "messaging", "health"]


@pytest.mark.parametrize("module", SERVICES)
async def test_a_service_serves_health_and_refuses_every_rpc_without_a_token(start_service, module):
    """Every RPC but those a service declares public (``ServiceDefinition.public_methods``)."""
    definition = importlib.import_module(f"{module}.service").DEFINITION
    running = await start_service(
        definition, {"serve", "relay"}, auth=AuthSettings(issuer_base_url="http://127.0.0.1:9")
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        live = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        assert live.status == health_pb2.HealthCheckResponse.SERVING
        for _ in range(50):
            status = (
                await health.Check(health_pb2.HealthCheckRequest(service="readiness"), timeout=2)
            ).status
            if status == health_pb2.HealthCheckResponse.SERVING:
                break
            await asyncio.sleep(0.1)
        assert status == health_pb2.HealthCheckResponse.SERVING
        proto = importlib.import_module(f"school.{module}.v1.{module}_pb2")
        for service_name in definition.service_names:
            service = proto.DESCRIPTOR.services_by_name[service_name.rsplit(".", 1)[1]]
            for method in service.methods:
                name = f"/{service.full_name}/{method.name}"
                if name in definition.public_methods:
                    continue
                call = channel.unary_unary(name)
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await call(b"", timeout=5)  # an empty message is a valid request of any type
                error = parse_rpc_error(caught.value)
                assert (error.code, error.reason) == (grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN"), (
                    method.name
                )


@pytest.mark.parametrize("module", ["payments", "messaging", "health"])
async def test_a_skeleton_service_describes_itself(module):
    servicer = importlib.import_module(f"{module}.grpc.servicer")
    proto = importlib.import_module(f"school.{module}.v1.{module}_pb2")
    cls = next(
        v for k, v in vars(servicer).items() if k.endswith("Servicer") and not k.endswith("ServiceServicer")
    )
    info = await cls().GetServiceInfo(proto.GetServiceInfoRequest(), None)
    assert info.name == module
    assert info.version

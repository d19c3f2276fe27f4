"""payments runs as the platform's services do: health, readiness, and nothing without a token."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from payments.grpc.servicer import PaymentsServicer
from payments.service import DEFINITION
from school.payments.v1 import payments_pb2 as pb
from school.payments.v1 import payments_pb2_grpc as pb_grpc
from school_common.grpc.status import parse_rpc_error
from school_common.settings import AuthSettings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_it_serves_health_and_refuses_callers_without_a_token(start_service):
    running = await start_service(
        DEFINITION, {"serve", "relay"}, auth=AuthSettings(issuer_base_url="http://127.0.0.1:9")
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(50):
            status = (
                await health.Check(health_pb2.HealthCheckRequest(service="readiness"), timeout=2)
            ).status
            if status == health_pb2.HealthCheckResponse.SERVING:
                break
            await asyncio.sleep(0.1)
        assert status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.PaymentsServiceStub(channel).GetServiceInfo(pb.GetServiceInfoRequest(), timeout=5)
        assert parse_rpc_error(caught.value).reason == "MISSING_TOKEN"


async def test_it_describes_itself():
    info = await PaymentsServicer().GetServiceInfo(pb.GetServiceInfoRequest(), None)  # type: ignore[arg-type]
    assert info.name == "payments"
    assert info.version

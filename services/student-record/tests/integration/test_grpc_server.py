"""The service's gRPC server as deployed: health and readiness, authentication, errors with ErrorInfo."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from school.student_record.v1 import student_record_pb2 as pb
from school.student_record.v1 import student_record_pb2_grpc as pb_grpc
from school_common.grpc.status import parse_rpc_error
from school_common.settings import AuthSettings
from student_record.service import DEFINITION

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
async def server(start_service):
    # Auth points where nothing listens: no token can verify, which is what these tests need.
    running = await start_service(
        DEFINITION, {"serve"}, auth=AuthSettings(issuer_base_url="http://127.0.0.1:9")
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield channel


async def check(channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return (await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)).status


async def test_liveness_and_readiness_are_served_without_a_token(server):
    assert await check(server, "") == health_pb2.HealthCheckResponse.SERVING
    for _ in range(50):
        if await check(server, "readiness") == health_pb2.HealthCheckResponse.SERVING:
            break
        await asyncio.sleep(0.1)
    assert await check(server, "readiness") == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    "metadata", [(), (("authorization", "Bearer not-a-jwt"),), (("authorization", "Basic x"),)]
)
async def test_calls_without_a_valid_token_are_unauthenticated_with_a_reason(server, metadata):
    stub = pb_grpc.StudentRecordServiceStub(server)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListSchools(pb.ListSchoolsRequest(), metadata=metadata, timeout=5)
    error = parse_rpc_error(caught.value)
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.reason in {"MISSING_TOKEN", "INVALID_TOKEN"}
    assert error.domain == "student-record.school"
    assert "/" in error.message  # Vietnamese / English

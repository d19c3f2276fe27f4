"""The gRPC runtime every component shares: deadlines, error mapping, and SIGTERM handling of a real
service process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from school_common.errors import NotFound
from school_common.grpc.interceptors import ServerInterceptor
from school_common.grpc.status import parse_rpc_error
from school_common.testing.servers import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def serve_slow(default_deadline_s: float, max_deadline_s: float):
    async def slow(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await asyncio.sleep(float(request.decode() or "0"))
        return b"done"

    async def missing(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise NotFound("THING_NOT_FOUND", "Không tìm thấy / not found", {"field": "thing_id"})

    handlers = grpc.method_handlers_generic_handler(
        "test.Slow",
        {
            "Sleep": grpc.unary_unary_rpc_method_handler(slow),
            "Missing": grpc.unary_unary_rpc_method_handler(missing),
        },
    )
    server = grpc.aio.server(
        interceptors=[ServerInterceptor(None, "test.school", default_deadline_s, max_deadline_s)]
    )
    server.add_generic_rpc_handlers((handlers,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, grpc.aio.insecure_channel(f"127.0.0.1:{port}")


async def test_a_call_without_deadline_gets_the_default_one():
    server, channel = await serve_slow(default_deadline_s=0.3, max_deadline_s=5)
    try:
        sleep = channel.unary_unary("/test.Slow/Sleep")
        assert await sleep(b"0", timeout=5) == b"done"
        began = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await sleep(b"3")  # no deadline from the caller
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - began < 2
    finally:
        await channel.close()
        await server.stop(0)


async def test_a_deadline_longer_than_the_maximum_is_capped():
    server, channel = await serve_slow(default_deadline_s=5, max_deadline_s=0.3)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await channel.unary_unary("/test.Slow/Sleep")(b"3", timeout=30)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    finally:
        await channel.close()
        await server.stop(0)


async def test_domain_errors_become_status_with_error_info():
    server, channel = await serve_slow(default_deadline_s=5, max_deadline_s=5)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await channel.unary_unary("/test.Slow/Missing")(b"", timeout=5)
        error = parse_rpc_error(caught.value)
        assert error.code == grpc.StatusCode.NOT_FOUND
        assert (error.reason, error.domain, error.metadata) == (
            "THING_NOT_FOUND",
            "test.school",
            {"field": "thing_id"},
        )
        assert error.message == "Không tìm thấy / not found"
    finally:
        await channel.close()
        await server.stop(0)


async def test_a_service_process_stops_gracefully_on_sigterm(make_database):
    from identity.service import DEFINITION

    db = await make_database("identity", DEFINITION.root)
    port = free_port()
    env = os.environ | {
        "DATABASE__URL": db.url.get_secret_value(),
        "GRPC__PORT": str(port),
        "ENVIRONMENT": "test",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "identity",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for _ in range(100):
                try:
                    response = await stub.Check(health_pb2.HealthCheckRequest(service="readiness"), timeout=1)
                    if response.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.2)
            else:
                pytest.fail("the service never became ready")
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
        assert process.returncode == 0
        lines = [json.loads(line) for line in output.decode().splitlines() if line.strip()]  # JSON lines only
        assert [entry["message"] for entry in lines][-1] == "component stopping"
        assert all(entry["service"] == "identity" for entry in lines)
    finally:
        if process.returncode is None:
            process.kill()


async def test_a_port_in_use_fails_the_start_instead_of_hanging(make_database):
    from health.service import DEFINITION
    from school_common.app import start
    from school_common.settings import GrpcSettings, ServiceSettings

    db = await make_database("health", DEFINITION.root)
    first = await start(DEFINITION, ServiceSettings(database=db, grpc=GrpcSettings(port=0)), {"serve"})
    try:
        taken = ServiceSettings(database=db, grpc=GrpcSettings(port=first.port))
        with pytest.raises(RuntimeError, match=r"(?i)bind|port"):
            await asyncio.wait_for(start(DEFINITION, taken, {"serve"}), timeout=10)
    finally:
        await first.shutdown()


@pytest.mark.parametrize(("environment", "served"), [("development", True), ("production", False)])
async def test_reflection_is_served_outside_production_only(start_service, environment, served):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
    from health.service import DEFINITION

    running = await start_service(DEFINITION, {"serve"}, environment=environment)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        if served:
            names = [s.name async for r in call for s in r.list_services_response.service]
            assert "school.health.v1.HealthService" in names
        else:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                async for _ in call:
                    pass
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED

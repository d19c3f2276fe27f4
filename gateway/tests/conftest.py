"""Fixtures for the gateway's unit tests (helpers and fakes live in ``support.py``)."""

from __future__ import annotations

import importlib
import sys

# pytest's importlib import mode names this file "gateway.tests.conftest" and, before the real package
# is imported, registers the project folder gateway/ as a namespace package "gateway", hiding
# gateway/src/gateway. Swap in the real package before anything imports from it.
_shadow = sys.modules.get("gateway")
if _shadow is not None and getattr(_shadow, "__file__", None) is None:
    del sys.modules["gateway"]
    importlib.import_module("gateway")

from collections.abc import AsyncIterator, Callable  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from school.attendance.v1 import attendance_pb2_grpc as att_grpc  # noqa: E402
from school.identity.v1 import identity_pb2_grpc as idn_grpc  # noqa: E402
from school.student_record.v1 import student_record_pb2_grpc as sr_grpc  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.settings import GatewaySettings  # noqa: E402
from gateway.tests.support import (  # noqa: E402
    FakeAttendance,
    FakeIdentity,
    Fakes,
    FakeStudentRecord,
    GatewayClient,
    Keys,
    MakeToken,
    gateway_settings,
    new_keys,
    serve_fake,
    token_factory,
    verifier_for,
)


@pytest.fixture(scope="session")
def keys() -> Keys:
    return new_keys()


@pytest.fixture(scope="session")
def make_token(keys: Keys) -> MakeToken:
    return token_factory(keys)


@pytest.fixture(scope="session")
def token(make_token: MakeToken) -> str:
    return make_token(subject="0193a4c2-0000-7000-8000-000000000001")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def fake_backends() -> AsyncIterator[Fakes]:
    sr_server, sr_backend = await serve_fake(
        "student-record.school",
        lambda s, r: sr_grpc.add_StudentRecordServiceServicer_to_server(FakeStudentRecord(r), s),
    )
    att_server, att_backend = await serve_fake(
        "attendance.school",
        lambda s, r: att_grpc.add_AttendanceServiceServicer_to_server(FakeAttendance(r), s),
    )
    idn_server, idn_backend = await serve_fake(
        "identity.school",
        lambda s, r: idn_grpc.add_IdentityServiceServicer_to_server(FakeIdentity(r), s),
    )
    try:
        yield Fakes(sr_backend, att_backend, idn_backend)
    finally:
        await sr_server.stop(None)
        await att_server.stop(None)
        await idn_server.stop(None)


@pytest_asyncio.fixture(loop_scope="session")
async def fakes(fake_backends: Fakes) -> AsyncIterator[Fakes]:
    """The session's fake backends, reset before each test."""
    for backend in fake_backends.all():
        backend.recorder.reset()
        await backend.set_ready(True)
    yield fake_backends


MakeClient = Callable[..., Any]


@pytest.fixture
def make_client(fakes: Fakes, keys: Keys) -> MakeClient:
    """``async with make_client(**settings_overrides) as client``: a gateway with its lifespan running."""

    @asynccontextmanager
    async def make(
        settings: GatewaySettings | None = None, client_ip: str = "127.0.0.1", **overrides: Any
    ) -> AsyncIterator[GatewayClient]:
        app = create_app(settings or gateway_settings(fakes, **overrides), verifier=verifier_for(keys))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(client_ip, 40000))
        try:
            async with (
                app.router.lifespan_context(app),
                GatewayClient(transport=transport, base_url="http://gateway.test") as client,
            ):
                client.app = app
                yield client
        finally:
            await app.state.verifier.aclose()

    return make


@pytest_asyncio.fixture(loop_scope="session")
async def client(make_client: MakeClient) -> AsyncIterator[GatewayClient]:
    async with make_client() as c:
        yield c

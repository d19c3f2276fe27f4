"""Test support for the gateway: token helpers and fake backends implementing our own gRPC contracts.

The backends are tiny in-process grpc.aio servers with canned answers (or a chosen status + ErrorInfo);
tokens are real RS256 JWTs whose keys are served as a realm's JWKS through ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from school.attendance.v1 import attendance_pb2 as att
from school.attendance.v1 import attendance_pb2_grpc as att_grpc
from school.student_record.v1 import student_record_pb2 as sr
from school.student_record.v1 import student_record_pb2_grpc as sr_grpc
from school_common.auth import TokenVerifier
from school_common.grpc.status import STATUS_DETAILS_KEY, status_details
from school_common.settings import AuthSettings

from gateway.settings import GatewaySettings, GrpcClientSettings, RateLimitSettings, ServicesSettings

ISSUER_BASE = "https://id.school.test"
TENANT = "demo"
ISSUER = f"{ISSUER_BASE}/realms/tenant-{TENANT}"
AUDIENCE = "school-api"
KID = "test-key-1"

SCHOOL_ID = "0193a4c2-1f00-7c4e-9a1b-2f0e4c3d5b6a"
CLASS_ID = "0193a4c2-2e11-7d2a-8c3b-4a5e6f708192"
STUDENT_ID = "0193a4c2-3d22-7e3b-9d4c-5b6f708192a3"
ENROLMENT_ID = "0193a4c2-4c33-7f4c-8e5d-6c708192a3b4"


def ts(seconds: int = 1_764_000_000) -> Timestamp:
    return Timestamp(seconds=seconds)


# Tokens


@dataclass
class Keys:
    private: rsa.RSAPrivateKey
    other: rsa.RSAPrivateKey  # a key the realm does not publish
    jwks_requests: int = 0
    jwks_down: bool = False

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}


def new_keys() -> Keys:
    return Keys(
        private=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        other=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


MakeToken = Callable[..., str]


def token_factory(keys: Keys) -> MakeToken:
    def make(
        *,
        subject: str | None = None,
        roles: tuple[str, ...] = ("authority_admin",),
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        expires_in: int = 300,
        key: Any = None,
        kid: str = KID,
        algorithm: str = "RS256",
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": issuer,
            "aud": audience,
            "sub": subject or str(uuid.uuid4()),
            "iat": now - 5,
            "exp": now + expires_in,
            "typ": "Bearer",
            "azp": "school-console",
            "realm_access": {"roles": list(roles)},
            **claims,
        }
        signing_key = key if key is not None else keys.private
        return jwt.encode(payload, signing_key, algorithm=algorithm, headers={"kid": kid})

    return make


def verifier_for(keys: Keys) -> TokenVerifier:
    def handler(request: httpx.Request) -> httpx.Response:
        if keys.jwks_down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == f"/realms/tenant-{TENANT}/protocol/openid-connect/certs":
            keys.jwks_requests += 1
            return httpx.Response(200, json=keys.jwks())
        return httpx.Response(404, json={"error": "Realm does not exist"})

    settings = AuthSettings(issuer_base_url=ISSUER_BASE, audience=AUDIENCE)
    return TokenVerifier(settings, http=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


# Backends


@dataclass
class Failure:
    code: grpc.StatusCode
    message: str = ""
    reason: str = ""  # empty: no ErrorInfo, as when grpc itself or a crash fails the call
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    method: str
    request: Any
    metadata: dict[str, str]
    time_remaining: float | None


class Recorder:
    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.calls: list[Call] = []
        self.failures: dict[str, Failure] = {}
        self.delay_s = 0.0

    def reset(self) -> None:
        self.calls.clear()
        self.failures.clear()
        self.delay_s = 0.0

    async def handle(
        self, method: str, request: Any, context: grpc.aio.ServicerContext, response: Any
    ) -> Any:
        metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        self.calls.append(Call(method, request, metadata, context.time_remaining()))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        failure = self.failures.get(method)
        if failure is not None:
            if failure.reason:
                details = status_details(
                    failure.code, failure.reason, failure.message, self.domain, failure.metadata
                )
                context.set_trailing_metadata(((STATUS_DETAILS_KEY, details),))
            await context.abort(failure.code, failure.message)
        return response


def school_pb(school_id: str = SCHOOL_ID, code: str = "") -> sr.School:
    return sr.School(
        id=school_id,
        name="Trường THCS Nguyễn Du",
        code=code,
        levels=[sr.SCHOOL_LEVEL_LOWER_SECONDARY],
        create_time=ts(),
    )


def class_pb() -> sr.Class:
    return sr.Class(
        id=CLASS_ID, school_id=SCHOOL_ID, name="6A1", grade=6, school_year="2025-2026", create_time=ts()
    )


def student_pb(full_name: str = "Nguyễn Văn An") -> sr.Student:
    return sr.Student(
        id=STUDENT_ID,
        school_id=SCHOOL_ID,
        full_name=full_name,
        date_of_birth="2014-09-05",
        sex=sr.SEX_MALE,
        guardians=[sr.Guardian(full_name="Trần Thị Mai", relationship="mother", phone="0912345678")],
    )


class FakeStudentRecord(sr_grpc.StudentRecordServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.r = recorder

    async def CreateSchool(self, request: sr.CreateSchoolRequest, context: Any) -> sr.CreateSchoolResponse:
        school = school_pb(code=request.code)
        school.name = request.name
        return await self.r.handle("CreateSchool", request, context, sr.CreateSchoolResponse(school=school))

    async def ListSchools(self, request: sr.ListSchoolsRequest, context: Any) -> sr.ListSchoolsResponse:
        response = sr.ListSchoolsResponse(schools=[school_pb()], next_page_token="next-1")
        return await self.r.handle("ListSchools", request, context, response)

    async def GetSchool(self, request: sr.GetSchoolRequest, context: Any) -> sr.GetSchoolResponse:
        return await self.r.handle(
            "GetSchool", request, context, sr.GetSchoolResponse(school=school_pb(request.school_id))
        )

    async def CreateClass(self, request: sr.CreateClassRequest, context: Any) -> sr.CreateClassResponse:
        response = sr.CreateClassResponse(**{"class": class_pb()})
        return await self.r.handle("CreateClass", request, context, response)

    async def ListClasses(self, request: sr.ListClassesRequest, context: Any) -> sr.ListClassesResponse:
        return await self.r.handle(
            "ListClasses", request, context, sr.ListClassesResponse(classes=[class_pb()])
        )

    async def EnrolStudent(self, request: sr.EnrolStudentRequest, context: Any) -> sr.EnrolStudentResponse:
        name = (
            request.new_student.full_name
            if request.WhichOneof("student") == "new_student"
            else "Nguyễn Văn An"
        )
        response = sr.EnrolStudentResponse(
            enrolment=sr.Enrolment(
                id=ENROLMENT_ID, class_id=request.class_id, student_id=STUDENT_ID, enrol_time=ts()
            ),
            student=student_pb(name),
        )
        return await self.r.handle("EnrolStudent", request, context, response)

    async def ListClassStudents(
        self, request: sr.ListClassStudentsRequest, context: Any
    ) -> sr.ListClassStudentsResponse:
        return await self.r.handle(
            "ListClassStudents", request, context, sr.ListClassStudentsResponse(students=[student_pb()])
        )


class FakeAttendance(att_grpc.AttendanceServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.r = recorder

    async def GetClassRoster(
        self, request: att.GetClassRosterRequest, context: Any
    ) -> att.GetClassRosterResponse:
        response = att.GetClassRosterResponse(
            class_id=request.class_id,
            school_id=SCHOOL_ID,
            class_name="6A1",
            entries=[att.RosterEntry(student_id=STUDENT_ID, full_name="Nguyễn Văn An", enrol_time=ts())],
        )
        return await self.r.handle("GetClassRoster", request, context, response)


@dataclass
class Backend:
    target: str
    recorder: Recorder
    health: health.aio.HealthServicer

    async def set_ready(self, ready: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if ready else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        await self.health.set("readiness", status)


async def serve_fake(
    domain: str, add: Callable[[grpc.aio.Server, Recorder], None]
) -> tuple[grpc.aio.Server, Backend]:
    server = grpc.aio.server()
    recorder = Recorder(domain)
    add(server, recorder)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    backend = Backend(f"127.0.0.1:{port}", recorder, health_servicer)
    await backend.set_ready(True)
    return server, backend


@dataclass
class Fakes:
    student_record: Backend
    attendance: Backend


def gateway_settings(fakes: Fakes, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "auth": AuthSettings(issuer_base_url=ISSUER_BASE, audience=AUDIENCE),
        "services": ServicesSettings(
            student_record=fakes.student_record.target,
            attendance=fakes.attendance.target,
            identity="",
            payments="",
            messaging="",
            health="",
        ),
        "grpc": GrpcClientSettings(deadline_s=2.0, readiness_cache_s=0),
        "rate_limit": RateLimitSettings(enabled=False),
    }
    values.update(overrides)
    return GatewaySettings(**values)


class GatewayClient(httpx.AsyncClient):
    app: FastAPI


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

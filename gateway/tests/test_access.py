"""Scoped access at the edge: the gateway decides for the routes whose resource is in the path (a school,
the tenant), with the caller's scope from identity; class and student routes are the services' to decide.
Platform operators' tokens reach /v1/tenants only."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from school.identity.v1 import identity_pb2 as idn

from gateway.tests.conftest import MakeClient
from gateway.tests.support import (
    CLASS_ID,
    ISSUER_BASE,
    OTHER_SCHOOL_ID,
    SCHOOL_ID,
    STUDENT_ID,
    Failure,
    Fakes,
    GatewayClient,
    MakeToken,
    bearer,
    gateway_settings,
    platform_token,
    teacher_scope,
)
from gateway.tests.test_routes import assert_problem

TEACHER = "0193a4c2-0000-7000-8000-00000000000a"
SCHOOL_ADMIN = "0193a4c2-0000-7000-8000-00000000000b"
GUARDIAN = "0193a4c2-0000-7000-8000-00000000000c"
CLASS_BODY = {"name": "6A2", "grade": 6, "school_year": "2025-2026"}


def scope_calls(fakes: Fakes) -> int:
    return fakes.identity.recorder.methods().count("GetAccessScope")


@pytest.fixture
def teacher(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[TEACHER] = teacher_scope(TEACHER)
    return make_token(subject=TEACHER, roles=("teacher",))


@pytest.fixture
def school_admin(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[SCHOOL_ADMIN] = idn.GetAccessScopeResponse(
        subject=SCHOOL_ADMIN, schools=[idn.ScopedSchool(school_id=SCHOOL_ID, role="school_admin")]
    )
    return make_token(subject=SCHOOL_ADMIN, roles=("school_admin",))


async def test_teacher_is_refused_another_school(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    for path in (f"/v1/schools/{OTHER_SCHOOL_ID}", f"/v1/schools/{OTHER_SCHOOL_ID}/classes"):
        body = assert_problem(await client.get(path, headers=bearer(teacher)), 403, "NOT_YOUR_SCHOOL")
        assert body["detail"] == "Bạn không làm việc tại trường này / you have no assignment at this school"
    assert fakes.student_record.recorder.calls == []  # refused at the edge


async def test_teacher_reads_their_school_but_does_not_administer_it(
    client: GatewayClient, fakes: Fakes, teacher: str
) -> None:
    assert (await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(teacher))).status_code == 200
    assert (await client.get(f"/v1/schools/{SCHOOL_ID}/classes", headers=bearer(teacher))).status_code == 200
    refused = [
        await client.post(f"/v1/schools/{SCHOOL_ID}/classes", headers=bearer(teacher), json=CLASS_BODY),
        await client.post("/v1/schools", headers=bearer(teacher), json={"name": "A", "levels": ["primary"]}),
        await client.get("/v1/audit-events", headers=bearer(teacher)),
        await client.get("/v1/audit-events/export", headers=bearer(teacher)),
        await client.get("/v1/tenants/demo", headers=bearer(teacher)),
    ]
    for response in refused:
        assert_problem(response, 403, "ADMIN_ROLE_REQUIRED")
    assert fakes.student_record.recorder.methods() == ["GetSchool", "ListClasses"]
    assert set(fakes.identity.recorder.methods()) == {"GetAccessScope"}


async def test_school_admin_administers_their_school_only(
    client: GatewayClient, fakes: Fakes, school_admin: str
) -> None:
    ok = await client.post(f"/v1/schools/{SCHOOL_ID}/classes", headers=bearer(school_admin), json=CLASS_BODY)
    assert ok.status_code == 201, ok.text
    other = await client.post(
        f"/v1/schools/{OTHER_SCHOOL_ID}/classes", headers=bearer(school_admin), json=CLASS_BODY
    )
    assert_problem(other, 403, "NOT_YOUR_SCHOOL")
    assert fakes.student_record.recorder.methods() == ["CreateClass"]


async def test_guardian_reads_their_childs_school(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken
) -> None:
    fakes.identity.recorder.scopes[GUARDIAN] = idn.GetAccessScopeResponse(
        subject=GUARDIAN, children=[idn.ScopedChild(student_id=STUDENT_ID, school_id=SCHOOL_ID)]
    )
    token = make_token(subject=GUARDIAN, roles=("guardian",))
    assert (await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(token))).status_code == 200
    assert_problem(
        await client.get(f"/v1/schools/{OTHER_SCHOOL_ID}", headers=bearer(token)), 403, "NOT_YOUR_SCHOOL"
    )


async def test_class_and_student_routes_are_decided_by_the_service(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken
) -> None:
    # A teacher of another school: only student-record knows the class's school, so it decides.
    fakes.identity.recorder.scopes[TEACHER] = teacher_scope(TEACHER, school_id=OTHER_SCHOOL_ID)
    token = make_token(subject=TEACHER, roles=("teacher",))
    fakes.student_record.recorder.failures["ListClassStudents"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED,
        "Bạn không phụ trách lớp này / you do not teach this class",
        "NOT_YOUR_CLASS",
    )
    assert_problem(
        await client.get(f"/v1/classes/{CLASS_ID}/students", headers=bearer(token)), 403, "NOT_YOUR_CLASS"
    )
    assert (await client.get(f"/v1/students/{STUDENT_ID}", headers=bearer(token))).status_code == 200
    assert fakes.student_record.recorder.methods() == ["ListClassStudents", "GetStudent"]
    assert scope_calls(fakes) == 0


async def test_scope_is_fetched_with_the_callers_token_and_cached(
    client: GatewayClient, fakes: Fakes, teacher: str
) -> None:
    for _ in range(3):
        assert (await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(teacher))).status_code == 200
    [call] = [c for c in fakes.identity.recorder.calls if c.method == "GetAccessScope"]
    assert call.metadata["authorization"] == f"Bearer {teacher}"
    assert call.time_remaining is not None
    assert 0 < call.time_remaining < 2.5  # the gateway's deadline


async def test_scope_cache_can_be_turned_off(make_client: MakeClient, fakes: Fakes, teacher: str) -> None:
    async with make_client(access={"scope_cache_s": 0}) as client:
        for _ in range(2):
            await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(teacher))
    assert scope_calls(fakes) == 2


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
async def test_identity_failing_is_503_identity_unavailable(
    client: GatewayClient, fakes: Fakes, token: str, code: grpc.StatusCode
) -> None:
    fakes.identity.recorder.failures["GetAccessScope"] = Failure(code, "database down at 10.0.0.5")
    response = await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(token))
    assert_problem(response, 503, "IDENTITY_UNAVAILABLE")
    assert response.headers["retry-after"] == "2"
    assert "10.0.0.5" not in response.text
    assert fakes.student_record.recorder.calls == []


async def test_identity_unreachable_or_slow_is_503(make_client: MakeClient, fakes: Fakes, token: str) -> None:
    settings = gateway_settings(fakes)
    settings.services.identity = "127.0.0.1:1"  # nothing listens there
    async with make_client(settings) as client:
        for path in (f"/v1/schools/{SCHOOL_ID}", "/v1/audit-events"):
            assert_problem(await client.get(path, headers=bearer(token)), 503, "IDENTITY_UNAVAILABLE")
        # Routes the services decide do not need identity.
        assert (
            await client.get(f"/v1/classes/{CLASS_ID}/students", headers=bearer(token))
        ).status_code == 200
    fakes.identity.recorder.delay_s = 1.0
    async with make_client(grpc={"deadline_s": 0.2}) as client:
        response = await client.post(
            "/v1/schools", headers=bearer(token), json={"name": "A", "levels": ["primary"]}
        )
    assert_problem(response, 503, "IDENTITY_UNAVAILABLE")
    assert fakes.student_record.recorder.methods() == ["ListClassStudents"]


async def test_identity_not_configured(make_client: MakeClient, fakes: Fakes, token: str) -> None:
    settings = gateway_settings(fakes)
    settings.services.identity = ""
    async with make_client(settings) as client:
        response = await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(token))
    assert_problem(response, 503, "SERVICE_NOT_CONFIGURED")


async def test_identity_refusing_the_token_is_401(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fakes.identity.recorder.failures["GetAccessScope"] = Failure(
        grpc.StatusCode.UNAUTHENTICATED, "Mã truy cập đã bị thu hồi / token revoked", "TOKEN_REVOKED"
    )
    response = await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(token))
    assert_problem(response, 401, "TOKEN_REVOKED")
    assert fakes.student_record.recorder.calls == []


# Platform operators


TENANT_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/schools", None),
    ("POST", "/v1/schools", {"name": "A", "levels": ["primary"]}),
    ("GET", f"/v1/schools/{SCHOOL_ID}", None),
    ("GET", f"/v1/schools/{SCHOOL_ID}/classes", None),
    ("GET", f"/v1/classes/{CLASS_ID}/students", None),
    ("GET", f"/v1/students/{STUDENT_ID}", None),
    ("GET", f"/v1/attendance/classes/{CLASS_ID}/roster", None),
    ("GET", "/v1/me", None),
    ("GET", "/v1/staff", None),
    (
        "POST",
        "/v1/citizen-verifications",
        {"personal_id": "001099000123", "full_name": "A", "date_of_birth": "1990-01-01"},
    ),
    ("GET", "/v1/link-requests", None),
    ("GET", "/v1/consent-purposes", None),
    ("GET", f"/v1/students/{STUDENT_ID}/consents", None),
    ("DELETE", f"/v1/students/{STUDENT_ID}/consents/photos", None),
    ("GET", "/v1/audit-events", None),
    ("GET", "/v1/audit-events/export", None),
]


@pytest.mark.parametrize(("method", "path", "body"), TENANT_ROUTES)
async def test_platform_token_is_refused_on_tenant_routes(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken, method: str, path: str, body: Any
) -> None:
    response = await client.request(method, path, headers=bearer(platform_token(make_token)), json=body)
    problem = assert_problem(response, 403, "TENANT_TOKEN_REQUIRED")
    assert "quản trị nền tảng" in problem["detail"]
    for backend in fakes.all():
        assert backend.recorder.calls == []


async def test_platform_token_reaches_tenants_without_a_scope(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken
) -> None:
    operator = platform_token(make_token)
    created = await client.post(
        "/v1/tenants", headers=bearer(operator), json={"slug": "hcm", "display_name": "Sở GD-ĐT TP.HCM"}
    )
    assert created.status_code == 201, created.text
    got = await client.get("/v1/tenants/hcm", headers=bearer(operator))
    assert got.status_code == 200, got.text
    assert fakes.identity.recorder.methods() == ["CreateTenant", "GetTenant"]
    assert fakes.identity.recorder.calls[0].metadata["authorization"] == f"Bearer {operator}"


async def test_a_token_from_an_unknown_realm_is_still_refused(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken
) -> None:
    forged = make_token(issuer=f"{ISSUER_BASE}/realms/platform-x", roles=("platform_operator",))
    assert_problem(await client.get("/v1/tenants/hcm", headers=bearer(forged)), 401, "INVALID_TOKEN")
    assert fakes.identity.recorder.calls == []

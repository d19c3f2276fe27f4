"""Gate devices' own OAuth clients, against a real Keycloak and a real PostgreSQL.

A tenant realm is provisioned by identity itself from deploy/keycloak/realm-template.json; a school admin
has a client made for a device of their school, the device gets a token with the client-credentials grant
and the platform's token verifier accepts it (``aud: school-api``, ``azp: gate-<device>``, roles
``partner`` and ``gate_device`` only). Nobody else may make or disable one; disabling stops new tokens.

Keycloak is started alone for this module (``school_stack.keycloak``: the cached distribution, a
throw-away state directory and free ports; about 20 s), or the one at ``IDENTITY_TEST_KEYCLOAK_URL`` is
used (a Keycloak whose master admin is ``admin`` / ``dev-only-admin``, e.g. ``python -m
school_stack.keycloak --port 18481 ...``).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from identity.access.service import AccessService
from identity.adapters.keycloak import Keycloak
from identity.devices.service import DeviceClientService
from identity.models import Account, Assignment, AuditEvent, Person, School
from identity.settings import KeycloakAdminSettings
from identity.tenants.service import TenantService
from school.identity.v1 import identity_pb2 as pb
from school_common.auth import TokenVerifier
from school_common.context import Principal, set_principal
from school_common.db import Database
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable
from school_common.settings import AuthSettings
from school_common.testing.servers import Process, free_port
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
TENANT = f"gate{uuid.uuid4().hex[:8]}"
REALM = f"tenant-{TENANT}"
SCHOOL_A, SCHOOL_B = uuid.uuid4(), uuid.uuid4()
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
async def keycloak_url(tmp_path_factory) -> AsyncIterator[str]:
    given = os.environ.get("IDENTITY_TEST_KEYCLOAK_URL")
    if given:
        yield given.rstrip("/")
        return
    from school_stack.keycloak import KeycloakConfig, command, ensure_distribution, wait_ready

    run_dir = tmp_path_factory.mktemp("keycloak")
    cfg = KeycloakConfig(run_dir=run_dir, port=free_port(), management_port=free_port())
    home = await asyncio.to_thread(ensure_distribution, cfg)
    argv, env = command(cfg, home)
    process = Process.spawn("keycloak", argv, env=env, log=run_dir / "keycloak.log")
    try:

        def alive(_: float) -> None:
            if not process.alive():
                raise RuntimeError(f"Keycloak exited; see {run_dir / 'keycloak.log'}")

        await wait_ready(cfg, timeout_s=300, on_tick=alive)
        yield cfg.base_url
    finally:
        await asyncio.to_thread(process.stop, 30.0)


@pytest.fixture(scope="module")
async def db(make_database) -> AsyncIterator[Database]:
    database = Database(await make_database("identity", ROOT))
    yield database
    set_principal(None)
    await database.dispose()


@pytest.fixture(scope="module")
async def keycloak(keycloak_url) -> Keycloak:
    return Keycloak(
        KeycloakAdminSettings(
            server_url=keycloak_url, vneid_issuer=f"{keycloak_url}/realms/vneid", timeout_s=30
        )
    )


def act_as(subject: str, *roles: str, tenant: str = TENANT) -> None:
    set_principal(Principal(tenant=tenant, subject=subject, roles=frozenset(roles), token=f"t-{subject}"))


@pytest.fixture(scope="module")
async def devices(db, keycloak) -> DeviceClientService:
    # The tenant and its realm, as a platform operator creates them.
    act_as("operator", "platform_operator", tenant="")
    created = await TenantService(db, keycloak).create(
        pb.CreateTenantRequest(slug=TENANT, display_name="Sở GD&ĐT Thử thiết bị")
    )
    assert created.tenant.state == pb.TENANT_STATE_ACTIVE, created.tenant.last_error
    # Two schools (read models) and their staff as identity knows them.
    async with db.unit_of_work(TENANT) as uow:
        for school_id, code in ((SCHOOL_A, "A"), (SCHOOL_B, "B")):
            uow.session.add(School(id=school_id, tenant_id=TENANT, code=code, name=f"Trường {code}"))
        for subject, role, school_id in (
            ("admin-a", "school_admin", SCHOOL_A),
            ("teacher-a", "teacher", None),
        ):
            person = Person(
                id=uuid.uuid4(),
                tenant_id=TENANT,
                personal_id_hash=uuid.uuid4().bytes,
                personal_id_encrypted=b"x",
                full_name=subject,
                verification_status="VERIFIED",
                verification_checks={},
            )
            account = Account(
                id=uuid.uuid4(),
                tenant_id=TENANT,
                subject=subject,
                username=subject,
                kind="staff",
                person_id=person.id,
            )
            uow.session.add_all([person, account])
            if school_id is not None:
                uow.session.add(
                    Assignment(
                        id=uuid.uuid4(),
                        tenant_id=TENANT,
                        account_id=account.id,
                        role=role,
                        school_id=school_id,
                    )
                )
        await uow.commit()
    accounts = AccessService(db, keycloak, cast(Any, None), cast(Any, None))
    return DeviceClientService(db, keycloak, accounts)


async def client_credentials(token_endpoint: str, client_id: str, secret: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(
            token_endpoint,
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )


async def test_a_school_admin_gets_a_device_client_whose_token_the_platform_accepts(
    devices, keycloak_url
) -> None:
    act_as("admin-a", "school_admin")
    device_id = str(uuid.uuid4())
    made = await devices.create(
        pb.CreateDeviceClientRequest(school_id=str(SCHOOL_A), device_id=device_id, display_name="Cổng chính")
    )
    assert made.client_id == f"gate-{device_id}"
    assert made.token_endpoint == f"{keycloak_url}/realms/{REALM}/protocol/openid-connect/token"
    response = await client_credentials(made.token_endpoint, made.client_id, made.client_secret)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body
    verifier = TokenVerifier(AuthSettings(issuer_base_url=keycloak_url, platform_realm=""))
    try:
        principal = await verifier.verify(body["access_token"])
    finally:
        await verifier.aclose()
    assert principal.tenant == TENANT
    assert principal.client_id == made.client_id
    # exactly the device roles: not the realm's default roles
    assert principal.roles == frozenset({"partner", "gate_device"})


async def test_asking_again_for_the_same_device_issues_a_new_secret_and_the_old_one_stops(devices) -> None:
    act_as("admin-a", "school_admin")
    request = pb.CreateDeviceClientRequest(
        school_id=str(SCHOOL_A), device_id=str(uuid.uuid4()), display_name="Cổng phụ"
    )
    first = await devices.create(request)
    second = await devices.create(request)
    assert second.client_id == first.client_id
    assert second.client_secret != first.client_secret
    old = await client_credentials(first.token_endpoint, first.client_id, first.client_secret)
    assert old.status_code == 401, old.text
    new = await client_credentials(second.token_endpoint, second.client_id, second.client_secret)
    assert new.status_code == 200, new.text
    # the same device id for another school is refused (by an authority admin, who reaches both)
    act_as(f"authority-{uuid.uuid4().hex[:6]}", "authority_admin")
    with pytest.raises(FailedPrecondition) as caught:
        await devices.create(
            pb.CreateDeviceClientRequest(
                school_id=str(SCHOOL_B), device_id=request.device_id, display_name="Cổng B"
            )
        )
    assert caught.value.reason == "DEVICE_CLIENT_EXISTS"


@pytest.mark.parametrize(
    ("subject", "roles", "school", "reason"),
    [
        ("admin-a", ("school_admin",), SCHOOL_B, "NOT_YOUR_SCHOOL"),  # another school
        ("teacher-a", ("teacher",), SCHOOL_A, "NOT_YOUR_SCHOOL"),  # no school role anywhere
        ("parent", ("guardian",), SCHOOL_A, "NOT_YOUR_SCHOOL"),
    ],
)
async def test_nobody_else_gets_a_device_client(devices, keycloak, subject, roles, school, reason) -> None:
    act_as(subject, *roles)
    device_id = str(uuid.uuid4())
    with pytest.raises(PermissionDenied) as caught:
        await devices.create(
            pb.CreateDeviceClientRequest(school_id=str(school), device_id=device_id, display_name="Cổng")
        )
    assert caught.value.reason == reason
    assert await keycloak.find_client(REALM, f"gate-{device_id}") is None


async def test_bad_requests_say_which_field(devices) -> None:
    act_as(f"authority-{uuid.uuid4().hex[:6]}", "authority_admin")
    cases = [
        (
            pb.CreateDeviceClientRequest(school_id="x", device_id=str(uuid.uuid4()), display_name="C"),
            "school_id",
        ),
        (pb.CreateDeviceClientRequest(school_id=str(SCHOOL_A), device_id="1", display_name="C"), "device_id"),
        (
            pb.CreateDeviceClientRequest(
                school_id=str(SCHOOL_A), device_id=str(uuid.uuid4()), display_name=" "
            ),
            "display_name",
        ),
    ]
    for request, field in cases:
        with pytest.raises(InvalidArgument) as caught:
            await devices.create(request)
        assert caught.value.metadata["field"] == field
    with pytest.raises(NotFound) as missing:
        await devices.create(
            pb.CreateDeviceClientRequest(
                school_id=str(uuid.uuid4()), device_id=str(uuid.uuid4()), display_name="C"
            )
        )
    assert missing.value.reason == "SCHOOL_NOT_FOUND"
    # only device clients can be disabled through this RPC
    with pytest.raises(InvalidArgument):
        await devices.disable(pb.DisableDeviceClientRequest(client_id="school-partners"))
    with pytest.raises(NotFound):
        await devices.disable(pb.DisableDeviceClientRequest(client_id=f"gate-{uuid.uuid4()}"))


async def test_a_disabled_device_gets_no_token_and_only_its_school_admin_disables_it(db, devices) -> None:
    act_as("admin-a", "school_admin")
    made = await devices.create(
        pb.CreateDeviceClientRequest(
            school_id=str(SCHOOL_A), device_id=str(uuid.uuid4()), display_name="Cổng 3"
        )
    )
    act_as("teacher-a", "teacher")
    with pytest.raises(PermissionDenied):
        await devices.disable(pb.DisableDeviceClientRequest(client_id=made.client_id))
    act_as("admin-a", "school_admin")
    for _ in range(2):  # disabling again changes nothing
        done = await devices.disable(pb.DisableDeviceClientRequest(client_id=made.client_id))
        assert done.school_id == str(SCHOOL_A)
    refused = await client_credentials(made.token_endpoint, made.client_id, made.client_secret)
    assert refused.status_code in (400, 401), refused.text
    async with db.unit_of_work(TENANT) as uow:
        actions = (
            await uow.session.scalars(
                select(AuditEvent.action).where(AuditEvent.target == f"client:{made.client_id}")
            )
        ).all()
    assert sorted(actions) == ["DEVICE_CLIENT_CREATED", "DEVICE_CLIENT_DISABLED"]


async def test_a_realm_provisioned_before_gate_devices_gets_the_role(devices, keycloak) -> None:
    admin = keycloak.admin(REALM)
    await admin.a_delete_realm_role("gate_device")
    act_as("admin-a", "school_admin")
    made = await devices.create(
        pb.CreateDeviceClientRequest(
            school_id=str(SCHOOL_A), device_id=str(uuid.uuid4()), display_name="Cổng 4"
        )
    )
    role = await admin.a_get_realm_role("gate_device")
    assert role["description"].startswith("Thiết bị điểm danh")
    response = await client_credentials(made.token_endpoint, made.client_id, made.client_secret)
    assert response.status_code == 200, response.text


async def test_keycloak_away_means_unavailable(db, devices) -> None:
    away = Keycloak(KeycloakAdminSettings(server_url=f"http://127.0.0.1:{free_port()}", timeout_s=2))
    service = DeviceClientService(db, away, devices.accounts)
    act_as("admin-a", "school_admin")
    with pytest.raises(Unavailable) as caught:
        await service.create(
            pb.CreateDeviceClientRequest(
                school_id=str(SCHOOL_A), device_id=str(uuid.uuid4()), display_name="C"
            )
        )
    assert caught.value.reason == "IDENTITY_PROVIDER_UNAVAILABLE"

"""Citizen-ID verification on a real PostgreSQL against the citizen-registry simulator (a real process).

The register down leaves the person PENDING; the worker's pass verifies it once the register is back; a
mismatch is kept field by field; the raw number is stored only encrypted.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from identity.adapters.crypto import PersonalIdCipher
from identity.adapters.registry import PopulationRegistry
from identity.models import AuditEvent, PendingVerification, Person
from identity.people.service import PENDING, PersonService, check_claim
from identity.settings import RegistrySettings
from school_common.db import Database
from school_common.testing.servers import Process, free_port, wait_port
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[2]
CONTROL = {"X-Simulator-Control-Key": "dev-only-simulator-control"}
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

MAI = ("079185001234", "Trần Thị Mai", "1985-03-12")  # in the simulator's seed


@pytest.fixture(scope="module")
async def registry_url(tmp_path_factory) -> AsyncIterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("registry") / "registry.log"
    process = Process.spawn(
        "citizen-registry",
        [sys.executable, "-m", "simulators", "citizen-registry", "--port", str(port), "--rate-limit", "6000"],
        log=log,
    )
    try:
        await wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def db(make_database) -> AsyncIterator[Database]:
    database = Database(await make_database("identity", ROOT))
    yield database
    await database.dispose()


@pytest.fixture
async def people(db, registry_url) -> AsyncIterator[PersonService]:
    settings = RegistrySettings(base_url=registry_url, retry_initial_s=0.01, retry_max_s=0.05, timeout_s=2)
    registry = PopulationRegistry(settings.base_url, settings.api_key.get_secret_value(), settings.timeout_s)
    cipher = PersonalIdCipher("k1:" + "a" * 40, "l" * 40)
    yield PersonService(db, cipher, registry, settings)
    await registry.aclose()
    async with httpx.AsyncClient() as client:  # leave the register up for the next test
        await client.put(f"{registry_url}/_simulator/faults", json={}, headers=CONTROL)


async def set_faults(registry_url: str, **faults: object) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.put(f"{registry_url}/_simulator/faults", json=faults, headers=CONTROL)
        response.raise_for_status()


async def person_in(db: Database, tenant: str, person_id) -> Person | None:
    async with db.unit_of_work(tenant) as uow:
        return await uow.session.get(Person, person_id)


async def create(
    db: Database, people: PersonService, tenant: str, claim_args: tuple[str, str, str]
) -> Person:
    claim = check_claim(*claim_args)
    async with db.unit_of_work(tenant) as uow:
        person, _ = await people.find_or_create(uow, claim)
        await uow.commit()
    await people.verify_now(tenant, person.id, claim)
    fresh = await person_in(db, tenant, person.id)
    assert fresh is not None
    return fresh


async def test_a_match_is_verified_and_the_number_is_stored_only_encrypted(db, people) -> None:
    person = await create(db, people, "verify-a", MAI)
    assert person.verification_status == "VERIFIED"
    assert person.verification_checks == {"full_name": True, "date_of_birth": True}
    assert person.identification_level == 1
    assert person.verified_at is not None
    async with db.unit_of_work("verify-a") as uow:
        dump = (await uow.session.execute(text("SELECT persons::text FROM persons"))).scalars().all()
        audit = (await uow.session.scalars(select(AuditEvent.action))).all()
    assert dump
    assert not any(MAI[0] in row for row in dump)
    assert "CITIZEN_ID_VERIFIED" in audit
    # the same number in the same tenant is the same person
    again = await create(db, people, "verify-a", MAI)
    assert again.id == person.id


async def test_a_mismatch_is_reported_field_by_field(db, people) -> None:
    person = await create(db, people, "verify-b", ("079185001234", "Trần Thị Mai", "1985-03-13"))
    assert person.verification_status == "MISMATCH"
    assert person.verification_checks == {"full_name": True, "date_of_birth": False}
    unknown = await create(db, people, "verify-b", ("001090099999", "Không Có Thật", "1990-01-01"))
    assert unknown.verification_status == "NOT_FOUND"


async def test_the_register_down_leaves_the_person_pending_until_it_returns(db, people, registry_url) -> None:
    await set_faults(registry_url, down=True)
    person = await create(db, people, "verify-c", ("001082004567", "Lê Văn Hùng", "1982-11-02"))
    assert person.verification_status == PENDING
    await asyncio.sleep(0.05)  # the first retry is due after retry_initial_s
    assert await people.retry_due() == 1  # still down
    assert (await person_in(db, "verify-c", person.id)).verification_status == PENDING
    async with db.unit_of_work("verify-c") as uow:
        queued = await uow.session.scalar(
            select(PendingVerification).where(PendingVerification.person_id == person.id)
        )
    assert queued is not None
    assert queued.attempts == 1
    assert queued.last_error == "REGISTRY_UNAVAILABLE"

    await set_faults(registry_url)  # the register is back
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        await asyncio.sleep(0.06)
        await people.retry_due()
        fresh = await person_in(db, "verify-c", person.id)
        if fresh is not None and fresh.verification_status != PENDING:
            break
    assert fresh is not None
    assert fresh.verification_status == "VERIFIED"
    async with db.unit_of_work("verify-c") as uow:
        assert (await uow.session.scalars(select(PendingVerification))).all() == []


async def test_an_unreachable_register_is_pending_too(db, make_database) -> None:
    settings = RegistrySettings(base_url=f"http://127.0.0.1:{free_port()}", retry_initial_s=60)
    registry = PopulationRegistry(settings.base_url, "k", 1.0)
    service = PersonService(db, PersonalIdCipher("k1:" + "a" * 40, "l" * 40), registry, settings)
    person = await create(db, service, "verify-d", MAI)
    await registry.aclose()
    assert person.verification_status == PENDING
    assert await service.retry_due() == 0  # not due for a minute


async def test_persons_of_one_tenant_are_invisible_to_another(db, people) -> None:
    person = await create(db, people, "verify-e", MAI)
    assert await person_in(db, "verify-f", person.id) is None

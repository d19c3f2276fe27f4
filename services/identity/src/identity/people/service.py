"""Persons and their citizen-ID verification against the national population database.

A person is created once per personal identification number and tenant; its ``id`` is the pseudonymous
person id other services keep. The number is checked against its format rules first (nothing is
stored when they fail), then against the register. When the register cannot answer, the person waits
as PENDING and the worker (:func:`run_pending_verifications`) tries again with backoff until it does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from school_common.context import set_tenant
from school_common.db import Database, UnitOfWork
from school_common.errors import InvalidArgument, bilingual
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from identity.adapters.crypto import PersonalIdCipher
from identity.adapters.registry import (
    PopulationRegistry,
    RegistryAnswer,
    RegistryRefused,
    RegistryUnavailable,
)
from identity.audit.record import record
from identity.domain import citizen_id
from identity.models import PendingVerification, Person
from identity.settings import RegistrySettings

log = logging.getLogger(__name__)

PENDING = "PENDING"
VERIFIED = "VERIFIED"
MISMATCH = "MISMATCH"
NOT_FOUND = "NOT_FOUND"
SOURCE_REGISTRY = "POPULATION_REGISTRY"
SOURCE_VNEID = "VNEID"

_MESSAGES: dict[str, tuple[str, str]] = {
    citizen_id.INVALID_PERSONAL_ID_FORMAT: (
        "Số định danh cá nhân phải gồm đúng 12 chữ số (Thông tư 07/2016/TT-BCA)",
        "the personal identification number must be exactly 12 digits (Circular 07/2016/TT-BCA)",
    ),
    citizen_id.UNKNOWN_PROVINCE_CODE: (
        "Ba chữ số đầu không phải mã tỉnh nơi đăng ký khai sinh",
        "the first three digits are not a province code of birth registration",
    ),
    citizen_id.CENTURY_MISMATCH: (
        "Chữ số thứ 4 (thế kỷ và giới tính) không khớp với năm sinh",
        "the 4th digit (century and sex) contradicts the date of birth",
    ),
    citizen_id.BIRTH_YEAR_MISMATCH: (
        "Chữ số thứ 5 và 6 không khớp với năm sinh",
        "digits 5-6 do not match the year of birth",
    ),
    citizen_id.INVALID_DATE_OF_BIRTH: (
        "Ngày sinh phải có dạng YYYY-MM-DD, là ngày có thật và không ở tương lai",
        "date_of_birth must be a real YYYY-MM-DD date, not in the future",
    ),
    citizen_id.INVALID_FULL_NAME: (
        "Họ và tên không được để trống, tối đa 150 ký tự",
        "full_name must be non-empty text of at most 150 characters",
    ),
}


def invalid(reason: str, field: str) -> InvalidArgument:
    vi, en = _MESSAGES[reason]
    return InvalidArgument(reason, bilingual(vi, en), {"field": field})


@dataclass(frozen=True)
class CitizenClaim:
    """What a caller says about a person, checked for form: number, name and date of birth."""

    personal_id: str
    full_name: str
    date_of_birth: date


def check_claim(
    personal_id: str, full_name: str, date_of_birth: str, *, today: date | None = None
) -> CitizenClaim:
    """The claim if its form is right; INVALID_ARGUMENT with the first reason otherwise."""
    today = today or datetime.now(UTC).date()
    born = citizen_id.parse_date_of_birth(date_of_birth, today)
    if born is None:
        raise invalid(citizen_id.INVALID_DATE_OF_BIRTH, "date_of_birth")
    if not citizen_id.valid_full_name(full_name):
        raise invalid(citizen_id.INVALID_FULL_NAME, "full_name")
    reasons = citizen_id.validate_personal_id(personal_id, born)
    if reasons:
        raise invalid(reasons[0], "personal_id")
    return CitizenClaim(personal_id, " ".join(full_name.split()), born)


def status_of(answer: RegistryAnswer) -> str:
    return {"MATCH": VERIFIED, "MISMATCH": MISMATCH}.get(answer.result, NOT_FOUND)


class PersonService:
    def __init__(
        self, db: Database, cipher: PersonalIdCipher, registry: PopulationRegistry, settings: RegistrySettings
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.registry = registry
        self.settings = settings

    async def find_or_create(self, uow: UnitOfWork, claim: CitizenClaim) -> tuple[Person, bool]:
        """The person holding ``claim.personal_id`` in the tenant of ``uow``; created (PENDING) if new."""
        digest = self.cipher.lookup_hash(claim.personal_id)
        values: dict[str, object] = {
            "id": uuid.uuid4(),
            "tenant_id": uow.tenant,
            "personal_id_hash": digest,
            "personal_id_encrypted": self.cipher.encrypt(claim.personal_id),
            "full_name": claim.full_name,
            "date_of_birth": claim.date_of_birth,
            "verification_status": PENDING,
            "verification_checks": {},
        }
        inserted = await uow.session.scalar(
            insert(Person)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["tenant_id", "personal_id_hash"])
            .returning(Person.id)
        )
        person = await uow.session.scalar(
            select(Person).where(Person.personal_id_hash == digest).execution_options(populate_existing=True)
        )
        assert person is not None
        return person, inserted is not None

    async def lookup(self, uow: UnitOfWork, personal_id: str) -> Person | None:
        return await uow.session.scalar(
            select(Person).where(Person.personal_id_hash == self.cipher.lookup_hash(personal_id))
        )

    async def verify_now(self, tenant: str, person_id: uuid.UUID, claim: CitizenClaim) -> None:
        """Ask the register about ``claim`` and keep the answer; queue a retry if it cannot answer."""
        try:
            answer = await self.registry.verify(
                claim.personal_id, claim.full_name, claim.date_of_birth.isoformat()
            )
        except RegistryUnavailable as exc:
            async with self.db.unit_of_work(tenant) as uow:
                await self._queue(uow, person_id, 0, str(exc))
                await uow.commit()
            return
        except RegistryRefused as exc:
            # Our own checks passed but the register disagrees on the form: keep it as not found.
            log.warning("registry refused a checked claim", extra={"reason": exc.reason})
            answer = RegistryAnswer(
                "NOT_FOUND", {"full_name": False, "date_of_birth": False}, datetime.now(UTC)
            )
        async with self.db.unit_of_work(tenant) as uow:
            person = await uow.session.get(Person, person_id)
            if person is not None:
                self._apply(person, answer)
                await uow.session.execute(
                    delete(PendingVerification).where(PendingVerification.person_id == person_id)
                )
                record(uow, "CITIZEN_ID_VERIFIED", f"person:{person_id}", details={"result": answer.result})
            await uow.commit()

    async def queue_now(self, uow: UnitOfWork, person: Person) -> None:
        """Have the worker verify ``person`` on its next pass (the caller does not wait for the register)."""
        if person.verification_status == PENDING:
            await self._queue(uow, person.id, 0, None, delay_s=0.0)

    async def _queue(
        self,
        uow: UnitOfWork,
        person_id: uuid.UUID,
        attempts: int,
        error: str | None,
        delay_s: float | None = None,
    ) -> None:
        delay = (
            delay_s
            if delay_s is not None
            else min(self.settings.retry_initial_s * (2**attempts), self.settings.retry_max_s)
        )
        due = datetime.now(UTC) + timedelta(seconds=delay)
        await uow.session.execute(
            insert(PendingVerification)
            .values(
                id=uuid.uuid4(),
                tenant_id=uow.tenant,
                person_id=person_id,
                attempts=attempts,
                next_attempt_at=due,
                last_error=(error or "")[:100] or None,
            )
            .on_conflict_do_update(
                index_elements=["person_id"],
                set_={
                    "attempts": attempts,
                    "next_attempt_at": due,
                    "last_error": (error or "")[:100] or None,
                },
            )
        )

    @staticmethod
    def _apply(person: Person, answer: RegistryAnswer) -> None:
        person.verification_status = status_of(answer)
        person.verification_checks = dict(answer.checks)
        person.verified_at = answer.checked_at
        person.verification_source = SOURCE_REGISTRY
        if person.verification_status == VERIFIED:
            person.identification_level = max(person.identification_level, 1)

    @staticmethod
    def mark_vneid_verified(person: Person) -> None:
        """VNeID vouched for the number (a level-2 electronic identity signed in with it)."""
        person.verification_status = VERIFIED
        person.verification_checks = {"full_name": True, "date_of_birth": True}
        person.verified_at = datetime.now(UTC)
        person.identification_level = 2
        person.verification_source = SOURCE_VNEID

    async def retry_due(self, limit: int = 20) -> int:
        """One pass of the worker: verify the persons whose retry is due. Returns how many were tried."""
        async with self.db.unit_of_work(None, infrastructure=True) as uow:
            due = (
                await uow.session.execute(
                    select(
                        PendingVerification.tenant_id,
                        PendingVerification.person_id,
                        PendingVerification.attempts,
                    )
                    .where(PendingVerification.next_attempt_at <= datetime.now(UTC))
                    .order_by(PendingVerification.next_attempt_at)
                    .limit(limit)
                )
            ).all()
        tried = 0
        for tenant, person_id, attempts in due:
            set_tenant(tenant)
            async with self.db.unit_of_work(tenant) as uow:
                row = await uow.session.scalar(
                    select(PendingVerification)
                    .where(PendingVerification.person_id == person_id)
                    .with_for_update(skip_locked=True)
                )
                person = await uow.session.get(Person, person_id)
                if row is None or person is None:
                    continue
                if person.verification_status == VERIFIED or person.date_of_birth is None:
                    # VNeID vouched for the number meanwhile (date of birth maybe unknown): nothing to ask.
                    await uow.session.delete(row)
                    await uow.commit()
                    continue
                tried += 1
                claim = CitizenClaim(
                    self.cipher.decrypt(person.personal_id_encrypted), person.full_name, person.date_of_birth
                )
                try:
                    answer = await self.registry.verify(
                        claim.personal_id, claim.full_name, claim.date_of_birth.isoformat()
                    )
                except RegistryUnavailable as exc:
                    await self._queue(uow, person_id, attempts + 1, str(exc))
                    await uow.commit()
                    continue
                except RegistryRefused as exc:
                    answer = RegistryAnswer(
                        "NOT_FOUND", {"full_name": False, "date_of_birth": False}, datetime.now(UTC)
                    )
                    log.warning("registry refused a queued claim", extra={"reason": exc.reason})
                self._apply(person, answer)
                await uow.session.delete(row)
                record(
                    uow,
                    "CITIZEN_ID_VERIFIED",
                    f"person:{person_id}",
                    actor="",
                    details={"result": answer.result, "attempts": attempts + 1},
                )
                await uow.commit()
                log.info("pending verification resolved", extra={"status": person.verification_status})
        set_tenant(None)
        return tried


async def run_pending_verifications(service: PersonService, stop: asyncio.Event) -> None:
    """The worker loop: retry pending verifications until ``stop``."""
    while not stop.is_set():
        try:
            await service.retry_due()
        except Exception as exc:
            log.warning("pending verification pass failed", extra={"error": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=service.settings.poll_interval_s)

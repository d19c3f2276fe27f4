"""RegisterPerson and VerifyCitizen: the person-facing RPCs."""

from __future__ import annotations

from school.identity.v1 import identity_pb2 as pb
from school_common import access
from school_common.access import Action, Resource, authorize
from school_common.db import Database
from school_common.errors import Unavailable, bilingual

from identity.access.service import AccessService, tenant_principal, ts, verification_of
from identity.adapters.registry import RegistryRefused, RegistryUnavailable
from identity.audit.record import record
from identity.models import Person
from identity.people.service import VERIFIED, PersonService, check_claim, status_of


class PersonApi:
    def __init__(self, db: Database, people: PersonService, accounts: AccessService) -> None:
        self.db = db
        self.people = people
        self.accounts = accounts

    async def _require_admin(self) -> str:
        """Registering or checking people is for administrators: the authority, or a school's admin."""
        principal = tenant_principal()
        scope = await self.accounts.scope_of(principal)
        if not (scope.tenant_wide or any(access.SCHOOL_ADMIN in roles for roles in scope.schools.values())):
            authorize(scope, Action.ADMIN, Resource.tenant())
        return principal.tenant

    async def register(self, request: pb.RegisterPersonRequest) -> pb.RegisterPersonResponse:
        claim = check_claim(request.personal_id, request.full_name, request.date_of_birth)
        tenant = await self._require_admin()
        async with self.db.unit_of_work(tenant) as uow:
            person, created = await self.people.find_or_create(uow, claim)
            if created:
                await self.people.queue_now(uow, person)
                record(uow, "PERSON_REGISTERED", f"person:{person.id}")
            await uow.commit()
        return pb.RegisterPersonResponse(person_id=str(person.id), verification=verification_of(person))

    async def verify(self, request: pb.VerifyCitizenRequest) -> pb.VerifyCitizenResponse:
        claim = check_claim(request.personal_id, request.full_name, request.date_of_birth)
        tenant = await self._require_admin()
        async with self.db.unit_of_work(tenant) as uow:
            person, created = await self.people.find_or_create(uow, claim)
            same = (person.full_name, person.date_of_birth) == (claim.full_name, claim.date_of_birth)
            if not same and person.verification_status != VERIFIED:
                # An unverified record takes the newer claim; a verified one is never overwritten.
                person.full_name, person.date_of_birth = claim.full_name, claim.date_of_birth
                same = True
            record(uow, "CITIZEN_ID_CHECKED", f"person:{person.id}")
            await uow.commit()
        if not same:
            # The number belongs to a verified person and this claim differs: answer for the claim only.
            try:
                answer = await self.people.registry.verify(
                    claim.personal_id, claim.full_name, claim.date_of_birth.isoformat()
                )
            except (RegistryUnavailable, RegistryRefused) as exc:
                raise Unavailable(
                    "REGISTRY_UNAVAILABLE",
                    bilingual(
                        "Cơ sở dữ liệu quốc gia về dân cư chưa trả lời, vui lòng thử lại sau",
                        "the national population database is not answering; try again later",
                    ),
                ) from exc
            return pb.VerifyCitizenResponse(
                person_id=str(person.id),
                verification=pb.Verification(
                    status=pb.VerificationStatus.Value(f"VERIFICATION_STATUS_{status_of(answer)}"),
                    checks=[pb.FieldCheck(field=k, matches=v) for k, v in sorted(answer.checks.items())],
                    verify_time=ts(answer.checked_at),
                    identification_level=1 if answer.result == "MATCH" else 0,
                    source="POPULATION_REGISTRY",
                ),
            )
        if person.verification_status != VERIFIED or created:
            await self.people.verify_now(tenant, person.id, claim)
        async with self.db.unit_of_work(tenant) as uow:
            fresh = await uow.session.get(Person, person.id)
        return pb.VerifyCitizenResponse(person_id=str(person.id), verification=verification_of(fresh))

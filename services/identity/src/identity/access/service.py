"""The caller as identity knows them: account, scope, children; a guardian's first sign-in links children.

An account is created the first time a Keycloak user reaches the platform (``GetMe`` or
``GetAccessScope``). For a guardian signed in through the tenant realm's VNeID broker, the verified
personal identification number (the ``personal_id`` attribute VNeID sets) is looked up among the guardians
recorded at enrolment, and the children are linked: nothing to type. A guardian recorded later is linked
when student-record's event arrives (:mod:`identity.events.handlers`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from school.events.identity.v1 import events_pb2 as events
from school.identity.v1 import identity_pb2 as pb
from school_common import access
from school_common.context import Principal, current_principal
from school_common.db import Database, UnitOfWork
from school_common.errors import PermissionDenied, Unavailable, bilingual, missing_token
from school_common.events import Outbox
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from identity.adapters.keycloak import Keycloak
from identity.audit.record import record
from identity.models import (
    Account,
    Assignment,
    GuardianLink,
    Guardianship,
    LinkRequest,
    Person,
    School,
    SchoolClass,
    Student,
)
from identity.people.service import VERIFIED, PersonService

log = logging.getLogger(__name__)

VNEID_ALIAS = "vneid"
AUTOMATIC = "AUTOMATIC"
REQUEST = "REQUEST"
STAFF_ROLES = access.STAFF_ROLES


def tenant_principal() -> Principal:
    """The caller, who must act for a tenant (a platform operator's token reaches no tenant data)."""
    principal = current_principal()
    if principal is None:
        raise missing_token()
    if principal.is_platform:
        raise PermissionDenied(
            "TENANT_TOKEN_REQUIRED",
            bilingual(
                "Thao tác này cần tài khoản của một đơn vị (Sở/Phòng GD&ĐT)",
                "this needs an account of a tenant, not a platform operator",
            ),
        )
    return principal


def kind_of(roles: frozenset[str]) -> str:
    if roles & STAFF_ROLES:
        return "staff"
    if access.GUARDIAN in roles:
        return "guardian"
    if access.STUDENT in roles:
        return "student"
    return "other"


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def verification_of(person: Person | None) -> pb.Verification:
    if person is None:
        return pb.Verification(status=pb.VERIFICATION_STATUS_UNSPECIFIED)
    return pb.Verification(
        status=pb.VerificationStatus.Value(f"VERIFICATION_STATUS_{person.verification_status}"),
        checks=[pb.FieldCheck(field=k, matches=v) for k, v in sorted(person.verification_checks.items())],
        verify_time=ts(person.verified_at),
        identification_level=person.identification_level,
        source=person.verification_source,
    )


class AccessService:
    def __init__(self, db: Database, keycloak: Keycloak, people: PersonService, outbox: Outbox) -> None:
        self.db = db
        self.keycloak = keycloak
        self.people = people
        self.outbox = outbox

    # ---------------------------------------------------------------- accounts

    async def account(self, principal: Principal) -> Account:
        """The caller's account, created on their first call."""
        async with self.db.unit_of_work(principal.tenant) as uow:
            existing = await uow.session.scalar(select(Account).where(Account.subject == principal.subject))
            if existing is not None:
                return existing
        user, links = await self._keycloak_user(principal)
        async with self.db.unit_of_work(principal.tenant) as uow:
            account = await self._onboard(uow, principal, user, links)
            await uow.commit()
            return account

    async def _keycloak_user(self, principal: Principal) -> tuple[dict, list[dict]]:
        realm = f"tenant-{principal.tenant}"
        try:
            user = await self.keycloak.get_user(realm, principal.subject) or {}
            links = await self.keycloak.federated_identities(realm, principal.subject) if user else []
        except Exception as exc:
            log.warning("keycloak user lookup failed", extra={"error": type(exc).__name__})
            raise Unavailable(
                "IDENTITY_PROVIDER_UNAVAILABLE",
                bilingual(
                    "Không đọc được tài khoản lúc này, vui lòng thử lại", "cannot read the account right now"
                ),
            ) from exc
        return user, links

    async def _onboard(self, uow: UnitOfWork, principal: Principal, user: dict, links: list[dict]) -> Account:
        display = " ".join(p for p in (user.get("lastName", ""), user.get("firstName", "")) if p).strip()
        values = {
            "id": uuid.uuid4(),
            "tenant_id": principal.tenant,
            "subject": principal.subject,
            "username": str(user.get("username") or principal.subject),
            "display_name": display,
            "kind": kind_of(principal.roles),
            "email": user.get("email"),
        }
        await uow.session.execute(
            insert(Account).values(**values).on_conflict_do_nothing(index_elements=["tenant_id", "subject"])
        )
        account = await uow.session.scalar(select(Account).where(Account.subject == principal.subject))
        assert account is not None
        federated = any(link.get("identityProvider") == VNEID_ALIAS for link in links)
        personal_id = ((user.get("attributes") or {}).get("personal_id") or [""])[0]
        if account.person_id is None and federated and personal_id:
            # Insert-or-find, so that two first calls of the same person at once end with one person.
            await uow.session.execute(
                insert(Person)
                .values(
                    id=uuid.uuid4(),
                    tenant_id=principal.tenant,
                    personal_id_hash=self.people.cipher.lookup_hash(personal_id),
                    personal_id_encrypted=self.people.cipher.encrypt(personal_id),
                    full_name=display or account.username,
                    date_of_birth=None,
                    verification_status=VERIFIED,
                    verification_checks={},
                )
                .on_conflict_do_nothing(index_elements=["tenant_id", "personal_id_hash"])
            )
            person = await self.people.lookup(uow, personal_id)
            assert person is not None
            PersonService.mark_vneid_verified(person)
            await uow.session.flush()
            account.person_id = person.id
            record(uow, "VNEID_IDENTITY_LINKED", f"account:{account.id}", details={"identification_level": 2})
            if account.kind == "guardian":
                await self.link_children_of(uow, account)
        record(uow, "ACCOUNT_CREATED", f"account:{account.id}", details={"kind": account.kind})
        return account

    async def link_children_of(self, uow: UnitOfWork, account: Account) -> int:
        """Link every child whose recorded guardian is this account's verified person."""
        if account.person_id is None:
            return 0
        person = await uow.session.get(Person, account.person_id)
        if person is None or person.verification_status != VERIFIED:
            return 0
        rows = (
            await uow.session.execute(
                select(Guardianship.student_id, Guardianship.relationship).where(
                    Guardianship.person_id == account.person_id
                )
            )
        ).all()
        linked = 0
        for student_id, relationship in rows:
            linked += await self.link(uow, account, student_id, relationship, AUTOMATIC)
        return linked

    async def link(
        self, uow: UnitOfWork, account: Account, student_id: uuid.UUID, relationship: str, source: str
    ) -> int:
        created = await uow.session.scalar(
            insert(GuardianLink)
            .values(
                id=uuid.uuid4(),
                tenant_id=uow.tenant,
                account_id=account.id,
                student_id=student_id,
                relationship=relationship,
                source=source,
            )
            .on_conflict_do_nothing(index_elements=["account_id", "student_id"])
            .returning(GuardianLink.id)
        )
        if created is None:
            return 0
        school_id = await uow.session.scalar(select(Student.school_id).where(Student.id == student_id))
        await self.outbox.add(
            uow,
            "guardian.linked",
            events.GuardianLinked(
                subject=account.subject,
                person_id=str(account.person_id or ""),
                student_id=str(student_id),
                school_id=str(school_id or ""),
                source=source,
                link_time=ts(datetime.now(UTC)),
            ),
        )
        record(
            uow, "GUARDIAN_LINKED", f"student:{student_id}", actor=account.subject, details={"source": source}
        )
        return 1

    # ---------------------------------------------------------------- scope

    async def scope_of(self, principal: Principal, account: Account | None = None) -> access.Scope:
        """The caller's scope for identity's own decisions (``account`` when already loaded)."""
        return access.scope_from_response(await self.scope(principal, account), principal.roles)

    async def scope(self, principal: Principal, account: Account | None = None) -> pb.GetAccessScopeResponse:
        if principal.is_platform:
            return pb.GetAccessScopeResponse(subject=principal.subject)
        account = account or await self.account(principal)
        response = pb.GetAccessScopeResponse(
            subject=principal.subject, tenant_wide=access.AUTHORITY_ADMIN in principal.roles
        )
        async with self.db.unit_of_work(principal.tenant) as uow:
            for a in await self._effective_assignments(uow, account, principal.roles):
                if a.class_id is not None:
                    response.classes.append(
                        pb.ScopedClass(
                            class_id=str(a.class_id),
                            school_id=str(a.school_id),
                            role=a.role,
                            subject=a.subject,
                        )
                    )
                elif a.school_id is not None and a.role in access.SCHOOL_ROLES:
                    # A teacher with no class yet reaches no class: only school roles reach a school.
                    response.schools.append(pb.ScopedSchool(school_id=str(a.school_id), role=a.role))
            if access.GUARDIAN in principal.roles:
                for student_id, school_id in (
                    await uow.session.execute(
                        select(GuardianLink.student_id, Student.school_id)
                        .join(Student, Student.id == GuardianLink.student_id)
                        .where(GuardianLink.account_id == account.id)
                    )
                ).all():
                    response.children.append(
                        pb.ScopedChild(student_id=str(student_id), school_id=str(school_id))
                    )
            if account.person_id is not None:
                # The records whose student is this verified person: a student, or a former one after
                # graduation, reads their own record for life (only a verified identity has a person id).
                for student_id, school_id in (
                    await uow.session.execute(
                        select(Student.id, Student.school_id).where(Student.person_id == account.person_id)
                    )
                ).all():
                    response.own_records.append(
                        pb.ScopedChild(student_id=str(student_id), school_id=str(school_id))
                    )
        return response

    async def _effective_assignments(
        self, uow: UnitOfWork, account: Account, roles: frozenset[str]
    ) -> list[Assignment]:
        """Assignments that count now: their role is in the token, and the person is verified."""
        if account.person_id is None:
            return []
        person = await uow.session.get(Person, account.person_id)
        if person is None or person.verification_status != VERIFIED:
            return []
        rows = (
            await uow.session.scalars(select(Assignment).where(Assignment.account_id == account.id))
        ).all()
        return [a for a in rows if a.role in roles]

    # ---------------------------------------------------------------- me

    async def me(self) -> pb.GetMeResponse:
        principal = tenant_principal()
        account = await self.account(principal)
        scope = await self.scope(principal, account)
        response = pb.GetMeResponse(
            subject=principal.subject,
            tenant=principal.tenant,
            display_name=account.display_name,
            roles=sorted(principal.roles & (STAFF_ROLES | {access.GUARDIAN, access.STUDENT, access.PARTNER})),
            tenant_wide=scope.tenant_wide,
        )
        async with self.db.unit_of_work(principal.tenant) as uow:
            person = await uow.session.get(Person, account.person_id) if account.person_id else None
            if person is not None:
                response.person_id = str(person.id)
            response.verification.CopyFrom(verification_of(person))
            school_ids = {uuid.UUID(s.school_id) for s in scope.schools} | {
                uuid.UUID(c.school_id) for c in scope.classes
            }
            school_ids |= {uuid.UUID(c.school_id) for c in scope.children}
            school_ids |= {uuid.UUID(c.school_id) for c in scope.own_records}
            names = dict(
                (
                    await uow.session.execute(select(School.id, School.name).where(School.id.in_(school_ids)))
                ).all()
            )
            class_ids = {uuid.UUID(c.class_id) for c in scope.classes}
            children = (
                await uow.session.execute(
                    select(Student, GuardianLink)
                    .join(GuardianLink, GuardianLink.student_id == Student.id)
                    .where(GuardianLink.account_id == account.id)
                    .order_by(Student.full_name)
                )
            ).all()
            own = (
                await uow.session.scalars(
                    select(Student)
                    .where(Student.id.in_([uuid.UUID(c.student_id) for c in scope.own_records]))
                    .order_by(Student.full_name)
                )
            ).all()
            class_ids |= {student.class_id for student, _ in children} | {student.class_id for student in own}
            class_names = dict(
                (
                    await uow.session.execute(
                        select(SchoolClass.id, SchoolClass.name).where(SchoolClass.id.in_(class_ids))
                    )
                ).all()
            )
            roles_at: dict[str, set[str]] = {}
            for s in scope.schools:
                roles_at.setdefault(s.school_id, set()).add(s.role)
            for c in scope.classes:
                roles_at.setdefault(c.school_id, set()).add(c.role)
            for school_id, roles in sorted(roles_at.items(), key=lambda kv: names.get(uuid.UUID(kv[0]), "")):
                response.schools.append(
                    pb.SchoolAccess(
                        school_id=school_id,
                        school_name=names.get(uuid.UUID(school_id), ""),
                        roles=sorted(roles),
                    )
                )
            for c in scope.classes:
                response.classes.append(
                    pb.ClassAccess(
                        class_id=c.class_id,
                        school_id=c.school_id,
                        class_name=class_names.get(uuid.UUID(c.class_id), ""),
                        role=c.role,
                        subject=c.subject,
                    )
                )
            for student in own:
                response.own_records.append(
                    pb.Child(
                        student_id=str(student.id),
                        full_name=student.full_name,
                        school_id=str(student.school_id),
                        school_name=names.get(student.school_id, ""),
                        class_id=str(student.class_id),
                        class_name=class_names.get(student.class_id, ""),
                        relationship="self",
                    )
                )
            if access.GUARDIAN in principal.roles:
                for student, link in children:
                    response.children.append(
                        pb.Child(
                            student_id=str(student.id),
                            full_name=student.full_name,
                            school_id=str(student.school_id),
                            school_name=names.get(student.school_id, ""),
                            class_id=str(student.class_id),
                            class_name=class_names.get(student.class_id, ""),
                            relationship=link.relationship,
                            link_time=ts(link.created_at),
                        )
                    )
                response.link_state = pb.LINK_STATE_LINKED if children else pb.LINK_STATE_NO_CHILD_LINKED
                response.pending_link_requests = int(
                    await uow.session.scalar(
                        select(func.count())
                        .select_from(LinkRequest)
                        .where(LinkRequest.requester_account_id == account.id, LinkRequest.state == "PENDING")
                    )
                    or 0
                )
            else:
                response.link_state = pb.LINK_STATE_NOT_A_GUARDIAN
        return response

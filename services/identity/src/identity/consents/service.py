"""Consent per purpose: granted and withdrawn by the guardian, and by the child from age 7 where needed.

Withdrawal takes effect at once (the row changes in the same transaction) and is published as
``consent.withdrawn`` so that every service stops processing for the purpose.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from school.events.identity.v1 import events_pb2 as events
from school.identity.v1 import identity_pb2 as pb
from school_common import access
from school_common.access import Action, Resource, authorize
from school_common.db import Database, UnitOfWork
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy import select

from identity.access.service import AccessService, tenant_principal, ts
from identity.audit.record import record
from identity.domain import consent as rules
from identity.models import Account, Consent, Student

BASIS = {"LAW": pb.LEGAL_BASIS_LAW, "CONSENT": pb.LEGAL_BASIS_CONSENT}


def purpose_proto(p: rules.Purpose) -> pb.Purpose:
    return pb.Purpose(
        code=p.code,
        title=p.title,
        legal_basis=BASIS[p.basis],
        legal_reference=p.legal_reference,
        child_consent_from_age_7=p.child_consent_from_age_7,
    )


def consent_proto(c: Consent) -> pb.Consent:
    return pb.Consent(
        id=str(c.id),
        student_id=str(c.student_id),
        purpose=c.purpose,
        given_by=c.given_by,
        state=pb.ConsentState.Value(f"CONSENT_STATE_{c.state}"),
        grant_time=ts(c.granted_at),
        withdraw_time=ts(c.withdrawn_at),
    )


async def _current(uow: UnitOfWork, student: Student, purpose: str, given_by: str) -> Consent | None:
    """One party's consent for one purpose about one child, locked for the change about to be made."""
    return await uow.session.scalar(
        select(Consent)
        .where(Consent.student_id == student.id, Consent.purpose == purpose, Consent.given_by == given_by)
        .with_for_update()
    )


class ConsentService:
    def __init__(self, db: Database, accounts: AccessService, outbox: Outbox) -> None:
        self.db = db
        self.accounts = accounts
        self.outbox = outbox

    async def purposes(self) -> pb.ListPurposesResponse:
        tenant_principal()
        return pb.ListPurposesResponse(purposes=[purpose_proto(p) for p in rules.PURPOSES])

    async def _student(self, uow: UnitOfWork, student_id: str) -> Student:
        parsed = parse_uuid(student_id)
        student = await uow.session.get(Student, parsed) if parsed else None
        if student is None:
            raise NotFound(
                "STUDENT_NOT_FOUND",
                bilingual("Không tìm thấy học sinh", "student not found"),
                {"field": "student_id"},
            )
        return student

    async def _party(self, student: Student) -> tuple[str, Account]:
        """As whom the caller consents about ``student``: their guardian, or the child themself."""
        principal = tenant_principal()
        account = await self.accounts.account(principal)
        scope = await self.accounts.scope_of(principal, account)
        if str(student.id) in scope.children:
            return "guardian", account
        if (
            principal.has_any(access.STUDENT)
            and account.person_id is not None
            and account.person_id == student.person_id
        ):
            return "child", account
        raise PermissionDenied(
            "NOT_YOUR_CHILD",
            bilingual(
                "Chỉ cha mẹ/người giám hộ hoặc chính học sinh mới cho hoặc rút sự đồng ý",
                "only the student's guardian or the student may give or withdraw consent",
            ),
        )

    @staticmethod
    def _purpose(code: str) -> rules.Purpose:
        purpose = rules.BY_CODE.get(code)
        if purpose is None:
            raise InvalidArgument(
                "UNKNOWN_PURPOSE",
                bilingual("Mục đích xử lý không tồn tại", "unknown purpose"),
                {"field": "purpose"},
            )
        if purpose.basis == "LAW":
            raise FailedPrecondition(
                "PURPOSE_RESTS_ON_LAW",
                bilingual(
                    "Mục đích này do pháp luật quy định, không dựa trên sự đồng ý",
                    "this processing is required by law; it does not rest on consent",
                ),
                {"field": "purpose"},
            )
        return purpose

    async def list(self, request: pb.ListConsentsRequest) -> pb.ListConsentsResponse:
        principal = tenant_principal()
        async with self.db.unit_of_work(principal.tenant) as uow:
            student = await self._student(uow, request.student_id)
            account = await self.accounts.account(principal)
            scope = await self.accounts.scope_of(principal, account)
            own = (
                principal.has_any(access.STUDENT)
                and account.person_id is not None
                and account.person_id == student.person_id
            )
            if not own:
                authorize(
                    scope,
                    Action.READ,
                    Resource.student(str(student.id), str(student.school_id), [str(student.class_id)]),
                )
            consents = (
                await uow.session.scalars(select(Consent).where(Consent.student_id == student.id))
            ).all()
            if not own and str(student.id) not in scope.children:  # staff reading a child's consents
                record(
                    uow,
                    "PERSONAL_DATA_READ",
                    f"student:{student.id}/consents",
                    details={"operation": "ListConsents", "subjects": 1},
                )
                await uow.commit()
        today = datetime.now(UTC).date()
        statuses = []
        for p in rules.PURPOSES:
            granted = {c.given_by for c in consents if c.purpose == p.code and c.state == "GRANTED"}
            missing = rules.missing_consents(p, student.date_of_birth, today, granted)
            statuses.append(
                pb.PurposeStatus(
                    purpose=p.code, legal_basis=BASIS[p.basis], permitted=not missing, missing=missing
                )
            )
        return pb.ListConsentsResponse(consents=[consent_proto(c) for c in consents], purposes=statuses)

    async def grant(self, request: pb.GrantConsentRequest) -> pb.GrantConsentResponse:
        principal = tenant_principal()
        purpose = self._purpose(request.purpose)
        async with self.db.unit_of_work(principal.tenant) as uow:
            student = await self._student(uow, request.student_id)
        given_by, account = await self._party(student)
        now = datetime.now(UTC)
        async with self.db.unit_of_work(principal.tenant) as uow:
            row = await _current(uow, student, purpose.code, given_by)
            if row is not None and row.state == "GRANTED":
                return pb.GrantConsentResponse(consent=consent_proto(row))
            if row is None:
                row = Consent(
                    id=uuid.uuid4(),
                    tenant_id=principal.tenant,
                    student_id=student.id,
                    purpose=purpose.code,
                    given_by=given_by,
                    account_id=account.id,
                    state="GRANTED",
                    granted_at=now,
                )
                uow.session.add(row)
            else:
                row.state, row.granted_at, row.withdrawn_at, row.account_id = "GRANTED", now, None, account.id
            await uow.session.flush()
            granted = set(
                (
                    await uow.session.scalars(
                        select(Consent.given_by).where(
                            Consent.student_id == student.id,
                            Consent.purpose == purpose.code,
                            Consent.state == "GRANTED",
                        )
                    )
                ).all()
            )
            permitted = not rules.missing_consents(purpose, student.date_of_birth, now.date(), granted)
            await self.outbox.add(
                uow,
                "consent.granted",
                events.ConsentGranted(
                    consent_id=str(row.id),
                    student_id=str(student.id),
                    purpose=purpose.code,
                    given_by=given_by,
                    grant_time=ts(now),
                    purpose_permitted=permitted,
                ),
            )
            record(
                uow,
                "CONSENT_GRANTED",
                f"student:{student.id}",
                details={"purpose": purpose.code, "given_by": given_by},
            )
            await uow.commit()
        return pb.GrantConsentResponse(consent=consent_proto(row))

    async def withdraw(self, request: pb.WithdrawConsentRequest) -> pb.WithdrawConsentResponse:
        principal = tenant_principal()
        purpose = self._purpose(request.purpose)
        async with self.db.unit_of_work(principal.tenant) as uow:
            student = await self._student(uow, request.student_id)
        given_by, _ = await self._party(student)
        now = datetime.now(UTC)
        async with self.db.unit_of_work(principal.tenant) as uow:
            row = await _current(uow, student, purpose.code, given_by)
            if row is None:
                raise NotFound(
                    "CONSENT_NOT_FOUND",
                    bilingual("Chưa có sự đồng ý nào để rút", "there is no consent to withdraw"),
                )
            if row.state == "WITHDRAWN":
                return pb.WithdrawConsentResponse(consent=consent_proto(row))
            row.state, row.withdrawn_at = "WITHDRAWN", now
            await self.outbox.add(
                uow,
                "consent.withdrawn",
                events.ConsentWithdrawn(
                    consent_id=str(row.id),
                    student_id=str(student.id),
                    purpose=purpose.code,
                    given_by=given_by,
                    withdraw_time=ts(now),
                ),
            )
            record(
                uow,
                "CONSENT_WITHDRAWN",
                f"student:{student.id}",
                details={"purpose": purpose.code, "given_by": given_by},
            )
            await uow.commit()
        return pb.WithdrawConsentResponse(consent=consent_proto(row))

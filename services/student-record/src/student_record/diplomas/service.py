"""Use cases of the register of upper-secondary diplomas (bằng tốt nghiệp THPT) and certificates of
programme completion: entering one, correcting it (a new entry, the old one marked corrected and otherwise
untouched), revoking it (it stays in the register), the school's register book, a student's entries, and
the public verification by serial number and code.

Who may do what:
- the school's admins (and the authority) enter, correct and revoke: ADMIN on the student to enter one,
  ADMIN on the issuing school to correct or revoke it (a teacher, a guardian may not);
- the register book of a school and year: ADMIN on the school (its admins, the authority); audited;
- a student's entries: whoever may read the student, guardians included (their child link does not
  depend on a current enrolment, so families look them up for life); audited;
- verification is public (``DEFINITION.public_methods``): tenant, serial number and code; it answers the
  status, kind, school, year and the holder's name, and an unknown serial and a wrong code are the same
  NOT_FOUND.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.access import Action, Caller, Callers
from school_common.auth import valid_tenant
from school_common.db import Database, UnitOfWork
from school_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from student_record.domain import diplomas as rules
from student_record.domain.rules import code_matches, invalid, new_verification_code
from student_record.enrolments import repository as enrolments
from student_record.enrolments.service import student_for, student_not_found
from student_record.events import publish
from student_record.mappers import timestamp
from student_record.models import Diploma, School, SchoolClass, Student
from student_record.schools.service import school_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")

KINDS = {
    pb.DIPLOMA_KIND_UPPER_SECONDARY_DIPLOMA: rules.Kind.UPPER_SECONDARY_DIPLOMA,
    pb.DIPLOMA_KIND_UPPER_SECONDARY_COMPLETION: rules.Kind.UPPER_SECONDARY_COMPLETION,
}
KINDS_PB = {v: k for k, v in KINDS.items()}
CLASSIFICATIONS = {
    pb.DIPLOMA_CLASSIFICATION_GIOI: rules.Classification.GIOI,
    pb.DIPLOMA_CLASSIFICATION_KHA: rules.Classification.KHA,
    pb.DIPLOMA_CLASSIFICATION_TRUNG_BINH: rules.Classification.TRUNG_BINH,
}
CLASSIFICATIONS_PB = {v: k for k, v in CLASSIFICATIONS.items()}
STATUSES_PB = {
    rules.Status.VALID: pb.DIPLOMA_STATUS_VALID,
    rules.Status.CORRECTED: pb.DIPLOMA_STATUS_CORRECTED,
    rules.Status.REVOKED: pb.DIPLOMA_STATUS_REVOKED,
}


def diploma_not_found() -> NotFound:
    return NotFound("DIPLOMA_NOT_FOUND", bilingual("Không tìm thấy văn bằng", "diploma not found"))


def _already_issued() -> AlreadyExists:
    return AlreadyExists(
        "DIPLOMA_ALREADY_ISSUED",
        bilingual(
            "Học sinh đã có văn bằng loại này còn hiệu lực: hãy đính chính hoặc thu hồi",
            "the student already holds an active document of this kind: correct or revoke it",
        ),
    )


def _serial_taken() -> AlreadyExists:
    return AlreadyExists(
        "SERIAL_NUMBER_TAKEN",
        bilingual("Số hiệu đã được dùng", "this serial number is already in the register"),
        {"field": "serial_number"},
    )


def _register_number_taken() -> AlreadyExists:
    return AlreadyExists(
        "REGISTER_NUMBER_TAKEN",
        bilingual(
            "Số vào sổ đã được dùng trong sổ của năm", "this register number is already in the year's book"
        ),
        {"field": "register_number"},
    )


def _not_current(row: Diploma) -> FailedPrecondition:
    if row.revoked_at is not None:
        return FailedPrecondition(
            "DIPLOMA_REVOKED", bilingual("Văn bằng đã bị thu hồi", "this entry has been revoked")
        )
    return FailedPrecondition(
        "DIPLOMA_CORRECTED",
        bilingual(
            "Văn bằng đã được đính chính: hãy thao tác trên bản hiện hành",
            "this entry has been corrected: act on the current entry",
        ),
    )


def status(row: Diploma) -> rules.Status:
    return rules.status_of(row.corrected_at is not None, row.revoked_at is not None)


def diploma_proto(row: Diploma) -> pb.Diploma:
    message = pb.Diploma(
        id=str(row.id),
        student_id=str(row.student_id),
        school_id=str(row.school_id),
        kind=KINDS_PB[rules.Kind(row.kind)],
        status=STATUSES_PB[status(row)],
        graduation_year=row.graduation_year,
        classification=(
            CLASSIFICATIONS_PB[rules.Classification(row.classification)]
            if row.classification
            else pb.DIPLOMA_CLASSIFICATION_UNSPECIFIED
        ),
        register_number=row.register_number,
        serial_number=row.serial_number,
        holder_name=row.holder_name,
        holder_date_of_birth=row.holder_date_of_birth.isoformat(),
        issued_on=row.issued_on.isoformat(),
        signer_name=row.signer_name,
        signer_title=row.signer_title,
        verification_code=row.verification_code,
        supersedes_id=str(row.supersedes_id) if row.supersedes_id else "",
        correction_reason=row.correction_reason,
        issued_by=row.issued_by,
        issue_time=timestamp(row.issued_at),
        revoked_by=row.revoked_by or "",
        revocation_reason=row.revocation_reason or "",
    )
    if row.corrected_at is not None:
        message.correct_time.CopyFrom(timestamp(row.corrected_at))
    if row.revoked_at is not None:
        message.revoke_time.CopyFrom(timestamp(row.revoked_at))
    return message


def _classification(
    value: pb.DiplomaClassification.ValueType, kind: rules.Kind
) -> rules.Classification | None:
    if value and value not in CLASSIFICATIONS:
        raise invalid("classification", "Xếp loại không hợp lệ", "unknown classification")
    return rules.classification(CLASSIFICATIONS[value].value if value else None, kind)


class DiplomaService:
    def __init__(self, db: Database, outbox: Outbox, access: Callers) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access

    # ------------------------------------------------------------ helpers

    @staticmethod
    async def _final_year(session: AsyncSession, student: Student) -> str:
        """The school year of the student's grade-12 class at their school, or the refusal."""
        school = await session.get_one(School, student.school_id)
        class_ids = await enrolments.current_class_ids(session, student.id)
        classes: Sequence[SchoolClass] = (
            (await session.scalars(select(SchoolClass).where(SchoolClass.id.in_(class_ids)))).all()
            if class_ids
            else []
        )
        return rules.eligible(
            school.levels, [(c.grade, c.school_year) for c in classes if c.school_id == student.school_id]
        )

    @staticmethod
    async def _numbers_free(
        session: AsyncSession, school_id: uuid.UUID, year: int, kind: rules.Kind, serial: str, register: str
    ) -> None:
        if await session.scalar(select(Diploma.id).where(Diploma.serial_number == serial)):
            raise _serial_taken()
        taken = await session.scalar(
            select(Diploma.id).where(
                Diploma.school_id == school_id,
                Diploma.graduation_year == year,
                Diploma.kind == kind.value,
                Diploma.register_number == register,
            )
        )
        if taken:
            raise _register_number_taken()

    @staticmethod
    async def _insert(uow: UnitOfWork, row: Diploma) -> None:
        """Adds the entry; a concurrent entry that took a number or the student's slot first is reported
        as such (the constraints decide, the checks before only give the common case its reason)."""
        uow.session.add(row)
        try:
            await uow.session.flush()
        except IntegrityError as exc:
            text = str(exc.orig)
            if "uq_diplomas_serial" in text:
                raise _serial_taken() from exc
            if "uq_diplomas_register" in text:
                raise _register_number_taken() from exc
            if "uq_diplomas_active" in text:
                raise _already_issued() from exc
            raise

    @staticmethod
    async def _current(uow: UnitOfWork, caller: Caller, diploma_id: str) -> Diploma:
        """The entry, once the caller administers its issuing school (locked for the change)."""
        parsed = parse_uuid(diploma_id)
        row = (
            await uow.session.scalar(select(Diploma).where(Diploma.id == parsed).with_for_update())
            if parsed
            else None
        )
        if row is None:
            raise diploma_not_found()
        await school_for(uow.session, caller, row.school_id, Action.ADMIN)
        return row

    # ------------------------------------------------------------ issue

    async def issue_diploma(self, request: pb.IssueDiplomaRequest) -> pb.IssueDiplomaResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        kind = rules.kind(KINDS[request.kind].value if request.kind in KINDS else "")
        classification = _classification(request.classification, kind)
        serial = rules.document_number(request.serial_number, "serial_number")
        register = rules.document_number(request.register_number, "register_number")
        signer_name, signer_title = rules.signer(request.signer_name, request.signer_title)
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await student_for(uow.session, caller, student_id, Action.ADMIN)
            replayed = await idempotency.replay(
                uow, request.request_id, "IssueDiploma", request, pb.IssueDiplomaResponse
            )
            if replayed:
                return replayed
            final_year = await self._final_year(uow.session, student)
            year = rules.graduation_year(request.graduation_year, rules.final_year_end(final_year))
            issued_on = rules.issued_on(request.issued_on, year, datetime.now(VN).date())
            active = await uow.session.scalar(
                select(Diploma.id).where(
                    Diploma.student_id == student.id,
                    Diploma.kind == kind.value,
                    Diploma.corrected_at.is_(None),
                    Diploma.revoked_at.is_(None),
                )
            )
            if active:
                raise _already_issued()
            await self._numbers_free(uow.session, student.school_id, year, kind, serial, register)
            row = Diploma(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                student_id=student.id,
                school_id=student.school_id,
                kind=kind.value,
                graduation_year=year,
                classification=classification.value if classification else None,
                register_number=register,
                serial_number=serial,
                holder_name=student.full_name,
                holder_date_of_birth=student.date_of_birth,
                issued_on=issued_on,
                signer_name=signer_name,
                signer_title=signer_title,
                verification_code=new_verification_code(),
                correction_reason="",
                issued_by=caller.principal.subject,
                issued_at=datetime.now(UTC),
            )
            await self._insert(uow, row)
            await publish.diploma_issued(self.outbox, uow, row)
            response = pb.IssueDiplomaResponse(diploma=diploma_proto(row))
            await idempotency.remember(uow, request.request_id, "IssueDiploma", request, response)
            await uow.commit()
        return response

    # ------------------------------------------------------------ correct

    async def correct_diploma(self, request: pb.CorrectDiplomaRequest) -> pb.CorrectDiplomaResponse:
        caller = await self.access.current()
        reason = rules.reason(request.reason)
        serial = rules.document_number(request.serial_number, "serial_number")
        register = rules.document_number(request.register_number, "register_number")
        signer_name, signer_title = rules.signer(request.signer_name, request.signer_title)
        async with self.db.unit_of_work(caller.tenant) as uow:
            old = await self._current(uow, caller, request.diploma_id)
            replayed = await idempotency.replay(
                uow, request.request_id, "CorrectDiploma", request, pb.CorrectDiplomaResponse
            )
            if replayed:
                return replayed
            if old.corrected_at is not None or old.revoked_at is not None:
                raise _not_current(old)
            kind = rules.Kind(old.kind)
            classification = _classification(request.classification, kind)
            issued_on = rules.issued_on(request.issued_on, old.graduation_year, datetime.now(VN).date())
            await self._numbers_free(uow.session, old.school_id, old.graduation_year, kind, serial, register)
            student = await uow.session.get_one(Student, old.student_id)
            now = datetime.now(UTC)
            old.corrected_at = now
            await uow.session.flush()
            row = Diploma(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                student_id=old.student_id,
                school_id=old.school_id,
                kind=old.kind,
                graduation_year=old.graduation_year,
                classification=classification.value if classification else None,
                register_number=register,
                serial_number=serial,
                holder_name=student.full_name,
                holder_date_of_birth=student.date_of_birth,
                issued_on=issued_on,
                signer_name=signer_name,
                signer_title=signer_title,
                verification_code=new_verification_code(),
                supersedes_id=old.id,
                correction_reason=reason,
                issued_by=caller.principal.subject,
                issued_at=now,
            )
            await self._insert(uow, row)
            await publish.diploma_issued(self.outbox, uow, row)
            response = pb.CorrectDiplomaResponse(diploma=diploma_proto(row))
            await idempotency.remember(uow, request.request_id, "CorrectDiploma", request, response)
            await uow.commit()
        return response

    # ------------------------------------------------------------ revoke

    async def revoke_diploma(self, request: pb.RevokeDiplomaRequest) -> pb.RevokeDiplomaResponse:
        caller = await self.access.current()
        reason = rules.reason(request.reason)
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await self._current(uow, caller, request.diploma_id)
            replayed = await idempotency.replay(
                uow, request.request_id, "RevokeDiploma", request, pb.RevokeDiplomaResponse
            )
            if replayed:
                return replayed
            if row.corrected_at is not None or row.revoked_at is not None:
                raise _not_current(row)
            row.revoked_at = datetime.now(UTC)
            row.revoked_by = caller.principal.subject
            row.revocation_reason = reason
            await uow.session.flush()
            await publish.diploma_revoked(self.outbox, uow, row)
            response = pb.RevokeDiplomaResponse(diploma=diploma_proto(row))
            await idempotency.remember(uow, request.request_id, "RevokeDiploma", request, response)
            await uow.commit()
        return response

    # ------------------------------------------------------------ read

    async def list_school_diplomas(
        self, request: pb.ListSchoolDiplomasRequest
    ) -> pb.ListSchoolDiplomasResponse:
        caller = await self.access.current()
        if not rules.EARLIEST_YEAR <= request.graduation_year <= 2999:
            raise invalid("graduation_year", "Năm tốt nghiệp không hợp lệ", "not a graduation year")
        if request.kind:
            rules.kind(KINDS[request.kind].value if request.kind in KINDS else "")
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await school_for(uow.session, caller, request.school_id, Action.ADMIN)
            query = select(Diploma).where(
                Diploma.school_id == school.id, Diploma.graduation_year == request.graduation_year
            )
            if request.kind:
                query = query.where(Diploma.kind == KINDS[request.kind].value)
            rows = (await uow.session.scalars(query.order_by(Diploma.issued_at, Diploma.id))).all()
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"school:{school.id}/diplomas/{request.graduation_year}",
                subjects=len({r.student_id for r in rows}),
                operation="ListSchoolDiplomas",
            )
            await uow.commit()
        return pb.ListSchoolDiplomasResponse(diplomas=[diploma_proto(r) for r in rows])

    async def list_student_diplomas(
        self, request: pb.ListStudentDiplomasRequest
    ) -> pb.ListStudentDiplomasResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await student_for(uow.session, caller, student_id, Action.READ)
            rows = (
                await uow.session.scalars(
                    select(Diploma)
                    .where(Diploma.student_id == student.id)
                    .order_by(Diploma.graduation_year.desc(), Diploma.issued_at, Diploma.id)
                )
            ).all()
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"student:{student.id}/diplomas",
                subjects=1,
                operation="ListStudentDiplomas",
            )
            await uow.commit()
        return pb.ListStudentDiplomasResponse(diplomas=[diploma_proto(r) for r in rows])

    # ------------------------------------------------------------ public verification

    async def verify_diploma(self, request: pb.VerifyDiplomaRequest) -> pb.VerifyDiplomaResponse:
        tenant = request.tenant.strip()
        try:
            serial = rules.document_number(request.serial_number, "serial_number")
        except InvalidArgument:
            raise diploma_not_found() from None
        if not valid_tenant(tenant):
            raise diploma_not_found()
        async with self.db.unit_of_work(tenant) as uow:
            row = await uow.session.scalar(select(Diploma).where(Diploma.serial_number == serial))
            if row is None or not code_matches(row.verification_code, request.verification_code):
                raise diploma_not_found()
            school = await uow.session.get_one(School, row.school_id)
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor="public",
                target=f"student:{row.student_id}/diplomas/{row.id}/verification",
                subjects=1,
                operation="VerifyDiploma",
            )
            await uow.commit()
        return pb.VerifyDiplomaResponse(
            status=STATUSES_PB[status(row)],
            kind=KINDS_PB[rules.Kind(row.kind)],
            school_name=school.name,
            graduation_year=row.graduation_year,
            holder_name=row.holder_name,
        )

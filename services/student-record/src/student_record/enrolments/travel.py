"""Transfers out of the tenant and into it, with the record travelling as a package the sending school
signs (``enrolments/package.py``).

- ``TransferStudentOut``: the sending school's admin records where the student goes; the student's sector
  status becomes "Chuyển đi" of the term and they leave the class lists (they are no longer on the roll);
  their record stays, readable to the family for life.
- ``ExportStudentRecord``: the package for the receiving school — basic data, every year's results as
  computed here, and the transcripts as issued — signed by the school; every package handed out is
  audited like a copy of a transcript.
- ``ImportStudentRecord``: the receiving school's admin admits the student into a class with the package;
  the sending school's signature is checked against the platform's trust roots (a package that does not
  verify is refused) and the package is kept as received.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime

from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.access import Action, Callers
from school_common.db import Database
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy import func, literal, select

from student_record import mappers
from student_record.domain import gradebook as gb
from student_record.domain import rules
from student_record.enrolments.movements import current_enrolment, movement_proto, term_of_year
from student_record.enrolments.package import (
    Package,
    YearRecord,
    invalid_package,
    parse_package,
    render_package,
)
from student_record.enrolments.service import student_for, student_not_found
from student_record.events import publish
from student_record.gradebook.service import GradebookService
from student_record.mappers import timestamp
from student_record.models import (
    Enrolment,
    Movement,
    ReceivedRecord,
    School,
    SchoolClass,
    SchoolYear,
    Student,
    Transcript,
)
from student_record.schools.service import class_for
from student_record.transcripts.service import TrustRoots
from student_record.transcripts.signing import Signer, SigningIdentity, verify_xml_signatures

MAX_PACKAGE_BYTES = 10 * 1024 * 1024
TERMS = {1: "Học kì I", 2: "Học kì II", 0: "Cả năm"}


def received_record_not_found() -> NotFound:
    return NotFound(
        "RECEIVED_RECORD_NOT_FOUND", bilingual("Không tìm thấy hồ sơ chuyển đến", "received record not found")
    )


def _not_verified() -> InvalidArgument:
    return InvalidArgument(
        "RECORD_NOT_VERIFIED",
        bilingual(
            "Chữ ký của trường chuyển đi không xác thực được: hồ sơ bị từ chối",
            "the sending school's signature does not verify: the package is refused",
        ),
        {"field": "content"},
    )


class RecordTravelService:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        access: Callers,
        gradebook: GradebookService,
        signer: Signer,
        trust_roots: TrustRoots,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access
        self.gradebook = gradebook
        self.signer = signer
        self.trust_roots = trust_roots

    async def transfer_student_out(
        self, request: pb.TransferStudentOutRequest
    ) -> pb.TransferStudentOutResponse:
        caller = await self.access.current()
        effective_on = rules.check_day(request.effective_on, "effective_on", datetime.now(UTC).date())
        destination = rules.check_text(request.destination, "destination", 300)
        reason = rules.check_text(request.reason, "reason", 500)
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, enrolment = await current_enrolment(uow, caller, request.student_id)
            replayed = await idempotency.replay(
                uow, request.request_id, "TransferStudentOut", request, pb.TransferStudentOutResponse
            )
            if replayed:
                return replayed
            if student.status.startswith(("TRANSFERRED_OUT", "DROPPED_OUT")):
                raise FailedPrecondition(
                    "STUDENT_NOT_ON_ROLL",
                    bilingual("Học sinh đã rời trường", "the student has already left the school"),
                )
            year = await uow.session.scalar(
                select(SchoolYear).where(
                    SchoolYear.school_id == student.school_id, SchoolYear.name == enrolment.school_year
                )
            )
            now = datetime.now(UTC)
            row = Movement(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                student_id=student.id,
                kind="TRANSFER_OUT",
                state="DONE",
                school_year=enrolment.school_year,
                from_school_id=student.school_id,
                from_class_id=enrolment.class_id,
                counterpart=destination,
                effective_on=effective_on,
                reason=reason,
                requested_by=caller.principal.subject,
                decided_by=caller.principal.subject,
                decided_at=now,
                decision_note="",
            )
            uow.session.add(row)
            student.status = f"TRANSFERRED_OUT_{term_of_year(effective_on, year)}"
            student.status_date = effective_on
            await uow.session.flush()
            await publish.student_transferred(self.outbox, uow, row, student)
            await uow.session.refresh(row)
            response = pb.TransferStudentOutResponse(movement=movement_proto(row))
            await idempotency.remember(uow, request.request_id, "TransferStudentOut", request, response)
            await uow.commit()
        return response

    async def export_student_record(
        self, request: pb.ExportStudentRecordRequest
    ) -> pb.ExportStudentRecordResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await student_for(uow.session, caller, student_id, Action.ADMIN)
            school = await uow.session.get_one(School, student.school_id)
            years = []
            for enrolment, school_class in (
                await uow.session.execute(
                    select(Enrolment, SchoolClass)
                    .join(SchoolClass, SchoolClass.id == Enrolment.class_id)
                    .where(Enrolment.student_id == student.id)
                    .order_by(Enrolment.school_year)
                )
            ).all():
                book = await GradebookService.student_book(
                    uow.session, student.id, enrolment.school_year, school_class.grade
                )
                years.append((enrolment.school_year, school_class, book))
            leaving = await uow.session.scalar(
                select(Movement)
                .where(Movement.student_id == student.id, Movement.kind == "TRANSFER_OUT")
                .order_by(Movement.created_at.desc())
                .limit(1)
            )
            transcripts = (
                await uow.session.scalars(
                    select(Transcript.xml)
                    .where(Transcript.student_id == student.id, Transcript.superseded_at.is_(None))
                    .order_by(Transcript.school_year)
                )
            ).all()
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"student:{student.id}/record-package",
                subjects=1,
                operation="ExportStudentRecord",
            )
            await uow.commit()
        records = []
        for name, school_class, book in years:
            terms = await self.gradebook.results_for(book, str(student.id), name)
            records.append(_year_record(name, school_class, terms))
        package = Package(
            package_id=str(uuid.uuid4()),
            student_name=student.full_name,
            date_of_birth=student.date_of_birth,
            sex=student.sex,
            student_code=student.student_code or "",
            from_school=school.name,
            from_school_code=school.code or "",
            destination=leaving.counterpart if leaving else "",
            effective_on=leaving.effective_on if leaving else datetime.now(UTC).date(),
            years=tuple(records),
            transcripts=tuple(transcripts),
        )
        signed = await self.signer.sign_xml(
            render_package(package), SigningIdentity("institution", str(school.id), school.name)
        )
        return pb.ExportStudentRecordResponse(
            content=signed, filename=f"ho-so-chuyen-truong-{student.id}.xml"
        )

    async def import_student_record(
        self, request: pb.ImportStudentRecordRequest
    ) -> pb.ImportStudentRecordResponse:
        caller = await self.access.current()
        effective_on = rules.check_day(request.effective_on, "effective_on", datetime.now(UTC).date())
        if len(request.content) > MAX_PACKAGE_BYTES:
            raise InvalidArgument(
                "FILE_TOO_LARGE",
                bilingual("Hồ sơ lớn hơn 10 MB", "the package is over 10 MB"),
                {"field": "content"},
            )
        # Only someone who may admit into the class learns anything of the package (or costs a check).
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, request.class_id, Action.ADMIN)
        package = parse_package(request.content)
        student_name = rules.person_name(package.student_name, "content")
        if package.sex not in rules.SEXES:
            raise invalid_package()
        grades = [year.grade for year in package.years]
        if grades and school_class.grade not in (max(grades), max(grades) + 1):
            raise FailedPrecondition(
                "GRADE_MISMATCH",
                bilingual(
                    f"Hồ sơ đến từ lớp {max(grades)}: chọn một lớp {max(grades)} hoặc {max(grades) + 1}",
                    f"the record ends in grade {max(grades)}: choose a class of that grade or the next",
                ),
                {"field": "class_id"},
            )
        check = await asyncio.to_thread(verify_xml_signatures, request.content, await self.trust_roots())
        signed_by_school = check.valid and any(s.kind == "institution" for s in check.signatures)
        if not signed_by_school:
            raise _not_verified()
        kept = pb.ImportStudentRecordRequest()
        kept.CopyFrom(request)
        # The package is kept in received_records; the idempotency store keeps its hash, so that the same
        # key with another package is refused rather than replayed.
        kept.content = hashlib.sha256(request.content).digest()
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, request.class_id, Action.ADMIN)
            replayed = await idempotency.replay(
                uow, request.request_id, "ImportStudentRecord", kept, pb.ImportStudentRecordResponse
            )
            if replayed:
                return replayed
            if package.student_code and await uow.session.scalar(
                select(Student.id).where(Student.student_code == package.student_code)
            ):
                raise FailedPrecondition(
                    "STUDENT_CODE_TAKEN",
                    bilingual(
                        "Mã học sinh trong hồ sơ đã có trong đơn vị: học sinh đã được tiếp nhận",
                        "the package's student code is already in the tenant: the student was admitted",
                    ),
                    {"field": "content"},
                )
            year = await uow.session.scalar(
                select(SchoolYear).where(
                    SchoolYear.school_id == school_class.school_id,
                    SchoolYear.name == school_class.school_year,
                )
            )
            student = Student(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                school_id=school_class.school_id,
                full_name=student_name,
                date_of_birth=package.date_of_birth,
                sex=package.sex,
                # A code of the sector database stays the student's (Circular 42/2021: never changed).
                student_code=package.student_code or None,
                temporary_key=None if package.student_code else rules.new_temporary_key(),
                status=f"TRANSFERRED_IN_{term_of_year(effective_on, year)}",
                status_date=effective_on,
                guardians=[],
            )
            uow.session.add(student)
            await uow.session.flush()
            enrolment = Enrolment(
                tenant_id=caller.tenant,
                class_id=school_class.id,
                student_id=student.id,
                school_year=school_class.school_year,
            )
            now = datetime.now(UTC)
            row = Movement(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                student_id=student.id,
                kind="TRANSFER_IN",
                state="DONE",
                school_year=school_class.school_year,
                to_school_id=school_class.school_id,
                to_class_id=school_class.id,
                counterpart=package.from_school[:300],
                effective_on=effective_on,
                reason=f"Chuyển đến từ {package.from_school[:300]}",
                requested_by=caller.principal.subject,
                decided_by=caller.principal.subject,
                decided_at=now,
                decision_note="",
            )
            record = ReceivedRecord(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                student_id=student.id,
                from_school=package.from_school[:300],
                verified=True,
                package=request.content,
                received_by=caller.principal.subject,
            )
            uow.session.add_all([enrolment, row, record])
            await uow.session.flush()
            await uow.session.refresh(enrolment)
            await uow.session.refresh(student, ["guardians"])
            await uow.session.refresh(row)
            await publish.student_enrolled(self.outbox, uow, enrolment, school_class, student)
            response = pb.ImportStudentRecordResponse(
                student=mappers.student(student), movement=movement_proto(row)
            )
            await idempotency.remember(uow, request.request_id, "ImportStudentRecord", kept, response)
            await uow.commit()
        return response

    async def list_received_records(
        self, request: pb.ListReceivedRecordsRequest
    ) -> pb.ListReceivedRecordsResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await student_for(uow.session, caller, student_id, Action.READ)
            record_id = parse_uuid(request.record_id) if request.record_id else None
            if request.record_id and record_id is None:
                raise received_record_not_found()
            query = select(
                ReceivedRecord,
                func.length(ReceivedRecord.package),
                ReceivedRecord.package if record_id else literal(b""),
            ).where(ReceivedRecord.student_id == student.id)
            if record_id:
                query = query.where(ReceivedRecord.id == record_id)
            rows = (await uow.session.execute(query.order_by(ReceivedRecord.created_at))).all()
            if record_id and not rows:
                raise received_record_not_found()
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"student:{student.id}/received-records",
                subjects=1,
                operation="ListReceivedRecords",
            )
            await uow.commit()
        return pb.ListReceivedRecordsResponse(
            records=[
                pb.ReceivedRecord(
                    id=str(r.id),
                    student_id=str(r.student_id),
                    from_school=r.from_school,
                    verified=r.verified,
                    receive_time=timestamp(r.created_at),
                    content=package,
                    size_bytes=size,
                )
                for r, size, package in rows
            ]
        )


def _year_record(name: str, school_class: SchoolClass, terms: tuple[gb.TermResult, ...]) -> YearRecord:
    subjects = tuple(
        (TERMS[t.term], s.subject.name, gb.display_value(s.subject, "", s.value) if s.value else "")
        for t in terms
        for s in t.subjects
    )
    overall = tuple(
        (TERMS[t.term], what, outcome.level.vi)
        for t in terms
        for what, outcome in (("Rèn luyện", t.conduct), ("Học tập", t.learning))
        if outcome is not None
    )
    return YearRecord(name, school_class.name, school_class.grade, subjects, overall)

"""Use cases of signed transcripts (học bạ số): issuing a class's year-end transcripts, correcting one
(a new version, the old one marked superseded and otherwise untouched), listing and copying them, and the
public verification by id and code.

Who may do what:
- school admins issue and correct (ADMIN on the class), once semester II of the class's year is locked;
- whoever may read the student lists their transcripts and takes copies (guardians included: a guardian
  is reached through identity's child link, which does not depend on a current enrolment); every copy is
  a ``transcript_copies`` row and a ``personal_data.accessed`` record in the same transaction;
- verification is public (``DEFINITION.public_methods``: no token is asked for): the tenant travels in
  the request (the verification URL carries it) and no access scope is asked for. It shows the student's
  name, the school, the year, the issue date, the version and its status, never a result; an unknown id
  and a wrong code are the same NOT_FOUND.

Signing happens outside any transaction: the first transaction reads the results and decides, the
documents are rendered and signed, the second transaction writes them (a concurrent issue loses on the
unique ``(student_id, school_year, version)`` and is reported ``ALREADY_ISSUED``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from cryptography import x509
from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.access import Action, Caller, Callers
from school_common.auth import valid_tenant
from school_common.db import Database
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from student_record.domain import evaluation as ev
from student_record.domain import gradebook as gb
from student_record.domain.rules import check_text, code_matches, invalid, new_verification_code
from student_record.enrolments.repository import on_roll
from student_record.enrolments.service import student_for, student_not_found
from student_record.events import publish
from student_record.gradebook.service import GradebookService, is_locked
from student_record.mappers import timestamp
from student_record.models import (
    Enrolment,
    School,
    SchoolClass,
    Student,
    Transcript,
    TranscriptCopy,
)
from student_record.schools.service import class_for
from student_record.transcripts.content import Signatory, Table, TranscriptContent, content_digest
from student_record.transcripts.render import parse_xml, render_pdf, render_xml
from student_record.transcripts.signing import (
    Signer,
    SigningIdentity,
    sign_transcript,
    verify_pdf,
    verify_xml,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TERMS = {1: "HK I", 2: "HK II", 0: "Cả năm"}
PROMOTIONS = {
    ev.Promotion.PROMOTED: "Được lên lớp",
    ev.Promotion.RETEST: "Kiểm tra lại, rèn luyện trong hè",
    ev.Promotion.REPEAT: "Ở lại lớp",
}
AWARDS = {ev.Award.NONE: "Không", ev.Award.GIOI: "Học sinh Giỏi", ev.Award.XUAT_SAC: "Học sinh Xuất sắc"}
PRIMARY = {
    ev.PrimaryResult.HOAN_THANH_XUAT_SAC: "Hoàn thành xuất sắc",
    ev.PrimaryResult.HOAN_THANH_TOT: "Hoàn thành tốt",
    ev.PrimaryResult.HOAN_THANH: "Hoàn thành",
    ev.PrimaryResult.CHUA_HOAN_THANH: "Chưa hoàn thành",
}
QUALITY_LEVELS = {"TOT": "Tốt", "DAT": "Đạt", "CAN_CO_GANG": "Cần cố gắng"}
FORMATS = {
    pb.TRANSCRIPT_FORMAT_PDF: ("PDF", "application/pdf", "pdf"),
    pb.TRANSCRIPT_FORMAT_XML: ("XML", "application/xml", "xml"),
}
UNKNOWN = "chưa có"
VERIFIED_KEPT = 10_000  # verification results remembered (by document hashes)

TrustRoots = Callable[[], Awaitable[Sequence[x509.Certificate]]]


def transcript_not_found() -> NotFound:
    return NotFound("TRANSCRIPT_NOT_FOUND", bilingual("Không tìm thấy học bạ", "transcript not found"))


def level_of(grade: int) -> str:
    return "primary" if grade <= 5 else "lower_secondary" if grade <= 9 else "upper_secondary"


def transcript_proto(row: Transcript) -> pb.Transcript:
    message = pb.Transcript(
        id=str(row.id),
        student_id=str(row.student_id),
        school_id=str(row.school_id),
        class_id=str(row.class_id),
        school_year=row.school_year,
        version=row.version,
        supersedes_id=str(row.supersedes_id) if row.supersedes_id else "",
        digest=row.digest,
        verification_code=row.verification_code,
        issued_by=row.issued_by,
        issue_time=timestamp(row.issued_at),
        correction_reason=row.correction_reason,
    )
    if row.superseded_at is not None:
        message.superseded_time.CopyFrom(timestamp(row.superseded_at))
    return message


# ---------------------------------------------------------------- content


def missing_results(terms: Sequence[gb.TermResult]) -> list[str]:
    """What keeps the year's results from being final, e.g. "HK I: Toán"; empty when complete."""
    return [f"{TERMS[t.term]}: {name}" for t in terms for name in t.incomplete]


def _display(t: gb.SubjectTerm) -> str:
    return gb.display_value(t.subject, "", t.value) if t.value else ""


def result_tables(terms: Sequence[gb.TermResult]) -> tuple[tuple[Table, ...], tuple[tuple[str, str], ...]]:
    """The transcript's tables and summary from complete results (semester I, II and the year)."""
    by_term = {t.term: t for t in terms}
    one, two, year = by_term[1], by_term[2], by_term[0]
    subjects = Table(
        "Kết quả học tập các môn học",
        ("Môn học", "Học kì I", "Học kì II", "Cả năm"),
        tuple(
            (a.subject.name, _display(a), _display(b), _display(c))
            for a, b, c in zip(one.subjects, two.subjects, year.subjects, strict=True)
        ),
    )
    tables = [subjects]
    if year.primary is None:

        def level(outcome: ev.Outcome | None) -> str:
            return outcome.level.vi if outcome is not None else UNKNOWN

        tables.append(
            Table(
                "Kết quả rèn luyện và học tập",
                ("", "Học kì I", "Học kì II", "Cả năm"),
                (
                    ("Kết quả rèn luyện", level(one.conduct), level(two.conduct), level(year.conduct)),
                    ("Kết quả học tập", level(one.learning), level(two.learning), level(year.learning)),
                ),
            )
        )
    if year.qualities:
        tables.append(
            Table(
                "Phẩm chất chủ yếu và năng lực cốt lõi",
                ("Phẩm chất, năng lực", "Mức đạt được"),
                tuple((name, QUALITY_LEVELS.get(level, level)) for name, level in year.qualities),
            )
        )
    absences = year.absent_sessions
    summary: list[tuple[str, str]] = [("Số buổi nghỉ", UNKNOWN if absences is None else str(absences))]
    if year.primary is not None:
        summary.append(("Kết quả giáo dục", PRIMARY[year.primary[0]]))
    else:
        summary.append(("Lên lớp", PROMOTIONS[year.promotion.decision] if year.promotion else UNKNOWN))
        summary.append(("Danh hiệu", AWARDS[year.award[0]] if year.award else UNKNOWN))
    return tuple(tables), tuple(summary)


@dataclass(frozen=True)
class Signers:
    homeroom: SigningIdentity
    principal: SigningIdentity

    def signatories(self) -> tuple[Signatory, ...]:
        return (
            Signatory("HOMEROOM_TEACHER", "Giáo viên chủ nhiệm", self.homeroom.display_name),
            Signatory("PRINCIPAL", "Hiệu trưởng", self.principal.display_name),
        )


def _signers(request: pb.IssueTranscriptsRequest | pb.CorrectTranscriptRequest) -> Signers:
    people = []
    for role in ("homeroom_teacher", "principal"):
        name = check_text(getattr(request, f"{role}_name"), f"{role}_name", 200)
        subject = getattr(request, f"{role}_subject").strip()
        if not subject or len(subject) > 64:
            raise invalid(f"{role}_subject", "Thiếu tài khoản người ký", "the signer's account is required")
        people.append(SigningIdentity("person", subject, name))
    return Signers(*people)


@dataclass(frozen=True)
class _Checks:
    pdf_valid: bool
    xml_valid: bool
    digest_matches: bool
    issued_on: date


@dataclass
class _Draft:
    """One transcript decided in the first transaction, to be signed and then written."""

    student: Student
    content: TranscriptContent
    code: str
    pdf: bytes = b""
    xml: bytes = b""


# ---------------------------------------------------------------- the service


class TranscriptService:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        access: Callers,
        gradebook: GradebookService,
        signer: Signer,
        trust_roots: TrustRoots,
        verification_base_url: str,
        authority_name: str = "SỞ GIÁO DỤC VÀ ĐÀO TẠO",
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access
        self.gradebook = gradebook
        self.signer = signer
        self.trust_roots = trust_roots
        self.verification_base_url = verification_base_url.rstrip("/")
        self.authority_name = authority_name
        self._verified: dict[tuple[uuid.UUID, bytes, bytes, str], _Checks] = {}

    # ------------------------------------------------------------ helpers

    @staticmethod
    async def _year_locked(session: AsyncSession, school_class: SchoolClass) -> None:
        if not await is_locked(session, school_class.school_id, school_class.school_year, 2):
            raise FailedPrecondition(
                "SEMESTER_NOT_LOCKED",
                bilingual(
                    "Chỉ cấp học bạ sau khi khóa sổ học kì II",
                    "transcripts are issued once semester II is locked",
                ),
            )

    async def _results(
        self, session: AsyncSession, student: Student, school_class: SchoolClass
    ) -> tuple[gb.TermResult, ...]:
        """The student's results for the class's year (the caller knows the student is in the class)."""
        book = await GradebookService.student_book(
            session, student.id, school_class.school_year, school_class.grade
        )
        return await self.gradebook.results_for(book, str(student.id), school_class.school_year)

    def _content(
        self,
        tenant: str,
        school: School,
        school_class: SchoolClass,
        student: Student,
        terms: Sequence[gb.TermResult],
        signers: Signers,
        code: str,
        version: int = 1,
        supersedes: uuid.UUID | None = None,
    ) -> TranscriptContent:
        transcript_id = str(uuid.uuid4())
        tables, summary = result_tables(terms)
        return TranscriptContent(
            transcript_id=transcript_id,
            version=version,
            supersedes=str(supersedes) if supersedes else None,
            authority_name=self.authority_name,
            school_name=school.name,
            school_code=school.code or "",
            level=level_of(school_class.grade),
            school_year=school_class.school_year,
            class_name=school_class.name,
            grade=school_class.grade,
            student_name=student.full_name,
            date_of_birth=student.date_of_birth,
            sex=student.sex,
            student_code=student.student_code or "",
            tables=tables,
            summary=summary,
            signatories=signers.signatories(),
            issued_on=datetime.now(VN).date(),
            verification_url=f"{self.verification_base_url}/{tenant}/{transcript_id}?code={code}",
        )

    async def _sign(self, draft: _Draft, signers: Signers, school: School) -> None:
        content = draft.content
        pdf = await asyncio.to_thread(render_pdf, content)
        xml = render_xml(content)
        institution = SigningIdentity("institution", str(school.id), school.name)
        draft.pdf, draft.xml = await sign_transcript(
            self.signer, content, pdf, xml, [signers.homeroom, signers.principal], institution
        )

    @staticmethod
    def _row(tenant: str, caller: Caller, school_class: SchoolClass, draft: _Draft) -> dict[str, object]:
        content = draft.content
        return {
            "id": uuid.UUID(content.transcript_id),
            "tenant_id": tenant,
            "student_id": draft.student.id,
            "school_id": school_class.school_id,
            "class_id": school_class.id,
            "school_year": school_class.school_year,
            "version": content.version,
            "supersedes_id": uuid.UUID(content.supersedes) if content.supersedes else None,
            "digest": content_digest(content),
            "verification_code": draft.code,
            "pdf": draft.pdf,
            "xml": draft.xml,
            "issued_by": caller.principal.subject,
            "issued_at": datetime.now(UTC),
        }

    # ------------------------------------------------------------ issue

    async def issue_transcripts(self, request: pb.IssueTranscriptsRequest) -> pb.IssueTranscriptsResponse:
        caller = await self.access.current()
        signers = _signers(request)
        rows: dict[uuid.UUID, pb.TranscriptIssueRow] = {}
        drafts: list[_Draft] = []
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, request.class_id, Action.ADMIN)
            await self._year_locked(uow.session, school_class)
            replayed = await idempotency.replay(
                uow, request.request_id, "IssueTranscripts", request, pb.IssueTranscriptsResponse
            )
            if replayed:
                return replayed
            school = await uow.session.get(School, school_class.school_id)
            assert school is not None
            students = (
                await uow.session.scalars(
                    select(Student)
                    .join(Enrolment, Enrolment.student_id == Student.id)
                    .where(Enrolment.class_id == school_class.id, on_roll())
                    .order_by(Student.full_name, Student.id)
                )
            ).all()
            existing = dict(
                (
                    await uow.session.execute(
                        select(Transcript.student_id, Transcript.id).where(
                            Transcript.student_id.in_([s.id for s in students]),
                            Transcript.school_year == school_class.school_year,
                            Transcript.version == 1,
                        )
                    )
                ).all()
            )
            for student in students:
                row = pb.TranscriptIssueRow(student_id=str(student.id), student_name=student.full_name)
                rows[student.id] = row
                if student.id in existing:
                    row.outcome = pb.TRANSCRIPT_ISSUE_OUTCOME_ALREADY_ISSUED
                    row.transcript_id = str(existing[student.id])
                    continue
                terms = await self._results(uow.session, student, school_class)
                missing = missing_results(terms)
                if missing:
                    row.outcome = pb.TRANSCRIPT_ISSUE_OUTCOME_RESULTS_INCOMPLETE
                    row.missing.extend(missing)
                    continue
                code = new_verification_code()
                content = self._content(caller.tenant, school, school_class, student, terms, signers, code)
                drafts.append(_Draft(student, content, code))
        for draft in drafts:
            await self._sign(draft, signers, school)
        issued = 0
        async with self.db.unit_of_work(caller.tenant) as uow:
            replayed = await idempotency.replay(
                uow, request.request_id, "IssueTranscripts", request, pb.IssueTranscriptsResponse
            )
            if replayed:
                return replayed
            for draft in drafts:
                row = rows[draft.student.id]
                inserted = await uow.session.execute(
                    insert(Transcript)
                    .values(self._row(caller.tenant, caller, school_class, draft))
                    .on_conflict_do_nothing(index_elements=["student_id", "school_year", "version"])
                    .returning(Transcript.id)
                )
                if inserted.scalar() is None:  # issued concurrently
                    row.outcome = pb.TRANSCRIPT_ISSUE_OUTCOME_ALREADY_ISSUED
                    row.transcript_id = str(
                        await uow.session.scalar(
                            select(Transcript.id).where(
                                Transcript.student_id == draft.student.id,
                                Transcript.school_year == school_class.school_year,
                                Transcript.version == 1,
                            )
                        )
                    )
                    continue
                transcript = await uow.session.get_one(Transcript, uuid.UUID(draft.content.transcript_id))
                await publish.transcript_issued(self.outbox, uow, transcript)
                row.outcome = pb.TRANSCRIPT_ISSUE_OUTCOME_ISSUED
                row.transcript_id = draft.content.transcript_id
                issued += 1
            response = pb.IssueTranscriptsResponse(students=list(rows.values()), issued=issued)
            await idempotency.remember(uow, request.request_id, "IssueTranscripts", request, response)
            await uow.commit()
        return response

    # ------------------------------------------------------------ correct

    async def correct_transcript(self, request: pb.CorrectTranscriptRequest) -> pb.CorrectTranscriptResponse:
        caller = await self.access.current()
        signers = _signers(request)
        reason = check_text(request.reason, "reason", 500)
        old_id = parse_uuid(request.transcript_id)
        if old_id is None:
            raise transcript_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            old = await uow.session.get(Transcript, old_id)
            if old is None:
                raise transcript_not_found()
            school_class = await class_for(uow.session, caller, old.class_id, Action.ADMIN)
            replayed = await idempotency.replay(
                uow, request.request_id, "CorrectTranscript", request, pb.CorrectTranscriptResponse
            )
            if replayed:
                return replayed
            if old.superseded_at is not None:
                raise _superseded()
            school = await uow.session.get_one(School, school_class.school_id)
            student = await uow.session.get_one(Student, old.student_id)
            terms = await self._results(uow.session, student, school_class)
            missing = missing_results(terms)
            if missing:
                raise FailedPrecondition(
                    "RESULTS_INCOMPLETE",
                    bilingual("Kết quả năm học chưa đầy đủ", "the year's results are incomplete"),
                    {"missing": "; ".join(missing)},
                )
            code = new_verification_code()
            content = self._content(
                caller.tenant, school, school_class, student, terms, signers, code, old.version + 1, old.id
            )
        draft = _Draft(student, content, code)
        await self._sign(draft, signers, school)
        async with self.db.unit_of_work(caller.tenant) as uow:
            replayed = await idempotency.replay(
                uow, request.request_id, "CorrectTranscript", request, pb.CorrectTranscriptResponse
            )
            if replayed:
                return replayed
            now = datetime.now(UTC)
            marked = await uow.session.execute(
                update(Transcript)
                .where(Transcript.id == old_id, Transcript.superseded_at.is_(None))
                .values(superseded_at=now)
                .returning(Transcript.id)
            )
            if marked.scalar() is None:  # corrected concurrently
                raise _superseded()
            values = self._row(caller.tenant, caller, school_class, draft) | {"correction_reason": reason}
            await uow.session.execute(insert(Transcript).values(values))
            transcript = await uow.session.get_one(Transcript, uuid.UUID(content.transcript_id))
            await publish.transcript_issued(self.outbox, uow, transcript)
            response = pb.CorrectTranscriptResponse(transcript=transcript_proto(transcript))
            await idempotency.remember(uow, request.request_id, "CorrectTranscript", request, response)
            await uow.commit()
        return response

    # ------------------------------------------------------------ read

    async def list_student_transcripts(
        self, request: pb.ListStudentTranscriptsRequest
    ) -> pb.ListStudentTranscriptsResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await student_for(uow.session, caller, student_id, Action.READ)
            rows = (
                await uow.session.scalars(
                    select(Transcript)
                    .where(Transcript.student_id == student.id)
                    .order_by(Transcript.school_year.desc(), Transcript.version.desc())
                )
            ).all()
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"student:{student.id}/transcripts",
                subjects=1,
                operation="ListStudentTranscripts",
            )
            await uow.commit()
        return pb.ListStudentTranscriptsResponse(transcripts=[transcript_proto(r) for r in rows])

    async def get_transcript_document(
        self, request: pb.GetTranscriptDocumentRequest
    ) -> pb.GetTranscriptDocumentResponse:
        caller = await self.access.current()
        if request.format not in FORMATS:
            raise invalid("format", "Chọn PDF hoặc XML", "the format is PDF or XML")
        name, media_type, extension = FORMATS[request.format]
        transcript_id = parse_uuid(request.transcript_id)
        if transcript_id is None:
            raise transcript_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await uow.session.get(Transcript, transcript_id)
            if row is None:
                raise transcript_not_found()
            await student_for(uow.session, caller, row.student_id, Action.READ)
            column = Transcript.pdf if name == "PDF" else Transcript.xml
            content = await uow.session.scalar(select(column).where(Transcript.id == row.id))
            assert content is not None
            uow.session.add(
                TranscriptCopy(
                    tenant_id=caller.tenant,
                    transcript_id=row.id,
                    copied_by=caller.principal.subject,
                    format=name,
                )
            )
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"student:{row.student_id}/transcripts/{row.id}/{name.lower()}",
                subjects=1,
                operation="GetTranscriptDocument",
            )
            await uow.commit()
        filename = f"hoc-ba-{row.school_year}-v{row.version}-{row.id}.{extension}"
        return pb.GetTranscriptDocumentResponse(content=content, filename=filename, media_type=media_type)

    # ------------------------------------------------------------ public verification

    async def _checks(self, row: Transcript, pdf: bytes, xml: bytes) -> _Checks:
        """Both documents' signatures and the content digest. Remembered by the documents' own hashes, so
        a verification page opened again costs no signature check, while any change of the stored bytes
        is checked afresh."""
        key = (row.id, hashlib.sha256(pdf).digest(), hashlib.sha256(xml).digest(), row.digest)
        found = self._verified.get(key)
        if found is not None:
            return found
        roots = await self.trust_roots()
        pdf_check, xml_check = await asyncio.gather(
            asyncio.to_thread(verify_pdf, pdf, roots), asyncio.to_thread(verify_xml, xml, roots)
        )
        try:
            content = parse_xml(xml)
            digest_matches = hmac.compare_digest(content_digest(content), row.digest)
            issued_on = content.issued_on
        except InvalidArgument:
            digest_matches, issued_on = False, row.issued_at.astimezone(VN).date()
        checks = _Checks(pdf_check.valid, xml_check.valid, digest_matches, issued_on)
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.pop(next(iter(self._verified)))  # the oldest
        self._verified[key] = checks
        return checks

    async def verify_transcript(self, request: pb.VerifyTranscriptRequest) -> pb.VerifyTranscriptResponse:
        tenant = request.tenant.strip()
        transcript_id = parse_uuid(request.transcript_id)
        if not valid_tenant(tenant) or transcript_id is None:
            raise transcript_not_found()
        async with self.db.unit_of_work(tenant) as uow:
            row = await uow.session.get(Transcript, transcript_id)
            if row is None or not code_matches(row.verification_code, request.verification_code):
                raise transcript_not_found()
            pdf, xml = (
                await uow.session.execute(
                    select(Transcript.pdf, Transcript.xml).where(Transcript.id == row.id)
                )
            ).one()
            school = await uow.session.get_one(School, row.school_id)
            student = await uow.session.get_one(Student, row.student_id)
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor="public",
                target=f"student:{row.student_id}/transcripts/{row.id}/verification",
                subjects=1,
                operation="VerifyTranscript",
            )
            await uow.commit()
        checks = await self._checks(row, pdf, xml)
        return pb.VerifyTranscriptResponse(
            valid=checks.pdf_valid and checks.xml_valid and checks.digest_matches,
            pdf_valid=checks.pdf_valid,
            xml_valid=checks.xml_valid,
            digest_matches=checks.digest_matches,
            version=row.version,
            superseded=row.superseded_at is not None,
            school_name=school.name,
            school_year=row.school_year,
            issued_on=checks.issued_on.isoformat(),
            student_name=student.full_name,
        )


def _superseded() -> FailedPrecondition:
    return FailedPrecondition(
        "TRANSCRIPT_SUPERSEDED",
        bilingual(
            "Học bạ đã được thay thế bằng phiên bản sau: hãy đính chính phiên bản hiện hành",
            "this version has been superseded: correct the current version",
        ),
    )

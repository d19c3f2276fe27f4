"""Signed transcripts (học bạ số) on a real PostgreSQL: issuing after the year's lock, signatures that
pyHanko and signxml accept and that break with one changed byte, no overwrite on re-issue, corrections
as new versions, families' copies logged, and the public verification by code."""

from __future__ import annotations

import asyncio
import io

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from school.events.student_record.v1 import events_pb2 as events
from school.student_record.v1 import student_record_pb2 as pb
from school_common.context import set_principal
from school_common.errors import FailedPrecondition, NotFound, PermissionDenied
from sqlalchemy import text
from student_record.domain import curriculum
from student_record.transcripts.devca import ensure_dev_ca
from student_record.transcripts.signing import verify_pdf, verify_xml

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# As in test_gradebook.py (test modules do not import each other).
REG, MID, END = pb.ASSESSMENT_KIND_REGULAR, pb.ASSESSMENT_KIND_MID_TERM, pb.ASSESSMENT_KIND_END_TERM
SCORED = {"NGU_VAN": 4, "TOAN": 4, "NGOAI_NGU_1": 4, "GDCD": 2, "LICH_SU_DIA_LI": 4, "KHTN": 4,
          "CONG_NGHE": 2, "TIN_HOC": 2}  # fmt: skip
COMMENT = ("GDTC", "AM_NHAC", "MI_THUAT", "HDTN_HN", "GDDP")

YEAR = "2025-2026"
SIGNERS = {
    "homeroom_teacher_name": "Võ Thị Lan",
    "homeroom_teacher_subject": "gvcn-a1",
    "principal_name": "Đặng Văn Hùng",
    "principal_subject": "hieu-truong",
}


def entry(student: str, kind: int, value: str, ordinal: int = 1) -> pb.AssessmentEntry:
    return pb.AssessmentEntry(student_id=student, kind=kind, ordinal=ordinal, value=value)


def principal(services, tenant: str, world) -> None:
    services.act_as(tenant, "hieu-truong", "school_admin", schools=[(world.school_a.id, "school_admin")])


def homeroom(services, tenant: str, world) -> None:
    services.act_as(
        tenant,
        "gvcn-a1",
        "teacher",
        "homeroom_teacher",
        classes=[(world.class_a1.id, world.school_a.id, "homeroom_teacher", "")],
    )


async def fill_year(services, world, scores: dict[str, str], comment: str = "D") -> None:
    """Every assessment of both semesters of the child, entered by the school admin."""
    for semester in (1, 2):
        for code, regular in SCORED.items():
            value = scores.get(code, "8")
            entries = [entry(world.child.id, REG, value, i) for i in range(1, regular + 1)]
            entries += [entry(world.child.id, MID, value), entry(world.child.id, END, value)]
            await services.gradebook.record_assessments(
                pb.RecordAssessmentsRequest(
                    class_id=world.class_a1.id, subject_code=code, semester=semester, entries=entries
                )
            )
        for code in COMMENT:
            regular = curriculum.subject(6, code).regular_count
            entries = [entry(world.child.id, REG, comment, i) for i in range(1, regular + 1)]
            entries += [entry(world.child.id, MID, comment), entry(world.child.id, END, comment)]
            await services.gradebook.record_assessments(
                pb.RecordAssessmentsRequest(
                    class_id=world.class_a1.id, subject_code=code, semester=semester, entries=entries
                )
            )


async def rate_conduct(services, tenant: str, world) -> None:
    homeroom(services, tenant, world)
    for semester in (1, 2):
        await services.gradebook.record_ratings(
            pb.RecordRatingsRequest(
                class_id=world.class_a1.id,
                semester=semester,
                entries=[pb.RatingEntry(student_id=world.child.id, item="CONDUCT", value="Tốt")],
            )
        )


async def lock(services, tenant: str, world, *semesters: int) -> None:
    principal(services, tenant, world)
    for semester in semesters:
        await services.gradebook.lock_semester(
            pb.LockSemesterRequest(school_id=world.school_a.id, school_year=YEAR, semester=semester)
        )


async def year_done(services, tenant: str):
    """The child's year complete and both semesters locked; the classmate has no results."""
    world = await services.world(tenant)
    principal(services, tenant, world)
    await fill_year(services, world, {"TOAN": "9"})
    await rate_conduct(services, tenant, world)
    await lock(services, tenant, world, 1, 2)
    return world


def issue(world, request_id: str = "") -> pb.IssueTranscriptsRequest:
    return pb.IssueTranscriptsRequest(request_id=request_id, class_id=world.class_a1.id, **SIGNERS)


def mother(services, tenant: str, world) -> None:
    services.act_as(tenant, "me-an", "guardian", children=[(world.child.id, world.school_a.id)])


async def document(services, transcript_id: str, fmt: int) -> bytes:
    response = await services.transcripts.get_transcript_document(
        pb.GetTranscriptDocumentRequest(transcript_id=transcript_id, format=fmt)
    )
    return response.content


def one_byte_changed(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def pyhanko_direct(pdf: bytes, roots) -> list[bool]:
    """pyHanko's own validator, without the library around it: every embedded signature, trusted."""
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(r.public_bytes(serialization.Encoding.DER)) for r in roots],
        allow_fetching=False,
    )
    reader = PdfFileReader(io.BytesIO(pdf))
    return [validate_pdf_signature(s, context).bottom_line for s in reader.embedded_regular_signatures]


async def test_issuing_signs_both_documents_and_one_changed_byte_breaks_them(services) -> None:
    tenant = "tr-issue"
    world = await year_done(services, tenant)
    principal(services, tenant, world)
    response = await services.transcripts.issue_transcripts(issue(world, "issue-1"))
    by_student = {r.student_id: r for r in response.students}
    assert response.issued == 1
    child = by_student[world.child.id]
    assert child.outcome == pb.TRANSCRIPT_ISSUE_OUTCOME_ISSUED
    mate = by_student[world.classmate.id]
    assert mate.outcome == pb.TRANSCRIPT_ISSUE_OUTCOME_RESULTS_INCOMPLETE
    assert not mate.transcript_id
    assert any(m.startswith("HK I: ") for m in mate.missing)
    assert await services.count(tenant, "transcripts") == 1
    [payload] = await services.events(tenant, "transcript.issued")
    event = events.TranscriptIssued.FromString(payload)
    assert (event.transcript_id, event.student_id, event.version) == (child.transcript_id, world.child.id, 1)
    assert (event.school_id, event.school_year) == (world.school_a.id, YEAR)

    pdf = await document(services, child.transcript_id, pb.TRANSCRIPT_FORMAT_PDF)
    xml = await document(services, child.transcript_id, pb.TRANSCRIPT_FORMAT_XML)
    assert pdf.startswith(b"%PDF")
    assert xml.startswith(b"<?xml")
    roots = ensure_dev_ca(services.ca_dir).trust_roots()
    pdf_check = await asyncio.to_thread(verify_pdf, pdf, roots)
    xml_check = await asyncio.to_thread(verify_xml, xml, roots)
    assert pdf_check.valid
    assert xml_check.valid
    assert [s.kind for s in xml_check.signatures] == ["person", "person", "institution"]
    assert [s.signer_name for s in pdf_check.signatures][:2] == ["Võ Thị Lan", "Đặng Văn Hùng"]
    assert await asyncio.to_thread(pyhanko_direct, pdf, roots) == [True, True, True]

    assert not (await asyncio.to_thread(verify_pdf, one_byte_changed(pdf, 1000), roots)).valid
    bad_xml = xml.replace("Nguyễn Văn An".encode(), "Nguyễn Văn Am".encode(), 1)
    assert len(bad_xml) == len(xml)
    assert bad_xml != xml
    assert not (await asyncio.to_thread(verify_xml, bad_xml, roots)).valid

    # the same request again replays; a new request reports the existing transcript and changes nothing
    again = await services.transcripts.issue_transcripts(issue(world, "issue-1"))
    assert again == response
    second = await services.transcripts.issue_transcripts(issue(world, "issue-2"))
    child_again = next(r for r in second.students if r.student_id == world.child.id)
    assert child_again.outcome == pb.TRANSCRIPT_ISSUE_OUTCOME_ALREADY_ISSUED
    assert child_again.transcript_id == child.transcript_id
    assert second.issued == 0
    assert await services.count(tenant, "transcripts") == 1
    assert await document(services, child.transcript_id, pb.TRANSCRIPT_FORMAT_PDF) == pdf


async def test_no_transcript_is_issued_while_attendance_cannot_count_the_absences(services) -> None:
    tenant = "tr-absences"
    world = await year_done(services, tenant)
    principal(services, tenant, world)
    services.absences.counts[world.child.id] = None  # attendance away or not knowing the student
    try:
        response = await services.transcripts.issue_transcripts(issue(world))
    finally:
        del services.absences.counts[world.child.id]
    child = next(r for r in response.students if r.student_id == world.child.id)
    assert child.outcome == pb.TRANSCRIPT_ISSUE_OUTCOME_RESULTS_INCOMPLETE
    assert "Cả năm: Chuyên cần" in child.missing
    assert await services.count(tenant, "transcripts") == 0


async def test_issuing_before_the_year_is_locked_is_refused_and_writes_nothing(services) -> None:
    tenant = "tr-early"
    world = await services.world(tenant)
    principal(services, tenant, world)
    await fill_year(services, world, {})
    await rate_conduct(services, tenant, world)
    await lock(services, tenant, world, 1)
    with pytest.raises(FailedPrecondition) as caught:
        await services.transcripts.issue_transcripts(issue(world))
    assert caught.value.reason == "SEMESTER_NOT_LOCKED"
    assert await services.count(tenant, "transcripts") == 0
    assert await services.events(tenant, "transcript.issued") == []
    homeroom(services, tenant, world)  # a teacher is not the school's admin
    with pytest.raises(PermissionDenied):
        await services.transcripts.issue_transcripts(issue(world))


async def test_a_correction_is_version_two_and_the_first_stays_as_it_was(services) -> None:
    tenant = "tr-correct"
    world = await year_done(services, tenant)
    principal(services, tenant, world)
    first = next(
        r
        for r in (await services.transcripts.issue_transcripts(issue(world))).students
        if r.student_id == world.child.id
    )
    pdf_v1 = await document(services, first.transcript_id, pb.TRANSCRIPT_FORMAT_PDF)
    corrected = (
        await services.transcripts.correct_transcript(
            pb.CorrectTranscriptRequest(
                transcript_id=first.transcript_id, reason="Sai chính tả tên môn học", **SIGNERS
            )
        )
    ).transcript
    assert corrected.version == 2
    assert corrected.supersedes_id == first.transcript_id
    assert corrected.correction_reason == "Sai chính tả tên môn học"
    listed = (
        await services.transcripts.list_student_transcripts(
            pb.ListStudentTranscriptsRequest(student_id=world.child.id)
        )
    ).transcripts
    assert [(t.version, t.HasField("superseded_time")) for t in listed] == [(2, False), (1, True)]
    assert await document(services, first.transcript_id, pb.TRANSCRIPT_FORMAT_PDF) == pdf_v1
    with pytest.raises(FailedPrecondition) as caught:
        await services.transcripts.correct_transcript(
            pb.CorrectTranscriptRequest(transcript_id=first.transcript_id, reason="Lần nữa", **SIGNERS)
        )
    assert caught.value.reason == "TRANSCRIPT_SUPERSEDED"
    issued = [
        events.TranscriptIssued.FromString(p) for p in await services.events(tenant, "transcript.issued")
    ]
    assert [(e.version, e.supersedes_id) for e in issued] == [(1, ""), (2, first.transcript_id)]

    # verification tells the superseded version from the current one
    services.act_as("other-tenant", "gateway")
    old = await services.transcripts.verify_transcript(
        pb.VerifyTranscriptRequest(
            tenant=tenant, transcript_id=first.transcript_id, verification_code=listed[1].verification_code
        )
    )
    assert old.valid
    assert old.superseded
    assert old.version == 1
    new = await services.transcripts.verify_transcript(
        pb.VerifyTranscriptRequest(
            tenant=tenant, transcript_id=corrected.id, verification_code=corrected.verification_code
        )
    )
    assert new.valid
    assert not new.superseded
    assert new.version == 2


async def test_the_family_lists_and_copies_each_copy_is_logged_and_others_are_refused(services) -> None:
    tenant = "tr-family"
    world = await year_done(services, tenant)
    principal(services, tenant, world)
    response = await services.transcripts.issue_transcripts(issue(world))
    transcript_id = next(r.transcript_id for r in response.students if r.student_id == world.child.id)

    mother(services, tenant, world)
    [listed] = (
        await services.transcripts.list_student_transcripts(
            pb.ListStudentTranscriptsRequest(student_id=world.child.id)
        )
    ).transcripts
    assert listed.id == transcript_id
    assert listed.version == 1
    assert listed.school_year == YEAR
    audits = len(await services.events(tenant, "personal_data.accessed"))
    for n, fmt in enumerate(
        (pb.TRANSCRIPT_FORMAT_PDF, pb.TRANSCRIPT_FORMAT_XML, pb.TRANSCRIPT_FORMAT_PDF), 1
    ):
        assert await document(services, transcript_id, fmt)
        assert await services.count(tenant, "transcript_copies") == n
    assert len(await services.events(tenant, "personal_data.accessed")) == audits + 3

    services.act_as(tenant, "me-giang", "guardian", children=[(world.other.id, world.school_b.id)])
    with pytest.raises(PermissionDenied):
        await services.transcripts.list_student_transcripts(
            pb.ListStudentTranscriptsRequest(student_id=world.child.id)
        )
    with pytest.raises(PermissionDenied):
        await document(services, transcript_id, pb.TRANSCRIPT_FORMAT_PDF)
    assert await services.count(tenant, "transcript_copies") == 3


async def test_public_verification_needs_the_right_code_and_shows_no_results(services) -> None:
    tenant = "tr-verify"
    world = await year_done(services, tenant)
    principal(services, tenant, world)
    response = await services.transcripts.issue_transcripts(issue(world))
    transcript_id = next(r.transcript_id for r in response.students if r.student_id == world.child.id)
    mother(services, tenant, world)
    [listed] = (
        await services.transcripts.list_student_transcripts(
            pb.ListStudentTranscriptsRequest(student_id=world.child.id)
        )
    ).transcripts
    code = listed.verification_code
    assert len(code) == 10

    # an anonymous visitor: no principal at all; the tenant comes with the request
    set_principal(None)
    answer = await services.transcripts.verify_transcript(
        pb.VerifyTranscriptRequest(tenant=tenant, transcript_id=transcript_id, verification_code=code.lower())
    )
    assert answer.valid
    assert answer.pdf_valid
    assert answer.xml_valid
    assert answer.digest_matches
    assert (answer.version, answer.superseded) == (1, False)
    assert (answer.school_name, answer.school_year) == ("Trường THCS A", YEAR)
    assert answer.student_name == "Nguyễn Văn An"
    assert answer.issued_on
    assert {f.name for f, _ in answer.ListFields()} <= {
        "valid", "pdf_valid", "xml_valid", "digest_matches", "version", "superseded",
        "school_name", "school_year", "issued_on", "student_name",
    }  # fmt: skip

    # Asked again, the answer is remembered; a stored document changed since is checked afresh.
    verify = pb.VerifyTranscriptRequest(tenant=tenant, transcript_id=transcript_id, verification_code=code)
    assert (await services.transcripts.verify_transcript(verify)).valid
    async with services.db.unit_of_work(tenant) as uow:
        pdf = await uow.session.scalar(
            text("SELECT pdf FROM transcripts WHERE id = :i"), {"i": transcript_id}
        )
        await uow.session.execute(
            text("UPDATE transcripts SET pdf = :p WHERE id = :i"),
            {"p": one_byte_changed(bytes(pdf), 1000), "i": transcript_id},
        )
        await uow.commit()
    tampered = await services.transcripts.verify_transcript(verify)
    assert not tampered.valid
    assert not tampered.pdf_valid
    assert tampered.xml_valid

    wrong = "A" * 10 if code != "A" * 10 else "B" * 10
    for request in (
        pb.VerifyTranscriptRequest(tenant=tenant, transcript_id=transcript_id, verification_code=wrong),
        pb.VerifyTranscriptRequest(tenant=tenant, transcript_id=world.child.id, verification_code=code),
        pb.VerifyTranscriptRequest(tenant="tr-other", transcript_id=transcript_id, verification_code=code),
    ):
        with pytest.raises(NotFound) as caught:
            await services.transcripts.verify_transcript(request)
        assert caught.value.reason == "TRANSCRIPT_NOT_FOUND"

"""Digital transcripts (học bạ số, student-record): issuing a class's signed year-end transcripts,
correcting one (a new version; the old one is marked superseded and otherwise kept), listing a student's,
copying the signed PDF or XML, and the public verification that the QR code on every transcript opens.

The routes on a class, a transcript or a student forward and let student-record decide (school admins issue
and correct, once semester II is locked; whoever may read the student lists and copies, guardians included;
every copy is audited).

The verification route needs no token (as the diploma's, ``routers/diplomas.py``; their shared machinery
is :mod:`gateway.public`): it never reads the ``Authorization`` header and calls ``VerifyTranscript`` —
declared public by student-record — with no authorization metadata (``Backends.call_public``). The tenant
travels in the path, as the QR code's URL carries it. It has a stricter rate limit of its own per client IP
(``GATEWAY__RATE_LIMIT__PUBLIC_PER_MINUTE``), taken before anything else; a malformed tenant, id or code, a
wrong code and an unknown id all answer the same 404, so probing learns nothing. It answers JSON to
``Accept: application/json`` and a small HTML page to anyone else (the browser that scanned the QR code).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from school.student_record.v1 import student_record_pb2 as sr
from school_common.auth import valid_tenant
from school_common.errors import bilingual

from gateway import mappers, pages, public, schemas
from gateway.deps import BackendsDep, Caller, ClassId, IdempotencyKey, StudentId, TranscriptId
from gateway.downloads import attachment
from gateway.problems import ProblemError, problem_docs

router = APIRouter(prefix="/v1", tags=["transcripts"])

UUID_RE = re.compile(schemas.UUID_PATTERN)

SIGNER_REASONS = (
    "`SEMESTER_NOT_LOCKED` (học kì II chưa khóa sổ), 403 `NOT_YOUR_SCHOOL`…; người ký thiếu: 422 "
    "`INVALID_ARGUMENT` với trường"
)
SIGNER_REASONS_EN = (
    "`SEMESTER_NOT_LOCKED` (semester II not locked), 403 `NOT_YOUR_SCHOOL`…; a signer missing: 422 "
    "`INVALID_ARGUMENT` with the field"
)


# Issuing renders and signs two documents a student (about 0.13 s each on the benchmark machine): a class
# of 45 takes some 6 s, more than the usual deadline; student-record's own cap is 60 s.
ISSUE_TIMEOUT_S = 55.0


@router.post(
    "/classes/{class_id}/transcripts",
    operation_id="issueTranscripts",
    summary="Cấp học bạ số cho lớp / Issue a class's transcripts",
    description="Cấp học bạ số cuối năm (PDF và XML có giá trị như nhau, ký số bởi giáo viên chủ nhiệm, "
    "hiệu trưởng rồi nhà trường) cho mọi học sinh của lớp; cần quyền quản trị trường và học kì II đã khóa "
    f"sổ ({SIGNER_REASONS}). Kết quả từng học sinh: `issued`; `already_issued` (đã có học bạ năm đó, không "
    "thay đổi gì: dùng đính chính); `results_incomplete` với những gì còn thiếu. Không bao giờ ghi đè, nên "
    "gọi lại chỉ cấp cho học sinh chưa có; `Idempotency-Key` trả lại đúng kết quả lần đầu. / Issues the "
    "signed year-end transcripts (a PDF and an XML of equal value, signed by the homeroom teacher, the "
    "principal, then the school) of every student of the class; needs the school's admin and semester II "
    f"locked ({SIGNER_REASONS_EN}). Each student's outcome: `issued`; `already_issued` (a transcript for "
    "the year exists and is left as it is: correct it instead); `results_incomplete` with what is missing. "
    "Never overwrites, so calling again issues only the missing ones; an `Idempotency-Key` returns the first "
    "answer.",
    responses=problem_docs(403, 404, 409, 413, 415, 422),
)
async def issue_transcripts(
    caller: Caller,
    class_id: ClassId,
    key: IdempotencyKey,
    body: schemas.TranscriptSigners,
    backends: BackendsDep,
) -> schemas.TranscriptIssueReport:
    result: sr.IssueTranscriptsResponse = await backends.call(
        backends.student_record.IssueTranscripts,
        mappers.issue_transcripts(class_id, body, key),
        caller,
        timeout_s=ISSUE_TIMEOUT_S,
    )
    return mappers.transcript_issue(result)


@router.post(
    "/transcripts/{transcript_id}/corrections",
    status_code=201,
    operation_id="correctTranscript",
    summary="Đính chính học bạ / Correct a transcript",
    description="Cấp phiên bản mới (N+1) của học bạ từ kết quả hiện tại, kèm lý do; phiên bản N được đánh "
    "dấu đã thay thế và giữ nguyên. Quản trị viên trường. Phiên bản đã bị thay thế: 422 "
    "`TRANSCRIPT_SUPERSEDED` (hãy đính chính phiên bản hiện hành); kết quả chưa đủ: 422 "
    "`RESULTS_INCOMPLETE`. / Issues version N+1 of the transcript from the current results, with the "
    "reason; version N is marked superseded and otherwise kept as it was. School admins. A superseded "
    "version: 422 `TRANSCRIPT_SUPERSEDED` (correct the current one); incomplete results: 422 "
    "`RESULTS_INCOMPLETE`.",
    responses=problem_docs(403, 404, 409, 413, 415, 422),
)
async def correct_transcript(
    caller: Caller,
    transcript_id: TranscriptId,
    key: IdempotencyKey,
    body: schemas.TranscriptCorrectionCreate,
    backends: BackendsDep,
) -> schemas.Transcript:
    result: sr.CorrectTranscriptResponse = await backends.call(
        backends.student_record.CorrectTranscript,
        mappers.correct_transcript(transcript_id, body, key),
        caller,
    )
    return mappers.transcript(result.transcript)


@router.get(
    "/students/{student_id}/transcripts",
    operation_id="listStudentTranscripts",
    summary="Học bạ số của học sinh / A student's transcripts",
    description="Các học bạ của học sinh (thông tin, không có tệp), năm học mới nhất trước rồi phiên bản mới "
    "nhất trước, kèm mã xác thực để chia sẻ. Cho những ai được xem học sinh, kể cả phụ huynh; mỗi lần xem "
    "được ghi nhật ký. / The student's transcripts (metadata, no documents), newest year then newest "
    "version first, with the verification code to share. For whoever may read the student, guardians "
    "included; every read is audited.",
    responses=problem_docs(403, 404),
)
async def list_student_transcripts(
    caller: Caller, student_id: StudentId, backends: BackendsDep
) -> schemas.TranscriptList:
    result: sr.ListStudentTranscriptsResponse = await backends.call(
        backends.student_record.ListStudentTranscripts,
        sr.ListStudentTranscriptsRequest(student_id=student_id),
        caller,
    )
    return schemas.TranscriptList(items=[mappers.transcript(t) for t in result.transcripts])


@router.get(
    "/transcripts/{transcript_id}/document",
    operation_id="getTranscriptDocument",
    summary="Tải bản học bạ đã ký / Download a signed transcript",
    description="Bản PDF (`format=pdf`, mặc định) hoặc XML (`format=xml`) đã ký số của học bạ; hai bản có "
    "giá trị như nhau. Cho những ai được xem học sinh, kể cả phụ huynh; mỗi bản sao được ghi lại và ghi "
    "nhật ký. / The signed PDF (`format=pdf`, the default) or XML (`format=xml`) of the transcript; both "
    "are of equal value. For whoever may read the student, guardians included; every copy is recorded and "
    "audited.",
    response_class=Response,
    responses={
        200: {
            "description": "Tệp đã ký / the signed document",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "application/xml": {"schema": {"type": "string"}},
            },
            "headers": {
                "Content-Disposition": {
                    "description": 'attachment; filename="hoc-ba-<năm học / year>-v<phiên bản / '
                    'version>-<id>.pdf|xml"',
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_docs(403, 404, 422),
    },
)
async def get_transcript_document(
    caller: Caller,
    transcript_id: TranscriptId,
    backends: BackendsDep,
    format: Annotated[
        schemas.TranscriptFormat,
        Query(description="`pdf` (mặc định / default) hoặc / or `xml`", examples=["pdf"]),
    ] = "pdf",
) -> Response:
    result: sr.GetTranscriptDocumentResponse = await backends.call(
        backends.student_record.GetTranscriptDocument,
        sr.GetTranscriptDocumentRequest(
            transcript_id=transcript_id, format=mappers.TRANSCRIPT_FORMAT_TO_PB[format]
        ),
        caller,
    )
    media_type = result.media_type or ("application/pdf" if format == "pdf" else "application/xml")
    filename = result.filename or f"hoc-ba-{transcript_id}.{format}"
    return Response(
        result.content, media_type=media_type, headers={"Content-Disposition": attachment(filename)}
    )


def _not_found() -> ProblemError:
    return ProblemError(
        404, "TRANSCRIPT_NOT_FOUND", bilingual("Không tìm thấy học bạ", "transcript not found")
    )


@router.get(
    "/public/transcripts/{tenant}/{transcript_id}",
    operation_id="verifyTranscript",
    summary="Xác thực học bạ (công khai) / Verify a transcript (public)",
    description="Trang mà mã QR trên học bạ mở ra: ai có đường dẫn và mã xác thực đều kiểm tra được học bạ, "
    "không cần đăng nhập (không đọc header `Authorization`). Trả về học bạ có hợp lệ không (chữ ký số của "
    "bản PDF và XML, nội dung khớp), phiên bản và đã bị thay thế chưa, trường, năm học, ngày cấp và họ tên "
    "học sinh; không bao giờ có điểm. `Accept: application/json` nhận JSON; trình duyệt (mọi `Accept` "
    "khác) nhận một trang HTML. Đơn vị, mã học bạ hoặc mã xác thực sai dạng, mã sai và học bạ không tồn "
    "tại đều là cùng một 404. Giới hạn tần suất riêng, chặt hơn, theo địa chỉ IP (mặc định 30 lần/phút). "
    "/ The page the QR code on a transcript opens: whoever has the link and the verification code can "
    "check the transcript without signing in (the `Authorization` header is never read). Answers whether "
    "it is valid (both documents' signatures, the content digest), its version and whether it is "
    "superseded, the school, year, issue date and the student's name; never a result. `Accept: "
    "application/json` gets JSON; browsers (any other `Accept`) get an HTML page. A malformed tenant, id or "
    "code, a wrong code and an unknown transcript are the same 404. A stricter rate limit of its own per "
    "client IP (30 a minute by default).",
    response_model=schemas.TranscriptVerification,
    responses=public.responses(),
    openapi_extra=public.OPENAPI_EXTRA,
)
async def verify_transcript(
    request: Request,
    backends: BackendsDep,
    tenant: Annotated[
        str, Path(description="Mã đơn vị (trong đường dẫn của mã QR) / the tenant, from the QR code's URL")
    ],
    transcript_id: Annotated[
        str, Path(description="Mã học bạ (UUID) / transcript id", json_schema_extra={"format": "uuid"})
    ],
    code: Annotated[
        str | None,
        Query(
            description=public.code_description("in cạnh mã QR", "printed beside the QR code"),
            examples=[public.CODE_EXAMPLE],
        ),
    ] = None,
) -> Response:
    async def verify() -> schemas.TranscriptVerification:
        verification_code = public.verification_code(code)
        if not valid_tenant(tenant) or not UUID_RE.fullmatch(transcript_id) or verification_code is None:
            raise _not_found()
        result: sr.VerifyTranscriptResponse = await backends.call_public(
            backends.student_record.VerifyTranscript,
            sr.VerifyTranscriptRequest(
                tenant=tenant, transcript_id=transcript_id.lower(), verification_code=verification_code
            ),
        )
        return mappers.transcript_verification(result)

    return await public.answer(request, pages.TRANSCRIPT, verify, pages.transcript_page)

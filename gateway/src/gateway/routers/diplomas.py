"""The register (sổ gốc) of upper-secondary diplomas and certificates of programme completion
(student-record): entering one for a grade-12 student of an upper-secondary school, correcting it (a new
entry with new numbers; the old one is marked corrected and otherwise kept), revoking it (it stays in the
register), a school's book for a graduation year, a student's entries, and the public verification by
serial number and code. There is no lower-secondary diploma (abolished from 1/1/2026): no route, no kind.

Routes on a student or an entry forward, and student-record decides (school admins and the authority enter,
correct and revoke; whoever may read the student, guardians included, reads their entries, for life). The
book of a school checks ADMIN on the school at the edge first: the school is in the path. The gateway checks
shape only; `NOT_UPPER_SECONDARY`, `NOT_IN_FINAL_GRADE`, `DIPLOMA_ALREADY_ISSUED`, `SERIAL_NUMBER_TAKEN`,
`REGISTER_NUMBER_TAKEN`, the dates' and the classification's refusals are the service's answers, passed
through with their reason and field. Every read is audited by the service.

The verification route needs no token, as the transcript's (:mod:`gateway.public`): no ``Authorization``
read, ``VerifyDiploma`` called with no authorization metadata, the tenant in the path, the public routes'
own per-IP rate limit first, and the same 404 for a malformed tenant, serial number or code, a wrong code
and an unknown serial number; JSON to ``Accept: application/json``, an escaped HTML page to anyone else.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from school.student_record.v1 import student_record_pb2 as sr
from school_common.access import Action, Resource
from school_common.auth import valid_tenant
from school_common.errors import bilingual

from gateway import mappers, pages, public, schemas
from gateway.deps import AccessDep, BackendsDep, Caller, DiplomaId, IdempotencyKey, SchoolId, StudentId
from gateway.problems import ProblemError, problem_docs

router = APIRouter(prefix="/v1", tags=["diplomas"])

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)

#: A serial number as student-record stores it: upper-cased, single spaces, 1-32 of A-Z 0-9 space . / -.
SERIAL_NUMBER_RE = re.compile(r"[A-Z0-9](?:[A-Z0-9 ./-]{0,30}[A-Z0-9])?")
_SPACES = re.compile(r"\s+")

ENTRY_REASONS = (
    "`SERIAL_NUMBER_TAKEN`, `REGISTER_NUMBER_TAKEN` (409, trường `serial_number`, `register_number`), "
    "`INVALID_DATE`, `ISSUED_BEFORE_GRADUATION_YEAR` (`issued_on`), `CLASSIFICATION_NOT_ALLOWED` (giấy "
    "chứng nhận không có xếp loại), `INVALID_ARGUMENT`, `INVALID_TEXT` với trường"
)
ENTRY_REASONS_EN = (
    "`SERIAL_NUMBER_TAKEN`, `REGISTER_NUMBER_TAKEN` (409, field `serial_number`, `register_number`), "
    "`INVALID_DATE`, `ISSUED_BEFORE_GRADUATION_YEAR` (`issued_on`), `CLASSIFICATION_NOT_ALLOWED` (a "
    "certificate carries none), `INVALID_ARGUMENT`, `INVALID_TEXT` with the field"
)


@router.post(
    "/students/{student_id}/diplomas",
    status_code=201,
    operation_id="issueDiploma",
    summary="Vào sổ gốc bằng tốt nghiệp THPT / Enter a diploma in the register",
    description="Vào sổ gốc một bằng tốt nghiệp THPT (`upper_secondary_diploma`) hoặc giấy chứng nhận hoàn "
    "thành chương trình giáo dục phổ thông cấp THPT (`upper_secondary_completion`) cho học sinh lớp 12 của "
    "trường có cấp THPT; quản trị viên trường hoặc Sở/Phòng (giáo viên: 403 `ADMIN_ROLE_REQUIRED`, phụ "
    "huynh: 403 `WRITE_NOT_ALLOWED`). Trường không có cấp THPT: 422 `NOT_UPPER_SECONDARY` (không còn bằng "
    "tốt nghiệp THCS từ 1/1/2026); học sinh không học lớp 12: 422 `NOT_IN_FINAL_GRADE`; năm tốt nghiệp "
    "trước năm học lớp 12: 422 `GRADUATION_BEFORE_FINAL_YEAR`; đã có văn bằng loại này còn hiệu lực: 409 "
    f"`DIPLOMA_ALREADY_ISSUED` (đính chính hoặc thu hồi); {ENTRY_REASONS}. Họ tên và ngày sinh chép từ hồ "
    "sơ học sinh. `Idempotency-Key` trả lại đúng kết quả lần đầu. / Enters an upper-secondary diploma or "
    "certificate of programme completion in the register, for a grade-12 student of a school teaching "
    "upper secondary; school or authority admins (a teacher: 403 `ADMIN_ROLE_REQUIRED`, a guardian: 403 "
    "`WRITE_NOT_ALLOWED`). No upper-secondary grades: 422 `NOT_UPPER_SECONDARY` (there is no lower-secondary "
    "diploma from 1/1/2026); not in grade 12: 422 `NOT_IN_FINAL_GRADE`; a graduation year before the "
    "grade-12 year ends: 422 `GRADUATION_BEFORE_FINAL_YEAR`; an active document of the kind already: 409 "
    f"`DIPLOMA_ALREADY_ISSUED` (correct or revoke it); {ENTRY_REASONS_EN}. The holder's name and date of "
    "birth are copied from the student's record. An `Idempotency-Key` returns the first answer.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def issue_diploma(
    caller: Caller,
    student_id: StudentId,
    key: IdempotencyKey,
    body: schemas.DiplomaCreate,
    backends: BackendsDep,
) -> schemas.Diploma:
    result: sr.IssueDiplomaResponse = await backends.call(
        backends.student_record.IssueDiploma, mappers.issue_diploma(student_id, body, key), caller
    )
    return mappers.diploma(result.diploma)


@router.post(
    "/diplomas/{diploma_id}/corrections",
    status_code=201,
    operation_id="correctDiploma",
    summary="Đính chính văn bằng / Correct a diploma",
    description="Một dòng mới của sổ gốc (số hiệu và số vào sổ mới: bản đính chính in trên phôi mới) thay "
    "dòng cũ, dòng cũ được đánh dấu đã đính chính và giữ nguyên; loại và năm giữ nguyên, họ tên và ngày "
    "sinh đọc lại từ hồ sơ học sinh (sửa hồ sơ trước). Cần lý do. Quản trị viên của trường cấp. Dòng đã "
    "đính chính: 422 `DIPLOMA_CORRECTED` (đính chính dòng hiện hành); đã thu hồi: 422 `DIPLOMA_REVOKED`; "
    f"{ENTRY_REASONS}. / A new entry (new serial and register numbers: a corrected document is printed on a "
    "new blank) replaces the old one, which is marked corrected and otherwise kept; kind and year stay, "
    "the name and date of birth are read again from the student's record (fix the record first). A reason "
    "is required. The issuing school's admins. A corrected entry: 422 `DIPLOMA_CORRECTED` (correct the "
    f"current one); a revoked one: 422 `DIPLOMA_REVOKED`; {ENTRY_REASONS_EN}.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def correct_diploma(
    caller: Caller,
    diploma_id: DiplomaId,
    key: IdempotencyKey,
    body: schemas.DiplomaCorrectionCreate,
    backends: BackendsDep,
) -> schemas.Diploma:
    result: sr.CorrectDiplomaResponse = await backends.call(
        backends.student_record.CorrectDiploma, mappers.correct_diploma(diploma_id, body, key), caller
    )
    return mappers.diploma(result.diploma)


@router.post(
    "/diplomas/{diploma_id}/revocation",
    operation_id="revokeDiploma",
    summary="Thu hồi văn bằng / Revoke a diploma",
    description="Đánh dấu văn bằng đã bị thu hồi (ai, khi nào, lý do); dòng vẫn ở trong sổ gốc và số hiệu, "
    "số vào sổ vẫn không được dùng lại; xác thực công khai trả `revoked`. Quản trị viên của trường cấp. Đã "
    "thu hồi: 422 `DIPLOMA_REVOKED`; đã đính chính: 422 `DIPLOMA_CORRECTED`; thiếu lý do: 422. "
    "`Idempotency-Key` trả lại đúng kết quả lần đầu. / Marks the entry revoked (who, when, why); it stays "
    "in the register and its numbers stay taken; the public verification answers `revoked`. The issuing "
    "school's admins. Revoked already: 422 `DIPLOMA_REVOKED`; corrected: 422 `DIPLOMA_CORRECTED`; no "
    "reason: 422. An `Idempotency-Key` returns the first answer.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def revoke_diploma(
    caller: Caller,
    diploma_id: DiplomaId,
    key: IdempotencyKey,
    body: schemas.DiplomaRevocation,
    backends: BackendsDep,
) -> schemas.Diploma:
    result: sr.RevokeDiplomaResponse = await backends.call(
        backends.student_record.RevokeDiploma,
        sr.RevokeDiplomaRequest(request_id=key, diploma_id=diploma_id, reason=body.reason),
        caller,
    )
    return mappers.diploma(result.diploma)


@router.get(
    "/schools/{school_id}/diplomas",
    operation_id="listSchoolDiplomas",
    summary="Sổ gốc cấp văn bằng của trường / A school's register of diplomas",
    description="Sổ gốc của trường cho một năm tốt nghiệp (tùy chọn một loại), mọi dòng theo thứ tự vào sổ, "
    "kể cả dòng đã đính chính hoặc thu hồi, với tình trạng. Quản trị viên trường và Sở/Phòng; mỗi lần xem "
    "được ghi nhật ký. / The school's register for a graduation year (optionally one kind), every entry in "
    "order of entry, corrected and revoked ones included, with its status. School and authority admins; "
    "every read is audited.",
    responses=problem_docs(403, 404, 422),
)
async def list_school_diplomas(
    caller: Caller,
    school_id: SchoolId,
    access: AccessDep,
    backends: BackendsDep,
    graduation_year: Annotated[
        int,
        Query(
            ge=schemas.EARLIEST_GRADUATION_YEAR,
            le=schemas.LATEST_GRADUATION_YEAR,
            description="Năm tốt nghiệp / graduation year",
            examples=[2026],
        ),
    ],
    kind: Annotated[
        schemas.DiplomaKind | None,
        Query(description="Chỉ một loại; mặc định cả hai / one kind only; default both"),
    ] = None,
) -> schemas.DiplomaList:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: sr.ListSchoolDiplomasResponse = await backends.call(
        backends.student_record.ListSchoolDiplomas,
        sr.ListSchoolDiplomasRequest(
            school_id=school_id,
            graduation_year=graduation_year,
            kind=mappers.DIPLOMA_KIND_TO_PB[kind] if kind else sr.DIPLOMA_KIND_UNSPECIFIED,
        ),
        caller,
    )
    return schemas.DiplomaList(items=[mappers.diploma(d) for d in result.diplomas])


@router.get(
    "/students/{student_id}/diplomas",
    operation_id="listStudentDiplomas",
    summary="Văn bằng của học sinh / A student's diplomas",
    description="Các dòng sổ gốc của học sinh, năm tốt nghiệp mới nhất trước, với mã xác thực để chia sẻ. "
    "Cho những ai được xem học sinh, kể cả phụ huynh, suốt đời; mỗi lần xem được ghi nhật ký. / The "
    "student's entries, newest graduation year first, with the verification code to share. For whoever "
    "may read the student, guardians included, for life; every read is audited.",
    responses=problem_docs(403, 404),
)
async def list_student_diplomas(
    caller: Caller, student_id: StudentId, backends: BackendsDep
) -> schemas.DiplomaList:
    result: sr.ListStudentDiplomasResponse = await backends.call(
        backends.student_record.ListStudentDiplomas,
        sr.ListStudentDiplomasRequest(student_id=student_id),
        caller,
    )
    return schemas.DiplomaList(items=[mappers.diploma(d) for d in result.diplomas])


def _not_found() -> ProblemError:
    return ProblemError(404, "DIPLOMA_NOT_FOUND", bilingual("Không tìm thấy văn bằng", "diploma not found"))


def normalise_serial_number(value: str) -> str | None:
    """The serial number as student-record stores it (NFC, single spaces, upper-cased), or None when it
    cannot be one."""
    number = _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()
    if not number.isascii():
        return None
    number = number.upper()
    return number if SERIAL_NUMBER_RE.fullmatch(number) else None


@router.get(
    "/public/diplomas/{tenant}/{serial_number:path}",
    operation_id="verifyDiploma",
    summary="Xác thực văn bằng (công khai) / Verify a diploma (public)",
    description="Ai có số hiệu và mã xác thực (người được cấp cung cấp) đều kiểm tra được văn bằng trong sổ "
    "gốc, không cần đăng nhập (không đọc header `Authorization`). Trả về tình trạng (`valid` còn hiệu lực, "
    "`corrected` đã được thay bằng bản đính chính, `revoked` đã bị thu hồi), loại, trường, năm tốt nghiệp "
    "và họ tên người được cấp; không có gì khác. Số hiệu trong đường dẫn, mã hoá URL (dấu cách `%20`, dấu "
    "gạch chéo được giữ), không phân biệt hoa thường. `Accept: application/json` nhận JSON; trình duyệt "
    "(mọi `Accept` khác) nhận một trang HTML. Đơn vị, số hiệu hoặc mã sai dạng, mã sai và số hiệu không "
    "tồn tại đều là cùng một 404. Giới hạn tần suất riêng, chặt hơn, theo địa chỉ IP (mặc định 30 "
    "lần/phút), chung với trang xác thực học bạ. / Whoever has the serial number and the verification code "
    "(the holder gives them) can check the document in the register without signing in (the "
    "`Authorization` header is never read). Answers its status (`valid`, `corrected`: replaced by a "
    "corrected entry, `revoked`), kind, school, graduation year and the holder's name; nothing else. The "
    "serial number is in the path, URL-encoded (a space is `%20`; slashes are kept), case-insensitive. "
    "`Accept: application/json` gets JSON; browsers (any other `Accept`) get an HTML page. A malformed "
    "tenant, serial number or code, a wrong code and an unknown serial number are the same 404. A stricter "
    "rate limit of its own per client IP (30 a minute by default), shared with the transcript verification.",
    response_model=schemas.DiplomaVerification,
    responses=public.responses(),
    openapi_extra=public.OPENAPI_EXTRA,
)
async def verify_diploma(
    request: Request,
    backends: BackendsDep,
    tenant: Annotated[str, Path(description="Mã đơn vị / the tenant", examples=["demo"])],
    serial_number: Annotated[
        str, Path(description="Số hiệu văn bằng / the serial number", examples=["B 0012345"])
    ],
    code: Annotated[
        str | None,
        Query(
            description=public.code_description("người được cấp cung cấp", "the holder gives"),
            examples=[public.CODE_EXAMPLE],
        ),
    ] = None,
) -> Response:
    async def verify() -> schemas.DiplomaVerification:
        number = normalise_serial_number(serial_number)
        verification_code = public.verification_code(code)
        if not valid_tenant(tenant) or number is None or verification_code is None:
            raise _not_found()
        result: sr.VerifyDiplomaResponse = await backends.call_public(
            backends.student_record.VerifyDiploma,
            sr.VerifyDiplomaRequest(tenant=tenant, serial_number=number, verification_code=verification_code),
        )
        return mappers.diploma_verification(result)

    return await public.answer(request, pages.DIPLOMA, verify, pages.diploma_page)

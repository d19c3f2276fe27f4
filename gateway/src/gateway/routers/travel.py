"""Transfers out of the tenant and into it (student-record, ``enrolments/travel.py``): the record travels as
an XML package the sending school signs. A school's admins record a student's departure to a school outside
the tenant (another province, a private system: the student leaves the class lists, their record stays
readable to the family) and download the signed package for the receiving school; the receiving school's
admins admit a student with such a package into one of their classes (the sending school's signature must
verify against the platform's trust roots), and whoever may read the student lists the packages they arrived
with and downloads each one.

Every route is on a student or a class, so they forward and student-record decides (it knows the student's
and the class's school). The gateway checks shape only: UUIDs in the path, the departure's `destination`
(1–300 characters), `reason` (1–500) and `effective_on` (a real `YYYY-MM-DD` day), and the arrival's form —
one `file` part that is XML, at most 10 MiB, read in memory (``BodyGuardMiddleware`` caps it as it
arrives), and an `effective_on` text part. The rest — `STUDENT_NOT_ON_ROLL`, `STUDENT_NOT_ENROLLED`,
`RECORD_NOT_VERIFIED`, `INVALID_RECORD_PACKAGE`, `STUDENT_CODE_TAKEN`, an `effective_on` in the future — are
the service's answers, passed through with their reason and field (the package's field `content` is the
form's `file`).

``ListReceivedRecords`` answers the packages' metadata, or one package with its content when asked by id:
the list route hands out the metadata and the download route asks for the one package (404
``RECEIVED_RECORD_NOT_FOUND`` for a package the student did not arrive with).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from school.student_record.v1 import student_record_pb2 as sr
from school_common.errors import bilingual

from gateway import mappers, schemas
from gateway.deps import BackendsDep, Caller, ClassId, IdempotencyKey, ReceivedRecordId, StudentId
from gateway.downloads import attachment
from gateway.problems import ProblemError, problem_docs
from gateway.uploads import MIB, RECORD_PACKAGE_MAX_BYTES, check_xml, upload_form

router = APIRouter(prefix="/v1", tags=["movements"])

ARRIVALS_PATH = "/v1/classes/{class_id}/arrivals"
#: Upload routes and the largest file each takes, for the body guard.
UPLOAD_ROUTES = {ARRIVALS_PATH: RECORD_PACKAGE_MAX_BYTES}

XML_MEDIA_TYPE = "application/xml"
_LIMIT = f"{RECORD_PACKAGE_MAX_BYTES // MIB} MiB"

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)
#: A downloaded package: XML text.
_XML_CONTENT = {XML_MEDIA_TYPE: {"schema": {"type": "string"}}}


def _package_field(name: str) -> str:
    return "file" if name == "content" else name


@router.post(
    "/students/{student_id}/departures",
    status_code=201,
    operation_id="transferStudentOut",
    summary="Chuyển đi ngoài đơn vị / A student leaves for a school outside the tenant",
    description="Quản trị viên trường ghi nhận học sinh chuyển đến một trường ngoài đơn vị (tỉnh khác, hệ "
    "thống khác) với nơi chuyển đến (`destination`), lý do và ngày có hiệu lực; trạng thái CSDL ngành thành "
    '"Chuyển đi" của học kì, học sinh rời danh sách lớp, hồ sơ được giữ và gia đình vẫn xem được suốt đời. '
    "Sau đó tải hồ sơ đã ký (`getStudentRecordPackage`) cho trường nhận. Học sinh đã rời trường: 422 "
    "`STUDENT_NOT_ON_ROLL`; chưa xếp lớp: 422 `STUDENT_NOT_ENROLLED`; ngày ở tương lai: 422 `INVALID_DATE` "
    "(`effective_on`). `Idempotency-Key` trả lại đúng kết quả lần đầu. / The school's admins record that "
    "the student leaves for a school outside the tenant (another province, another system) with where they "
    'go (`destination`), why and when; the sector status becomes "Chuyển đi" of the term, the student '
    "leaves the class lists, and their record stays, readable to the family for life. Then download the "
    "signed package (`getStudentRecordPackage`) for the receiving school. Already left: 422 "
    "`STUDENT_NOT_ON_ROLL`; not enrolled: 422 `STUDENT_NOT_ENROLLED`; a day in the future: 422 "
    "`INVALID_DATE` (`effective_on`). An `Idempotency-Key` returns the first answer.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def transfer_student_out(
    caller: Caller,
    student_id: StudentId,
    key: IdempotencyKey,
    body: schemas.DepartureCreate,
    backends: BackendsDep,
) -> schemas.Movement:
    result: sr.TransferStudentOutResponse = await backends.call(
        backends.student_record.TransferStudentOut,
        mappers.transfer_student_out(student_id, body, key),
        caller,
    )
    return mappers.movement(result.movement)


@router.get(
    "/students/{student_id}/record-package",
    operation_id="getStudentRecordPackage",
    summary="Tải hồ sơ chuyển trường đã ký / Download the signed record package",
    description="Hồ sơ của học sinh cho trường nhận, dạng XML (`HoSoChuyenTruong`, không gian tên "
    "`urn:vn-school:hoc-ba:1`) do nhà trường ký số: thông tin cơ bản, kết quả từng năm học và các học bạ đã "
    "cấp (mỗi học bạ giữ chữ ký của nó). Quản trị viên trường; mỗi lần tải được ghi nhật ký. / The student's "
    "record for the receiving school, as XML (`HoSoChuyenTruong`, namespace `urn:vn-school:hoc-ba:1`) "
    "signed by the school: basic data, every year's results and the transcripts as issued (each keeping its "
    "own signatures). The school's admins; every package handed out is audited.",
    response_class=Response,
    responses={
        200: {
            "description": "Hồ sơ XML đã ký / the signed XML package",
            "content": _XML_CONTENT,
            "headers": {
                "Content-Disposition": {
                    "description": 'attachment; filename="ho-so-chuyen-truong-<mã học sinh / student '
                    'id>.xml"',
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_docs(403, 404),
    },
)
async def get_student_record_package(
    caller: Caller, student_id: StudentId, backends: BackendsDep
) -> Response:
    result: sr.ExportStudentRecordResponse = await backends.call(
        backends.student_record.ExportStudentRecord,
        sr.ExportStudentRecordRequest(student_id=student_id),
        caller,
    )
    filename = result.filename or f"ho-so-chuyen-truong-{student_id}.xml"
    return Response(
        result.content, media_type=XML_MEDIA_TYPE, headers={"Content-Disposition": attachment(filename)}
    )


@router.post(
    ARRIVALS_PATH.removeprefix("/v1"),
    status_code=201,
    operation_id="admitStudentWithRecord",
    summary="Tiếp nhận học sinh từ ngoài đơn vị / Admit a student from outside the tenant",
    description="Quản trị viên trường nhận tiếp nhận học sinh vào lớp với hồ sơ chuyển trường (XML, tối đa "
    f"{_LIMIT}) do trường chuyển đi ký, gửi dạng `multipart/form-data` với trường `file` và ngày có hiệu lực "
    "`effective_on`. Chữ ký của trường chuyển đi phải xác thực được với các gốc tin cậy của nền tảng: không "
    "được thì 422 `RECORD_NOT_VERIFIED`; tệp không phải hồ sơ chuyển trường: 422 `INVALID_RECORD_PACKAGE`; "
    "mã học sinh trong hồ sơ đã có trong đơn vị: 422 `STUDENT_CODE_TAKEN`; ngày ở tương lai: 422 "
    "`INVALID_DATE`; tệp quá lớn: 413 `FILE_TOO_LARGE`; không phải XML: 415 `UNSUPPORTED_FILE_TYPE`. Học "
    'sinh giữ mã CSDL ngành (hoặc nhận khóa tạm), trạng thái "Chuyển đến"; hồ sơ được lưu nguyên như đã '
    "nhận. `Idempotency-Key` trả lại đúng kết quả lần đầu. / The receiving school's admins admit the "
    f"student into the class with the record package (XML, at most {_LIMIT}) the sending school signed, "
    "sent as `multipart/form-data` with the field `file` and the day it takes effect, `effective_on`. The "
    "sending school's signature must verify against the platform's trust roots, else 422 "
    "`RECORD_NOT_VERIFIED`; not a record package: 422 `INVALID_RECORD_PACKAGE`; the package's student code "
    "already in the tenant: 422 `STUDENT_CODE_TAKEN`; a day in the future: 422 `INVALID_DATE`; too large: "
    "413 `FILE_TOO_LARGE`; not XML: 415 `UNSUPPORTED_FILE_TYPE`. The student keeps their sector code (or "
    'gets a temporary key), with the status "Chuyển đến"; the package is kept as received. An '
    "`Idempotency-Key` returns the first answer.",
    responses=problem_docs(*WRITE_ERRORS),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "effective_on"],
                        "additionalProperties": False,
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": f"Hồ sơ chuyển trường (XML đã ký), tối đa {_LIMIT} / the "
                                f"signed record package (XML), at most {_LIMIT}",
                            },
                            "effective_on": {
                                "type": "string",
                                "format": "date",
                                "pattern": schemas.DATE_PATTERN,
                                "description": "Ngày có hiệu lực (YYYY-MM-DD), không ở tương lai / the day "
                                "it takes effect, not in the future",
                                "examples": ["2025-11-24"],
                            },
                        },
                    },
                    "encoding": {"file": {"contentType": f"{XML_MEDIA_TYPE}, text/xml"}},
                }
            },
        }
    },
)
async def admit_student_with_record(
    caller: Caller,
    class_id: ClassId,
    key: IdempotencyKey,
    request: Request,
    backends: BackendsDep,
) -> schemas.Arrival:
    # BodyGuardMiddleware has capped the body (UPLOAD_ROUTES) and refused other media types.
    body = await request.body()
    part, texts = upload_form(body, request.headers.get("content-type", ""), text_fields=("effective_on",))
    check_xml(part, RECORD_PACKAGE_MAX_BYTES)
    try:
        form = schemas.ArrivalForm.model_validate(texts)
    except ValidationError as invalid:
        raise RequestValidationError(invalid.errors()) from None
    result: sr.ImportStudentRecordResponse = await backends.call(
        backends.student_record.ImportStudentRecord,
        sr.ImportStudentRecordRequest(
            request_id=key, class_id=class_id, content=part.content, effective_on=form.effective_on
        ),
        caller,
        field_names=_package_field,
    )
    return mappers.arrival(result)


@router.get(
    "/students/{student_id}/received-records",
    operation_id="listReceivedRecords",
    summary="Hồ sơ chuyển trường học sinh mang đến / The record packages a student arrived with",
    description="Các hồ sơ chuyển trường học sinh mang đến khi được tiếp nhận từ ngoài đơn vị (thông tin, "
    "không có tệp: tải từng hồ sơ tại `getReceivedRecord`), cũ nhất trước, với trường chuyển đi và việc chữ "
    "ký đã được xác thực. Cho những ai được xem học sinh; mỗi lần xem được ghi nhật ký. / The record "
    "packages the student arrived with from outside the tenant (metadata, no documents: download each with "
    "`getReceivedRecord`), oldest first, with the sending school and whether its signature verified. For "
    "whoever may read the student; every read is audited.",
    responses=problem_docs(403, 404),
)
async def list_received_records(
    caller: Caller, student_id: StudentId, backends: BackendsDep
) -> schemas.ReceivedRecordList:
    result: sr.ListReceivedRecordsResponse = await backends.call(
        backends.student_record.ListReceivedRecords,
        sr.ListReceivedRecordsRequest(student_id=student_id),
        caller,
    )
    return schemas.ReceivedRecordList(items=[mappers.received_record(r) for r in result.records])


def _record_not_found() -> ProblemError:
    return ProblemError(
        404,
        "RECEIVED_RECORD_NOT_FOUND",
        bilingual("Không tìm thấy hồ sơ đã nhận", "received record not found"),
    )


@router.get(
    "/students/{student_id}/received-records/{record_id}",
    operation_id="getReceivedRecord",
    summary="Tải hồ sơ chuyển trường đã nhận / Download a received record package",
    description="Hồ sơ XML đúng như đã nhận (với chữ ký của trường chuyển đi). Cho những ai được xem học "
    "sinh; mỗi lần tải được ghi nhật ký. Hồ sơ không phải của học sinh này: 404 `RECEIVED_RECORD_NOT_FOUND`. "
    "/ The XML package exactly as received (with the sending school's signature). For whoever may read the "
    "student; every copy is audited. A package the student did not arrive with: 404 "
    "`RECEIVED_RECORD_NOT_FOUND`.",
    response_class=Response,
    responses={
        200: {
            "description": "Hồ sơ XML như đã nhận / the XML package as received",
            "content": _XML_CONTENT,
            "headers": {
                "Content-Disposition": {
                    "description": 'attachment; filename="ho-so-chuyen-den-<mã hồ sơ / record id>.xml"',
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_docs(403, 404),
    },
)
async def get_received_record(
    caller: Caller, student_id: StudentId, record_id: ReceivedRecordId, backends: BackendsDep
) -> Response:
    result: sr.ListReceivedRecordsResponse = await backends.call(
        backends.student_record.ListReceivedRecords,
        sr.ListReceivedRecordsRequest(student_id=student_id, record_id=record_id),
        caller,
    )
    record = next((r for r in result.records if r.id.lower() == record_id), None)
    if record is None:  # the service answers NOT_FOUND itself; an empty answer is the same
        raise _record_not_found()
    return Response(
        record.content,
        media_type=XML_MEDIA_TYPE,
        headers={"Content-Disposition": attachment(f"ho-so-chuyen-den-{record_id}.xml")},
    )

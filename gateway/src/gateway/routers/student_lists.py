"""The sector database's student list, template C1-HocSinh (student-record): importing a school year's
classes from the .xlsx schools download from the sector database (CSDL ngành), and exporting them back.

Both are on a school in the path, so access is checked at the edge first (the school's admin; an authority
admin reaches every school), then student-record decides again. The gateway checks the shape only — a school
year ``YYYY-YYYY``, one ``file`` part that is an .xlsx (a ZIP) of at most 10 MiB — and reads the body in
memory (``BodyGuardMiddleware`` caps it as it arrives). The workbook itself is the service's: columns found
by header text, each row created, updated, unchanged or refused with its column and reason.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from school.student_record.v1 import student_record_pb2 as sr
from school_common.access import Action, Resource

from gateway import mappers, schemas
from gateway.deps import AccessDep, BackendsDep, Caller, SchoolId, SchoolYearName
from gateway.downloads import attachment
from gateway.problems import problem_docs
from gateway.uploads import MIB, STUDENT_LIST_MAX_BYTES, check_xlsx, single_file

router = APIRouter(prefix="/v1", tags=["student-lists"])

STUDENT_LIST_PATH = "/v1/schools/{school_id}/student-lists/{school_year}"
#: Upload routes (templates) and the largest file each takes, for the body guard.
UPLOAD_ROUTES = {STUDENT_LIST_PATH: STUDENT_LIST_MAX_BYTES}

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_LIMIT = f"{STUDENT_LIST_MAX_BYTES // MIB} MiB"

ROW_REASONS = (
    "`UNKNOWN_CLASS`, `MISSING_VALUE`, `INVALID_DATE`, `INVALID_NAME`, `INVALID_SEX`, `UNKNOWN_STATUS`, "
    "`INVALID_PERSONAL_ID`, `INVALID_PHONE`, `DUPLICATE_ROW`, `STUDENT_CODE_CONFLICT`, "
    "`STUDENT_IN_OTHER_SCHOOL`, `ENROLLED_IN_ANOTHER_CLASS`…"
)


def _import_field(name: str) -> str:
    return "file" if name == "content" else name


@router.post(
    STUDENT_LIST_PATH.removeprefix("/v1"),
    operation_id="importStudentList",
    summary="Nhập danh sách học sinh C1-HocSinh / Import the C1-HocSinh student list",
    description="Nhập học sinh vào các lớp của năm học từ tệp C1-HocSinh (.xlsx, tối đa "
    f"{_LIMIT}) tải từ CSDL ngành, gửi dạng `multipart/form-data` với trường `file`; cột được nhận theo "
    "tiêu đề, không theo vị trí. Quản trị viên trường (trường của mình) hoặc quản trị viên Sở/Phòng. Mỗi "
    "dòng được tạo mới, cập nhật, giữ nguyên hoặc từ chối kèm cột và lý do "
    f"({ROW_REASONS}); các dòng khác vẫn được nhập. Học sinh chưa có mã nhận một khóa tạm (`TAM-…`) cho "
    "tới khi tệp sau có mã. `dry_run=true` chỉ báo trước, không ghi gì. Nhập lại cùng tệp không thay đổi "
    "gì (mọi dòng `unchanged`), nên không cần `Idempotency-Key`. Cả tệp bị từ chối (422): "
    "`INVALID_SPREADSHEET` (tệp hỏng, hoặc .xls: hãy lưu lại thành .xlsx), `MISSING_COLUMN`, "
    "`TOO_MANY_ROWS` (hơn 20.000 dòng); tệp quá lớn: 413 `FILE_TOO_LARGE`; không phải .xlsx: 415 "
    "`UNSUPPORTED_FILE_TYPE`. / Imports students into the school year's classes from the sector "
    f"database's C1-HocSinh list (.xlsx, at most {_LIMIT}), sent as `multipart/form-data` with the field "
    "`file`; columns are matched by header text, never by position. School admins (their school) or "
    "authority admins. Each row is created, updated, left unchanged or refused with its column and reason; "
    "the other rows are still imported. A student without a sector code gets a temporary key (`TAM-…`) "
    "until a later file carries the code. `dry_run=true` reports what would happen and writes nothing. "
    "Importing the same file again changes nothing (every row `unchanged`), so it takes no "
    "`Idempotency-Key`. Whole-file refusals (422): `INVALID_SPREADSHEET` (a damaged file, or an .xls: "
    "save it as .xlsx), `MISSING_COLUMN`, `TOO_MANY_ROWS` (over 20,000 rows); too large: 413 "
    "`FILE_TOO_LARGE`; not an .xlsx: 415 `UNSUPPORTED_FILE_TYPE`.",
    responses=problem_docs(403, 404, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "additionalProperties": False,
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": f"Tệp .xlsx C1-HocSinh, tối đa {_LIMIT} / a C1-HocSinh "
                                f".xlsx file, at most {_LIMIT}",
                            }
                        },
                    },
                    "encoding": {"file": {"contentType": XLSX_MEDIA_TYPE}},
                }
            },
        }
    },
)
async def import_student_list(
    caller: Caller,
    school_id: SchoolId,
    school_year: SchoolYearName,
    request: Request,
    access: AccessDep,
    backends: BackendsDep,
    dry_run: Annotated[
        bool,
        Query(description="Chỉ báo trước, không ghi gì / report what would happen and write nothing"),
    ] = False,
) -> schemas.StudentListImportReport:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    # BodyGuardMiddleware has capped the body (UPLOAD_ROUTES) and refused other media types.
    body = await request.body()
    part = single_file(body, request.headers.get("content-type", ""))
    check_xlsx(part, STUDENT_LIST_MAX_BYTES)
    result: sr.ImportStudentsResponse = await backends.call(
        backends.student_record.ImportStudents,
        sr.ImportStudentsRequest(
            school_id=school_id, school_year=school_year, content=part.content, dry_run=dry_run
        ),
        caller,
        field_names=_import_field,
    )
    return mappers.student_list_import(result, dry_run)


@router.get(
    STUDENT_LIST_PATH.removeprefix("/v1"),
    operation_id="exportStudentList",
    summary="Xuất danh sách học sinh C1-HocSinh / Export the C1-HocSinh student list",
    description="Học sinh của trường trong năm học theo mẫu C1-HocSinh (.xlsx) để nộp lên CSDL ngành; khóa "
    "tạm không bao giờ được ghi thành mã học sinh. Quản trị viên trường (trường của mình) hoặc quản trị viên "
    "Sở/Phòng; mỗi lần xuất được ghi nhật ký. / The school's students of the year in the C1-HocSinh "
    "template (.xlsx), for the sector database; a temporary key is never written as a student code. School "
    "admins (their school) or authority admins; every export is audited.",
    response_class=Response,
    responses={
        200: {
            "description": "Tệp .xlsx / the .xlsx file",
            "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                "Content-Disposition": {
                    "description": 'attachment; filename="C1-HocSinh_<mã trường / school code>_<năm học / '
                    'school year>.xlsx"',
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_docs(403, 404, 422),
    },
)
async def export_student_list(
    caller: Caller, school_id: SchoolId, school_year: SchoolYearName, access: AccessDep, backends: BackendsDep
) -> Response:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: sr.ExportStudentsResponse = await backends.call(
        backends.student_record.ExportStudents,
        sr.ExportStudentsRequest(school_id=school_id, school_year=school_year),
        caller,
    )
    filename = result.filename or f"C1-HocSinh_{school_id}_{school_year}.xlsx"
    return Response(
        result.content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": attachment(filename)},
    )

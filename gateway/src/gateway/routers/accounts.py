"""The caller, staff accounts and citizen-ID verification (identity service).

identity holds the assignments these routes are about, so it decides who may do what here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from school.identity.v1 import identity_pb2 as idn

from gateway import mappers, schemas
from gateway.deps import BackendsDep, Caller, IdempotencyKey, PageSize, PageToken
from gateway.problems import problem_docs
from gateway.uploads import XLSX_MAX_BYTES, check_xlsx, single_file

router = APIRouter(prefix="/v1")

STAFF_IMPORTS_PATH = "/v1/staff/imports"
#: Upload routes and the largest file each takes, for the body guard.
UPLOAD_ROUTES = {STAFF_IMPORTS_PATH: XLSX_MAX_BYTES}

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/me",
    tags=["me"],
    operation_id="getMe",
    summary="Tài khoản của tôi / The caller",
    description="Vai trò, trường, lớp, con em đã liên kết và tình trạng xác thực danh tính của người đang "
    "đăng nhập. Lần gọi đầu của phụ huynh sẽ liên kết các con đã được nhà trường ghi nhận với số định danh "
    "đã xác thực của phụ huynh. / The caller's roles, schools, classes, linked children and identity "
    "verification. A guardian's first call links the children recorded with their verified personal "
    "identification number.",
    responses=problem_docs(403),
)
async def get_me(caller: Caller, backends: BackendsDep) -> schemas.Me:
    result: idn.GetMeResponse = await backends.call(backends.identity.GetMe, idn.GetMeRequest(), caller)
    return mappers.me(result)


def _import_field(name: str) -> str:
    return "file" if name in ("content", "filename") else name


@router.post(
    "/staff/imports",
    tags=["staff"],
    operation_id="importStaff",
    summary="Nhập danh sách cán bộ / Import staff",
    description="Nhập cán bộ từ tệp Excel (.xlsx, tối đa 5 MiB) xuất từ CSDL ngành, gửi dạng "
    "`multipart/form-data` với trường `file`. Trả về kết quả từng dòng; nhập lại cùng tệp không thay đổi gì. "
    "Quản trị viên Sở/Phòng (mọi trường) hoặc quản trị viên trường (trường của mình). / Imports staff from "
    "the sector database's staff spreadsheet (.xlsx, at most 5 MiB), sent as `multipart/form-data` with the "
    "field `file`. Answers with a report per row; importing the same file again changes nothing. Authority "
    "admins (any school) or school admins (their school).",
    responses=problem_docs(403, 409, 413, 415, 422),
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
                                "description": "Tệp .xlsx, tối đa 5 MiB / an .xlsx file, at most 5 MiB",
                            }
                        },
                    },
                    "encoding": {"file": {"contentType": XLSX_MEDIA_TYPE}},
                }
            },
        }
    },
)
async def import_staff(
    caller: Caller, key: IdempotencyKey, request: Request, backends: BackendsDep
) -> schemas.StaffImportReport:
    # BodyGuardMiddleware has capped the body (UPLOAD_ROUTES) and refused other media types.
    body = await request.body()
    part = single_file(body, request.headers.get("content-type", ""))
    check_xlsx(part)
    result: idn.ImportStaffResponse = await backends.call(
        backends.identity.ImportStaff,
        idn.ImportStaffRequest(content=part.content, filename=part.filename or "", request_id=key),
        caller,
        field_names=_import_field,
    )
    return mappers.import_report(result)


@router.get(
    "/staff",
    tags=["staff"],
    operation_id="listStaff",
    summary="Danh sách cán bộ / List staff",
    description="Tài khoản cán bộ, phân công và tình trạng xác thực mà người gọi được xem. / The staff "
    "accounts, their assignments and verification, as far as the caller may see.",
    responses=problem_docs(403, 422),
)
async def list_staff(
    caller: Caller,
    backends: BackendsDep,
    school_id: Annotated[
        str | None,
        Query(
            pattern=schemas.UUID_PATTERN,
            description="Chỉ cán bộ của trường này / only staff assigned to this school",
            examples=[schemas.EXAMPLE_SCHOOL_ID],
        ),
    ] = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> schemas.StaffPage:
    result: idn.ListStaffResponse = await backends.call(
        backends.identity.ListStaff,
        idn.ListStaffRequest(
            school_id=(school_id or "").lower(), page_size=page_size or 0, page_token=page_token or ""
        ),
        caller,
    )
    return schemas.StaffPage(
        items=[mappers.staff_member(m) for m in result.staff], next_page_token=result.next_page_token or None
    )


@router.post(
    "/citizen-verifications",
    tags=["verification"],
    operation_id="verifyCitizen",
    summary="Kiểm tra số định danh cá nhân / Verify a citizen ID",
    description="Kiểm tra số định danh cá nhân theo quy tắc định dạng và với CSDL quốc gia về dân cư, cho hồ "
    "sơ cán bộ của đơn vị (quản trị viên Sở/Phòng hoặc trường). Số định danh không bao giờ được trả lại, "
    "ghi log hay đưa vào vết. Gọi lại không gây hại nên không cần `Idempotency-Key`. / Checks a personal "
    "identification number against its format rules and the national population database, for the caller's "
    "own staff records (authority or school admins). The number is never returned, logged or traced. "
    "Repeating it is harmless, so it takes no `Idempotency-Key`.",
    responses=problem_docs(403, 413, 415, 422),
)
async def verify_citizen(
    caller: Caller, body: schemas.CitizenVerificationCreate, backends: BackendsDep
) -> schemas.CitizenVerification:
    result: idn.VerifyCitizenResponse = await backends.call(
        backends.identity.VerifyCitizen, mappers.verify_citizen(body), caller
    )
    return mappers.citizen_verification(result)

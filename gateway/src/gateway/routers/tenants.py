"""Tenants: education authorities and their Keycloak realms (identity service).

The only routes a platform operator's token reaches (``AnyCaller``). A tenant's token may read its own
tenant when the caller administers it (authority admin), checked at the edge; creating tenants is the
platform operator's, and identity decides.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from school.identity.v1 import identity_pb2 as idn
from school_common.access import Action, Resource
from school_common.auth import valid_tenant
from school_common.errors import bilingual

from gateway import mappers, schemas
from gateway.deps import AccessDep, AnyCaller, BackendsDep, IdempotencyKey
from gateway.problems import ProblemError, problem_docs

PROVISIONING_TIMEOUT_S = 60.0

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])


def _slug(
    slug: Annotated[
        str,
        Path(
            description="Mã đơn vị / the tenant's slug",
            examples=["hcm"],
            json_schema_extra={"pattern": schemas.SLUG_PATTERN},
        ),
    ],
) -> str:
    # A malformed slug answers exactly like a tenant that does not exist.
    if not valid_tenant(slug):
        raise ProblemError(404, "TENANT_NOT_FOUND", bilingual("Không tìm thấy đơn vị", "tenant not found"))
    return slug


Slug = Annotated[str, Depends(_slug)]


@router.post(
    "",
    status_code=201,
    operation_id="createTenant",
    summary="Tạo đơn vị / Create a tenant",
    description="Tạo một đơn vị (Sở/Phòng GD-ĐT) và realm Keycloak của đơn vị (chỉ quản trị nền tảng, mã "
    "truy cập của realm `platform`). Gọi lại với cùng mã đơn vị sẽ tiếp tục một lần khởi tạo dừng giữa "
    "chừng và không thay đổi gì nếu đã xong. / Creates a tenant (an education authority) and its Keycloak "
    "realm (platform operators only, with a `platform` realm token). Calling it again for the same slug "
    "resumes a provisioning that stopped half-way and changes nothing otherwise.",
    responses={
        201: {
            "headers": {
                "Location": {
                    "description": "Đường dẫn của đơn vị / URL of the tenant",
                    "schema": {"type": "string"},
                }
            }
        },
        **problem_docs(403, 409, 413, 415, 422),
    },
)
async def create_tenant(
    caller: AnyCaller,
    key: IdempotencyKey,
    body: schemas.TenantCreate,
    backends: BackendsDep,
    response: Response,
) -> schemas.Tenant:
    # Provisioning a realm takes seconds (longer on a busy Keycloak): the gRPC maximum, not the default.
    result: idn.CreateTenantResponse = await backends.call(
        backends.identity.CreateTenant,
        mappers.create_tenant(body, key),
        caller,
        timeout_s=PROVISIONING_TIMEOUT_S,
    )
    response.headers["Location"] = f"/v1/tenants/{result.tenant.slug}"
    return mappers.tenant(result.tenant)


@router.get(
    "/{slug}",
    operation_id="getTenant",
    summary="Xem một đơn vị / Get a tenant",
    description="Đơn vị và tình trạng khởi tạo. Quản trị nền tảng, hoặc quản trị viên của chính đơn vị đó. / "
    "A tenant and where its provisioning stands. Platform operators, or the tenant's own authority admin.",
    responses=problem_docs(403, 404),
)
async def get_tenant(
    caller: AnyCaller, slug: Slug, access: AccessDep, backends: BackendsDep
) -> schemas.Tenant:
    if not caller.is_platform:
        await access.authorize(caller, Action.ADMIN, Resource.tenant())
    result: idn.GetTenantResponse = await backends.call(
        backends.identity.GetTenant, idn.GetTenantRequest(slug=slug), caller
    )
    return mappers.tenant(result.tenant)

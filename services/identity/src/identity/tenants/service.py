"""Tenants: an education authority and its Keycloak realm, provisioned step by step from deploy/keycloak.

Provisioning is a list of idempotent steps (:data:`STEPS`). Each completed step is recorded on the tenant
row; a failure stops the run with the reason kept in ``last_error`` and the tenant left PROVISIONING.
Calling ``CreateTenant`` again runs every step again: a step that is already done finds nothing to do, so
the call resumes where the last one stopped and never duplicates anything.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from keycloak.exceptions import KeycloakError
from school.identity.v1 import identity_pb2 as pb
from school_common import access
from school_common.auth import valid_tenant
from school_common.context import Principal, current_principal
from school_common.db import Database
from school_common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    bilingual,
    missing_token,
)
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from identity.adapters.keycloak import Keycloak, status_of
from identity.audit.record import record
from identity.models import Tenant
from identity.settings import KeycloakAdminSettings

log = logging.getLogger(__name__)

PROVISIONING = "PROVISIONING"
ACTIVE = "ACTIVE"
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
RESERVED_SLUGS = frozenset({"platform", "master", "vneid", "admin"})


def render(value: Any, values: dict[str, str]) -> Any:
    """Fill the upper-case ``${NAME}`` placeholders of a realm-as-code file (see deploy/keycloak/README.md).

    Keycloak's own templates (``${CLAIM.personal_id}``, lower-case message keys) are left alone; an
    upper-case name with no value is an error, so a template and this code cannot drift apart silently.
    """
    if isinstance(value, str):

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise ValueError(f"realm template placeholder ${{{name}}} has no value")
            return values[name]

        return _PLACEHOLDER.sub(fill, value)
    if isinstance(value, list):
        return [render(v, values) for v in value]
    if isinstance(value, dict):
        return {k: render(v, values) for k, v in value.items() if not k.startswith(("_comment", "x-"))}
    return value


def placeholders(settings: KeycloakAdminSettings, slug: str, display_name: str) -> dict[str, str]:
    issuer = settings.vneid_issuer.rstrip("/")
    oidc = f"{issuer}/protocol/openid-connect"
    dev = settings.register_vneid_broker_client
    secret = (
        (lambda what: f"dev-only-{slug}-{what}-secret") if dev else (lambda what: secrets.token_urlsafe(32))
    )
    return {
        "TENANT": slug,
        "TENANT_DISPLAY_NAME": display_name,
        "KEYCLOAK_BASE": (settings.public_url or settings.server_url).rstrip("/"),
        "CONSOLE_BASE_URL": settings.console_base_url.rstrip("/"),
        "CONSOLE_CLIENT_SECRET": secret("console"),
        "PARTNERS_CLIENT_SECRET": secret("partners"),
        "VNEID_ISSUER": issuer,
        "VNEID_AUTHORIZATION_URL": f"{oidc}/auth",
        "VNEID_TOKEN_URL": f"{oidc}/token",
        "VNEID_USERINFO_URL": f"{oidc}/userinfo",
        "VNEID_JWKS_URL": f"{oidc}/certs",
        "VNEID_LOGOUT_URL": f"{oidc}/logout",
        "VNEID_CLIENT_ID": f"tenant-{slug}-broker",
        "VNEID_CLIENT_SECRET": secret("vneid-broker"),
    }


def _ts(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def to_proto(tenant: Tenant) -> pb.Tenant:
    return pb.Tenant(
        slug=tenant.slug,
        display_name=tenant.display_name,
        realm=f"tenant-{tenant.slug}",
        state=pb.TenantState.Value(f"TENANT_STATE_{tenant.state}"),
        completed_steps=list(tenant.completed_steps),
        last_error=tenant.last_error or "",
        create_time=_ts(tenant.created_at),
        update_time=_ts(tenant.updated_at),
    )


def _operator() -> Principal:
    principal = current_principal()
    if principal is None:
        raise missing_token()
    if not (principal.is_platform and principal.has_any(access.PLATFORM_OPERATOR)):
        raise PermissionDenied(
            "PLATFORM_OPERATOR_REQUIRED",
            bilingual(
                "Chỉ người vận hành nền tảng mới được tạo đơn vị mới",
                "only a platform operator may create or provision tenants",
            ),
        )
    return principal


class TenantService:
    def __init__(self, db: Database, keycloak: Keycloak) -> None:
        self.db = db
        self.keycloak = keycloak
        self.settings = keycloak.settings

    def _template(self, name: str) -> Any:
        return json.loads(Path(self.settings.realms_dir, name).read_text(encoding="utf-8"))

    async def create(self, request: pb.CreateTenantRequest) -> pb.CreateTenantResponse:
        principal = _operator()
        slug = request.slug.strip()
        if not valid_tenant(slug) or slug in RESERVED_SLUGS:
            raise InvalidArgument(
                "INVALID_TENANT_SLUG",
                bilingual(
                    "Mã đơn vị chỉ gồm chữ thường, chữ số và dấu gạch ngang (tối đa 63 ký tự)",
                    "slug must be lower-case letters, digits and inner hyphens, at most 63 characters",
                ),
                {"field": "slug"},
            )
        display_name = " ".join(request.display_name.split())
        if not 0 < len(display_name) <= 200:
            raise InvalidArgument(
                "INVALID_DISPLAY_NAME",
                bilingual(
                    "Tên đơn vị không được để trống, tối đa 200 ký tự", "display_name: 1-200 characters"
                ),
                {"field": "display_name"},
            )
        async with self.db.unit_of_work(None) as uow:
            await uow.session.execute(
                insert(Tenant)
                .values(
                    slug=slug,
                    display_name=display_name,
                    state=PROVISIONING,
                    completed_steps=[],
                    created_by=principal.subject,
                )
                .on_conflict_do_nothing(index_elements=["slug"])
            )
            tenant = await uow.session.scalar(select(Tenant).where(Tenant.slug == slug))
            assert tenant is not None
            if tenant.display_name != display_name:
                raise FailedPrecondition(
                    "TENANT_EXISTS",
                    bilingual(
                        "Mã đơn vị đã được dùng cho đơn vị khác", "a tenant with this slug already exists"
                    ),
                    {"field": "slug"},
                )
            await uow.commit()
        await self._provision(slug, display_name)
        return pb.CreateTenantResponse(tenant=await self._get(slug))

    async def get(self, request: pb.GetTenantRequest) -> pb.GetTenantResponse:
        principal = current_principal()
        if principal is None:
            raise missing_token()
        allowed = (principal.is_platform and principal.has_any(access.PLATFORM_OPERATOR)) or (
            principal.tenant == request.slug and principal.has_any(access.AUTHORITY_ADMIN)
        )
        if not allowed:
            raise PermissionDenied(
                "NOT_YOUR_TENANT",
                bilingual("Bạn không quản trị đơn vị này", "you do not administer this tenant"),
            )
        return pb.GetTenantResponse(tenant=await self._get(request.slug))

    async def _get(self, slug: str) -> pb.Tenant:
        async with self.db.unit_of_work(None) as uow:
            tenant = await uow.session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise NotFound("TENANT_NOT_FOUND", bilingual("Không tìm thấy đơn vị", "tenant not found"))
        return to_proto(tenant)

    # ---------------------------------------------------------------- provisioning

    def steps(self) -> list[tuple[str, Callable[[str, str, dict[str, Any]], Awaitable[None]]]]:
        steps: list[tuple[str, Callable[[str, str, dict[str, Any]], Awaitable[None]]]] = [
            ("realm", self._step_realm),
            ("top_up", self._step_top_up),
            ("identity_provider_mappers", self._step_identity_provider),
        ]
        if self.settings.register_vneid_broker_client:
            steps.append(("vneid_broker_client", self._step_broker_client))
        steps.append(("check", self._step_check))
        return steps

    async def _provision(self, slug: str, display_name: str) -> None:
        values = placeholders(self.settings, slug, display_name)
        realm = render(copy.deepcopy(self._template("realm-template.json")), values)
        for name, step in self.steps():
            try:
                await step(slug, name, {"realm": realm, "values": values})
            except Exception as exc:
                reason = f"{name}: {type(exc).__name__}"
                if isinstance(exc, KeycloakError):
                    reason += f" (HTTP {status_of(exc)})"
                log.warning(
                    "tenant provisioning stopped", extra={"tenant": slug, "step": name, "error": reason}
                )
                await self._mark(slug, error=reason)
                return
            await self._mark(slug, step=name)
        await self._mark(slug, state=ACTIVE)
        async with self.db.unit_of_work(slug) as uow:  # the first entry of the tenant's own audit trail
            record(uow, "TENANT_PROVISIONED", f"tenant:{slug}", details={"steps": len(self.steps())})
            await uow.commit()
        log.info("tenant provisioned", extra={"tenant": slug})

    async def _mark(
        self, slug: str, *, step: str | None = None, error: str | None = None, state: str | None = None
    ) -> None:
        async with self.db.unit_of_work(None) as uow:
            tenant = await uow.session.scalar(select(Tenant).where(Tenant.slug == slug).with_for_update())
            assert tenant is not None
            if step is not None and step not in tenant.completed_steps:
                tenant.completed_steps = [*tenant.completed_steps, step]
            tenant.last_error = error
            if state is not None:
                tenant.state = state
            await uow.commit()

    async def _step_realm(self, slug: str, _: str, ctx: dict[str, Any]) -> None:
        # One POST of the whole representation: Keycloak creates the realm with everything in it, or
        # nothing. An existing realm is left to the next step, which adds only what it lacks.
        if not await self.keycloak.realm_exists(ctx["realm"]["realm"]):
            await self.keycloak.admin(self.settings.admin_realm).a_create_realm(
                ctx["realm"], skip_exists=True
            )

    async def _step_top_up(self, slug: str, _: str, ctx: dict[str, Any]) -> None:
        """Roles, clients and identity providers the realm lacks (a template that grew, a deleted client)."""
        realm = ctx["realm"]
        admin = self.keycloak.admin(realm["realm"])
        response = await admin.connection.a_raw_post(
            f"admin/realms/{realm['realm']}/partialImport",
            data=json.dumps(
                {
                    "ifResourceExists": "SKIP",
                    "roles": {"realm": realm.get("roles", {}).get("realm", [])},
                    "clients": realm.get("clients", []),
                    "identityProviders": realm.get("identityProviders", []),
                }
            ),
        )
        if response.status_code >= 400:
            raise RuntimeError(f"partial import answered HTTP {response.status_code}")

    async def _step_identity_provider(self, slug: str, _: str, ctx: dict[str, Any]) -> None:
        realm = ctx["realm"]
        admin = self.keycloak.admin(realm["realm"])
        for mapper in realm.get("identityProviderMappers", []):
            alias = mapper["identityProviderAlias"]
            response = await admin.connection.a_raw_get(
                f"admin/realms/{realm['realm']}/identity-provider/instances/{alias}/mappers"
            )
            names = {m["name"] for m in response.json()}
            if mapper["name"] not in names:
                await admin.a_add_mapper_to_idp(alias, mapper)

    async def _step_broker_client(self, slug: str, _: str, ctx: dict[str, Any]) -> None:
        client = render(self._template("vneid-broker-client.json"), ctx["values"])
        admin = self.keycloak.admin("vneid")
        if await admin.a_get_client_id(client["clientId"]) is None:
            await admin.a_create_client(client, skip_exists=True)

    async def _step_check(self, slug: str, _: str, ctx: dict[str, Any]) -> None:
        admin = self.keycloak.admin(ctx["realm"]["realm"])
        roles = {r["name"] for r in await admin.a_get_realm_roles()}
        wanted = {r["name"] for r in ctx["realm"].get("roles", {}).get("realm", [])}
        if not wanted <= roles:
            raise RuntimeError("roles missing after provisioning")
        clients = {c["clientId"] for c in await admin.a_get_clients()}
        if not {c["clientId"] for c in ctx["realm"].get("clients", [])} <= clients:
            raise RuntimeError("clients missing after provisioning")

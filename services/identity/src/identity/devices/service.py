"""OAuth clients of gate check-in devices (RFID card readers, face terminals).

Each device gets its own confidential Keycloak client ``gate-<device id>`` in the tenant realm: client
credentials only, no refresh token, ``aud: school-api``, its service account holding exactly the realm
roles ``partner`` and ``gate_device``. The device's owning service (attendance) asks for it with the
registering admin's token, so the decision is identity's own: a school admin of the device's school or
the authority admin. Disabling a device disables its client and replaces the secret. Identity keeps no
copy of a secret: it is returned once, when issued.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from pathlib import Path

from school.identity.v1 import identity_pb2 as pb
from school_common.access import Action, Resource, authorize
from school_common.db import Database
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable, bilingual
from school_common.ids import parse_uuid

from identity.access.service import AccessService, tenant_principal
from identity.adapters.keycloak import (
    DEVICE_ID_ATTRIBUTE,
    DEVICE_SCHOOL_ATTRIBUTE,
    ClientOfAnotherOwner,
    Keycloak,
    device_client,
)
from identity.audit.record import record
from identity.models import School

log = logging.getLogger(__name__)

CLIENT_PREFIX = "gate-"
#: The realm roles of a device's service account, and nothing else.
DEVICE_ROLES = ("partner", "gate_device")
_CLIENT_ID = re.compile(r"gate-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_NAME = 100


def client_id_of(device_id: uuid.UUID) -> str:
    return f"{CLIENT_PREFIX}{device_id}"


def _invalid(reason: str, field: str, vi: str, en: str) -> InvalidArgument:
    return InvalidArgument(reason, bilingual(vi, en), {"field": field})


def provider_unavailable() -> Unavailable:
    return Unavailable(
        "IDENTITY_PROVIDER_UNAVAILABLE",
        bilingual(
            "Không kết nối được máy chủ định danh lúc này, vui lòng thử lại",
            "the identity provider is not answering, please retry",
        ),
    )


class DeviceClientService:
    def __init__(self, db: Database, keycloak: Keycloak, accounts: AccessService) -> None:
        self.db = db
        self.keycloak = keycloak
        self.accounts = accounts
        self.settings = keycloak.settings

    def token_endpoint(self, realm: str) -> str:
        base = (self.settings.public_url or self.settings.server_url).rstrip("/")
        return f"{base}/realms/{realm}/protocol/openid-connect/token"

    def _role_descriptions(self) -> dict[str, str]:
        """The device roles as the realm template describes them (for a realm provisioned before them)."""
        try:
            template = json.loads(
                Path(self.settings.realms_dir, "realm-template.json").read_text(encoding="utf-8")
            )
            roles = template.get("roles", {}).get("realm", [])
            return {r["name"]: r.get("description", "") for r in roles if r.get("name") in DEVICE_ROLES}
        except (OSError, ValueError):
            return {}

    async def create(self, request: pb.CreateDeviceClientRequest) -> pb.CreateDeviceClientResponse:
        principal = tenant_principal()
        school_id = parse_uuid(request.school_id)
        if school_id is None:
            raise _invalid(
                "INVALID_SCHOOL_ID", "school_id", "Mã trường không hợp lệ", "school_id is not a valid id"
            )
        device_id = parse_uuid(request.device_id)
        if device_id is None:
            raise _invalid(
                "INVALID_DEVICE_ID", "device_id", "Mã thiết bị không hợp lệ", "device_id is not a valid id"
            )
        name = " ".join(request.display_name.split())
        if not 0 < len(name) <= MAX_NAME:
            raise _invalid(
                "INVALID_DISPLAY_NAME",
                "display_name",
                f"Tên thiết bị không được để trống, tối đa {MAX_NAME} ký tự",
                f"display_name: 1-{MAX_NAME} characters",
            )
        scope = await self.accounts.scope_of(principal)
        authorize(scope, Action.ADMIN, Resource.school(str(school_id)))
        async with self.db.unit_of_work(principal.tenant) as uow:
            if await uow.session.get(School, school_id) is None:
                raise NotFound("SCHOOL_NOT_FOUND", bilingual("Không tìm thấy trường", "school not found"))
        realm = f"tenant-{principal.tenant}"
        client_id = client_id_of(device_id)
        try:
            descriptions = self._role_descriptions()
            roles = [
                await self.keycloak.ensure_realm_role(realm, role, descriptions.get(role, role))
                for role in DEVICE_ROLES
            ]
            secret = await self.keycloak.upsert_service_client(
                realm,
                device_client(client_id, name, str(school_id), str(device_id)),
                roles,
                DEVICE_SCHOOL_ATTRIBUTE,
            )
        except ClientOfAnotherOwner:
            raise FailedPrecondition(
                "DEVICE_CLIENT_EXISTS",
                bilingual(
                    "Mã thiết bị đã được dùng cho thiết bị của trường khác",
                    "a device client with this id belongs to another school",
                ),
                {"field": "device_id"},
            ) from None
        except Exception as exc:
            log.warning("device client creation failed", extra={"error": type(exc).__name__})
            raise provider_unavailable() from exc
        async with self.db.unit_of_work(principal.tenant) as uow:
            record(
                uow,
                "DEVICE_CLIENT_CREATED",
                f"client:{client_id}",
                details={"school_id": str(school_id), "device_id": str(device_id)},
            )
            await uow.commit()
        return pb.CreateDeviceClientResponse(
            client_id=client_id, client_secret=secret, token_endpoint=self.token_endpoint(realm)
        )

    async def disable(self, request: pb.DisableDeviceClientRequest) -> pb.DisableDeviceClientResponse:
        principal = tenant_principal()
        client_id = request.client_id.strip().lower()
        if not _CLIENT_ID.fullmatch(client_id):
            raise _invalid(
                "INVALID_CLIENT_ID",
                "client_id",
                "Chỉ vô hiệu hóa được client của thiết bị (gate-<mã thiết bị>)",
                "only a device client (gate-<device id>) can be disabled here",
            )
        realm = f"tenant-{principal.tenant}"
        try:
            client = await self.keycloak.find_client(realm, client_id)
        except Exception as exc:
            log.warning("device client lookup failed", extra={"error": type(exc).__name__})
            raise provider_unavailable() from exc
        school_id = ((client or {}).get("attributes") or {}).get(DEVICE_SCHOOL_ATTRIBUTE, "")
        if client is None or not school_id:
            raise NotFound(
                "DEVICE_CLIENT_NOT_FOUND",
                bilingual("Không tìm thấy client của thiết bị", "device client not found"),
            )
        scope = await self.accounts.scope_of(principal)
        authorize(scope, Action.ADMIN, Resource.school(school_id))
        try:
            changed = await self.keycloak.disable_client(realm, client_id)
        except Exception as exc:
            log.warning("device client disabling failed", extra={"error": type(exc).__name__})
            raise provider_unavailable() from exc
        if changed:
            async with self.db.unit_of_work(principal.tenant) as uow:
                record(
                    uow,
                    "DEVICE_CLIENT_DISABLED",
                    f"client:{client_id}",
                    details={
                        "school_id": school_id,
                        "device_id": (client.get("attributes") or {}).get(DEVICE_ID_ATTRIBUTE, ""),
                    },
                )
                await uow.commit()
        return pb.DisableDeviceClientResponse(client_id=client_id, school_id=school_id)

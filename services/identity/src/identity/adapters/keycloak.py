"""Keycloak administration through python-keycloak: tenant realms, users, roles and events.

One ``KeycloakAdmin`` per realm (python-keycloak binds an admin client to a realm), each signed in as the
master-realm admin of the settings. Calls are the library's async ones (``a_*``).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakError, KeycloakGetError, KeycloakPostError

from identity.settings import KeycloakAdminSettings

log = logging.getLogger(__name__)

MAX_CACHED_ADMINS = 256


class KeycloakUnavailable(Exception):
    """Keycloak could not be reached or answered with a server error."""


class ClientOfAnotherOwner(Exception):
    """A client with the wanted client id exists but belongs to something else (another school)."""


#: Attributes identity sets on a device client: what it belongs to (Keycloak keeps any attribute).
DEVICE_SCHOOL_ATTRIBUTE = "school.school_id"
DEVICE_ID_ATTRIBUTE = "school.device_id"
#: The audience every service verifies (``AUTH__AUDIENCE``); the same mapper as ``school-partners``.
API_AUDIENCE = "school-api"


def device_client(client_id: str, name: str, school_id: str, device_id: str) -> dict[str, Any]:
    """A device's client: a copy of the realm template's ``school-partners`` (confidential, client
    credentials only, no refresh token, ``aud: school-api``) that says whose it is in its attributes."""
    return {
        "clientId": client_id,
        "name": name,
        "description": "Thiết bị điểm danh tại cổng trường: chỉ client credentials; tài khoản dịch vụ có"
        " vai trò partner và gate_device.",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "bearerOnly": False,
        "clientAuthenticatorType": "client-secret",
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": True,
        "frontchannelLogout": False,
        "fullScopeAllowed": True,
        "redirectUris": [],
        "webOrigins": [],
        "attributes": {
            "oauth2.device.authorization.grant.enabled": "false",
            "oidc.ciba.grant.enabled": "false",
            "client_credentials.use_refresh_token": "false",
            DEVICE_SCHOOL_ATTRIBUTE: school_id,
            DEVICE_ID_ATTRIBUTE: device_id,
        },
        "defaultClientScopes": ["basic", "roles", "service_account"],
        "optionalClientScopes": [],
        "protocolMappers": [
            {
                "name": f"audience {API_AUDIENCE}",
                "protocol": "openid-connect",
                "protocolMapper": "oidc-audience-mapper",
                "consentRequired": False,
                "config": {
                    "included.client.audience": API_AUDIENCE,
                    "id.token.claim": "false",
                    "access.token.claim": "true",
                    "introspection.token.claim": "true",
                    "lightweight.claim": "false",
                },
            }
        ],
    }


def status_of(exc: KeycloakError) -> int:
    return int(getattr(exc, "response_code", 0) or 0)


class Keycloak:
    def __init__(self, settings: KeycloakAdminSettings) -> None:
        self.settings = settings
        self._admins: OrderedDict[str, KeycloakAdmin] = OrderedDict()

    def admin(self, realm: str) -> KeycloakAdmin:
        admin = self._admins.get(realm)
        if admin is None:
            s = self.settings
            secret = s.admin_client_secret.get_secret_value() if s.admin_client_secret else None
            connection = KeycloakOpenIDConnection(
                server_url=s.server_url.rstrip("/") + "/",
                username=None if secret else s.admin_username,
                password=None if secret else s.admin_password.get_secret_value(),
                client_id=s.admin_client_id,
                client_secret_key=secret,
                realm_name=realm,
                user_realm_name=s.admin_realm,
                timeout=int(s.timeout_s),
                verify=True,
            )
            admin = KeycloakAdmin(connection=connection)
            self._admins[realm] = admin
            while len(self._admins) > MAX_CACHED_ADMINS:
                self._admins.popitem(last=False)
        self._admins.move_to_end(realm)
        return admin

    # ---------------------------------------------------------------- realms

    async def realm_exists(self, realm: str) -> bool:
        try:
            await self.admin(realm).a_get_realm(realm)
            return True
        except KeycloakGetError as exc:
            if status_of(exc) == 404:
                return False
            raise

    async def realm_names(self) -> list[str]:
        realms = await self.admin(self.settings.admin_realm).a_get_realms()
        return [str(r["realm"]) for r in realms]

    # ---------------------------------------------------------------- users

    async def get_user(self, realm: str, user_id: str) -> dict[str, Any] | None:
        try:
            user: dict[str, Any] = await self.admin(realm).a_get_user(user_id)
        except KeycloakGetError as exc:
            if status_of(exc) == 404:
                return None
            raise
        return user

    async def federated_identities(self, realm: str, user_id: str) -> list[dict[str, Any]]:
        links: list[dict[str, Any]] = await self.admin(realm).a_get_user_social_logins(user_id)
        return links

    async def find_user(self, realm: str, username: str, email: str | None = None) -> dict[str, Any] | None:
        """The user with this username, or else with this e-mail address (both exact)."""
        admin = self.admin(realm)
        users = await admin.a_get_users({"username": username, "exact": True})
        if not users and email:
            users = await admin.a_get_users({"email": email, "exact": True})
        return users[0] if users else None

    async def create_user(self, realm: str, payload: dict[str, Any]) -> str:
        return str(await self.admin(realm).a_create_user(payload, exist_ok=False))

    async def update_user(self, realm: str, user_id: str, payload: dict[str, Any]) -> None:
        await self.admin(realm).a_update_user(user_id, payload)

    async def realm_roles_of(self, realm: str, user_id: str) -> set[str]:
        roles = await self.admin(realm).a_get_realm_roles_of_user(user_id)
        return {str(r["name"]) for r in roles}

    async def assign_realm_roles(self, realm: str, user_id: str, names: list[str]) -> None:
        admin = self.admin(realm)
        roles = [await admin.a_get_realm_role(name) for name in names]
        await admin.a_assign_realm_roles(user_id, roles)

    # ---------------------------------------------------------------- events

    async def events(self, realm: str, max_results: int = 500) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = await self.admin(realm).a_get_events({"first": 0, "max": max_results})
        return events

    async def admin_events(self, realm: str, max_results: int = 500) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = await self.admin(realm).a_get_admin_events(
            {"first": 0, "max": max_results}
        )
        return events

    # ---------------------------------------------------------------- clients

    async def find_client(self, realm: str, client_id: str) -> dict[str, Any] | None:
        """The client with this ``clientId`` (its representation), or None."""
        admin = self.admin(realm)
        internal = await admin.a_get_client_id(client_id)
        if internal is None:
            return None
        client: dict[str, Any] = await admin.a_get_client(internal)
        return client

    async def ensure_realm_role(self, realm: str, name: str, description: str) -> dict[str, Any]:
        """The realm role, created when a realm provisioned before it existed lacks it."""
        admin = self.admin(realm)
        try:
            role: dict[str, Any] = await admin.a_get_realm_role(name)
            return role
        except KeycloakGetError as exc:
            if status_of(exc) != 404:
                raise
        await admin.a_create_realm_role({"name": name, "description": description}, skip_exists=True)
        created: dict[str, Any] = await admin.a_get_realm_role(name)
        return created

    async def upsert_service_client(
        self, realm: str, representation: dict[str, Any], roles: list[dict[str, Any]], owner_attribute: str
    ) -> str:
        """Creates (or brings back to ``representation``) a confidential service-account client whose
        service account holds exactly ``roles`` (not the realm's default roles), and issues it a new
        secret, which is returned. An existing client whose ``owner_attribute`` differs is refused."""
        admin = self.admin(realm)
        client_id = representation["clientId"]
        internal = await admin.a_get_client_id(client_id)
        if internal is None:
            try:
                internal = await admin.a_create_client(representation)
            except KeycloakPostError as exc:
                if status_of(exc) != 409:
                    raise
                internal = await admin.a_get_client_id(client_id)  # created at the same moment
                if internal is None:
                    raise
        existing = await admin.a_get_client(internal)
        wanted_owner = representation["attributes"][owner_attribute]
        if (existing.get("attributes") or {}).get(owner_attribute) != wanted_owner:
            raise ClientOfAnotherOwner(client_id)
        await admin.a_update_client(internal, {**representation, "id": internal})
        account = await admin.a_get_client_service_account_user(internal)
        held = await admin.a_get_realm_roles_of_user(account["id"])
        wanted = {r["name"] for r in roles}
        extra = [r for r in held if r["name"] not in wanted]
        if extra:
            await admin.a_delete_realm_roles_of_user(account["id"], extra)
        missing = [r for r in roles if r["name"] not in {h["name"] for h in held}]
        if missing:
            await admin.a_assign_realm_roles(account["id"], missing)
        secret = await admin.a_generate_client_secrets(internal)
        return str(secret["value"])

    async def disable_client(self, realm: str, client_id: str) -> bool:
        """Disables the client and replaces its secret (re-enabling it later needs a new one). False when
        it was already disabled (nothing changes)."""
        admin = self.admin(realm)
        internal = await admin.a_get_client_id(client_id)
        if internal is None:
            return False
        client = await admin.a_get_client(internal)
        if not client.get("enabled", True):
            return False
        await admin.a_update_client(internal, {**client, "enabled": False})
        await admin.a_generate_client_secrets(internal)
        return True

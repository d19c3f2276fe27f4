"""Keycloak administration through python-keycloak: tenant realms, users, roles and events.

One ``KeycloakAdmin`` per realm (python-keycloak binds an admin client to a realm), each signed in as the
master-realm admin of the settings. Calls are the library's async ones (``a_*``).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakError, KeycloakGetError

from identity.settings import KeycloakAdminSettings

log = logging.getLogger(__name__)

MAX_CACHED_ADMINS = 256


class KeycloakUnavailable(Exception):
    """Keycloak could not be reached or answered with a server error."""


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

"""Who is calling, for which tenant: set by the auth interceptor or the event consumer, per request."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """The verified caller. ``subject`` is the Keycloak user id, a pseudonymous id (no personal data)."""

    tenant: str
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)
    client_id: str = ""
    token: str = field(default="", repr=False)

    @property
    def is_platform(self) -> bool:
        """A platform operator's token (platform realm): no tenant, only tenant provisioning."""
        return self.tenant == ""

    def has_any(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


_principal: ContextVar[Principal | None] = ContextVar("principal", default=None)
_tenant: ContextVar[str | None] = ContextVar("tenant", default=None)


def current_principal() -> Principal | None:
    return _principal.get()


def current_tenant() -> str | None:
    return _tenant.get()


def set_principal(principal: Principal | None) -> None:
    _principal.set(principal)
    _tenant.set(principal.tenant if principal else None)


def set_tenant(tenant: str | None) -> None:
    """For work that has a tenant but no caller (event consumers, relays)."""
    _tenant.set(tenant)


def require_role(roles: frozenset[str]) -> Principal:
    """The current principal if it holds one of ``roles``; otherwise UNAUTHENTICATED or PERMISSION_DENIED."""
    from school_common.errors import PermissionDenied, bilingual, missing_token

    principal = current_principal()
    if principal is None:
        raise missing_token()
    if not principal.has_any(*roles):
        raise PermissionDenied(
            "ROLE_REQUIRED",
            bilingual("Bạn không có quyền thực hiện thao tác này", "you are not allowed to do this"),
            {"roles": ",".join(sorted(roles))},
        )
    return principal

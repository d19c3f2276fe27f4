"""Verification of Keycloak access tokens, the same in the gateway and in every service.

The tenant of a request is the realm that issued its token: a token from ``<issuer>/realms/tenant-hcm``
acts for tenant ``hcm``. Keys come from that realm's JWKS endpoint and are cached; an unknown ``kid``
triggers one refresh (key rotation). Only asymmetric algorithms are accepted.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from school_common.context import Principal
from school_common.errors import Unauthenticated, Unavailable, bilingual, missing_token
from school_common.settings import AuthSettings

log = logging.getLogger(__name__)

_TENANT_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


def valid_tenant(tenant: str) -> bool:
    """A tenant slug as realm names carry it: lower-case letters, digits and inner hyphens, at most 63."""
    return bool(_TENANT_RE.fullmatch(tenant))


def _identity_provider_unavailable() -> Unavailable:
    return Unavailable(
        "IDENTITY_PROVIDER_UNAVAILABLE",
        bilingual("Không kiểm tra được mã truy cập lúc này", "cannot verify tokens right now"),
    )


def _bad(en: str, vi: str = "Mã truy cập không hợp lệ") -> Unauthenticated:
    return Unauthenticated("INVALID_TOKEN", bilingual(vi, en))


@dataclass
class _Keys:
    keys: dict[str, jwt.PyJWK]
    fetched_at: float


class TokenVerifier:
    def __init__(self, settings: AuthSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._issuer_base = settings.issuer_base_url.rstrip("/")
        self._jwks_base = (settings.jwks_base_url or settings.issuer_base_url).rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=5.0)
        self._keys: dict[str, _Keys] = {}
        self._failures: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    def tenant_of_issuer(self, issuer: str) -> str:
        """The tenant slug of a tenant realm's issuer; ``""`` for the platform realm (the operator's)."""
        if (
            self.settings.platform_realm
            and issuer == f"{self._issuer_base}/realms/{self.settings.platform_realm}"
        ):
            return ""
        prefix = f"{self._issuer_base}/realms/{self.settings.realm_prefix}"
        if not issuer.startswith(prefix):
            raise _bad("token issuer is not a tenant realm of this platform")
        tenant = issuer[len(prefix) :]
        if not valid_tenant(tenant):
            raise _bad("token issuer is not a tenant realm of this platform")
        return tenant

    async def verify(self, token: str) -> Principal:
        if not token:
            raise missing_token()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise _bad("malformed token") from exc
        if header.get("alg") not in _ALGORITHMS:
            raise _bad("token algorithm not accepted")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str):
            raise _bad("token has no issuer")
        tenant = self.tenant_of_issuer(issuer)
        key = await self._key(tenant, str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=_ALGORITHMS,
                audience=self.settings.audience,
                issuer=issuer,
                leeway=self.settings.leeway_s,
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated(
                "TOKEN_EXPIRED", bilingual("Mã truy cập đã hết hạn", "token expired")
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise _bad("token is not meant for this API (audience)") from exc
        except jwt.PyJWTError as exc:
            raise _bad("token signature or claims are invalid") from exc
        if claims.get("typ", "Bearer") != "Bearer":
            raise _bad("not an access token")
        roles = frozenset(claims.get("realm_access", {}).get("roles", []) or [])
        return Principal(
            tenant=tenant,
            subject=str(claims["sub"]),
            roles=roles,
            client_id=str(claims.get("azp", "")),
            token=token,
        )

    async def _key(self, tenant: str, kid: str) -> jwt.PyJWK:
        cached = self._keys.get(tenant)
        now = time.monotonic()
        if cached and kid in cached.keys and now - cached.fetched_at < self.settings.jwks_cache_s:
            return cached.keys[kid]
        _bound(self._locks)
        lock = self._locks.setdefault(tenant, asyncio.Lock())
        async with lock:
            cached = self._keys.get(tenant)
            # Another request may have refreshed the keys while this one waited for the lock.
            fresh = cached is not None and time.monotonic() - cached.fetched_at < 5
            if not fresh:
                try:
                    await self._refresh(tenant)
                except Unavailable:
                    # Keycloak briefly away: keys it published before are still the realm's keys.
                    if cached is not None and kid in cached.keys:
                        log.warning("jwks refresh failed; using cached keys", extra={"tenant": tenant})
                        return cached.keys[kid]
                    raise
            cached = self._keys.get(tenant)
            if cached is None or kid not in cached.keys:
                raise _bad("token signed by an unknown key")
            return cached.keys[kid]

    async def _refresh(self, tenant: str) -> None:
        # A realm that does not exist answers 404: remember that briefly so garbage tokens can't
        # turn into a flood of requests to Keycloak.
        failed_at = self._failures.get(tenant)
        if failed_at and time.monotonic() - failed_at < 5:
            raise _bad("unknown tenant realm")
        realm = self.settings.realm_of(tenant) if tenant else self.settings.platform_realm
        url = f"{self._jwks_base}/realms/{realm}/protocol/openid-connect/certs"
        try:
            response = await self._http.get(url)
        except httpx.HTTPError as exc:
            log.warning("jwks fetch failed", extra={"tenant": tenant, "error": type(exc).__name__})
            raise _identity_provider_unavailable() from exc
        if response.status_code == 404:
            _bound(self._failures)
            self._failures[tenant] = time.monotonic()
            raise _bad("unknown tenant realm")
        if response.status_code != 200:
            raise _identity_provider_unavailable()
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in response.json().get("keys", []):
            if jwk.get("use", "sig") != "sig" or "kid" not in jwk:
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
            except jwt.PyJWTError:
                continue
        _bound(self._keys)
        self._keys[tenant] = _Keys(keys=keys, fetched_at=time.monotonic())
        self._failures.pop(tenant, None)


# Tenants come from unverified issuers before a key is found: the per-tenant maps stay bounded so
# made-up realm names cannot grow them without limit.
MAX_TRACKED_TENANTS = 1024


def _bound(mapping: dict[str, Any]) -> None:
    while len(mapping) >= MAX_TRACKED_TENANTS:
        mapping.pop(next(iter(mapping)))


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        return ""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""

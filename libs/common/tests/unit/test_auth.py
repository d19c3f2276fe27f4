"""Token verification rules, with tokens crafted here (Keycloak's own tokens are tested end to end)."""

import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from school_common.auth import TokenVerifier, bearer_token
from school_common.errors import Unauthenticated
from school_common.settings import AuthSettings

BASE = "http://kc.test"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    return {"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}


def handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/realms/tenant-demo/protocol/openid-connect/certs":
        return httpx.Response(200, json=jwks())
    return httpx.Response(404)


def verifier() -> TokenVerifier:
    return TokenVerifier(
        AuthSettings(issuer_base_url=BASE, audience="school-api"),
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )


def token(key=KEY, kid="k1", alg="RS256", **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": f"{BASE}/realms/tenant-demo",
        "sub": "u1",
        "aud": ["school-api", "account"],
        "iat": now,
        "exp": now + 300,
        "typ": "Bearer",
        "azp": "school-mobile",
        "realm_access": {"roles": ["teacher"]},
    } | overrides
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


async def test_a_valid_token_gives_the_tenant_from_its_realm():
    principal = await verifier().verify(token())
    assert principal.tenant == "demo"
    assert principal.roles == frozenset({"teacher"})


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (lambda: "", "MISSING_TOKEN"),
        (lambda: "garbage", "INVALID_TOKEN"),
        (lambda: token(exp=int(time.time()) - 3600), "TOKEN_EXPIRED"),
        (lambda: token(aud="another-api"), "INVALID_TOKEN"),
        (lambda: token(iss="http://evil.test/realms/tenant-demo"), "INVALID_TOKEN"),
        (lambda: token(iss=f"{BASE}/realms/master"), "INVALID_TOKEN"),
        (lambda: token(iss=f"{BASE}/realms/tenant-nowhere"), "INVALID_TOKEN"),
        (lambda: token(key=OTHER_KEY), "INVALID_TOKEN"),
        (lambda: token(kid="unknown"), "INVALID_TOKEN"),
        (lambda: token(typ="ID"), "INVALID_TOKEN"),
        (
            lambda: jwt.encode(
                {"iss": f"{BASE}/realms/tenant-demo", "sub": "x"}, "k" * 32, algorithm="HS256"
            ),
            "INVALID_TOKEN",
        ),
        (
            lambda: jwt.encode({"iss": f"{BASE}/realms/tenant-demo", "sub": "x"}, None, algorithm="none"),
            "INVALID_TOKEN",
        ),
    ],
    ids=[
        "missing",
        "garbage",
        "expired",
        "wrong-audience",
        "foreign-issuer",
        "non-tenant-realm",
        "unknown-realm",
        "wrong-key",
        "unknown-kid",
        "id-token",
        "hs256",
        "alg-none",
    ],
)
async def test_bad_tokens_are_refused(bad, reason):
    with pytest.raises(Unauthenticated) as caught:
        await verifier().verify(bad())
    assert caught.value.reason == reason


def test_bearer_header_parsing():
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer abc") == "abc"
    assert bearer_token("Basic abc") == ""
    assert bearer_token(None) == ""


async def test_cached_keys_are_used_while_keycloak_is_away():
    up = {"value": True}

    def flaky(request: httpx.Request) -> httpx.Response:
        if not up["value"]:
            raise httpx.ConnectError("keycloak away")
        return handler(request)

    v = TokenVerifier(
        AuthSettings(issuer_base_url=BASE, audience="school-api", jwks_cache_s=10),
        http=httpx.AsyncClient(transport=httpx.MockTransport(flaky)),
    )
    assert (await v.verify(token())).tenant == "demo"
    up["value"] = False
    v._keys["demo"].fetched_at -= 3600  # the cache has expired
    assert (await v.verify(token())).tenant == "demo"


async def test_made_up_realms_do_not_grow_the_verifier_without_bound():
    from school_common.auth import MAX_TRACKED_TENANTS

    v = verifier()
    for n in range(MAX_TRACKED_TENANTS + 50):
        with pytest.raises(Unauthenticated):
            await v.verify(token(iss=f"{BASE}/realms/tenant-fake{n}"))
    assert len(v._failures) <= MAX_TRACKED_TENANTS
    assert len(v._locks) <= MAX_TRACKED_TENANTS

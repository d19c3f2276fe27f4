"""Keycloak of the one-machine stack: tenant realms, clients, and sign-in through the VNeID broker.

Black-box: reads the stack description (``STACK_FILE``, default ``<repo>/.run/stack.json``; the
Keycloak part is the file itself or its ``"keycloak"`` key, as written by
``school_stack.keycloak.provision``) and talks HTTP to the running Keycloak. A missing description is
a failure, not a skip.

Run against a Keycloak started alone::

    .venv/bin/python -m school_stack.keycloak --out /tmp/kc-stack.json &   # wait for "running"
    STACK_FILE=/tmp/kc-stack.json .venv/bin/pytest tests/e2e/test_keycloak.py -m e2e
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
# Loopback redirect URI of a native app (RFC 8252): nothing listens there, the test reads the code
# from the redirect itself.
REDIRECT_URI = "http://127.0.0.1:53682/callback"
TENANT = "demo"


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def kc() -> dict[str, Any]:
    path = Path(os.environ.get("STACK_FILE") or REPO / ".run" / "stack.json")
    if not path.is_file():
        pytest.fail(
            f"stack description {path} does not exist: start the stack (make up), or start Keycloak alone "
            "with `python -m school_stack.keycloak --out FILE` and set STACK_FILE=FILE",
            pytrace=False,
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    description = data.get("keycloak", data)
    for key in ("base_url", "admin", "realms", "vneid"):
        if key not in description:
            pytest.fail(f"{path} has no Keycloak description (missing {key!r})", pytrace=False)
    if TENANT not in description["realms"]:
        pytest.fail(f"{path}: tenant {TENANT!r} is not provisioned", pytrace=False)
    return description


@pytest.fixture(scope="module")
def demo(kc: dict[str, Any]) -> dict[str, Any]:
    realm = kc["realms"][TENANT]
    if not realm["clients"].get("dev_cli") or not realm["users"]:
        pytest.fail("the demo tenant was provisioned without the dev overlay (dev=False)", pytrace=False)
    return realm


async def _token(realm: dict[str, Any], data: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30.0) as http:
        return await http.post(f"{realm['issuer']}/protocol/openid-connect/token", data=data)


async def _password_grant(realm: dict[str, Any], username: str, password: str, client: str) -> httpx.Response:
    return await _token(
        realm,
        {
            "grant_type": "password",
            "client_id": client,
            "username": username,
            "password": password,
            "scope": "openid",
        },
    )


async def _verified_claims(realm: dict[str, Any], access_token: str) -> dict[str, Any]:
    """Verify the signature with the realm's JWKS, the issuer and the API audience."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        jwks = (await http.get(f"{realm['issuer']}/protocol/openid-connect/certs")).json()
    kid = jwt.get_unverified_header(access_token)["kid"]
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k.get("kid") == kid)
    return jwt.decode(
        access_token,
        key=key,
        algorithms=["RS256"],
        audience=realm["clients"]["audience"],
        issuer=realm["issuer"],
        options={"require": ["exp", "iat", "iss", "sub", "aud"]},
    )


def _aud(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud", [])
    return [aud] if isinstance(aud, str) else list(aud)


async def _admin_get(kc: dict[str, Any], path: str, **params: str) -> Any:
    admin = kc["admin"]
    async with httpx.AsyncClient(base_url=kc["base_url"], timeout=30.0) as http:
        token = await http.post(
            f"/realms/{admin['realm']}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": admin["username"],
                "password": admin["password"],
            },
        )
        assert token.status_code == 200, token.text
        response = await http.get(
            f"/admin/realms{path}",
            params=params,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert response.status_code == 200, response.text
        return response.json()


# ----------------------------------------------------------------------------- password grant (dev)


async def test_password_grant_gives_api_token_with_roles(demo: dict[str, Any]) -> None:
    user = next(u for u in demo["users"] if "homeroom_teacher" in u["roles"])
    response = await _password_grant(demo, user["username"], user["password"], demo["clients"]["dev_cli"])
    assert response.status_code == 200, response.text
    claims = await _verified_claims(demo, response.json()["access_token"])
    assert "school-api" in _aud(claims)
    assert claims["iss"] == demo["issuer"]
    assert claims["iss"].endswith("/realms/tenant-demo")
    assert claims["typ"] == "Bearer"
    assert claims["azp"] == demo["clients"]["dev_cli"]
    assert claims["preferred_username"] == user["username"]
    roles = set(claims["realm_access"]["roles"])
    assert {"teacher", "homeroom_teacher"} <= roles
    assert "personal_id" not in claims  # only the identity service ever sees it


async def test_every_demo_user_signs_in_with_their_roles(kc: dict[str, Any], demo: dict[str, Any]) -> None:
    wanted = {
        "authority_admin",
        "school_admin",
        "teacher",
        "homeroom_teacher",
        "nurse",
        "accountant",
        "guardian",
        "student",
    }
    seen: set[str] = set()
    for slug, realm in kc["realms"].items():
        for user in realm["users"]:
            response = await _password_grant(
                realm, user["username"], user["password"], realm["clients"]["dev_cli"]
            )
            assert response.status_code == 200, f"{slug}/{user['username']}: {response.text}"
            claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
            assert claims["iss"] == realm["issuer"]
            assert "school-api" in _aud(claims)
            assert set(user["roles"]) <= set(claims["realm_access"]["roles"]), user["username"]
            seen.update(user["roles"])
    assert wanted <= seen
    assert kc["realms"]["other"]["users"], "the second tenant has a user for isolation tests"


async def test_wrong_password_is_rejected(demo: dict[str, Any]) -> None:
    user = next(u for u in demo["users"] if "accountant" in u["roles"])
    bad = await _password_grant(demo, user["username"], user["password"] + "x", demo["clients"]["dev_cli"])
    assert bad.status_code == 401, bad.text
    assert bad.json()["error"] == "invalid_grant"
    assert "access_token" not in bad.json()
    # A successful sign-in resets the brute-force counter, so reruns never lock the demo user out.
    good = await _password_grant(demo, user["username"], user["password"], demo["clients"]["dev_cli"])
    assert good.status_code == 200, good.text


async def test_users_of_one_tenant_do_not_exist_in_another(kc: dict[str, Any], demo: dict[str, Any]) -> None:
    other = kc["realms"]["other"]
    user = demo["users"][0]
    response = await _password_grant(other, user["username"], user["password"], other["clients"]["dev_cli"])
    assert response.status_code == 401, response.text
    foreign = other["users"][0]
    response = await _password_grant(
        demo, foreign["username"], foreign["password"], demo["clients"]["dev_cli"]
    )
    assert response.status_code == 401, response.text


# --------------------------------------------------------------------------- production clients


async def test_mobile_and_console_refuse_the_password_grant(demo: dict[str, Any]) -> None:
    user = demo["users"][0]
    mobile = await _password_grant(demo, user["username"], user["password"], demo["clients"]["mobile"])
    assert mobile.status_code in (400, 401), mobile.text
    assert mobile.json()["error"] == "unauthorized_client"
    assert "access_token" not in mobile.json()
    console = await _token(
        demo,
        {
            "grant_type": "password",
            "client_id": demo["clients"]["console"],
            "client_secret": demo["clients"]["console_secret"] or "",
            "username": user["username"],
            "password": user["password"],
        },
    )
    assert console.status_code in (400, 401), console.text
    assert "access_token" not in console.json()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _auth_params(demo: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "client_id": demo["clients"]["mobile"],
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        **extra,
    }


def _redirect_error(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code in (302, 303), f"{response.status_code}: {response.text[:300]}"
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI), location
    return parse_qs(urlsplit(location).query)


async def test_mobile_requires_pkce_s256(demo: dict[str, Any]) -> None:
    auth = f"{demo['issuer']}/protocol/openid-connect/auth"
    async with httpx.AsyncClient(timeout=30.0) as http:
        no_pkce = _redirect_error(await http.get(auth, params=_auth_params(demo)))
        assert no_pkce["error"] == ["invalid_request"], no_pkce
        assert "code_challenge" in no_pkce["error_description"][0]
        plain = _redirect_error(
            await http.get(
                auth, params=_auth_params(demo, code_challenge="a" * 43, code_challenge_method="plain")
            )
        )
        assert plain["error"] == ["invalid_request"], plain
        _, challenge = _pkce()
        ok = await http.get(
            auth, params=_auth_params(demo, code_challenge=challenge, code_challenge_method="S256")
        )
        assert ok.status_code == 200, ok.text[:300]  # the sign-in page
        assert 'id="kc-form-login"' in ok.text


# --------------------------------------------------------------------------------- VNeID broker


_FORM_RE = re.compile(r'<form[^>]*\bid="kc-form-login"[^>]*\baction="([^"]+)"', re.S)
_FORM_RE_ALT = re.compile(r'<form[^>]*\baction="([^"]+)"[^>]*\bid="kc-form-login"', re.S)


_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SECURE_ATTR = re.compile(rb";\s*Secure(?=;|$)", re.I)


class _LoopbackBrowserTransport(httpx.AsyncBaseTransport):
    """Keycloak marks its cookies ``Secure`` even over http. Browsers still send them to loopback hosts
    (a "potentially trustworthy" origin); Python's cookie jar never sends a Secure cookie over http.
    Drop the attribute on loopback responses so the jar behaves like a browser here."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.url.host in _LOOPBACK:
            response.headers = httpx.Headers(
                [
                    (key, _SECURE_ATTR.sub(b"", value) if key.lower() == b"set-cookie" else value)
                    for key, value in response.headers.raw
                ]
            )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _browser() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30.0, follow_redirects=False, transport=_LoopbackBrowserTransport())


async def _follow(http: httpx.AsyncClient, response: httpx.Response) -> httpx.Response:
    """Follow redirects by hand, stopping at the app's redirect URI (nothing listens there)."""
    for _ in range(20):
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        location = urljoin(str(response.url), response.headers["location"])
        if location.startswith(REDIRECT_URI):
            return response
        response = await http.get(location)
    raise AssertionError("too many redirects")


def _page_summary(response: httpx.Response) -> str:
    title = re.search(r"<title>(.*?)</title>", response.text, re.S)
    message = re.search(r'class="[^"]*(?:alert|kc-feedback-text)[^"]*"[^>]*>(.*?)</', response.text, re.S)
    return (
        f"{response.status_code} {response.url} title={title.group(1).strip() if title else None!r} "
        f"message={re.sub(r'<[^>]+>', '', message.group(1)).strip() if message else None!r}"
    )


async def _vneid_sign_in(kc: dict[str, Any], demo: dict[str, Any], citizen: dict[str, Any]) -> dict[str, Any]:
    """Browser-less authorization-code flow: school-mobile on tenant-demo -> VNeID -> back, with PKCE."""
    verifier, challenge = _pkce()
    params = _auth_params(demo, code_challenge=challenge, code_challenge_method="S256", kc_idp_hint="vneid")
    vneid_prefix = f"{kc['vneid']['issuer']}/"
    async with _browser() as http:
        page = await _follow(
            http, await http.get(f"{demo['issuer']}/protocol/openid-connect/auth", params=params)
        )
        assert page.status_code == 200, _page_summary(page)
        assert str(page.url).startswith(vneid_prefix), (
            f"expected the VNeID sign-in page, got {_page_summary(page)}"
        )
        match = _FORM_RE.search(page.text) or _FORM_RE_ALT.search(page.text)
        assert match, f"no sign-in form on {_page_summary(page)}"
        action = urljoin(str(page.url), html.unescape(match.group(1)))
        response = await http.post(
            action,
            data={"username": citizen["personal_id"], "password": citizen["password"], "credentialId": ""},
        )
        final = await _follow(http, response)
        assert final.status_code in (302, 303), f"did not come back to the app: {_page_summary(final)}"
        query = parse_qs(urlsplit(final.headers["location"]).query)
        assert "error" not in query, query
        assert query["state"] == [params["state"]]
        code = query["code"][0]
        # The code is bound to the PKCE challenge: without the verifier it is worthless.
        exchanged = await http.post(
            f"{demo['issuer']}/protocol/openid-connect/token",
            data={
                "grant_type": "authorization_code",
                "client_id": demo["clients"]["mobile"],
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
        assert exchanged.status_code == 200, exchanged.text
        return exchanged.json()


async def test_sign_in_through_vneid_creates_user_with_personal_id(
    kc: dict[str, Any], demo: dict[str, Any]
) -> None:
    citizen = next(c for c in kc["vneid"]["citizens"] if c["linked_to"] is None and c["ial"] == 2)
    tokens = await _vneid_sign_in(kc, demo, citizen)
    claims = await _verified_claims(demo, tokens["access_token"])
    assert "school-api" in _aud(claims)
    assert claims["azp"] == demo["clients"]["mobile"]
    assert "guardian" in claims["realm_access"]["roles"]
    assert "personal_id" not in claims
    id_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert id_token["iss"] == demo["issuer"]
    # The tenant user was created (first run) or found (later runs) with the verified personal id.
    user = await _admin_get(kc, f"/{demo['realm']}/users/{claims['sub']}")
    assert user["attributes"]["personal_id"] == [citizen["personal_id"]]
    assert user["username"] == f"vneid.{citizen['personal_id']}"
    links = await _admin_get(kc, f"/{demo['realm']}/users/{claims['sub']}/federated-identity")
    assert [(link["identityProvider"], link["userName"]) for link in links] == [
        ("vneid", citizen["personal_id"])
    ]
    found = await _admin_get(
        kc, f"/{demo['realm']}/users", q=f"personal_id:{citizen['personal_id']}", exact="true"
    )
    assert claims["sub"] in [u["id"] for u in found]


async def test_sign_in_through_vneid_reaches_the_linked_demo_guardian(
    kc: dict[str, Any], demo: dict[str, Any]
) -> None:
    citizen = next(c for c in kc["vneid"]["citizens"] if (c["linked_to"] or {}).get("tenant") == TENANT)
    tokens = await _vneid_sign_in(kc, demo, citizen)
    claims = await _verified_claims(demo, tokens["access_token"])
    assert claims["preferred_username"] == citizen["linked_to"]["username"]
    user = await _admin_get(kc, f"/{demo['realm']}/users/{claims['sub']}")
    assert user["attributes"]["personal_id"] == [citizen["personal_id"]]

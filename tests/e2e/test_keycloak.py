"""Keycloak of the one-machine stack: tenant realms, clients, sign-in through the VNeID broker, the
one-time password required of administrators, offline tokens, partners and the platform realm.

Black-box: reads the stack description (``STACK_FILE``, default ``<repo>/.run/stack.json``; the
Keycloak part is the file itself or its ``"keycloak"`` key, as written by
``school_stack.keycloak.provision``) and talks HTTP to the running Keycloak. A missing description is
a failure, not a skip.

Run against a Keycloak started alone::

    .venv/bin/python -m school_stack.keycloak --out /tmp/kc-stack.json &   # wait for "running"
    STACK_FILE=/tmp/kc-stack.json .venv/bin/pytest tests/e2e/test_keycloak.py -m e2e
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import os
import re
import secrets
import struct
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest
from school_common.testing.oidc import REDIRECT_URI
from school_common.testing.oidc import browser as _browser
from school_common.testing.oidc import follow as _follow
from school_common.testing.oidc import pkce as _pkce

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
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


async def _admin(kc: dict[str, Any], method: str, path: str, **kwargs: Any) -> httpx.Response:
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
        return await http.request(
            method,
            f"/admin/realms{path}",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            **kwargs,
        )


async def _admin_get(kc: dict[str, Any], path: str, **params: str) -> Any:
    response = await _admin(kc, "GET", path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def platform(kc: dict[str, Any]) -> dict[str, Any]:
    realm = kc.get("platform")
    if not realm:
        pytest.fail(
            "the stack description has no platform realm (provisioned before it existed?)", pytrace=False
        )
    if not realm["clients"].get("dev_cli") or not realm["users"]:
        pytest.fail("the platform realm was provisioned without the dev overlay (dev=False)", pytrace=False)
    return dict(realm)


def _demo_user(demo: dict[str, Any], username: str) -> dict[str, Any]:
    return next(u for u in demo["users"] if u["username"] == username)


def _unverified(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


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


def _page_summary(response: httpx.Response) -> str:
    title = re.search(r"<title>(.*?)</title>", response.text, re.S)
    message = re.search(r'class="[^"]*(?:alert|kc-feedback-text)[^"]*"[^>]*>(.*?)</', response.text, re.S)
    return (
        f"{response.status_code} {response.url} title={title.group(1).strip() if title else None!r} "
        f"message={re.sub(r'<[^>]+>', '', message.group(1)).strip() if message else None!r}"
    )


async def _vneid_submit(
    http: httpx.AsyncClient,
    kc: dict[str, Any],
    demo: dict[str, Any],
    citizen: dict[str, Any],
    params: dict[str, str],
) -> httpx.Response:
    """school-mobile on tenant-demo with ``kc_idp_hint=vneid``: VNeID's sign-in page, the citizen's
    credentials; returns what follows back in the tenant realm (the redirect to the app, or a page)."""
    vneid_prefix = f"{kc['vneid']['issuer']}/"
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
    return await _follow(http, response)


async def _vneid_sign_in(kc: dict[str, Any], demo: dict[str, Any], citizen: dict[str, Any]) -> dict[str, Any]:
    """Browser-less authorization-code flow: school-mobile on tenant-demo -> VNeID -> back, with PKCE."""
    verifier, challenge = _pkce()
    params = _auth_params(demo, code_challenge=challenge, code_challenge_method="S256", kc_idp_hint="vneid")
    async with _browser() as http:
        final = await _vneid_submit(http, kc, demo, citizen, params)
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


# ------------------------------------------------------------------- browser sign-in, one-time password


def _form_action(page: httpx.Response, form_id: str) -> str | None:
    """The absolute action URL of the form with that id on a Keycloak page, or None."""
    for tag in re.findall(r"<form\b[^>]*>", page.text):
        if re.search(rf'\bid="{re.escape(form_id)}"', tag):
            action = re.search(r'\baction="([^"]+)"', tag)
            if action:
                return urljoin(str(page.url), html.unescape(action.group(1)))
    return None


def _has_input(page: httpx.Response, name: str) -> bool:
    return re.search(rf'<input\b[^>]*\bname="{re.escape(name)}"', page.text) is not None


def _code_flow_params(client_id: str, redirect_uri: str, scope: str = "openid") -> tuple[str, dict[str, str]]:
    verifier, challenge = _pkce()
    return verifier, {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


async def _submit_password(
    http: httpx.AsyncClient,
    issuer: str,
    params: dict[str, str],
    username: str,
    password: str,
    stop_at: str = REDIRECT_URI,
) -> httpx.Response:
    """Keycloak's own sign-in page: GET the authorization endpoint, post the username/password form;
    returns what follows (a page, or the redirect to the app with a code)."""
    page = await _follow(
        http, await http.get(f"{issuer}/protocol/openid-connect/auth", params=params), stop_at
    )
    assert page.status_code == 200, _page_summary(page)
    action = _form_action(page, "kc-form-login")
    assert action, f"no sign-in form on {_page_summary(page)}"
    response = await http.post(action, data={"username": username, "password": password, "credentialId": ""})
    return await _follow(http, response, stop_at)


def _code(response: httpx.Response, params: dict[str, str]) -> str:
    assert response.status_code in (302, 303), f"not redirected to the app: {_page_summary(response)}"
    location = response.headers["location"]
    assert location.startswith(params["redirect_uri"]), location
    query = parse_qs(urlsplit(location).query)
    assert "error" not in query, query
    assert query["state"] == [params["state"]]
    return query["code"][0]


async def _exchange(demo: dict[str, Any], code: str, verifier: str) -> dict[str, Any]:
    response = await _token(
        demo,
        {
            "grant_type": "authorization_code",
            "client_id": demo["clients"]["mobile"],
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _assert_otp_setup_page(page: httpx.Response) -> None:
    """Keycloak's CONFIGURE_TOTP required action: the authenticator-app set-up form, no code yet."""
    assert page.status_code == 200, _page_summary(page)
    action = _form_action(page, "kc-totp-settings-form")
    assert action is not None, f"not the OTP set-up page: {_page_summary(page)}"
    assert "execution=CONFIGURE_TOTP" in action
    assert _has_input(page, "totp")
    assert _has_input(page, "totpSecret")
    assert _form_action(page, "kc-form-login") is None


@pytest.mark.parametrize(
    ("username", "role"), [("th.nguyentrai.admin", "school_admin"), ("sgd.admin", "authority_admin")]
)
async def test_browser_sign_in_of_admin_without_otp_must_set_it_up(
    kc: dict[str, Any], demo: dict[str, Any], username: str, role: str
) -> None:
    user = _demo_user(demo, username)
    assert role in user["roles"]
    _, params = _code_flow_params(demo["clients"]["mobile"], REDIRECT_URI)
    async with _browser() as http:
        page = await _submit_password(http, demo["issuer"], params, user["username"], user["password"])
    _assert_otp_setup_page(page)
    # The set-up is demanded of the sign-in, not stored on the account; the direct-grant flow (used by
    # the development client) is unchanged, so the same admin still gets a token there.
    found = await _admin_get(kc, f"/{demo['realm']}/users", username=username, exact="true")
    assert [(u["username"], u["requiredActions"], u["totp"]) for u in found] == [(username, [], False)]
    grant = await _password_grant(demo, user["username"], user["password"], demo["clients"]["dev_cli"])
    assert grant.status_code == 200, grant.text


async def test_browser_sign_in_of_guardian_needs_no_otp(demo: dict[str, Any]) -> None:
    user = _demo_user(demo, "ph.tranthimai")
    assert user["roles"] == ["guardian"]
    verifier, params = _code_flow_params(demo["clients"]["mobile"], REDIRECT_URI)
    async with _browser() as http:
        final = await _submit_password(http, demo["issuer"], params, user["username"], user["password"])
    tokens = await _exchange(demo, _code(final, params), verifier)
    claims = await _verified_claims(demo, tokens["access_token"])
    assert claims["preferred_username"] == user["username"]
    assert claims["azp"] == demo["clients"]["mobile"]
    assert "guardian" in claims["realm_access"]["roles"]
    # Without the offline_access scope the refresh token is an ordinary one, tied to the SSO session.
    assert _unverified(tokens["refresh_token"])["typ"] == "Refresh"


def _totp(secret: str, at: float) -> str:
    """RFC 6238 with the realm's policy: HMAC-SHA1, 6 digits, 30-second steps."""
    digest = hmac.new(secret.encode(), struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


@pytest.mark.parametrize(
    "roles", [["authority_admin", "school_admin"], ["school_admin"], ["teacher"]], ids=lambda r: "+".join(r)
)
async def test_user_with_otp_is_asked_for_it_once(
    kc: dict[str, Any], demo: dict[str, Any], roles: list[str]
) -> None:
    """An account with an authenticator app: one OTP prompt (never one per matching condition), a wrong
    code is refused, the right one completes the sign-in. The account is made for the test."""
    username = f"e2e.otp.{uuid.uuid4().hex[:10]}"
    password = "Demo@2026"
    secret = secrets.token_hex(10)
    created = await _admin(
        kc,
        "POST",
        f"/{demo['realm']}/partialImport",
        json={
            "ifResourceExists": "FAIL",
            "users": [
                {
                    "username": username,
                    "enabled": True,
                    "firstName": "Kiểm Thử",
                    "lastName": "OTP",
                    "email": f"{username}@demo.school.local",
                    "emailVerified": True,
                    "realmRoles": roles,
                    "credentials": [
                        {"type": "password", "value": password, "temporary": False},
                        {
                            "type": "otp",
                            "userLabel": "e2e",
                            "secretData": json.dumps({"value": secret}),
                            "credentialData": json.dumps(
                                {
                                    "subType": "totp",
                                    "digits": 6,
                                    "period": 30,
                                    "algorithm": "HmacSHA1",
                                    "counter": 0,
                                }
                            ),
                        },
                    ],
                }
            ],
        },
    )
    assert created.status_code == 200, created.text
    user_id = created.json()["results"][0]["id"]
    try:
        verifier, params = _code_flow_params(demo["clients"]["mobile"], REDIRECT_URI)
        async with _browser() as http:
            page = await _submit_password(http, demo["issuer"], params, username, password)
            action = _form_action(page, "kc-otp-login-form")
            assert page.status_code == 200, _page_summary(page)
            assert action, f"expected the OTP form: {_page_summary(page)}"
            now = time.time()
            valid = {_totp(secret, now + step) for step in (-30, 0, 30)}
            wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid)
            refused = await _follow(http, await http.post(action, data={"otp": wrong}))
            action = _form_action(refused, "kc-otp-login-form")
            assert refused.status_code == 200, _page_summary(refused)
            assert action, f"a wrong code must be refused: {_page_summary(refused)}"
            final = await _follow(http, await http.post(action, data={"otp": _totp(secret, time.time())}))
            # One prompt: the right code leads straight back to the app.
            tokens = await _exchange(demo, _code(final, params), verifier)
        claims = await _verified_claims(demo, tokens["access_token"])
        assert claims["preferred_username"] == username
        assert set(roles) <= set(claims["realm_access"]["roles"])
    finally:
        deleted = await _admin(kc, "DELETE", f"/{demo['realm']}/users/{user_id}")
        assert deleted.status_code == 204, deleted.text


# ------------------------------------------------------------------------------------- offline tokens


async def test_mobile_gets_offline_token_with_offline_access_scope(demo: dict[str, Any]) -> None:
    user = _demo_user(demo, "ph.tranthimai")
    verifier, params = _code_flow_params(
        demo["clients"]["mobile"], REDIRECT_URI, scope="openid offline_access"
    )
    async with _browser() as http:
        final = await _submit_password(http, demo["issuer"], params, user["username"], user["password"])
    tokens = await _exchange(demo, _code(final, params), verifier)
    assert "offline_access" in tokens["scope"].split()
    offline = _unverified(tokens["refresh_token"])
    assert offline["typ"] == "Offline"
    assert offline["azp"] == demo["clients"]["mobile"]
    assert "exp" not in offline or offline["exp"] > time.time() + 7 * 24 * 3600
    refresh = {"grant_type": "refresh_token", "client_id": demo["clients"]["mobile"]}
    renewed = await _token(demo, {**refresh, "refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    assert _unverified(renewed.json()["refresh_token"])["typ"] == "Offline"
    claims = await _verified_claims(demo, renewed.json()["access_token"])
    assert claims["preferred_username"] == user["username"]
    # Rotation: a refresh token is single-use, offline or not.
    reused = await _token(demo, {**refresh, "refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 400, reused.text
    assert reused.json()["error"] == "invalid_grant"
    # Signing out of the app (or losing the phone) revokes the offline session; tidy up the demo user too.
    latest = renewed.json()["refresh_token"]
    async with httpx.AsyncClient(timeout=30.0) as http:
        revocation = await http.post(
            f"{demo['issuer']}/protocol/openid-connect/revoke",
            data={
                "client_id": demo["clients"]["mobile"],
                "token": latest,
                "token_type_hint": "refresh_token",
            },
        )
    assert revocation.status_code == 200, revocation.text
    after = await _token(demo, {**refresh, "refresh_token": latest})
    assert after.status_code == 400, after.text
    assert after.json()["error"] == "invalid_grant"


# ------------------------------------------------------------------------------------------ partners


async def test_partner_client_gets_token_by_client_credentials(demo: dict[str, Any]) -> None:
    clients = demo["clients"]
    assert clients["partners"] == "school-partners"
    assert clients["partners_secret"]
    response = await _token(
        demo,
        {
            "grant_type": "client_credentials",
            "client_id": clients["partners"],
            "client_secret": clients["partners_secret"],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body
    claims = await _verified_claims(demo, body["access_token"])
    assert claims["iss"] == demo["issuer"]
    assert claims["azp"] == clients["partners"]
    assert "school-api" in _aud(claims)
    assert set(claims["realm_access"]["roles"]) == {"partner"}


async def test_only_the_mobile_app_may_ask_for_offline_tokens(
    kc: dict[str, Any], demo: dict[str, Any]
) -> None:
    """Offline tokens last 60 days: the families' app needs them, an administrator's console must not hold
    them (its users are admins whose sessions should end)."""
    optional: dict[str, set[str]] = {}
    for client_id in ("school-mobile", "school-console", "school-partners"):
        [client] = await _admin_get(kc, f"/{demo['realm']}/clients", clientId=client_id)
        scopes = await _admin_get(kc, f"/{demo['realm']}/clients/{client['id']}/optional-client-scopes")
        optional[client_id] = {s["name"] for s in scopes}
    assert "offline_access" in optional["school-mobile"]
    assert "offline_access" not in optional["school-console"]
    assert "offline_access" not in optional["school-partners"]


async def test_partner_client_refuses_bad_secret_and_password_grant(demo: dict[str, Any]) -> None:
    clients = demo["clients"]
    bad = await _token(
        demo,
        {
            "grant_type": "client_credentials",
            "client_id": clients["partners"],
            "client_secret": clients["partners_secret"] + "x",
        },
    )
    assert bad.status_code == 401, bad.text
    assert bad.json()["error"] == "unauthorized_client"
    user = _demo_user(demo, "sgd.admin")
    password = await _token(
        demo,
        {
            "grant_type": "password",
            "client_id": clients["partners"],
            "client_secret": clients["partners_secret"],
            "username": user["username"],
            "password": user["password"],
        },
    )
    assert password.status_code in (400, 401), password.text
    assert password.json()["error"] == "unauthorized_client"
    assert "access_token" not in password.json()


# ------------------------------------------------------------------------------------- platform realm


async def test_platform_operator_token_has_api_audience_and_role(platform: dict[str, Any]) -> None:
    operator = next(u for u in platform["users"] if "platform_operator" in u["roles"])
    assert operator["username"] == "platform.operator"
    response = await _password_grant(
        platform, operator["username"], operator["password"], platform["clients"]["dev_cli"]
    )
    assert response.status_code == 200, response.text
    claims = await _verified_claims(platform, response.json()["access_token"])
    assert claims["iss"] == platform["issuer"]
    assert claims["iss"].endswith("/realms/platform")
    assert "school-api" in _aud(claims)
    assert claims["typ"] == "Bearer"
    assert claims["azp"] == platform["clients"]["dev_cli"]
    assert claims["preferred_username"] == operator["username"]
    assert "platform_operator" in claims["realm_access"]["roles"]


async def test_platform_and_tenant_accounts_are_separate(
    platform: dict[str, Any], demo: dict[str, Any]
) -> None:
    operator = next(u for u in platform["users"] if "platform_operator" in u["roles"])
    in_tenant = await _password_grant(
        demo, operator["username"], operator["password"], demo["clients"]["dev_cli"]
    )
    assert in_tenant.status_code == 401, in_tenant.text
    admin = _demo_user(demo, "sgd.admin")
    in_platform = await _password_grant(
        platform, admin["username"], admin["password"], platform["clients"]["dev_cli"]
    )
    assert in_platform.status_code == 401, in_platform.text


async def test_platform_browser_sign_in_of_operator_must_set_up_otp(
    kc: dict[str, Any], platform: dict[str, Any]
) -> None:
    operator = next(u for u in platform["users"] if "platform_operator" in u["roles"])
    # Keycloak's own account console is the platform realm's only browser client for now.
    redirect_uri = f"{platform['issuer']}/account/"
    _, params = _code_flow_params("account-console", redirect_uri)
    async with _browser() as http:
        page = await _submit_password(
            http, platform["issuer"], params, operator["username"], operator["password"], stop_at=redirect_uri
        )
    _assert_otp_setup_page(page)


# --------------------------------------------------------------------------------------------- events


async def test_sign_ins_and_failures_are_stored_as_events(kc: dict[str, Any], demo: dict[str, Any]) -> None:
    config = await _admin_get(kc, f"/{demo['realm']}/events/config")
    assert config["eventsEnabled"] is True
    assert config["adminEventsEnabled"] is True
    assert {"LOGIN", "LOGIN_ERROR", "CLIENT_LOGIN", "CODE_TO_TOKEN"} <= set(config["enabledEventTypes"])
    user = _demo_user(demo, "kt.hoangvanlong")
    [account] = await _admin_get(kc, f"/{demo['realm']}/users", username=user["username"], exact="true")
    started_ms = int(time.time() * 1000) - 1000
    bad = await _password_grant(demo, user["username"], user["password"] + "x", demo["clients"]["dev_cli"])
    assert bad.status_code == 401, bad.text
    good = await _password_grant(demo, user["username"], user["password"], demo["clients"]["dev_cli"])
    assert good.status_code == 200, good.text
    events = await _admin_get(
        kc, f"/{demo['realm']}/events", user=account["id"], client=demo["clients"]["dev_cli"], max="100"
    )
    recent = [(e["type"], e.get("error")) for e in events if e["time"] >= started_ms]
    assert ("LOGIN_ERROR", "invalid_user_credentials") in recent, recent
    assert ("LOGIN", None) in recent, recent


async def test_admin_signing_in_through_vneid_still_needs_otp(
    kc: dict[str, Any], demo: dict[str, Any]
) -> None:
    """VNeID skips the tenant's sign-in forms; the post-broker-login flow asks admins for their OTP.
    A school_admin account made for the test is linked to a VNeID citizen nobody else uses."""
    citizen = next(c for c in kc["vneid"]["citizens"] if c["linked_to"] is None and c["ial"] == 1)
    [vneid_user] = await _admin_get(
        kc, f"/{kc['vneid']['realm']}/users", username=citizen["personal_id"], exact="true"
    )
    linked = await _admin_get(
        kc,
        f"/{demo['realm']}/users",
        idpAlias="vneid",
        idpUserId=vneid_user["id"],
        briefRepresentation="true",
    )
    assert linked == [], (
        f"citizen {citizen['personal_id']} is already linked to {[u['username'] for u in linked]}"
    )
    username = f"e2e.vneid.admin.{uuid.uuid4().hex[:8]}"
    created = await _admin(
        kc,
        "POST",
        f"/{demo['realm']}/partialImport",
        json={
            "ifResourceExists": "FAIL",
            "users": [
                {
                    "username": username,
                    "enabled": True,
                    "firstName": "Kiểm Thử",
                    "lastName": "VNeID",
                    "realmRoles": ["school_admin"],
                    "federatedIdentities": [
                        {
                            "identityProvider": "vneid",
                            "userId": vneid_user["id"],
                            "userName": citizen["personal_id"],
                        }
                    ],
                }
            ],
        },
    )
    assert created.status_code == 200, created.text
    user_id = created.json()["results"][0]["id"]
    try:
        _, challenge = _pkce()
        params = _auth_params(
            demo, code_challenge=challenge, code_challenge_method="S256", kc_idp_hint="vneid"
        )
        async with _browser() as http:
            page = await _vneid_submit(http, kc, demo, citizen, params)
        assert str(page.url).startswith(demo["issuer"]), _page_summary(page)
        _assert_otp_setup_page(page)
    finally:
        deleted = await _admin(kc, "DELETE", f"/{demo['realm']}/users/{user_id}")
        assert deleted.status_code == 204, deleted.text

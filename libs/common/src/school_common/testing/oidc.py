"""Signing in as a person would, over HTTP: Keycloak's own pages, the VNeID broker, PKCE.

Keycloak marks its cookies ``Secure`` even over http; browsers still send them to loopback hosts, while
Python's cookie jar does not, so the transport drops the attribute for loopback responses.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

# Loopback redirect URI of a native app (RFC 8252): nothing listens there; the code is read from the
# redirect itself.
REDIRECT_URI = "http://127.0.0.1:53682/callback"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SECURE_ATTR = re.compile(rb";\s*Secure(?=;|$)", re.I)


class LoopbackBrowserTransport(httpx.AsyncBaseTransport):
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


def browser() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30.0, follow_redirects=False, transport=LoopbackBrowserTransport())


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def follow(
    http: httpx.AsyncClient, response: httpx.Response, stop_at: str = REDIRECT_URI
) -> httpx.Response:
    """Follow redirects by hand, stopping at the app's redirect URI."""
    for _ in range(20):
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        location = urljoin(str(response.url), response.headers["location"])
        if location.startswith(stop_at):
            return response
        response = await http.get(location)
    raise AssertionError("too many redirects")


def form_action(page: httpx.Response, form_id: str = "kc-form-login") -> str:
    for tag in re.findall(r"<form\b[^>]*>", page.text):
        if re.search(rf'\bid="{re.escape(form_id)}"', tag):
            action = re.search(r'\baction="([^"]+)"', tag)
            if action:
                return urljoin(str(page.url), html.unescape(action.group(1)))
    raise AssertionError(f"no form {form_id!r} on {page.status_code} {page.url}")


async def vneid_sign_in(
    realm: dict[str, Any], vneid_issuer: str, username: str, password: str
) -> dict[str, Any]:
    """The mobile app's sign-in: school-mobile on the tenant realm → VNeID's page → back, code + PKCE."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(16)
    params = {
        "client_id": realm["clients"]["mobile"],
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": state,
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "kc_idp_hint": "vneid",
    }
    async with browser() as http:
        page = await follow(
            http, await http.get(f"{realm['issuer']}/protocol/openid-connect/auth", params=params)
        )
        assert page.status_code == 200, page.text[:300]
        assert str(page.url).startswith(vneid_issuer + "/"), f"not VNeID's sign-in page: {page.url}"
        response = await http.post(
            form_action(page), data={"username": username, "password": password, "credentialId": ""}
        )
        final = await follow(http, response)
        assert final.status_code in (302, 303), (
            f"did not come back to the app: {final.status_code} {final.url}"
        )
        query = parse_qs(urlsplit(final.headers["location"]).query)
        assert "error" not in query, query
        assert query["state"] == [state]
        exchanged = await http.post(
            f"{realm['issuer']}/protocol/openid-connect/token",
            data={
                "grant_type": "authorization_code",
                "client_id": realm["clients"]["mobile"],
                "code": query["code"][0],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
        assert exchanged.status_code == 200, exchanged.text
        return dict(exchanged.json())

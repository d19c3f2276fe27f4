"""The gateway verifies the token before any backend call, and forwards the same token."""

from __future__ import annotations

import jwt
import pytest

from gateway.tests.conftest import MakeClient
from gateway.tests.support import ISSUER_BASE, KID, Fakes, GatewayClient, Keys, MakeToken, bearer


async def assert_unauthenticated(
    client: GatewayClient, fakes: Fakes, headers: dict[str, str], reason: str
) -> None:
    response = await client.get("/v1/schools", headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith('Bearer realm="school-api"')
    body = response.json()
    assert body["reason"] == reason
    assert body["status"] == 401
    assert body["instance"] == "/v1/schools"
    assert fakes.student_record.recorder.calls == []


async def test_missing_token(client: GatewayClient, fakes: Fakes) -> None:
    await assert_unauthenticated(client, fakes, {}, "MISSING_TOKEN")


async def test_other_scheme(client: GatewayClient, fakes: Fakes, token: str) -> None:
    await assert_unauthenticated(client, fakes, {"Authorization": f"Basic {token}"}, "MISSING_TOKEN")


async def test_garbage_token(client: GatewayClient, fakes: Fakes) -> None:
    await assert_unauthenticated(client, fakes, bearer("not-a-jwt"), "INVALID_TOKEN")


async def test_expired_token(client: GatewayClient, fakes: Fakes, make_token: MakeToken) -> None:
    await assert_unauthenticated(client, fakes, bearer(make_token(expires_in=-120)), "TOKEN_EXPIRED")
    response = await client.get("/v1/schools", headers=bearer(make_token(expires_in=-120)))
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_wrong_audience(client: GatewayClient, fakes: Fakes, make_token: MakeToken) -> None:
    await assert_unauthenticated(client, fakes, bearer(make_token(audience="account")), "INVALID_TOKEN")


@pytest.mark.parametrize(
    "issuer",
    [
        f"{ISSUER_BASE}/realms/master",  # not a tenant realm
        f"{ISSUER_BASE}/realms/tenant-other",  # a tenant realm that does not exist
        "https://evil.example/realms/tenant-demo",  # another identity provider
        f"{ISSUER_BASE}/realms/tenant-Demo/../tenant-demo",
    ],
)
async def test_wrong_issuer(client: GatewayClient, fakes: Fakes, make_token: MakeToken, issuer: str) -> None:
    await assert_unauthenticated(client, fakes, bearer(make_token(issuer=issuer)), "INVALID_TOKEN")


async def test_alg_none(client: GatewayClient, fakes: Fakes, make_token: MakeToken) -> None:
    unsigned = jwt.encode(
        jwt.decode(make_token(), options={"verify_signature": False}),
        None,
        algorithm="none",
        headers={"kid": KID},
    )
    await assert_unauthenticated(client, fakes, bearer(unsigned), "INVALID_TOKEN")


async def test_hs256_with_the_public_key_as_secret(
    client: GatewayClient, fakes: Fakes, keys: Keys, make_token: MakeToken
) -> None:
    claims = jwt.decode(make_token(), options={"verify_signature": False})
    forged = jwt.encode(
        claims, "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256", headers={"kid": KID}
    )
    await assert_unauthenticated(client, fakes, bearer(forged), "INVALID_TOKEN")


async def test_signed_by_another_key(
    client: GatewayClient, fakes: Fakes, keys: Keys, make_token: MakeToken
) -> None:
    await assert_unauthenticated(client, fakes, bearer(make_token(key=keys.other)), "INVALID_TOKEN")
    await assert_unauthenticated(
        client, fakes, bearer(make_token(key=keys.other, kid="rotated")), "INVALID_TOKEN"
    )


async def test_tampered_claims(client: GatewayClient, fakes: Fakes, token: str) -> None:
    header, payload, signature = token.split(".")
    await assert_unauthenticated(
        client, fakes, bearer(f"{header}.{payload[:-2]}AA.{signature}"), "INVALID_TOKEN"
    )


async def test_identity_provider_down_is_503(
    make_client: MakeClient, fakes: Fakes, keys: Keys, token: str
) -> None:
    keys.jwks_down = True
    try:
        async with make_client() as client:
            response = await client.get("/v1/schools", headers=bearer(token))
    finally:
        keys.jwks_down = False
    assert response.status_code == 503
    assert response.json()["reason"] == "IDENTITY_PROVIDER_UNAVAILABLE"
    assert "retry-after" in response.headers
    assert fakes.student_record.recorder.calls == []


async def test_valid_token_is_forwarded_unchanged_with_a_deadline(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.get("/v1/schools", headers=bearer(token))
    assert response.status_code == 200
    [call] = fakes.student_record.recorder.calls
    assert call.metadata["authorization"] == f"Bearer {token}"
    assert call.time_remaining is not None
    # The deadline is the gateway's 2 s; the grpc-timeout header it travels in is rounded up by the
    # transport, so the server may see a few milliseconds more.
    assert 0 < call.time_remaining <= 2.05


async def test_probes_need_no_token(client: GatewayClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer", "MISSING_TOKEN"),
        ("Bearer ", "MISSING_TOKEN"),
        ("bearer not-a-token", "INVALID_TOKEN"),
        ("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "INVALID_TOKEN"),
        ("Basic dXNlcjpwYXNz", "MISSING_TOKEN"),
    ],
)
async def test_malformed_authorization_headers(
    client: GatewayClient, fakes: Fakes, authorization: str, reason: str
) -> None:
    await assert_unauthenticated(client, fakes, {"Authorization": authorization}, reason)

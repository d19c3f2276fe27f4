"""End-to-end fixtures: the running stack (make up), found through .run/stack.json."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def load_stack() -> dict[str, Any]:
    path = Path(os.environ.get("STACK_FILE", REPO / ".run" / "stack.json"))
    if not path.exists():
        pytest.fail(f"{path} not found: the e2e tests need the stack ('make up' starts it)", pytrace=False)
    stack = json.loads(path.read_text())
    if stack.get("state") != "ready":
        pytest.fail("the stack is not ready", pytrace=False)
    return dict(stack)


@pytest.fixture(scope="session")
def stack() -> dict[str, Any]:
    return load_stack()


class Tokens:
    def __init__(self, stack: dict[str, Any]) -> None:
        self.kc = stack["keycloak"]
        self._cache: dict[tuple[str, str], str] = {}

    def user(self, slug: str, role: str) -> dict[str, Any]:
        return next(u for u in self.kc["realms"][slug]["users"] if role in u["roles"])

    def password_grant(self, realm: str, client_id: str, username: str, password: str) -> httpx.Response:
        return httpx.post(
            f"{self.kc['base_url']}/realms/{realm}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": client_id,
                "username": username,
                "password": password,
                "scope": "openid",
            },
            timeout=15,
        )

    def named(self, slug: str, username: str) -> str:
        """A token of one demo user by username."""
        key = (slug, f"user:{username}")
        if key not in self._cache:
            realm = self.kc["realms"][slug]
            user = next(u for u in realm["users"] if u["username"] == username)
            response = self.password_grant(
                realm["realm"], realm["clients"]["dev_cli"], user["username"], user["password"]
            )
            response.raise_for_status()
            self._cache[key] = response.json()["access_token"]
        return self._cache[key]

    def platform(self) -> str:
        """A platform operator's token (realm ``platform``)."""
        key = ("platform", "operator")
        if key not in self._cache:
            realm = self.kc["platform"]
            user = next(u for u in realm["users"] if "platform_operator" in u["roles"])
            response = self.password_grant(
                realm["realm"], realm["clients"]["dev_cli"], user["username"], user["password"]
            )
            response.raise_for_status()
            self._cache[key] = response.json()["access_token"]
        return self._cache[key]

    def __call__(self, slug: str, role: str) -> str:
        key = (slug, role)
        if key not in self._cache:
            realm = self.kc["realms"][slug]
            user = self.user(slug, role)
            response = self.password_grant(
                realm["realm"], realm["clients"]["dev_cli"], user["username"], user["password"]
            )
            response.raise_for_status()
            self._cache[key] = response.json()["access_token"]
        return self._cache[key]


@pytest.fixture(scope="session")
def tokens(stack) -> Tokens:
    return Tokens(stack)


@pytest.fixture(scope="session")
def gateway(stack) -> str:
    return str(stack["gateway_url"])


def client(gateway: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=gateway, headers=headers, timeout=15)


@pytest.fixture
def admin(gateway, tokens):
    with client(gateway, tokens("demo", "authority_admin")) as c:
        yield c


@pytest.fixture
def other_admin(gateway, tokens):
    with client(gateway, tokens("other", "authority_admin")) as c:
        yield c


@pytest.fixture
def fresh_class(admin) -> dict[str, Any]:
    """A school and class of the demo tenant made for one test."""
    suffix = uuid.uuid4().hex[:6]
    school = admin.post("/v1/schools", json={"name": f"Trường Tiểu học Thử {suffix}", "levels": ["primary"]})
    assert school.status_code == 201, school.text
    klass = admin.post(
        f"/v1/schools/{school.json()['id']}/classes",
        json={"name": "3A", "grade": 3, "school_year": "2025-2026"},
    )
    assert klass.status_code == 201, klass.text
    return {"school": school.json(), "class": klass.json()}


@pytest.fixture
def client_for(gateway):
    """``client_for(token)``: an HTTP client of the gateway with that bearer token (or none)."""
    return lambda token=None: client(gateway, token)


@pytest.fixture
def new_student():
    return student_body


def student_body(name: str = "Nguyễn Văn An") -> dict[str, Any]:
    return {
        "student": {
            "full_name": name,
            "date_of_birth": "2017-05-20",
            "sex": "male",
            "guardians": [{"full_name": "Lê Thị Thu", "relationship": "mother", "phone": "0912345678"}],
        }
    }

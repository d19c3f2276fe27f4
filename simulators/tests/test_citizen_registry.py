"""The citizen-registry simulator through HTTP (httpx ASGITransport, no network)."""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from simulators.__main__ import main
from simulators.citizen_registry.app import create_app
from simulators.citizen_registry.registry import load_citizens
from simulators.jsonlog import JsonFormatter

KEY = "test-key"
OTHER_KEY = "other-test-key"
URL = "/api/v1/citizens/verify"
REPO = Path(__file__).resolve().parents[2]

CITIZENS = [
    {
        "personal_id": "079185001234",
        "full_name": "Trần Thị Mai",
        "date_of_birth": "1985-03-12",
        "sex": "female",
    },
    {
        "personal_id": "001080004321",
        "full_name": "Trần Văn Minh",
        "date_of_birth": "1980-09-23",
        "sex": "male",
    },
    {
        "personal_id": "079212003456",
        "full_name": "Nguyễn Minh Khoa",
        "date_of_birth": "2012-08-15",
        "sex": "male",
    },
]
MAI = CITIZENS[0]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def citizens_file(tmp_path: Path) -> Path:
    path = tmp_path / "citizens.json"
    path.write_text(json.dumps({"citizens": CITIZENS}, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def make_client(citizens_file: Path) -> Callable[..., httpx.AsyncClient]:
    def make(**kwargs: Any) -> httpx.AsyncClient:
        app = create_app(citizens_file, {KEY, OTHER_KEY}, **kwargs)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://citizen-registry.test"
        )

    return make


@pytest.fixture
async def client(make_client: Callable[..., httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


def headers(key: str | None = KEY, request_id: str | None = "req-0001") -> dict[str, str]:
    result = {}
    if key is not None:
        result["X-Api-Key"] = key
    if request_id is not None:
        result["X-Request-Id"] = request_id
    return result


def body(**changes: Any) -> dict[str, Any]:
    base = {k: MAI[k] for k in ("personal_id", "full_name", "date_of_birth")}
    return {**base, **changes}


async def verify(client: httpx.AsyncClient, payload: Any, **header_args: Any) -> httpx.Response:
    return await client.post(URL, json=payload, headers=headers(**header_args))


def assert_problem(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["reason"] == reason
    assert problem["type"] == "urn:population-sim:problem:" + reason.lower().replace("_", "-")
    assert problem["title"]
    assert problem["detail"]
    assert problem["instance"]
    return problem


# ---------------------------------------------------------------- answers


async def test_match_answers_only_match_flags(client: httpx.AsyncClient) -> None:
    response = await verify(client, body(), request_id="4b0c5a4e-0f6e-4d1e-9d51-8d2f0f9f3a11")

    assert response.status_code == 200
    answer = response.json()
    assert answer["result"] == "MATCH"
    assert answer["checks"] == {"full_name": True, "date_of_birth": True}
    assert answer["request_id"] == "4b0c5a4e-0f6e-4d1e-9d51-8d2f0f9f3a11"
    assert response.headers["x-request-id"] == "4b0c5a4e-0f6e-4d1e-9d51-8d2f0f9f3a11"
    assert response.headers["cache-control"] == "no-store"
    checked_at = datetime.fromisoformat(answer["checked_at"])
    assert answer["checked_at"].endswith("Z")
    assert abs(datetime.now(UTC) - checked_at) < timedelta(minutes=1)
    # Data minimisation: nothing beyond the flags, and none of the register's data.
    assert set(answer) == {"result", "checks", "request_id", "checked_at"}
    assert MAI["full_name"] not in response.text
    assert MAI["personal_id"] not in response.text


@pytest.mark.parametrize(
    ("changes", "checks"),
    [
        ({"full_name": "Trần Thị Hoa"}, {"full_name": False, "date_of_birth": True}),
        ({"date_of_birth": "1985-03-13"}, {"full_name": True, "date_of_birth": False}),
        (
            {"full_name": "Trần Thị Hoa", "date_of_birth": "1985-12-03"},
            {"full_name": False, "date_of_birth": False},
        ),
    ],
    ids=["name", "date_of_birth", "both"],
)
async def test_mismatch_per_field(
    client: httpx.AsyncClient, changes: dict[str, str], checks: dict[str, bool]
) -> None:
    response = await verify(client, body(**changes))

    assert response.status_code == 200
    assert response.json()["result"] == "MISMATCH"
    assert response.json()["checks"] == checks


async def test_not_found(client: httpx.AsyncClient) -> None:
    response = await verify(client, body(personal_id="079185999999"))

    assert response.status_code == 200
    assert response.json()["result"] == "NOT_FOUND"
    assert response.json()["checks"] == {"full_name": False, "date_of_birth": False}


@pytest.mark.parametrize(
    "name",
    [
        unicodedata.normalize("NFD", "Trần Thị Mai"),
        "TRẦN THỊ MAI",
        "  trần   thị\tmai ",
        unicodedata.normalize("NFD", "TRẦN  thị Mai"),
    ],
    ids=["nfd", "upper", "whitespace", "nfd-mixed"],
)
async def test_name_comparison_ignores_normalisation_case_and_spacing(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await verify(client, body(full_name=name))

    assert response.json()["result"] == "MATCH"


async def test_name_without_diacritics_does_not_match(client: httpx.AsyncClient) -> None:
    response = await verify(client, body(full_name="Tran Thi Mai"))

    assert response.json()["result"] == "MISMATCH"
    assert response.json()["checks"]["full_name"] is False


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"personal_id": "07918500123"}, "INVALID_PERSONAL_ID_FORMAT"),  # 11 digits
        ({"personal_id": "0791850012345"}, "INVALID_PERSONAL_ID_FORMAT"),  # 13 digits
        ({"personal_id": "07918500123A"}, "INVALID_PERSONAL_ID_FORMAT"),  # a letter
        ({"personal_id": "０７９１８５００１２３４"}, "INVALID_PERSONAL_ID_FORMAT"),  # full-width digits
        ({"personal_id": "079 185 001 234"}, "INVALID_PERSONAL_ID_FORMAT"),
        ({"personal_id": "079685001234"}, "INVALID_PERSONAL_ID_FORMAT"),  # century digit of the 2200s
        ({"personal_id": "003185001234"}, "UNKNOWN_PROVINCE_CODE"),
        ({"personal_id": "079385001234"}, "CENTURY_MISMATCH"),  # 3 = born 2000-2099, but 1985
        ({"personal_id": "079186001234"}, "BIRTH_YEAR_MISMATCH"),
        ({"date_of_birth": "12/03/1985"}, "INVALID_DATE_OF_BIRTH"),
        ({"date_of_birth": "1985-02-30"}, "INVALID_DATE_OF_BIRTH"),
        ({"date_of_birth": "1985-3-12"}, "INVALID_DATE_OF_BIRTH"),
        ({"full_name": "   "}, "INVALID_FULL_NAME"),
        ({"full_name": "Trần\x00Mai"}, "INVALID_FULL_NAME"),
        ({"full_name": "Trần " * 40}, "INVALID_FULL_NAME"),
    ],
)
async def test_bad_fields_are_422_problems(
    client: httpx.AsyncClient, changes: dict[str, str], reason: str
) -> None:
    response = await verify(client, body(**changes))

    problem = assert_problem(response, 422, reason)
    assert problem["instance"] == URL
    assert problem["request_id"] == "req-0001"
    assert [e["reason"] for e in problem["errors"]] == [reason]
    # The problem names the field, never repeats the value.
    for value in changes.values():
        assert value.strip() == "" or value not in response.text


async def test_date_of_birth_in_the_future_is_refused(client: httpx.AsyncClient) -> None:
    tomorrow = date.today() + timedelta(days=2)
    pid = f"079{2 if tomorrow.year < 2100 else 4}{tomorrow.year % 100:02d}001234"

    response = await verify(client, body(personal_id=pid, date_of_birth=tomorrow.isoformat()))

    assert_problem(response, 422, "INVALID_DATE_OF_BIRTH")


async def test_every_invalid_field_is_listed(client: httpx.AsyncClient) -> None:
    response = await verify(client, body(personal_id="003385001234", full_name=""))

    problem = assert_problem(response, 422, "UNKNOWN_PROVINCE_CODE")
    assert [(e["field"], e["reason"]) for e in problem["errors"]] == [
        ("personal_id", "UNKNOWN_PROVINCE_CODE"),
        ("personal_id", "CENTURY_MISMATCH"),
        ("full_name", "INVALID_FULL_NAME"),
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body(personal_id=79185001234), "personal_id"),  # a JSON number has lost its leading zero
        ({"personal_id": MAI["personal_id"], "full_name": MAI["full_name"]}, "date_of_birth"),
        (body(sex="female"), "sex"),  # data minimisation: the register takes nothing it does not need
        ([body()], "body"),
    ],
    ids=["number", "missing-field", "extra-field", "not-an-object"],
)
async def test_malformed_bodies_are_422(client: httpx.AsyncClient, payload: Any, field: str) -> None:
    response = await verify(client, payload)

    problem = assert_problem(response, 422, "INVALID_REQUEST_BODY")
    assert field in [e["field"] for e in problem["errors"]]


async def test_invalid_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        URL, content=b'{"personal_id": "0791', headers={**headers(), "Content-Type": "application/json"}
    )

    assert_problem(response, 400, "MALFORMED_JSON")


async def test_form_body_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, data={"personal_id": MAI["personal_id"]}, headers=headers())

    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


# ---------------------------------------------------------------- who is calling


async def test_missing_api_key_is_401(client: httpx.AsyncClient) -> None:
    response = await verify(client, body(), key=None)

    problem = assert_problem(response, 401, "MISSING_API_KEY")
    assert "request_id" not in problem


async def test_wrong_api_key_is_401(client: httpx.AsyncClient) -> None:
    response = await verify(client, body(), key="dev-only-population-key")

    assert_problem(response, 401, "INVALID_API_KEY")


async def test_authentication_comes_before_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, content=b"not json", headers={"Content-Type": "application/json"})

    assert_problem(response, 401, "MISSING_API_KEY")


@pytest.mark.parametrize("request_id", [None, "", "has space", "x" * 65, "-leading-dash"])
async def test_request_id_is_required(client: httpx.AsyncClient, request_id: str | None) -> None:
    response = await verify(client, body(), request_id=request_id)

    assert_problem(response, 400, "INVALID_REQUEST_ID")
    assert "x-request-id" not in response.headers


async def test_default_key_is_the_development_key(citizens_file: Path) -> None:
    app = create_app(citizens_file)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await verify(c, body(), key="dev-only-population-key")

    assert response.json()["result"] == "MATCH"


def test_an_empty_key_set_is_refused(citizens_file: Path) -> None:
    with pytest.raises(ValueError, match="API key"):
        create_app(citizens_file, set())


async def test_rate_limit_per_key(make_client: Callable[..., httpx.AsyncClient]) -> None:
    clock = FakeClock()
    async with make_client(rate_limit_per_minute=3, clock=clock) as c:
        for _ in range(3):
            assert (await verify(c, body())).status_code == 200

        limited = await verify(c, body())
        problem = assert_problem(limited, 429, "RATE_LIMITED")
        assert problem["request_id"] == "req-0001"
        assert limited.headers["retry-after"] == "20"  # one token a 20 s at 3 a minute

        # Another caller has its own budget; the limited one recovers with time.
        assert (await verify(c, body(), key=OTHER_KEY)).status_code == 200
        clock.now += 20
        assert (await verify(c, body())).status_code == 200
        assert (await verify(c, body())).status_code == 429


async def test_rejected_input_still_spends_the_budget(make_client: Callable[..., httpx.AsyncClient]) -> None:
    async with make_client(rate_limit_per_minute=1, clock=FakeClock()) as c:
        assert (await verify(c, body(personal_id="1"))).status_code == 422
        assert (await verify(c, body())).status_code == 429


# ---------------------------------------------------------------- operations


async def test_healthz_needs_no_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "register": "up"}


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/citizens/079185001234", headers=headers())

    assert_problem(response, 404, "NOT_FOUND")


async def test_access_log_has_no_personal_data(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="simulators.citizen_registry.access")

    await verify(client, body(full_name="Trần Thị Hoa"), request_id="log-check-1")
    await verify(client, body(date_of_birth="1986-03-12"), request_id="log-check-2")
    await client.get("/api/v1/citizens/079185001234", headers=headers(request_id="log-check-3"))

    lines = [
        JsonFormatter().format(r) for r in caplog.records if r.name == "simulators.citizen_registry.access"
    ]
    assert len(lines) == 3
    text = "\n".join(lines)
    for secret in ("079185001234", "Trần", "Thị", "Hoa", "1985", "1986-03-12", KEY):
        assert secret not in text
    entries = [json.loads(line) for line in lines]
    assert [(e["request_id"], e["status"], e["outcome"]) for e in entries] == [
        ("log-check-1", 200, "MISMATCH"),
        ("log-check-2", 422, "BIRTH_YEAR_MISMATCH"),
        (None, 404, "NOT_FOUND"),
    ]
    assert all(isinstance(e["latency_ms"], float) for e in entries)
    assert entries[2]["route"] == "other"


async def test_openapi_documents_the_contract(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"][URL]["post"]

    assert {p["name"] for p in operation["parameters"]} == {"X-Api-Key", "X-Request-Id"}
    assert set(operation["responses"]) == {"200", "400", "401", "415", "422", "429", "503"}
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"personal_id", "full_name", "date_of_birth"}


# ---------------------------------------------------------------- the bundled seed and the command line


def test_bundled_seed_is_valid_and_has_families() -> None:
    raw = json.loads(
        (REPO / "simulators/src/simulators/citizen_registry/citizens.json").read_text(encoding="utf-8")
    )
    citizens = load_citizens()  # validates every number against its date of birth and sex
    by_id = {c.personal_id: c for c in citizens}

    assert len(citizens) >= 20
    assert {"079185001234", "001080004321"} <= set(by_id)
    assert sum(2010 <= c.date_of_birth.year <= 2020 for c in citizens) >= 6
    assert sum(c.personal_id[:3] in {"079", "001"} for c in citizens) >= 0.75 * len(citizens)
    for entry in raw["citizens"]:
        for parent in ("father_id", "mother_id"):
            if entry.get(parent):
                assert entry[parent] in by_id
                assert by_id[entry[parent]].date_of_birth < by_id[entry["personal_id"]].date_of_birth


def test_bundled_seed_agrees_with_the_vneid_realm() -> None:
    """The same person must carry the same name and birth date in both stand-ins, or a demo parent who
    signs in with VNeID would fail verification against the population database."""
    realm_file = REPO / "deploy/keycloak/dev/vneid-citizens.json"
    if not realm_file.exists():
        pytest.skip("no VNeID stand-in citizens in this checkout")
    by_id = {c.personal_id: c for c in load_citizens()}
    for citizen in json.loads(realm_file.read_text(encoding="utf-8"))["citizens"]:
        ours = by_id.get(citizen["username"])
        assert ours is not None, "a VNeID citizen is missing from the population seed"
        assert ours.full_name == citizen["attributes"]["full_name"][0]
        assert ours.date_of_birth.isoformat() == citizen["attributes"]["birthdate"][0]


def test_bundled_seed_holds_every_demo_tenant_personal_id() -> None:
    tenant_files = sorted((REPO / "deploy/keycloak/dev").glob("tenant-*.json"))
    if not tenant_files:
        pytest.skip("no demo tenants in this checkout")
    ours = {c.personal_id for c in load_citizens()}
    for path in tenant_files:
        for user in json.loads(path.read_text(encoding="utf-8")).get("users", []):
            for pid in user.get("attributes", {}).get("personal_id", []):
                assert pid in ours, f"a personal id of {path.name} is missing from the population seed"


def test_command_line_runs_uvicorn_without_its_access_log(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    monkeypatch.setattr("simulators.jsonlog.configure", lambda level: None)  # keep pytest's log capture

    main(["citizen-registry", "--host", "127.0.0.1", "--port", "8291", "--api-key", "k1"])

    assert len(calls) == 1
    assert calls[0]["host"] == "127.0.0.1"
    assert calls[0]["port"] == 8291
    assert calls[0]["access_log"] is False
    assert calls[0]["app"].title.startswith("Cơ sở dữ liệu quốc gia về dân cư")

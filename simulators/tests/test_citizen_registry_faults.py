"""The citizen-registry simulator's fault switches: start-up arguments, control endpoint, command line."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from simulators.__main__ import main
from simulators.citizen_registry.app import create_app
from simulators.jsonlog import JsonFormatter

KEY = "test-key"
CONTROL_KEY = "test-control-key"
URL = "/api/v1/citizens/verify"
FAULTS = "/_simulator/faults"
ACCESS_LOGGER = "simulators.citizen_registry.access"
# A citizen of the bundled seed.
MAI = {"personal_id": "079185001234", "full_name": "Trần Thị Mai", "date_of_birth": "1985-03-12"}
OFF = {"latency_ms": 0, "error_rate": 0.0, "down": False}


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def make_client(sleep: FakeSleep) -> Callable[..., httpx.AsyncClient]:
    def make(**kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("control_key", CONTROL_KEY)
        kwargs.setdefault("sleep", sleep)
        app = create_app(None, {KEY}, **kwargs)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://citizen-registry.test"
        )

    return make


@pytest.fixture
async def client(make_client: Callable[..., httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


async def verify(
    client: httpx.AsyncClient, payload: Any = None, *, key: str | None = KEY, request_id: str = "req-0001"
) -> httpx.Response:
    headers = {"X-Request-Id": request_id}
    if key is not None:
        headers["X-Api-Key"] = key
    return await client.post(URL, json=MAI if payload is None else payload, headers=headers)


async def get_faults(client: httpx.AsyncClient, key: str | None = CONTROL_KEY) -> httpx.Response:
    return await client.get(FAULTS, headers={} if key is None else {"X-Simulator-Control-Key": key})


async def put_faults(
    client: httpx.AsyncClient, switches: Any, key: str | None = CONTROL_KEY
) -> httpx.Response:
    return await client.put(
        FAULTS, json=switches, headers={} if key is None else {"X-Simulator-Control-Key": key}
    )


def assert_problem(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["reason"] == reason
    assert problem["type"] == "urn:population-sim:problem:" + reason.lower().replace("_", "-")
    assert problem["title"]
    assert problem["detail"]
    return problem


def assert_no_personal_data(response: httpx.Response) -> None:
    for value in MAI.values():
        assert value not in response.text
    assert "checks" not in response.json()


async def statuses(client: httpx.AsyncClient, calls: int) -> list[int]:
    return [(await verify(client, request_id=f"req-{n}")).status_code for n in range(1, calls + 1)]


# ---------------------------------------------------------------- switches set at start-up


async def test_no_faults_by_default(client: httpx.AsyncClient, sleep: FakeSleep) -> None:
    response = await get_faults(client)

    assert response.status_code == 200
    assert response.json() == OFF
    assert response.headers["cache-control"] == "no-store"
    assert await statuses(client, 5) == [200] * 5
    assert sleep.calls == []


async def test_latency_delays_each_verify_answer(
    make_client: Callable[..., httpx.AsyncClient], sleep: FakeSleep
) -> None:
    async with make_client(latency_ms=250) as c:
        first = await verify(c)
        second = await verify(c, {**MAI, "full_name": "Trần Thị Hoa"})

        assert (first.status_code, first.json()["result"]) == (200, "MATCH")
        assert (second.status_code, second.json()["result"]) == (200, "MISMATCH")
        assert sleep.calls == [0.25, 0.25]
        assert (await get_faults(c)).json() == {**OFF, "latency_ms": 250}


async def test_latency_is_really_waited_with_the_default_sleep() -> None:
    app = create_app(None, {KEY}, latency_ms=80)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        started = time.perf_counter()
        response = await verify(c)
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed >= 0.08


async def test_latency_is_not_added_to_calls_refused_at_the_door(
    make_client: Callable[..., httpx.AsyncClient], sleep: FakeSleep
) -> None:
    async with make_client(latency_ms=250) as c:
        assert_problem(await verify(c, key=None), 401, "MISSING_API_KEY")
        assert_problem(await verify(c, request_id="bad id"), 400, "INVALID_REQUEST_ID")

    assert sleep.calls == []


async def test_down_answers_503_unavailable_with_retry_after(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_client(down=True) as c:
        response = await verify(c, request_id="down-1")

        problem = assert_problem(response, 503, "REGISTRY_UNAVAILABLE")
        assert response.headers["retry-after"] == "30"
        assert problem["request_id"] == "down-1"
        assert problem["instance"] == URL
        assert response.headers["x-request-id"] == "down-1"
        assert set(problem) == {"type", "title", "status", "detail", "instance", "reason", "request_id"}
        assert_no_personal_data(response)
        assert (await get_faults(c)).json() == {**OFF, "down": True}


async def test_healthz_stays_200_while_the_register_is_down(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_client(down=True) as c:
        response = await c.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "register": "down"}


async def test_error_rate_one_fails_every_call(make_client: Callable[..., httpx.AsyncClient]) -> None:
    async with make_client(error_rate=1.0) as c:
        for n in range(25):
            response = await verify(c, request_id=f"err-{n}")
            problem = assert_problem(response, 503, "REGISTRY_ERROR")
            assert problem["request_id"] == f"err-{n}"
            assert "retry-after" not in response.headers
            assert_no_personal_data(response)
        # The process and the register are up: only the answers fail.
        assert (await c.get("/healthz")).json() == {"status": "ok", "register": "up"}


async def test_error_rate_zero_never_fails(make_client: Callable[..., httpx.AsyncClient]) -> None:
    async with make_client(error_rate=0.0) as c:
        assert await statuses(c, 25) == [200] * 25


@pytest.mark.parametrize(
    ("rate", "failing"),
    [(0.25, [4, 8, 12]), (0.5, [2, 4, 6, 8, 10, 12]), (0.1, [10]), (0.3, [4, 7, 10])],
)
async def test_error_rate_fails_an_exact_evenly_spread_share(
    make_client: Callable[..., httpx.AsyncClient], rate: float, failing: list[int]
) -> None:
    async with make_client(error_rate=rate) as c:
        got = await statuses(c, 12)

    assert [n for n, status in enumerate(got, start=1) if status == 503] == failing
    assert set(got) <= {200, 503}


async def test_error_rate_tenth_fails_exactly_every_tenth_call(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_client(error_rate=0.1) as c:
        got = await statuses(c, 100)

    assert [n for n, status in enumerate(got, start=1) if status == 503] == list(range(10, 101, 10))


async def test_down_wins_over_errors_and_comes_after_latency(
    make_client: Callable[..., httpx.AsyncClient], sleep: FakeSleep
) -> None:
    async with make_client(latency_ms=40, error_rate=1.0, down=True) as c:
        assert_problem(await verify(c), 503, "REGISTRY_UNAVAILABLE")

    assert sleep.calls == [0.04]


async def test_faults_come_after_key_request_id_and_rate_limit(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_client(down=True, rate_limit_per_minute=2) as c:
        assert_problem(await verify(c, key=None), 401, "MISSING_API_KEY")
        assert_problem(await verify(c, key="wrong"), 401, "INVALID_API_KEY")
        assert_problem(await verify(c, request_id="bad id"), 400, "INVALID_REQUEST_ID")
        assert_problem(await verify(c), 503, "REGISTRY_UNAVAILABLE")
        assert_problem(await verify(c), 503, "REGISTRY_UNAVAILABLE")
        assert_problem(await verify(c), 429, "RATE_LIMITED")


async def test_a_faulted_call_never_reads_the_body(make_client: Callable[..., httpx.AsyncClient]) -> None:
    async with make_client(error_rate=1.0) as c:
        response = await verify(c, {"personal_id": "not-a-number", "surprise": "x"})

    assert_problem(response, 503, "REGISTRY_ERROR")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": 600_001}, "latency_ms"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"error_rate": -0.1}, "error_rate"),
        ({"error_rate": float("nan")}, "error_rate"),
        ({"control_key": ""}, "control key"),
    ],
    ids=[
        "negative-latency",
        "latency-too-long",
        "rate-above-one",
        "negative-rate",
        "nan-rate",
        "no-control-key",
    ],
)
def test_bad_start_up_switches_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        create_app(None, {KEY}, **kwargs)


# ---------------------------------------------------------------- switches replaced at runtime


async def test_control_endpoint_switches_downtime_on_and_off(client: httpx.AsyncClient) -> None:
    response = await put_faults(client, {"down": True})

    assert response.status_code == 200
    assert response.json() == {**OFF, "down": True}
    assert response.headers["cache-control"] == "no-store"
    assert (await get_faults(client)).json() == {**OFF, "down": True}
    assert_problem(await verify(client), 503, "REGISTRY_UNAVAILABLE")
    health = await client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok", "register": "down"})

    assert (await put_faults(client, {"down": False})).json() == OFF
    assert (await verify(client)).json()["result"] == "MATCH"
    assert (await client.get("/healthz")).json() == {"status": "ok", "register": "up"}


async def test_control_endpoint_sets_latency(client: httpx.AsyncClient, sleep: FakeSleep) -> None:
    assert (await put_faults(client, {"latency_ms": 120})).json() == {**OFF, "latency_ms": 120}

    assert (await verify(client)).status_code == 200
    assert sleep.calls == [0.12]


async def test_control_endpoint_sets_the_error_rate(client: httpx.AsyncClient) -> None:
    assert (await put_faults(client, {"error_rate": 1})).json() == {**OFF, "error_rate": 1.0}
    assert await statuses(client, 10) == [503] * 10

    await put_faults(client, {"error_rate": 0.0})
    assert await statuses(client, 10) == [200] * 10

    # Every PUT starts the count again: with 0.5 the 2nd, 4th, ... call after it fails.
    await put_faults(client, {"error_rate": 0.5})
    assert await statuses(client, 3) == [200, 503, 200]
    await put_faults(client, {"error_rate": 0.5})
    assert await statuses(client, 4) == [200, 503, 200, 503]


async def test_put_replaces_every_switch(client: httpx.AsyncClient) -> None:
    await put_faults(client, {"latency_ms": 5, "error_rate": 0.5, "down": True})

    response = await put_faults(client, {"error_rate": 0.25})

    assert response.json() == {**OFF, "error_rate": 0.25}
    assert (await get_faults(client)).json() == {**OFF, "error_rate": 0.25}
    assert (await put_faults(client, {})).json() == OFF


@pytest.mark.parametrize(
    ("switches", "field", "error"),
    [
        ({"latency_ms": -1}, "latency_ms", "GREATER_THAN_EQUAL"),
        ({"latency_ms": 600_001}, "latency_ms", "LESS_THAN_EQUAL"),
        ({"latency_ms": "100"}, "latency_ms", "INT_TYPE"),
        ({"latency_ms": 1.5}, "latency_ms", "INT_TYPE"),
        ({"error_rate": 1.5}, "error_rate", "LESS_THAN_EQUAL"),
        ({"error_rate": -0.5}, "error_rate", "GREATER_THAN_EQUAL"),
        ({"down": "yes"}, "down", "BOOL_TYPE"),
        ({"down": 1}, "down", "BOOL_TYPE"),
        ({"down": True, "latency": 500}, "latency", "EXTRA_FORBIDDEN"),
        ([{"down": True}], "body", "MODEL_TYPE"),
        (None, "body", "MODEL_TYPE"),
    ],
    ids=[
        "negative-latency",
        "latency-too-long",
        "latency-string",
        "latency-float",
        "rate-1.5",
        "negative-rate",
        "down-string",
        "down-number",
        "unknown-field",
        "array",
        "null",
    ],
)
async def test_bad_control_bodies_are_422_and_change_nothing(
    client: httpx.AsyncClient, switches: Any, field: str, error: str
) -> None:
    await put_faults(client, {"latency_ms": 7})

    response = await client.put(
        FAULTS,
        content=json.dumps(switches).encode(),  # None is sent as the JSON text null
        headers={"X-Simulator-Control-Key": CONTROL_KEY, "Content-Type": "application/json"},
    )

    problem = assert_problem(response, 422, "INVALID_REQUEST_BODY")
    assert problem["instance"] == FAULTS
    assert [(e["field"], e["reason"]) for e in problem["errors"]] == [(field, error)]
    assert (await get_faults(client)).json() == {**OFF, "latency_ms": 7}


async def test_non_json_control_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.put(
        FAULTS,
        content=b"down=true",
        headers={"X-Simulator-Control-Key": CONTROL_KEY, "Content-Type": "application/json"},
    )

    assert_problem(response, 400, "MALFORMED_JSON")
    assert (await get_faults(client)).json() == OFF


async def test_form_control_body_is_415(client: httpx.AsyncClient) -> None:
    response = await client.put(
        FAULTS, data={"down": "true"}, headers={"X-Simulator-Control-Key": CONTROL_KEY}
    )

    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert (await get_faults(client)).json() == OFF


# ---------------------------------------------------------------- the control key


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "MISSING_CONTROL_KEY"),
        ("", "MISSING_CONTROL_KEY"),
        ("wrong-control-key", "INVALID_CONTROL_KEY"),
        (KEY, "INVALID_CONTROL_KEY"),  # a verify API key is not a control key
        ("dev-only-simulator-control", "INVALID_CONTROL_KEY"),  # the default is replaced, not added
    ],
    ids=["missing", "empty", "wrong", "api-key", "default-key"],
)
async def test_control_endpoint_needs_its_own_key(
    client: httpx.AsyncClient, method: str, key: str | None, reason: str
) -> None:
    headers = {} if key is None else {"X-Simulator-Control-Key": key}

    response = await client.request(method, FAULTS, json={"down": True}, headers=headers)

    assert_problem(response, 401, reason)
    assert (await verify(client)).status_code == 200  # nothing was switched


async def test_the_control_key_is_not_an_api_key(client: httpx.AsyncClient) -> None:
    assert_problem(await verify(client, key=CONTROL_KEY), 401, "INVALID_API_KEY")


async def test_default_control_key() -> None:
    app = create_app(None, {KEY})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await get_faults(c, key="dev-only-simulator-control")

    assert response.status_code == 200
    assert response.json() == OFF


# ---------------------------------------------------------------- logs


async def test_faulted_and_control_calls_are_logged_without_personal_data(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="simulators.citizen_registry")

    await put_faults(client, {"down": True})
    await verify(client, request_id="log-down")
    await put_faults(client, {"error_rate": 1.0})
    await verify(client, request_id="log-error")
    await get_faults(client, key="wrong")

    formatter = JsonFormatter()
    access = [json.loads(formatter.format(r)) for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [(e["request_id"], e["route"], e["status"], e["outcome"]) for e in access] == [
        (None, FAULTS, 200, "FAULTS_REPLACED"),
        ("log-down", URL, 503, "REGISTRY_UNAVAILABLE"),
        (None, FAULTS, 200, "FAULTS_REPLACED"),
        ("log-error", URL, 503, "REGISTRY_ERROR"),
        (None, FAULTS, 401, "INVALID_CONTROL_KEY"),
    ]
    changes = [
        json.loads(formatter.format(r)) for r in caplog.records if r.getMessage() == "fault switches replaced"
    ]
    assert [(e["latency_ms"], e["error_rate"], e["down"]) for e in changes] == [
        (0, 0.0, True),
        (0, 1.0, False),
    ]
    text = "\n".join(formatter.format(r) for r in caplog.records)
    for secret in (*MAI.values(), "Trần", KEY, CONTROL_KEY):
        assert secret not in text


# ---------------------------------------------------------------- the command line


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The apps the command line would have served."""
    apps: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: apps.append(app))
    monkeypatch.setattr("simulators.jsonlog.configure", lambda level: None)  # keep pytest's log capture
    monkeypatch.delenv("CITIZEN_REGISTRY_SIM_API_KEYS", raising=False)
    monkeypatch.delenv("CITIZEN_REGISTRY_SIM_CONTROL_KEY", raising=False)
    return apps


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_command_line_fault_flags(served: list[Any]) -> None:
    main(
        [
            "citizen-registry",
            "--latency-ms",
            "15",
            "--error-rate",
            "0.5",
            "--down",
            "--control-key",
            "cli-control",
            "--api-key",
            "k1",
        ]
    )

    async with client_for(served[0]) as c:
        response = await get_faults(c, key="cli-control")
        assert response.json() == {"latency_ms": 15, "error_rate": 0.5, "down": True}
        assert_problem(await verify(c, key="k1"), 503, "REGISTRY_UNAVAILABLE")
        assert (await c.get("/healthz")).json() == {"status": "ok", "register": "down"}


async def test_command_line_defaults(served: list[Any]) -> None:
    main(["citizen-registry"])

    async with client_for(served[0]) as c:
        assert (await get_faults(c, key="dev-only-simulator-control")).json() == OFF
        assert (await verify(c, key="dev-only-population-key")).json()["result"] == "MATCH"


async def test_command_line_keys_from_the_environment(
    served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITIZEN_REGISTRY_SIM_API_KEYS", "env-key-1, env-key-2")
    monkeypatch.setenv("CITIZEN_REGISTRY_SIM_CONTROL_KEY", "env-control")

    main(["citizen-registry"])

    async with client_for(served[0]) as c:
        assert (await verify(c, key="env-key-2")).json()["result"] == "MATCH"
        assert_problem(await verify(c, key="dev-only-population-key"), 401, "INVALID_API_KEY")
        assert (await get_faults(c, key="env-control")).status_code == 200
        assert_problem(await get_faults(c, key="dev-only-simulator-control"), 401, "INVALID_CONTROL_KEY")


async def test_control_key_flag_wins_over_the_environment(
    served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITIZEN_REGISTRY_SIM_CONTROL_KEY", "env-control")

    main(["citizen-registry", "--control-key", "flag-control"])

    async with client_for(served[0]) as c:
        assert (await get_faults(c, key="flag-control")).status_code == 200
        assert_problem(await get_faults(c, key="env-control"), 401, "INVALID_CONTROL_KEY")


@pytest.mark.parametrize(
    "argv",
    [
        ["citizen-registry", "--latency-ms", "-1"],
        ["citizen-registry", "--latency-ms", "600001"],
        ["citizen-registry", "--latency-ms", "1.5"],
        ["citizen-registry", "--error-rate", "1.5"],
        ["citizen-registry", "--error-rate", "-0.1"],
        ["citizen-registry", "--error-rate", "nan"],
        ["population"],  # the old name is gone
    ],
)
def test_command_line_refuses_bad_switches(served: list[Any], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert served == []

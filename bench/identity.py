"""Identity scenarios of ``make bench``: what Keycloak sustains, and what verifying a token costs.

- ``keycloak_password_login``: password grants (direct grant, development client ``school-dev-cli`` of
  tenant ``demo``), ``concurrency`` clients at once for a fixed duration, each signing in as its own demo
  user (Keycloak's brute-force protector refuses concurrent sign-ins of one account). Each one checks the
  password hash, creates a user session and stores a ``LOGIN`` event: the cost of a family signing in.
- ``keycloak_refresh``: refresh-token grants of the same client. Refresh tokens are single-use
  (``revokeRefreshToken``), so each worker keeps a chain: every refresh returns the token it uses next.
- ``keycloak_offline_refresh``: the same with offline tokens (scope ``offline_access``), what the mobile
  app of a returning family sends.
- ``gateway_healthz`` / ``gateway_me``: the gateway's unauthenticated probe against ``GET /v1/me`` with a
  bearer token (the token verified, then the caller's profile read from the identity service): what an
  authenticated request costs against the floor. Reported as "not available" unless ``/v1/me`` answers
  200 (a gateway without the route answers 404).
- ``token_verify`` / ``jwt_decode_unverified``: in process, ``TokenVerifier.verify`` with its JWKS cache
  warm against decoding the same JWT without checking it (the floor: base64 and JSON).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from school_common.auth import TokenVerifier
from school_common.settings import AuthSettings

from bench.measure import Result, load, load_for, result

TENANT = "demo"


@dataclass
class Realm:
    """The Keycloak side of a scenario: a token endpoint, a password-grant client and its users."""

    token_endpoint: str
    client_id: str
    users: list[tuple[str, str]]
    base_url: str

    @classmethod
    def of(cls, keycloak: dict[str, Any], tenant: str = TENANT) -> Realm:
        realm = keycloak["realms"][tenant]
        if not realm["clients"].get("dev_cli"):
            raise RuntimeError(f"tenant {tenant} was provisioned without the development client (dev=False)")
        return cls(
            token_endpoint=realm["token_endpoint"],
            client_id=realm["clients"]["dev_cli"],
            users=[(u["username"], u["password"]) for u in realm["users"]],
            base_url=keycloak["base_url"],
        )

    def check_concurrency(self, concurrency: int) -> None:
        # Keycloak (26) refuses a sign-in while another one of the same account is in progress
        # (user_temporarily_disabled): one account per client.
        if concurrency > len(self.users):
            raise ValueError(f"concurrency {concurrency} > {len(self.users)} demo users: one user per client")

    async def login(self, http: httpx.AsyncClient, worker: int, scope: str = "openid") -> httpx.Response:
        username, password = self.users[worker % len(self.users)]
        return await http.post(
            self.token_endpoint,
            data={
                "grant_type": "password",
                "client_id": self.client_id,
                "username": username,
                "password": password,
                "scope": scope,
            },
        )


@dataclass
class CpuTimes:
    """Cumulative CPU seconds of Keycloak (its JVM), PostgreSQL (every server process), this load
    generator, and the whole machine (busy and total, all CPUs)."""

    keycloak: float
    postgres: float
    generator: float
    machine_busy: float
    machine_total: float

    @classmethod
    def now(cls) -> CpuTimes:
        import psutil

        keycloak = postgres = 0.0
        for process in psutil.process_iter(["cmdline", "username", "name"]):
            try:
                argv = process.info["cmdline"] or []
                times = process.cpu_times()
            except psutil.Error:
                continue
            used = times.user + times.system
            if argv and argv[0].endswith("java") and any("keycloak" in a for a in argv):
                keycloak += used
            elif process.info["username"] == "embedded_postgres" or process.info["name"] == "postgres":
                postgres += used
        own = psutil.Process().cpu_times()
        machine = psutil.cpu_times()
        total = sum(machine)
        idle = machine.idle + getattr(machine, "iowait", 0.0)
        return cls(keycloak, postgres, own.user + own.system, total - idle, total)


def cpu_per_request(before: CpuTimes, after: CpuTimes, requests: int) -> dict[str, float]:
    """CPU milliseconds per request of each party, and the share of the machine that other processes
    (not Keycloak, PostgreSQL or this generator) took meanwhile: high means a noisy measurement."""
    per = 1000 / max(requests, 1)
    ours = (
        (after.keycloak - before.keycloak)
        + (after.postgres - before.postgres)
        + (after.generator - before.generator)
    )
    total = after.machine_total - before.machine_total
    other = (after.machine_busy - before.machine_busy) - ours
    return {
        "keycloak_cpu_ms": round((after.keycloak - before.keycloak) * per, 2),
        "postgres_cpu_ms": round((after.postgres - before.postgres) * per, 2),
        "generator_cpu_ms": round((after.generator - before.generator) * per, 2),
        "other_busy_pct": round(max(other, 0.0) / total * 100, 1) if total > 0 else float("nan"),
    }


@dataclass
class KeycloakLoad:
    http: httpx.AsyncClient
    realm: Realm
    duration_s: float
    concurrency: int
    warmup_s: float
    cpu: dict[str, dict[str, float]]

    async def measure(self, name: str, call: Callable[[int], Awaitable[bool]]) -> Result:
        if self.warmup_s > 0:  # not counted, neither requests nor CPU
            await load_for(name, call, self.warmup_s, self.concurrency, 0)
        before = CpuTimes.now()
        measured = await load_for(name, call, self.duration_s, self.concurrency, 0)
        self.cpu[name] = cpu_per_request(before, CpuTimes.now(), measured.requests)
        print(f"  {measured}\n    CPU per request: {self.cpu[name]}", flush=True)
        return measured

    async def password_logins(self) -> Result:
        async def call(worker: int) -> bool:
            return _ok(await self.realm.login(self.http, worker))

        return await self.measure("keycloak_password_login", call)

    async def refresh_grants(self, *, offline: bool = False) -> Result:
        scope = "openid offline_access" if offline else "openid"
        chains: dict[int, str] = {}

        async def start_chain(index: int) -> None:
            response = await self.realm.login(self.http, index, scope)
            response.raise_for_status()
            chains[index] = str(response.json()["refresh_token"])

        for index in range(self.concurrency):
            await start_chain(index)

        async def call(index: int) -> bool:
            response = await self.http.post(
                self.realm.token_endpoint,
                data={
                    "grant_type": "refresh_token",
                    "client_id": self.realm.client_id,
                    "refresh_token": chains[index],
                },
            )
            if _ok(response):
                chains[index] = str(response.json()["refresh_token"])  # the old one is spent
                return True
            await start_chain(index)  # a broken chain: sign in again (counted as an error)
            return False

        try:
            return await self.measure("keycloak_offline_refresh" if offline else "keycloak_refresh", call)
        finally:
            if offline:
                # Offline sessions outlive the run (30 days idle): end the ones this scenario made.
                revoke = self.realm.token_endpoint.rsplit("/", 1)[0] + "/revoke"
                for token in chains.values():
                    await self.http.post(revoke, data={"client_id": self.realm.client_id, "token": token})


_failures_shown = 0


def _ok(response: httpx.Response) -> bool:
    """A token response; the first few failures are printed (the report only counts them)."""
    global _failures_shown
    if response.status_code == 200 and "access_token" in response.json():
        return True
    if _failures_shown < 3:
        _failures_shown += 1
        print(f"    failed: {response.status_code} {response.text[:200]}", flush=True)
    return False


async def keycloak_scenarios(
    keycloak: dict[str, Any], duration_s: float, concurrency: int, warmup_s: float
) -> tuple[list[Result], dict[str, dict[str, float]]]:
    """The three Keycloak scenarios, and the CPU each request cost (:func:`cpu_per_request`)."""
    realm = Realm.of(keycloak)
    realm.check_concurrency(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    cpu: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        runner = KeycloakLoad(http, realm, duration_s, concurrency, warmup_s, cpu)
        results = [
            await runner.password_logins(),
            await runner.refresh_grants(),
            await runner.refresh_grants(offline=True),
        ]
    return results, cpu


async def gateway_scenarios(
    gateway_url: str, bearer: str, requests: int, concurrency: int, warmup: int
) -> tuple[list[Result], str | None]:
    """``(results, why_not)``: ``why_not`` says why ``gateway_me`` was not measured."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    results = []
    async with httpx.AsyncClient(base_url=gateway_url, limits=limits, timeout=10) as http:
        me_headers = {"Authorization": f"Bearer {bearer}"}
        probe = await http.get("/v1/me", headers=me_headers)
        why_not = None
        if probe.status_code == 404:
            why_not = "not available (GET /v1/me answered 404)"
        elif probe.status_code != 200:
            why_not = f"not available (GET /v1/me answered {probe.status_code})"

        async def healthz() -> bool:
            return (await http.get("/healthz")).status_code == 200

        async def me() -> bool:
            return (await http.get("/v1/me", headers=me_headers)).status_code == 200

        results.append(await load("gateway_healthz", healthz, requests, concurrency, warmup))
        print(f"  {results[-1]}", flush=True)
        if why_not is None:
            results.append(await load("gateway_me", me, requests, concurrency, warmup))
            print(f"  {results[-1]}", flush=True)
        else:
            print(f"  gateway_me: {why_not}", flush=True)
    return results, why_not


async def verification_microbench(issuer_base_url: str, token: str, calls: int) -> list[Result]:
    """Sequential, in this process: no HTTP, no event loop switches except the verifier's own awaits."""
    verifier = TokenVerifier(AuthSettings(issuer_base_url=issuer_base_url))
    try:
        await verifier.verify(token)  # fetches the realm's JWKS once; every later call uses the cache
        latencies: list[float] = []
        began_all = time.perf_counter()
        for _ in range(calls):
            began = time.perf_counter()
            await verifier.verify(token)
            latencies.append((time.perf_counter() - began) * 1000)
        verified = result("token_verify", latencies, 0, 1, time.perf_counter() - began_all, digits=4)
    finally:
        await verifier.aclose()
    latencies = []
    began_all = time.perf_counter()
    for _ in range(calls):
        began = time.perf_counter()
        jwt.decode(token, options={"verify_signature": False})
        latencies.append((time.perf_counter() - began) * 1000)
    decoded = result("jwt_decode_unverified", latencies, 0, 1, time.perf_counter() - began_all, digits=4)
    for r in (verified, decoded):
        print(f"  {r}", flush=True)
    return [verified, decoded]


async def access_token(keycloak: dict[str, Any], role: str = "authority_admin") -> str:
    realm = keycloak["realms"][TENANT]
    user = next(u for u in realm["users"] if role in u["roles"])
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            realm["token_endpoint"],
            data={
                "grant_type": "password",
                "client_id": realm["clients"]["dev_cli"],
                "username": user["username"],
                "password": user["password"],
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def ratios(by: dict[str, Result], gateway_why_not: str | None) -> dict[str, float | str]:
    out: dict[str, float | str] = {}

    def ratio(name: str, numerator: str, denominator: str) -> None:
        if numerator in by and denominator in by and by[denominator].rps:
            out[name] = round(by[numerator].rps / by[denominator].rps, 3)

    ratio("keycloak_refresh_rps_vs_password_login_rps", "keycloak_refresh", "keycloak_password_login")
    ratio(
        "keycloak_offline_refresh_rps_vs_password_login_rps",
        "keycloak_offline_refresh",
        "keycloak_password_login",
    )
    if "gateway_healthz" in by:
        if gateway_why_not is not None:
            out["gateway_me_rps_vs_healthz_rps"] = gateway_why_not
        else:
            ratio("gateway_me_rps_vs_healthz_rps", "gateway_me", "gateway_healthz")
    ratio("token_verify_calls_vs_unverified_decode", "token_verify", "jwt_decode_unverified")
    return out

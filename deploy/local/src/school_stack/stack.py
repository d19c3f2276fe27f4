"""The one-machine stack: PostgreSQL, NATS JetStream, Keycloak, the services and the gateway.

``run`` starts everything in the foreground and stops everything on Ctrl-C; ``up``/``down``/``status``
do the same detached. Every child runs in its own process group, listed in ``.run/stack.pids`` so that
``down`` leaves nothing behind even after the supervisor itself was killed. State lives in ``.run/``:
``data/`` (PostgreSQL, NATS, Keycloak; kept until ``make clean``), ``logs/`` and ``stack.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from school_common.testing.provision import provision_database
from school_common.testing.servers import (
    PG_SUPERUSER,
    Process,
    admin_dsn,
    init_cluster,
    nats_command,
    pg_system_user,
    postgres_command,
    wait_postgres,
)

from school_stack import keycloak

REPO = Path(__file__).resolve().parents[4]
RUN = Path(os.environ.get("SCHOOL_RUN_DIR", str(REPO / ".run")))
DATA, LOGS = RUN / "data", RUN / "logs"
STACK_FILE, PID_FILE, PIDS_FILE = RUN / "stack.json", RUN / "stack.pid", RUN / "stack.pids"

HOST = "127.0.0.1"
PG_PORT = int(os.environ.get("STACK_PG_PORT", "55432"))
NATS_PORT = int(os.environ.get("STACK_NATS_PORT", "14222"))
NATS_MONITOR_PORT = int(os.environ.get("STACK_NATS_MONITOR_PORT", "18222"))
KC_PORT = int(os.environ.get("STACK_KEYCLOAK_PORT", "8180"))
KC_MANAGEMENT_PORT = int(os.environ.get("STACK_KEYCLOAK_MANAGEMENT_PORT", "18190"))
GATEWAY_PORT = int(os.environ.get("STACK_GATEWAY_PORT", "8000"))
POPULATION_PORT = int(os.environ.get("STACK_POPULATION_PORT", "8290"))
POPULATION_API_KEY = "dev-only-population-key"
# Key of the citizen-registry simulator's fault switches (PUT /_simulator/faults), for tests.
REGISTRY_CONTROL_KEY = "dev-only-simulator-control"


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # folder name, e.g. student-record
    module: str  # python module, e.g. student_record
    port: int

    @property
    def database(self) -> str:
        return self.module


SERVICES = (
    ServiceSpec("identity", "identity", 50061),
    ServiceSpec("student-record", "student_record", 50062),
    ServiceSpec("attendance", "attendance", 50063),
    ServiceSpec("payments", "payments", 50064),
    ServiceSpec("messaging", "messaging", 50065),
    ServiceSpec("health", "health", 50066),
)


def _say(message: str) -> None:
    print(f"[stack {time.strftime('%H:%M:%S')}] {message}", flush=True)


def dev_password(role: str) -> str:
    return f"dev-only-{role.replace('_', '-')}"


def database_env(spec: ServiceSpec) -> dict[str, str]:
    db = spec.database
    app, owner = f"{db}_app", f"{db}_owner"
    return {
        "DATABASE__URL": f"postgresql+asyncpg://{app}:{dev_password(app)}@{HOST}:{PG_PORT}/{db}",
        "DATABASE__MIGRATION_URL": f"postgresql+asyncpg://{owner}:{dev_password(owner)}@{HOST}:{PG_PORT}/{db}",
    }


DEV_CA = RUN / "dev-ca"


def service_env(spec: ServiceSpec, kc_cfg: keycloak.KeycloakConfig) -> dict[str, str]:
    """What one service needs beyond the base: identity administers Keycloak and asks the registry;
    student-record signs transcripts with the development CA."""
    if spec.module == "student_record":
        return {
            "TRANSCRIPTS__CA_DIR": str(DEV_CA),
            "TRANSCRIPTS__VERIFICATION_BASE_URL": f"http://{HOST}:{GATEWAY_PORT}/v1/public/transcripts",
        }
    if spec.module != "identity":
        return {}
    return {
        "KEYCLOAK__SERVER_URL": f"http://{HOST}:{KC_PORT}",
        "KEYCLOAK__ADMIN_USERNAME": kc_cfg.admin_user,
        "KEYCLOAK__ADMIN_PASSWORD": kc_cfg.admin_password,
        "KEYCLOAK__VNEID_ISSUER": f"http://{HOST}:{KC_PORT}/realms/vneid",
        # The VNeID stand-in lives in this Keycloak: a new tenant registers its broker client there.
        "KEYCLOAK__REGISTER_VNEID_BROKER_CLIENT": "true",
        "REGISTRY__BASE_URL": f"http://{HOST}:{POPULATION_PORT}",
        "REGISTRY__API_KEY": POPULATION_API_KEY,
        # Quick retries on one machine, so a registry outage in a test resolves within seconds.
        "REGISTRY__RETRY_INITIAL_S": "1",
        "REGISTRY__RETRY_MAX_S": "5",
        "REGISTRY__POLL_INTERVAL_S": "1",
        "AUDIT_SYNC_INTERVAL_S": "30",
    }


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE__", "GRPC__", "GATEWAY__"))}
    env.update(
        {
            "ENVIRONMENT": "development",
            "NATS__URL": f"nats://{HOST}:{NATS_PORT}",
            "AUTH__ISSUER_BASE_URL": f"http://{HOST}:{KC_PORT}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    user: str | None = None
    process: Process | None = None
    restarts: int = 0
    restart: bool = False  # restarted when it dies: services, the gateway and simulators

    def start(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.process = Process.spawn(
            self.name, self.argv, log=LOGS / f"{self.name}.log", user=self.user, env=self.env, cwd=REPO
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()


@dataclass
class Stack:
    children: list[Child] = field(default_factory=list)
    stopping: bool = False

    def record_pids(self) -> None:
        # pid and start time: 'down' signals a process group only if its leader is still that process.
        lines = [f"{c.process.popen.pid} {_started(c.process.popen.pid)}" for c in self.children if c.process]
        PIDS_FILE.write_text("\n".join(lines) + "\n")

    def launch(self, child: Child) -> Child:
        child.start()
        self.children.append(child)
        self.record_pids()
        return child

    async def wait(
        self, what: str, check: Callable[[], Awaitable[bool]], timeout_s: float, child: Child | None = None
    ) -> None:
        began = time.monotonic()
        last_note = began
        while True:
            if child is not None and not child.alive():
                raise RuntimeError(f"{what} exited while starting; see {LOGS / (child.name + '.log')}")
            with contextlib.suppress(Exception):
                if await check():
                    _say(f"{what} ready ({time.monotonic() - began:.1f}s)")
                    return
            if time.monotonic() - began > timeout_s:
                raise TimeoutError(f"{what} not ready after {timeout_s:.0f}s; see {LOGS}")
            if time.monotonic() - last_note > 10:
                _say(f"waiting for {what}… {time.monotonic() - began:.0f}s")
                last_note = time.monotonic()
            await asyncio.sleep(0.3)

    def stop_all(self) -> None:
        self.stopping = True
        for child in reversed(self.children):
            if child.process is not None and child.alive():
                # PostgreSQL: SIGINT is its fast shutdown; everything else stops on SIGTERM.
                child.process.stop(
                    timeout_s=20, sig=signal.SIGINT if child.name == "postgres" else signal.SIGTERM
                )
        PIDS_FILE.unlink(missing_ok=True)


async def grpc_ready(port: int) -> bool:
    async with grpc.aio.insecure_channel(f"{HOST}:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = await stub.Check(health_pb2.HealthCheckRequest(service="readiness"), timeout=1)
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


async def http_ok(url: str) -> bool:
    async with httpx.AsyncClient(timeout=2) as client:
        return (await client.get(url)).status_code == 200


def check_ports_free() -> None:
    import socket

    taken = []
    ports = (PG_PORT, NATS_PORT, KC_PORT, KC_MANAGEMENT_PORT, GATEWAY_PORT, POPULATION_PORT)
    for port in (*ports, *(s.port for s in SERVICES)):
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                taken.append(port)
    if taken:
        raise RuntimeError(f"ports already in use: {taken} (is a stack running? try 'make down')")


async def start_stack(stack: Stack) -> dict[str, Any]:
    began = time.monotonic()
    check_ports_free()
    for d in (DATA, LOGS):
        d.mkdir(parents=True, exist_ok=True)
    python = sys.executable

    # Keycloak takes longest: prepare and start it first, the rest comes up meanwhile.
    _say("PostgreSQL: preparing the cluster")
    await asyncio.to_thread(init_cluster, DATA / "postgres")
    pg = stack.launch(Child("postgres", postgres_command(DATA / "postgres", PG_PORT), user=pg_system_user()))
    await stack.wait("PostgreSQL", lambda: _pg_ok(), 60, pg)
    admin = admin_dsn(PG_PORT)
    await provision_database(
        admin, "keycloak", HOST, PG_PORT, dev_password("keycloak_owner"), dev_password("keycloak_app")
    )
    kc_cfg = keycloak.KeycloakConfig(
        run_dir=DATA / "keycloak",
        host=HOST,
        port=KC_PORT,
        management_port=KC_MANAGEMENT_PORT,
        db_url=f"jdbc:postgresql://{HOST}:{PG_PORT}/keycloak",
        db_user="keycloak_owner",
        db_password=dev_password("keycloak_owner"),
    )
    _say("Keycloak: preparing the distribution (first run downloads it from Maven Central)")
    home = await asyncio.to_thread(keycloak.ensure_distribution, kc_cfg)
    kc_argv, kc_env = keycloak.command(kc_cfg, home)
    kc = stack.launch(Child("keycloak", kc_argv, env=kc_env))

    nats_child = stack.launch(Child("nats", nats_command(NATS_PORT, DATA / "nats", NATS_MONITOR_PORT)))
    await stack.wait(
        "NATS JetStream",
        lambda: http_ok(f"http://{HOST}:{NATS_MONITOR_PORT}/healthz?js-enabled-only=true"),
        30,
        nats_child,
    )

    # Stand-ins for the national systems (simulators/README.md).
    population = stack.launch(
        Child(
            "citizen-registry",
            [
                python,
                "-m",
                "simulators",
                "citizen-registry",
                "--host",
                HOST,
                "--port",
                str(POPULATION_PORT),
                "--api-key",
                POPULATION_API_KEY,
            ],
            env=base_env(),
            restart=True,
        )
    )
    for spec in SERVICES:
        await provision_database(
            admin,
            spec.database,
            HOST,
            PG_PORT,
            dev_password(f"{spec.database}_owner"),
            dev_password(f"{spec.database}_app"),
        )
    _say("migrating the service databases")
    await asyncio.gather(*(_migrate(python, spec) for spec in SERVICES))
    await _development_ca(python)

    for spec in SERVICES:
        env = (
            base_env()
            | database_env(spec)
            | service_env(spec, kc_cfg)
            | {"GRPC__PORT": str(spec.port), "SERVICE_NAME": spec.name}
        )
        stack.launch(Child(spec.name, [python, "-m", spec.module, "all"], env=env, restart=True))
    gateway_env = base_env() | {
        f"GATEWAY__SERVICES__{s.module.upper()}": f"{HOST}:{s.port}" for s in SERVICES
    }
    gateway_env |= {
        "GATEWAY__HTTP__HOST": HOST,
        "GATEWAY__HTTP__PORT": str(GATEWAY_PORT),
        "SERVICE_NAME": "gateway",
        # A whole school's worth of scripts, tests and benchmarks comes from one user on this machine:
        # the per-user limit is raised here; the chart keeps the production default.
        "GATEWAY__RATE_LIMIT__REQUESTS_PER_SECOND": os.environ.get("STACK_RATE_LIMIT_RPS", "1000"),
        "GATEWAY__RATE_LIMIT__BURST": os.environ.get("STACK_RATE_LIMIT_BURST", "2000"),
        "GATEWAY__RATE_LIMIT__IP_REQUESTS_PER_SECOND": os.environ.get("STACK_RATE_LIMIT_RPS", "1000"),
        "GATEWAY__RATE_LIMIT__IP_BURST": os.environ.get("STACK_RATE_LIMIT_BURST", "2000"),
        # The public verification page too: one machine's tests and benchmarks share one address.
        "GATEWAY__RATE_LIMIT__PUBLIC_PER_MINUTE": os.environ.get("STACK_RATE_LIMIT_PUBLIC_RPM", "60000"),
        "GATEWAY__RATE_LIMIT__PUBLIC_BURST": os.environ.get("STACK_RATE_LIMIT_BURST", "2000"),
    }
    gateway = stack.launch(Child("gateway", [python, "-m", "gateway"], env=gateway_env, restart=True))
    await stack.wait(
        f"citizen registry simulator (http://{HOST}:{POPULATION_PORT})",
        lambda: http_ok(f"http://{HOST}:{POPULATION_PORT}/healthz"),
        30,
        population,
    )
    for spec in SERVICES:
        child = next(c for c in stack.children if c.name == spec.name)
        await stack.wait(
            f"{spec.name} (gRPC :{spec.port})", functools.partial(grpc_ready, spec.port), 60, child
        )
    await stack.wait(
        f"gateway (http://{HOST}:{GATEWAY_PORT})",
        lambda: http_ok(f"http://{HOST}:{GATEWAY_PORT}/healthz"),
        60,
        gateway,
    )

    async def kc_tick(_: float) -> None:
        if not kc.alive():
            raise RuntimeError(f"Keycloak exited while starting; see {LOGS / 'keycloak.log'}")

    _say("waiting for Keycloak (a cold start takes a minute or two on two cores)")
    await keycloak.wait_ready(kc_cfg, timeout_s=600, on_tick=kc_tick)
    _say("Keycloak ready; provisioning realms")
    identity = await keycloak.provision(kc_cfg, keycloak.DEFAULT_TENANTS, dev=True)

    description: dict[str, Any] = {
        "state": "starting",
        "gateway_url": f"http://{HOST}:{GATEWAY_PORT}",
        "keycloak": identity,
        "postgres": {"host": HOST, "port": PG_PORT, "superuser": PG_SUPERUSER},
        "nats": {"url": f"nats://{HOST}:{NATS_PORT}", "monitor_url": f"http://{HOST}:{NATS_MONITOR_PORT}"},
        "services": {s.name: {"grpc": f"{HOST}:{s.port}", "database": s.database} for s in SERVICES},
        "simulators": {
            "citizen_registry": {
                "url": f"http://{HOST}:{POPULATION_PORT}",
                "api_key": POPULATION_API_KEY,
                "control_key": REGISTRY_CONTROL_KEY,
            },
        },
        "logs": str(LOGS),
        # The development CA's root: what verifies the transcripts this stack signs.
        "dev_ca_root": str(DEV_CA / "root-ca.pem"),
    }
    from school_stack.seed import seed

    _say("seeding the demo tenant")
    description["demo_data"] = await seed(description)
    description["state"] = "ready"
    description["started_in_s"] = round(time.monotonic() - began, 1)
    STACK_FILE.write_text(json.dumps(description, ensure_ascii=False, indent=2) + "\n")
    return description


async def _pg_ok() -> bool:
    await wait_postgres(PG_PORT, timeout_s=0.5)
    return True


async def _development_ca(python: str) -> None:
    """The development CA that signs transcripts on this machine (never in a deployment): created once,
    kept in ``.run/dev-ca`` with the rest of the stack's state."""
    proc = await asyncio.create_subprocess_exec(
        python,
        "-m",
        "student_record.transcripts.devca",
        str(DEV_CA),
        env=base_env(),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    (LOGS / "dev-ca.log").write_bytes(out)
    if proc.returncode != 0:
        raise RuntimeError(f"the development CA could not be created; see {LOGS / 'dev-ca.log'}")


async def _migrate(python: str, spec: ServiceSpec) -> None:
    env = base_env() | database_env(spec)
    proc = await asyncio.create_subprocess_exec(
        python,
        "-m",
        spec.module,
        "migrate",
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    (LOGS / f"{spec.name}-migrate.log").write_bytes(out)
    if proc.returncode != 0:
        raise RuntimeError(f"migrations of {spec.name} failed; see {LOGS / (spec.name + '-migrate.log')}")


def print_welcome(description: dict[str, Any]) -> None:
    kc = description["keycloak"]
    lines = [
        "",
        "Nền tảng trường học đang chạy / the school platform is running",
        f"  Gateway (REST /v1):   {description['gateway_url']}/v1",
        f"  API docs:             {description['gateway_url']}/docs",
        f"  Keycloak:             {kc['base_url']}   (admin / {kc.get('admin', {}).get('password', '')})",
        f"  NATS:                 {description['nats']['url']}",
        f"  PostgreSQL:           {HOST}:{PG_PORT}",
        f"  Citizen registry:     http://{HOST}:{POPULATION_PORT}   (simulator, key {POPULATION_API_KEY})",
        f"  Logs:                 {description['logs']}",
        "  Demo sign-ins (development only):",
    ]
    for slug, realm in kc.get("realms", {}).items():
        for user in realm.get("users", []):
            lines.append(
                f"    {slug:6} {user['username']:24} {user['password']:12} {', '.join(user['roles'])}"
            )
    lines.append(f"  Details for scripts and tests: {STACK_FILE}")
    lines.append(
        f"  Started in {description.get('started_in_s')}s. Ctrl-C (or 'make down') stops everything."
    )
    print("\n".join(lines), flush=True)


async def supervise(stack: Stack, stop: asyncio.Event) -> None:
    """Restarts a service or the gateway that died (with backoff); infrastructure deaths are reported."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=2)
        if stop.is_set():
            return
        for child in stack.children:
            if child.process is not None and not child.alive() and not stack.stopping:
                code = child.process.popen.returncode
                if not child.restart or child.restarts >= 5:
                    _say(f"{child.name} exited ({code}); see {LOGS / (child.name + '.log')}")
                    child.process = None
                    continue
                child.restarts += 1
                _say(f"{child.name} exited ({code}); restarting ({child.restarts}/5)")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=min(2**child.restarts, 10))
                if stop.is_set():
                    return
                child.start()
                stack.record_pids()


async def run_foreground() -> int:
    RUN.mkdir(parents=True, exist_ok=True)
    if _running_pid() not in (None, os.getpid()):
        _say("a stack is already running: 'make down' stops it")
        return 1
    PID_FILE.write_text(f"{os.getpid()} {_started(os.getpid())}")
    STACK_FILE.unlink(missing_ok=True)
    stack = Stack()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    code = 0
    try:
        starting = asyncio.create_task(start_stack(stack))
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            print_welcome(starting.result())
            await supervise(stack, stop)
        else:
            starting.cancel()
            with contextlib.suppress(BaseException):
                await starting
    except Exception as exc:
        _say(f"failed: {exc}")
        code = 1
    finally:
        _say("stopping everything")
        stack.stop_all()
        STACK_FILE.unlink(missing_ok=True)
        PID_FILE.unlink(missing_ok=True)
        _say("stopped")
    return code


def _started(pid: int) -> str:
    import psutil

    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except psutil.Error:
        return "gone"


def _running_pid() -> int | None:
    try:
        pid, started = PID_FILE.read_text().split()
        return int(pid) if _started(int(pid)) == started else None
    except (FileNotFoundError, ValueError):
        return None


def running() -> int:
    """0 when a supervisor is alive and its stack is ready (for the Makefile), 1 otherwise."""
    try:
        ready = json.loads(STACK_FILE.read_text()).get("state") == "ready"
    except (FileNotFoundError, ValueError):
        ready = False
    return 0 if ready and _running_pid() else 1


def up(timeout_s: float = 900) -> int:
    RUN.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    if _running_pid():
        if STACK_FILE.exists():
            _say("already running")
            return 0
        _say("a stack is starting or stuck: 'make down' first")
        return 1
    STACK_FILE.unlink(missing_ok=True)
    log_path = LOGS / "stack.log"
    log_path.touch()
    offset = log_path.stat().st_size
    child = Process.spawn("stack", [sys.executable, "-m", "school_stack", "run"], log=log_path, cwd=REPO)
    began = time.monotonic()
    while True:
        with open(log_path, "rb") as f:
            f.seek(offset)
            chunk = f.read()
            offset += len(chunk)
        if chunk:
            sys.stdout.write(chunk.decode(errors="replace"))
            sys.stdout.flush()
        if STACK_FILE.exists() and json.loads(STACK_FILE.read_text()).get("state") == "ready":
            return 0
        if not child.alive():
            _say(f"the stack failed to start; see {log_path}")
            return 1
        if time.monotonic() - began > timeout_s:
            _say("the stack did not start in time")
            child.stop()
            return 1
        time.sleep(0.5)


def down(timeout_s: float = 60) -> int:
    pid = _running_pid()
    if pid:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _running_pid():
            time.sleep(0.3)
    # Whatever the supervisor could not stop (it was killed, say): its children's process groups.
    if PIDS_FILE.exists():
        for line in PIDS_FILE.read_text().splitlines():
            with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
                child_pid, started = line.split()
                if _started(int(child_pid)) == started:  # not a recycled pid
                    os.killpg(int(child_pid), signal.SIGKILL)
        PIDS_FILE.unlink(missing_ok=True)
    if pid and _running_pid():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    PID_FILE.unlink(missing_ok=True)
    STACK_FILE.unlink(missing_ok=True)
    _say("stopped" if pid else "not running")
    return 0


async def status() -> int:
    if not _running_pid():
        print("the stack is not running ('make up' or 'make run' starts it)")
        return 1
    rows = []
    for spec in SERVICES:
        try:
            ok = await grpc_ready(spec.port)
        except Exception:
            ok = False
        rows.append((spec.name, f"grpc {HOST}:{spec.port}", ok))
    for name, url in (
        ("gateway", f"http://{HOST}:{GATEWAY_PORT}/readyz"),
        ("citizen-registry", f"http://{HOST}:{POPULATION_PORT}/healthz"),
        ("keycloak", f"http://{HOST}:{KC_MANAGEMENT_PORT}/health/ready"),
        ("nats", f"http://{HOST}:{NATS_MONITOR_PORT}/healthz?js-enabled-only=true"),
    ):
        try:
            ok = await http_ok(url)
        except Exception:
            ok = False
        rows.append((name, url, ok))
    try:
        ok = await _pg_ok()
    except Exception:
        ok = False
    rows.append(("postgres", f"{HOST}:{PG_PORT}", ok))
    for name, where, ok in rows:
        print(f"  {'ready  ' if ok else 'NOT READY'}  {name:16} {where}")
    return 0 if all(ok for *_, ok in rows) else 1

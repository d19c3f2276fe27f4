"""The attendance benchmark: the morning burst of class registers, as an open model.

Every morning each class's teacher submits the class's register within the same half hour. The issue's
aim: **≥ 300 class submissions per second with p99 ≤ 300 ms** on this machine (four times the modelled peak
of Hồ Chí Minh City's ~51,000 classes), against a raw PostgreSQL upsert of the same rows in the same run,
and the latency from an absence to its event on NATS.

Setup (through the gateway as the demo tenant's authority admin, fast paths straight to the services): a
school of its own with enough grade-6 classes of 40 students in the *current* school year (the one that
contains today in Việt Nam; August starts a new one), the year defined from 1 August (``school_year.defined``
tells attendance its dates), an attendance calendar that runs every weekday 1–7 with both sessions, the
students enrolled by gRPC to student-record, and a wait until attendance's roster of every class holds
40. Registers (class, date, session) run from today backwards, so every submission is the **first**
marking of its register, as in the real morning burst.

Phases, each an open model: arrivals on a fixed schedule at rate R for ``warm-up + duration`` seconds (the
warm-up's arrivals are not counted), each a whole class (about 95 % present, 3 % absent unexcused, 2 %
late; deterministic per register), latency measured from each request's *scheduled* start (no
coordinated omission), requests launched whether or not earlier ones have answered:

- ``att_gateway_<R>``: ``PUT /v1/attendance/classes/{id}/registers/{date}/{session}`` through the
  gateway, for each step of the ladder (the last step is the aim's rate);
- ``att_grpc_<R>``: ``MarkAttendance`` straight to attendance at the knee — the gateway's share;
- ``att_raw_pg_<R>``: the same rows as the gateway's step at that rate upserted by asyncpg into a
  scratch copy of ``attendance_marks`` (``bench_scratch`` schema, same columns, keys and indexes, no RLS,
  emptied before each raw step) with a multi-row ``INSERT … VALUES (…), … ON CONFLICT DO UPDATE``, one
  statement per submission, a pool of 10 connections (the service's own pool is 5 + 5) — the
  database's floor for the write; ``att_raw_pg_unnest_<R>``: the same rows as arrays
  (``INSERT … SELECT FROM unnest(…) ON CONFLICT …``, the shape the service uses since it stopped
  compiling a 480-parameter statement per submission). Raw steps run at the knee (the highest gateway
  step meeting the aim's latency) and at the aim's rate.

During the gateway and gRPC phases a plain NATS subscription to ``school.attendance.absence.recorded.v1``
matches every ``AbsenceRecorded`` (student, date, session) to the submission that made it: latency from
the submission's response (and from its send) to the event's arrival. CPU time of each component per
submission (psutil), and the resident memory of the gateway and attendance before and after, say where
the time goes. When the aim is missed (or with ``--attendance-profile``) a few submissions are also run
in this process straight through ``RegisterService.mark`` with each SQL statement timed and cProfile on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import cProfile
import functools
import io
import json
import math
import multiprocessing
import os
import pstats
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import httpx
from school.attendance.v1 import attendance_pb2 as at_pb
from school.attendance.v1 import attendance_pb2_grpc as at_grpc
from school.student_record.v1 import student_record_pb2 as sr_pb
from school.student_record.v1 import student_record_pb2_grpc as sr_grpc

from bench.measure import Result, letters, percentile

CLASS_SIZE = 40
AIM_RATE = 300.0
AIM_P99_MS = 300.0
#: Hồ Chí Minh City: about 51,000 classes marking within the morning's half hour; the aim is four times
#: the modelled peak (so the peak modelled is 75 submissions a second).
HCMC_CLASSES = 51_000
MODELLED_PEAK = AIM_RATE / 4
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SUBJECT = "school.attendance.absence.recorded.v1"
SCRATCH_SCHEMA = "bench_scratch"
RAW_POOL = 10
#: Classes the setup creates at most (40 students each, enrolled in a minute or two).
MAX_CLASSES = 400
STATUS_PB = {
    "present": at_pb.ATTENDANCE_STATUS_PRESENT,
    "absent_unexcused": at_pb.ATTENDANCE_STATUS_ABSENT_UNEXCUSED,
    "late": at_pb.ATTENDANCE_STATUS_LATE,
}
SESSION_PB = {"morning": at_pb.SESSION_MORNING, "afternoon": at_pb.SESSION_AFTERNOON}
#: Processes of the stack by a piece of their command line (as bench/run.py finds them).
COMPONENTS = {
    "-m gateway": "gateway",
    "-m attendance": "attendance",
    "-m identity": "identity",
    "-m student_record": "student-record",
    "-m messaging": "messaging",
    "-m payments": "payments",
    "-m health": "health",
    "-m simulators": "simulators",
    "nats-server": "nats",
    "keycloak": "keycloak",
}

Register = tuple[int, str, str]  # (class index, ISO date, "morning" | "afternoon")


# ---------------------------------------------------------------- the rows of a submission


def statuses(seed: int, register_index: int, size: int = CLASS_SIZE) -> list[str]:
    """About 95 % present, 3 % absent unexcused, 2 % late: the same for a register in every phase."""
    rng = random.Random(seed * 1_000_003 + register_index)
    out = []
    for _ in range(size):
        r = rng.random()
        out.append("present" if r < 0.95 else "absent_unexcused" if r < 0.98 else "late")
    return out


def absences(seed: int, register_index: int, students: Sequence[str]) -> list[str]:
    return [s for s, st in zip(students, statuses(seed, register_index, len(students)), strict=True)
            if st == "absent_unexcused"]  # fmt: skip


@dataclass
class Setup:
    tenant: str
    subject: str
    school_id: str
    school_year: str
    year_start: date
    classes: list[tuple[str, list[str]]]  # (class id, student ids)
    registers: list[Register]
    calendar_via: str
    seconds: float


@dataclass
class PhaseSpec:
    """What one load-generating process runs (picklable: it crosses to a spawned process)."""

    kind: str  # gateway | grpc | raw
    rate: float
    warmup_s: float
    duration_s: float
    worker: int
    workers: int
    first_index: int  # the phase's first register, in Setup.registers
    registers: list[Register]
    classes: list[tuple[str, list[str]]]
    school_id: str
    school_year: str
    tenant: str
    subject: str
    token: str
    seed: int
    gateway_url: str
    grpc_target: str
    pg_dsn: str
    max_in_flight: int
    timeout_s: float
    idempotency: bool
    run_id: str


# ---------------------------------------------------------------- load generation (worker processes)


async def _open_model(
    spec: PhaseSpec, t0: float, send: Callable[[int], Awaitable[int | str]]
) -> list[tuple[int, float, float, float, int | str]]:
    """Arrival j of the phase is due at t0 + j / rate; this worker takes j ≡ worker (mod workers).
    Each is launched at its time whatever is still in flight (up to ``max_in_flight``; beyond it the
    arrival is dropped and counted as an error ``not_sent``)."""
    rows: list[tuple[int, float, float, float, int | str]] = []
    in_flight = 0

    async def one(j: int, due: float) -> None:
        nonlocal in_flight
        in_flight += 1
        sent = time.monotonic()
        try:
            outcome = await send(j)
        except Exception as exc:
            outcome = type(exc).__name__
        finally:
            in_flight -= 1
        rows.append((j, due, sent, time.monotonic(), outcome))

    tasks = []
    for j in range(spec.worker, len(spec.registers), spec.workers):
        due = t0 + j / spec.rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if in_flight >= spec.max_in_flight:
            rows.append((j, due, math.nan, math.nan, "not_sent"))
            continue
        tasks.append(asyncio.create_task(one(j, due)))
    await asyncio.gather(*tasks)
    return rows


def mine(spec: PhaseSpec, j: int) -> bool:
    return j % spec.workers == spec.worker


def _gateway_bodies(spec: PhaseSpec) -> list[bytes]:
    """The JSON of every submission this worker sends (prepared before the clock starts)."""
    bodies = []
    for j, (c, _day, _session) in enumerate(spec.registers):
        if not mine(spec, j):
            bodies.append(b"")
            continue
        students = spec.classes[c][1]
        entries = [
            {"student_id": s, "status": st, "note": ""}
            for s, st in zip(students, statuses(spec.seed, spec.first_index + j, len(students)), strict=True)
        ]
        bodies.append(json.dumps({"entries": entries}).encode())
    return bodies


async def _run_gateway(spec: PhaseSpec, ready: Callable[[], float]) -> list[Any]:
    bodies = _gateway_bodies(spec)
    paths = [
        f"/v1/attendance/classes/{spec.classes[c][0]}/registers/{day}/{session}"
        for c, day, session in spec.registers
    ]
    limits = httpx.Limits(max_connections=spec.max_in_flight, max_keepalive_connections=spec.max_in_flight)
    headers = {"Authorization": f"Bearer {spec.token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(
        base_url=spec.gateway_url, limits=limits, timeout=spec.timeout_s, headers=headers
    ) as client:

        async def send(j: int) -> int | str:
            extra = {"Idempotency-Key": f"{spec.run_id}-{spec.first_index + j}"} if spec.idempotency else None
            response = await client.put(paths[j], content=bodies[j], headers=extra)
            return response.status_code

        return await _open_model(spec, ready(), send)


async def _run_grpc(spec: PhaseSpec, ready: Callable[[], float]) -> list[Any]:
    requests = []
    for j, (c, day, session) in enumerate(spec.registers):
        class_id, students = spec.classes[c]
        if not mine(spec, j):
            requests.append(at_pb.MarkAttendanceRequest())
            continue
        requests.append(
            at_pb.MarkAttendanceRequest(
                request_id=f"{spec.run_id}-{spec.first_index + j}" if spec.idempotency else "",
                class_id=class_id,
                date=day,
                session=SESSION_PB[session],
                entries=[
                    at_pb.MarkEntry(student_id=s, status=STATUS_PB[st])
                    for s, st in zip(students, statuses(spec.seed, spec.first_index + j), strict=True)
                ],
            )
        )
    metadata = (("authorization", f"Bearer {spec.token}"),)
    async with grpc.aio.insecure_channel(spec.grpc_target) as channel:
        stub = at_grpc.AttendanceServiceStub(channel)

        async def send(j: int) -> int | str:
            try:
                await stub.MarkAttendance(requests[j], metadata=metadata, timeout=spec.timeout_s)
            except grpc.aio.AioRpcError as error:
                return f"grpc_{error.code().name}"
            return 200

        return await _open_model(spec, ready(), send)


COLUMNS = ("id", "tenant_id", "school_id", "class_id", "day", "session", "student_id", "school_year",
           "status", "note", "marked_by", "leave_request_id")  # fmt: skip


def upsert_sql(rows: int, table: str = f"{SCRATCH_SCHEMA}.attendance_marks") -> str:
    """The service's statement (``insert(Mark).values([...]).on_conflict_do_update(...)``) for ``rows``."""
    width = len(COLUMNS)
    values = ", ".join(
        "(" + ", ".join(f"${r * width + k + 1}" for k in range(width)) + ")" for r in range(rows)
    )
    return (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES {values}"
        " ON CONFLICT (class_id, day, session, student_id) DO UPDATE SET status = excluded.status,"
        " note = excluded.note, marked_by = excluded.marked_by,"
        " leave_request_id = excluded.leave_request_id, updated_at = now()"
    )


UNNEST_SQL = (
    f"INSERT INTO {SCRATCH_SCHEMA}.attendance_marks ({', '.join(COLUMNS)})"
    " SELECT u.id, $1, $2, $3, $4, $5, u.student_id, $6, u.status, u.note, $7, u.leave_id"
    " FROM unnest($8::uuid[], $9::uuid[], $10::text[], $11::text[], $12::uuid[])"
    " AS u(id, student_id, status, note, leave_id)"
    " ON CONFLICT (class_id, day, session, student_id) DO UPDATE SET status = excluded.status,"
    " note = excluded.note, marked_by = excluded.marked_by,"
    " leave_request_id = excluded.leave_request_id, updated_at = now()"
)


async def _run_raw(spec: PhaseSpec, ready: Callable[[], float]) -> list[Any]:
    """``raw``: the multi-row VALUES upsert (480 parameters); ``raw_unnest``: the same rows as arrays
    (``INSERT … SELECT FROM unnest(…)``, the shape ``RegisterService.mark`` moved to)."""
    import asyncpg

    school = uuid.UUID(spec.school_id)
    args: list[list[Any]] = []
    for j, (c, day, session) in enumerate(spec.registers):
        class_id, students = spec.classes[c]
        values: list[Any] = []
        if not mine(spec, j):
            args.append(values)
            continue
        if spec.kind == "raw_unnest":
            marks = statuses(spec.seed, spec.first_index + j)
            args.append([spec.tenant, school, uuid.UUID(class_id), date.fromisoformat(day), session.upper(),
                         spec.school_year, spec.subject[:64], [uuid.uuid4() for _ in students],
                         [uuid.UUID(s) for s in students], [m.upper() for m in marks], [""] * len(students),
                         [None] * len(students)])  # fmt: skip
            continue
        for s, st in zip(students, statuses(spec.seed, spec.first_index + j), strict=True):
            values += [uuid.uuid4(), spec.tenant, school, uuid.UUID(class_id), date.fromisoformat(day),
                       session.upper(), uuid.UUID(s), spec.school_year, st.upper(), "", spec.subject[:64],
                       None]  # fmt: skip
        args.append(values)
    sql = UNNEST_SQL if spec.kind == "raw_unnest" else upsert_sql(CLASS_SIZE)
    size = max(1, math.ceil(RAW_POOL / spec.workers))
    pool = await asyncpg.create_pool(spec.pg_dsn, min_size=size, max_size=size)
    try:

        async def send(j: int) -> int | str:
            await pool.execute(sql, *args[j], timeout=spec.timeout_s)
            return 200

        return await _open_model(spec, ready(), send)
    finally:
        await pool.close()


def worker_main(conn: Connection, spec: PhaseSpec) -> None:
    """A load-generating process: prepares every request, says ready, waits for t0, runs, reports."""
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()

    def ready() -> float:
        conn.send("ready")
        return float(conn.recv())

    runner = {"gateway": _run_gateway, "grpc": _run_grpc, "raw": _run_raw, "raw_unnest": _run_raw}[spec.kind]
    began = time.process_time()
    try:
        rows = asyncio.run(runner(spec, ready))
        conn.send({"rows": rows, "cpu_s": time.process_time() - began})
    except Exception as exc:  # reported to the parent, which raises
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


# ---------------------------------------------------------------- the parent: setup


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def authority_token(stack: dict[str, Any]) -> str:
    kc = stack["keycloak"]
    realm = kc["realms"]["demo"]
    user = next(u for u in realm["users"] if "authority_admin" in u["roles"])
    async with httpx.AsyncClient(timeout=15) as client:
        response = await client.post(
            f"{kc['base_url']}/realms/{realm['realm']}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": realm["clients"]["dev_cli"],
                "username": user["username"],
                "password": user["password"],
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def current_school_year(today: date) -> tuple[str, date]:
    """The school year containing ``today`` (August starts a new one) and its first day here."""
    first = today.year if today.month >= 8 else today.year - 1
    return f"{first}-{first + 1}", date(first, 8, 1)


def pg_dsn(stack: dict[str, Any]) -> str:
    """The attendance database as its owner role (it may create the scratch schema)."""
    from school_stack.stack import dev_password

    pg = stack["postgres"]
    return (
        f"postgresql://attendance_owner:{dev_password('attendance_owner')}@{pg['host']}:{pg['port']}/"
        f"{stack['services']['attendance']['database']}"
    )


async def gather_limited(calls: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Awaitable[Any]]) -> Any:
        async with semaphore:
            return await call()

    return list(await asyncio.gather(*(run(c) for c in calls)))


async def configure_calendar(api: httpx.AsyncClient, at_stub: Any, metadata: tuple, school_id: str) -> str:
    """Every weekday, both sessions; through the gateway's route, or by gRPC while the route is missing."""
    body = {
        "sessions": ["morning", "afternoon"],
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "main_session": "morning",
        "morning_cutoff": "10:00",
        "afternoon_cutoff": "16:00",
    }
    response = await api.put(f"/v1/attendance/schools/{school_id}/calendar", json=body)
    if response.is_success:
        return "gateway"
    if response.status_code not in (404, 405):
        raise RuntimeError(f"calendar refused: {response.status_code} {response.text[:300]}")
    await at_stub.ConfigureSchoolCalendar(
        at_pb.ConfigureSchoolCalendarRequest(
            calendar=at_pb.SchoolCalendar(
                school_id=school_id,
                sessions=[at_pb.SESSION_MORNING, at_pb.SESSION_AFTERNOON],
                weekdays=[1, 2, 3, 4, 5, 6, 7],
                main_session=at_pb.SESSION_MORNING,
                morning_cutoff="10:00",
                afternoon_cutoff="16:00",
                afternoon_starts="12:00",
                absence_warning_at=35,
            )
        ),
        metadata=metadata,
        timeout=10,
    )
    return "grpc (the gateway's calendar route was not there)"


async def wait_for_year(dsn: str, tenant: str, school_id: str, timeout_s: float = 60) -> tuple[date, date]:
    """Until attendance has recorded the school year (``school_year.defined``)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
                row = await conn.fetchrow(
                    "SELECT starts_on, ends_on FROM school_years WHERE school_id = $1", uuid.UUID(school_id)
                )
            if row is not None:
                return row["starts_on"], row["ends_on"]
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    raise RuntimeError("attendance did not learn the school year (school_year.defined) within a minute")


async def set_up(stack: dict[str, Any], args: Any, registers_needed: int) -> Setup:
    began = time.monotonic()
    bearer = await authority_token(stack)
    claims = jwt_claims(bearer)
    tenant = str(claims["iss"]).rsplit("/", 1)[-1].removeprefix("tenant-")
    metadata = (("authorization", f"Bearer {bearer}"),)
    today = datetime.now(ZONE).date()
    school_year, year_start = current_school_year(today)
    first = int(school_year[:4])
    if (today - year_start).days < 60:
        # Early in a school year too few days lie behind us for first markings: this school's year starts
        # in January (student-record takes any date of the year's two calendar years).
        year_start = date(first, 1, 2)
    days = [today - timedelta(days=n) for n in range((today - year_start).days + 1)]
    per_class = len(days) * 2
    classes_needed = args.attendance_classes or min(
        MAX_CLASSES, max(10, math.ceil(registers_needed * 1.05 / per_class))
    )
    print(
        f"  attendance setup: {classes_needed} classes × {CLASS_SIZE} in {school_year}, {len(days)} days "
        f"× 2 sessions = {classes_needed * per_class} registers for {registers_needed} submissions",
        flush=True,
    )
    async with (
        httpx.AsyncClient(
            base_url=stack["gateway_url"], timeout=60, headers={"Authorization": f"Bearer {bearer}"}
        ) as api,
        grpc.aio.insecure_channel(stack["services"]["student-record"]["grpc"]) as sr_channel,
        grpc.aio.insecure_channel(stack["services"]["attendance"]["grpc"]) as at_channel,
    ):
        sr = sr_grpc.StudentRecordServiceStub(sr_channel)
        at = at_grpc.AttendanceServiceStub(at_channel)
        response = await api.post(
            "/v1/schools",
            json={"name": f"Trường Điểm Danh {os.getpid()}-{time.time_ns()}", "levels": ["lower_secondary"]},
        )
        response.raise_for_status()
        school_id = str(response.json()["id"])
        response = await api.put(
            f"/v1/schools/{school_id}/school-years/{school_year}",
            json={
                "semester_1_start": year_start.isoformat(),
                "semester_1_end": f"{first + 1}-01-10",
                "semester_2_start": f"{first + 1}-01-12",
                "semester_2_end": f"{first + 1}-07-31",
            },
        )
        response.raise_for_status()

        async def make_class(i: int) -> str:
            created = await api.post(
                f"/v1/schools/{school_id}/classes",
                json={"name": f"6A{i + 1}", "grade": 6, "school_year": school_year},
            )
            created.raise_for_status()
            return str(created.json()["id"])

        class_ids = await gather_limited([functools.partial(make_class, i) for i in range(classes_needed)], 8)

        async def enrol(class_id: str, n: int) -> str:
            enrolled = await sr.EnrolStudent(
                sr_pb.EnrolStudentRequest(
                    class_id=class_id,
                    new_student=sr_pb.NewStudent(
                        full_name=f"Học Sinh {letters(n)}",
                        date_of_birth="2014-06-01",
                        sex=sr_pb.SEX_FEMALE if n % 2 else sr_pb.SEX_MALE,
                    ),
                ),
                metadata=metadata,
                timeout=30,
            )
            return str(enrolled.student.id)

        enrol_began = time.monotonic()
        calls = [functools.partial(enrol, c, n) for c in class_ids for n in range(CLASS_SIZE)]
        student_ids = await gather_limited(calls, 16)
        print(
            f"  enrolled {len(student_ids)} students in {time.monotonic() - enrol_began:.1f} s (gRPC)",
            flush=True,
        )
        classes = [(c, student_ids[i * CLASS_SIZE : (i + 1) * CLASS_SIZE]) for i, c in enumerate(class_ids)]

        deadline = time.monotonic() + 300
        waiting = set(class_ids)
        while waiting:
            for class_id in list(waiting):
                try:
                    roster = await at.GetClassRoster(
                        at_pb.GetClassRosterRequest(class_id=class_id), metadata=metadata, timeout=10
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    continue
                if len(roster.entries) >= CLASS_SIZE:
                    waiting.discard(class_id)
            if waiting:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(waiting)} rosters not complete in attendance after 5 minutes")
                await asyncio.sleep(0.5)
        calendar_via = await configure_calendar(api, at, metadata, school_id)
    starts_on, ends_on = await wait_for_year(pg_dsn(stack), tenant, school_id)
    days = [d for d in days if starts_on <= d <= ends_on]
    registers = [(c, d.isoformat(), s) for d in days for s in ("morning", "afternoon") for c in
                 range(len(classes))]  # fmt: skip
    return Setup(
        tenant=tenant,
        subject=str(claims["sub"]),
        school_id=school_id,
        school_year=school_year,
        year_start=starts_on,
        classes=classes,
        registers=registers,
        calendar_via=calendar_via,
        seconds=round(time.monotonic() - began, 1),
    )


async def create_scratch(dsn: str) -> None:
    """``bench_scratch.attendance_marks``: the service's table (columns, defaults, checks, keys, indexes),
    without its rows and its row-level security."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCRATCH_SCHEMA}")
        await conn.execute(f"DROP TABLE IF EXISTS {SCRATCH_SCHEMA}.attendance_marks")
        await conn.execute(
            f"CREATE TABLE {SCRATCH_SCHEMA}.attendance_marks (LIKE public.attendance_marks INCLUDING ALL)"
        )
    finally:
        await conn.close()


async def drop_scratch(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE")
    finally:
        await conn.close()


# ---------------------------------------------------------------- the parent: measuring


def process_cpu(pg_port: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of each component of the stack, of this process, and of the
    whole machine. PostgreSQL is the stack's cluster (the postmaster on ``pg_port`` and its backends; test
    clusters of other work on the machine are not counted); backends come and go with their connections,
    so the postmaster's reaped children are counted too, and a closed connection's CPU stays in the sum."""
    import psutil

    totals: dict[str, float] = {}
    for process in psutil.process_iter(["cmdline", "username"]):
        try:
            argv = process.info["cmdline"] or []
            times = process.cpu_times()
            if process.info["username"] == "embedded_postgres":
                port = argv[argv.index("-p") + 1] if "-p" in argv[:-1] else ""
                if "-D" not in argv or port != str(pg_port):
                    continue  # a backend (counted with its postmaster), or another cluster
                used = times.user + times.system + times.children_user + times.children_system
                for child in process.children():
                    with contextlib.suppress(psutil.Error):
                        child_times = child.cpu_times()
                        used += child_times.user + child_times.system
                totals["postgres"] = totals.get("postgres", 0.0) + used
                continue
            cmdline = " ".join(argv)
            name = next((n for marker, n in COMPONENTS.items() if marker in cmdline), None)
            if name is not None:
                totals[name] = totals.get(name, 0.0) + times.user + times.system
        except psutil.Error:
            continue
    own = psutil.Process().cpu_times()
    totals["bench (parent)"] = own.user + own.system
    machine = psutil.cpu_times()
    total = sum(machine)
    totals["_machine_busy"] = total - machine.idle - getattr(machine, "iowait", 0.0)
    totals["_machine_total"] = total
    return totals


def resident(markers: Sequence[str] = ("-m gateway", "-m attendance")) -> dict[str, float]:
    """Resident set size (MiB) of the gateway and attendance processes."""
    import psutil

    out: dict[str, float] = {}
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        for marker in markers:
            if marker in cmdline:
                with contextlib.suppress(psutil.Error):
                    name = marker.removeprefix("-m ")
                    out[name] = round(out.get(name, 0.0) + process.memory_info().rss / 2**20, 1)
    return out


async def quiet(max_s: float, busy_pct: float = 25.0) -> float:
    """Wait (at most ``max_s``) until the machine is quiet: what earlier work left behind (the setup's
    events reaching every consumer, a saturated step's backlog) must not count against the next step."""
    import psutil

    began = time.monotonic()
    calm = 0
    while time.monotonic() - began < max_s and calm < 2:
        busy = await asyncio.to_thread(psutil.cpu_percent, 1.0)
        calm = calm + 1 if busy < busy_pct else 0
    return round(time.monotonic() - began, 1)


class AbsenceListener:
    """A plain NATS subscription to the absence events; arrival times kept, payloads parsed later."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.arrivals: list[tuple[float, bytes]] = []
        self.nc: Any = None

    async def start(self) -> None:
        import nats

        async def on_message(msg: Any) -> None:
            self.arrivals.append((time.monotonic(), msg.data))

        self.nc = await nats.connect(self.url, connect_timeout=5)
        await self.nc.subscribe(SUBJECT, cb=on_message, pending_msgs_limit=1_000_000)
        await self.nc.flush()

    async def stop(self) -> None:
        if self.nc is not None:
            await self.nc.drain()

    def keys(self, start: int = 0) -> dict[tuple[str, str, str], float]:
        from school.events.attendance.v1 import events_pb2 as events

        out: dict[tuple[str, str, str], float] = {}
        for arrived, data in self.arrivals[start:]:
            event = events.AbsenceRecorded()
            event.ParseFromString(data)
            out.setdefault((event.student_id, event.date, event.session.upper()), arrived)
        return out


@dataclass
class Phase:
    name: str
    kind: str
    rate: float
    first_index: int
    count: int
    rows: list[tuple[int, float, float, float, int | str]] = field(default_factory=list)
    generator_cpu_s: float = 0.0
    quiet_wait_s: float = 0.0
    cpu_before: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    window_s: float = 0.0

    def cpu_done(self, pg_port: int) -> None:
        """CPU used since the phase started: called once its events are out (the relay's work counts)."""
        self.cpu = {k: v - self.cpu_before.get(k, 0.0) for k, v in process_cpu(pg_port).items()}


async def run_phase(
    stack: dict[str, Any], setup: Setup, args: Any, kind: str, rate: float, first_index: int, token: str
) -> Phase:
    count = math.ceil(rate * (args.attendance_warmup + args.attendance_duration))
    registers = setup.registers[first_index : first_index + count]
    if len(registers) < count:
        raise RuntimeError("not enough registers for the phase: raise --attendance-classes")
    workers = max(1, args.attendance_clients)
    prefix = {
        "gateway": "att_gateway",
        "grpc": "att_grpc",
        "raw": "att_raw_pg",
        "raw_unnest": "att_raw_pg_unnest",
    }
    name = f"{prefix[kind]}_{rate:g}"
    phase = Phase(name, kind, rate, first_index, count)
    phase.quiet_wait_s = await quiet(args.attendance_quiet_wait)
    context = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    for k in range(workers):
        parent, child = context.Pipe()
        spec = PhaseSpec(
            kind=kind,
            rate=rate,
            warmup_s=args.attendance_warmup,
            duration_s=args.attendance_duration,
            worker=k,
            workers=workers,
            first_index=first_index,
            registers=registers,
            classes=setup.classes,
            school_id=setup.school_id,
            school_year=setup.school_year,
            tenant=setup.tenant,
            subject=setup.subject,
            token=token,
            seed=args.attendance_seed,
            gateway_url=stack["gateway_url"],
            grpc_target=stack["services"]["attendance"]["grpc"],
            pg_dsn=pg_dsn(stack),
            max_in_flight=args.attendance_max_in_flight,
            timeout_s=args.attendance_timeout,
            idempotency=not args.attendance_no_idempotency_key,
            run_id=f"bench-{setup.school_id[-12:]}",
        )
        process = context.Process(target=worker_main, args=(child, spec), daemon=True)
        process.start()
        child.close()
        pipes.append(parent)
        processes.append(process)
    try:
        for pipe in pipes:  # every worker has built its requests and connected
            message = await asyncio.to_thread(pipe.recv)
            if message != "ready":
                raise RuntimeError(f"load generator failed: {message}")
        phase.cpu_before = process_cpu(int(stack["postgres"]["port"]))
        t0 = time.monotonic() + 0.2
        for pipe in pipes:
            pipe.send(t0)
        for pipe in pipes:
            message = await asyncio.to_thread(pipe.recv)
            if "error" in message:
                raise RuntimeError(f"load generator failed: {message['error']}")
            phase.rows += message["rows"]
            phase.generator_cpu_s += message["cpu_s"]
        phase.window_s = time.monotonic() - t0
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
    phase.rows.sort()
    return phase


def succeeded(outcome: int | str) -> bool:
    return isinstance(outcome, int) and 200 <= outcome < 300


def summarize(phase: Phase, args: Any, setup: Setup, listener: AbsenceListener | None,
              events_from: int) -> tuple[Result, dict[str, Any]]:  # fmt: skip
    warm = args.attendance_warmup
    t0 = min(r[1] for r in phase.rows)
    measured = [r for r in phase.rows if r[1] - t0 >= warm]
    ok = [r for r in measured if succeeded(r[4])]
    errors = Counter(str(r[4]) for r in measured if not succeeded(r[4]))
    sent = [r for r in measured if not math.isnan(r[2])]
    latencies = [(r[3] - r[1]) * 1000 for r in sent]
    lag = [(r[2] - r[1]) * 1000 for r in sent]
    window_start = t0 + warm
    last = max((r[3] for r in ok), default=window_start)
    achieved = len(ok) / max(last - window_start, 1e-9)
    # Peak in flight: the most requests sent and not yet answered at once.
    edges = sorted([(r[2], 1) for r in sent] + [(r[3], -1) for r in sent])
    peak = running = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    result = Result(
        phase.name,
        len(measured),
        len(measured) - len(ok),
        peak,
        round(last - window_start, 3),
        round(achieved, 1),
        round(percentile(latencies, 50), 2),
        round(percentile(latencies, 90), 2),
        round(percentile(latencies, 99), 2),
        round(max(latencies or [math.nan]), 2),
    )
    successes_all = [r for r in phase.rows if succeeded(r[4])]
    per = 1000 / max(len(successes_all), 1)
    named = {k: v for k, v in phase.cpu.items() if not k.startswith("_")}
    named["load generator"] = phase.generator_cpu_s
    # What the machine did besides: processes outside the stack, the kernel's own work.
    named["other"] = max(0.0, phase.cpu.get("_machine_busy", 0.0) - sum(named.values()))
    cpu_ms = {k: round(v * per, 2) for k, v in sorted(named.items()) if v * per >= 0.05}
    total = phase.cpu.get("_machine_total", 0.0)
    other = named["other"]
    detail: dict[str, Any] = {
        "name": phase.name,
        "kind": phase.kind,
        "offered_per_s": phase.rate,
        "achieved_per_s": round(achieved, 1),
        "measured": len(measured),
        "ok": len(ok),
        "errors_by_status": dict(errors),
        "p50_ms": result.p50_ms,
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": result.p99_ms,
        "max_ms": result.max_ms,
        "peak_in_flight": peak,
        "generator_lag_p50_ms": round(percentile(lag, 50), 2),
        "generator_lag_p99_ms": round(percentile(lag, 99), 2),
        "cpu_ms_per_submission": cpu_ms,
        "machine_busy_pct": round(phase.cpu.get("_machine_busy", 0.0) / total * 100, 1) if total else None,
        # Work outside the stack and this benchmark meanwhile (other jobs on the machine): high means the
        # step competed for the two cores and its latencies are pessimistic.
        "other_busy_pct": round(other / total * 100, 1) if total else None,
        "window_s": round(phase.window_s, 1),
        "quiet_wait_s": phase.quiet_wait_s,
    }
    if listener is not None and not phase.kind.startswith("raw"):
        detail["events"] = event_latency(phase, setup, args, listener, events_from)
    return result, detail


def expected_absences(
    phase: Phase, setup: Setup, seed: int
) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(student, date, SESSION) → (sent, answered) of the successful submission that recorded it."""
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    for j, _due, sent, done, outcome in phase.rows:
        if not succeeded(outcome):
            continue
        index = phase.first_index + j
        c, day, session = setup.registers[index]
        for student in absences(seed, index, setup.classes[c][1]):
            out[(student, day, session.upper())] = (sent, done)
    return out


def event_latency(
    phase: Phase, setup: Setup, args: Any, listener: AbsenceListener, events_from: int
) -> dict[str, Any]:
    expected = expected_absences(phase, setup, args.attendance_seed)
    arrived = listener.keys(events_from)
    from_response, from_send = [], []
    for key, (sent, done) in expected.items():
        if key in arrived:
            from_response.append((arrived[key] - done) * 1000)
            from_send.append((arrived[key] - sent) * 1000)
    return {
        "expected": len(expected),
        "matched": len(from_response),
        "after_response_p50_ms": round(percentile(from_response, 50), 1),
        "after_response_p99_ms": round(percentile(from_response, 99), 1),
        "after_response_max_ms": round(max(from_response or [math.nan]), 1),
        "after_send_p50_ms": round(percentile(from_send, 50), 1),
        "after_send_p99_ms": round(percentile(from_send, 99), 1),
        "before_response": sum(1 for v in from_response if v < 0),
    }


async def wait_for_events(
    phase: Phase, setup: Setup, args: Any, listener: AbsenceListener, start: int
) -> None:
    """Until every absence of the phase reached NATS (or ``--attendance-event-wait`` seconds): the next
    phase starts with the outbox empty."""
    expected = set(expected_absences(phase, setup, args.attendance_seed))
    deadline = time.monotonic() + args.attendance_event_wait
    while time.monotonic() < deadline:
        if expected <= set(listener.keys(start)):
            return
        await asyncio.sleep(0.25)


async def profile_marks(stack: dict[str, Any], setup: Setup, args: Any, first_index: int) -> dict[str, Any]:
    """``RegisterService.mark`` in this process (no gRPC, no gateway, scope answered locally), one
    submission at a time: wall time, each SQL statement's time (sent until answered), and cProfile."""
    from attendance.registers.service import RegisterService
    from school.identity.v1 import identity_pb2 as idpb
    from school_common.access import Callers, ScopeResolver
    from school_common.context import Principal, set_principal
    from school_common.db import Database
    from school_common.events import Outbox
    from school_common.settings import DatabaseSettings
    from school_stack.stack import dev_password
    from sqlalchemy import event

    pg = stack["postgres"]
    app = "attendance_app"
    url = f"postgresql+asyncpg://{app}:{dev_password(app)}@{pg['host']}:{pg['port']}/attendance"
    db = Database(DatabaseSettings(url=url), "bench-profile")

    async def scope(principal: Principal) -> Any:
        return idpb.GetAccessScopeResponse(subject=principal.subject, tenant_wide=True)

    service = RegisterService(
        db, Callers(ScopeResolver(scope)), Outbox("attendance"), lambda: datetime.now(UTC)
    )
    set_principal(Principal(tenant=setup.tenant, subject=setup.subject, roles=frozenset({"authority_admin"})))
    sql_time: defaultdict[str, float] = defaultdict(float)
    sql_count: Counter[str] = Counter()
    started: dict[int, float] = {}
    compiled: defaultdict[str, float] = defaultdict(float)
    compiled_count: Counter[str] = Counter()
    timing = [True]

    def label(statement: str) -> str:
        words = statement.split()
        head = words[0].upper() if words else "?"
        if head == "SELECT" and "set_config" in statement:
            return "SELECT set_config (tenant)"
        if head in ("COMMIT", "BEGIN", "ROLLBACK"):
            return head
        table = next((w.strip('"') for w in words[1:] if w.strip('"') in TABLES), "")
        if not table and len(words) > 1:  # SELECT pg_try_advisory_xact_lock(…) and the like
            table = words[1].split("(")[0]
        return f"{head} {table}".strip()

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    @event.listens_for(db.engine.sync_engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, *_: Any) -> None:
        if not timing[0]:
            return
        name = label(statement)
        sql_time[name] += time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        sql_count[name] += 1
        # SQLAlchemy's compiled cache: "generated in 0.01s" is a statement compiled for this call, "cached
        # since …" one compiled once for all (private API: the figure its echo log prints).
        with contextlib.suppress(Exception):
            stats = str(context._get_cache_stats())
            if stats.startswith("generated in"):
                compiled[name] += float(stats.split()[2].rstrip("s"))
                compiled_count[name] += 1

    @event.listens_for(db.engine.sync_engine, "commit")
    def _commit(conn: Any) -> None:
        if not timing[0]:
            return
        sql_count["COMMIT"] += 1

    def request(index: int) -> at_pb.MarkAttendanceRequest:
        c, day, session = setup.registers[index]
        class_id, students = setup.classes[c]
        return at_pb.MarkAttendanceRequest(
            request_id=f"bench-profile-{setup.school_id[-12:]}-{index}"
            if not args.attendance_no_idempotency_key
            else "",
            class_id=class_id,
            date=day,
            session=SESSION_PB[session],
            entries=[
                at_pb.MarkEntry(student_id=s, status=STATUS_PB[st])
                for s, st in zip(students, statuses(args.attendance_seed, index), strict=True)
            ],
        )

    n = args.attendance_profile_calls
    try:
        for i in range(5):  # warm: pool, prepared statements, caches
            await service.mark(request(first_index + i))
        for counter in (sql_time, sql_count, compiled, compiled_count):
            counter.clear()
        walls = []
        cpu_began = time.process_time()
        for i in range(n):  # plain: wall and CPU time, each statement timed
            began = time.perf_counter()
            await service.mark(request(first_index + 5 + i))
            walls.append((time.perf_counter() - began) * 1000)
        cpu_ms = (time.process_time() - cpu_began) * 1000 / n
        timing[0] = False  # the statements of the plain calls only
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(n):
            await service.mark(request(first_index + 5 + n + i))
        profiler.disable()
    finally:
        set_principal(None)
        await db.dispose()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    top = []
    for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in sorted(
        table.items(), key=lambda item: item[1][2], reverse=True
    )[:15]:
        short = filename.split("site-packages/")[-1].split("/src/")[-1]
        top.append({"function": f"{short}:{line}({function})", "calls_per_mark": round(calls / n, 1),
                    "self_ms_per_mark": round(tottime * 1000 / n, 3),
                    "cumulative_ms_per_mark": round(cumtime * 1000 / n, 3)})  # fmt: skip
    # The platform's own functions by cumulative time: the stages of a submission.
    stages: list[dict[str, Any]] = []
    for (filename, line, function), (_cc, _calls, _tottime, cumtime, _callers) in sorted(
        table.items(), key=lambda item: item[1][3], reverse=True
    ):
        if ("/services/attendance/src/" in filename or "/libs/common/src/" in filename) and len(stages) < 14:
            short = filename.split("/src/")[-1]
            stages.append({"function": f"{short}:{line}({function})",
                           "cumulative_ms_per_mark": round(cumtime * 1000 / n, 3)})  # fmt: skip
    sql = {k: {"ms_per_mark": round(v * 1000 / n, 3), "per_mark": round(sql_count[k] / n, 2),
               "compiled_per_mark": round(compiled_count[k] / n, 2),
               "compile_ms_per_mark": round(compiled[k] * 1000 / n, 3)}
           for k, v in sorted(sql_time.items(), key=lambda item: -item[1])}  # fmt: skip
    sql_total = sum(sql_time.values()) * 1000 / n
    wall = sum(walls) / n
    return {
        "calls": n,
        "wall_ms_per_mark": round(wall, 2),
        "wall_p50_ms": round(percentile(walls, 50), 2),
        "cpu_ms_per_mark": round(cpu_ms, 2),
        "sql_ms_per_mark": round(sql_total, 2),
        "statements_per_mark": round(sum(sql_count.values()) / n, 1),
        "compiled_per_mark": round(sum(compiled_count.values()) / n, 2),
        "compile_ms_per_mark": round(sum(compiled.values()) * 1000 / n, 2),
        "sql": sql,
        "top_self_time": top,
        "own_code_cumulative": stages,
    }


TABLES = {"attendance_marks", "attendance_mark_changes", "roster_entries", "roster_classes",
          "school_calendars", "school_years", "leave_requests", "outbox_events", "idempotency_keys",
          "gate_check_ins"}  # fmt: skip


def ladder(args: Any) -> list[float]:
    return sorted({float(x) for x in args.attendance_ladder.split(",") if x.strip()} | {args.attendance_rate})


def registers_needed(args: Any) -> int:
    """Gateway steps, gRPC at one of them (at most the aim's rate), profile; the raw upserts reuse rows."""
    span = args.attendance_warmup + args.attendance_duration
    steps = ladder(args)
    needed = sum(math.ceil(rate * span) for rate in steps)
    if not args.attendance_no_grpc:
        needed += math.ceil(max(steps) * span)
    return needed + 2 * args.attendance_profile_calls + 20


async def probe_route(stack: dict[str, Any], setup: Setup, args: Any) -> str:
    """One submission (register 0) first: is the route there, and what does it answer?"""
    token = await authority_token(stack)
    c, day, session = setup.registers[0]
    body = {
        "entries": [
            {"student_id": s, "status": st, "note": ""}
            for s, st in zip(setup.classes[c][1], statuses(args.attendance_seed, 0), strict=True)
        ]
    }
    async with httpx.AsyncClient(base_url=stack["gateway_url"], timeout=30) as client:
        probe = await client.put(
            f"/v1/attendance/classes/{setup.classes[c][0]}/registers/{day}/{session}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
    print(f"  probe PUT register: {probe.status_code} {probe.text[:160]}", flush=True)
    if probe.status_code in (404, 405) and "REGISTER" not in probe.text.upper():
        return f"missing ({probe.status_code}): gateway steps skipped"
    if not probe.is_success:
        raise RuntimeError(f"the register route answered {probe.status_code}: {probe.text[:500]}")
    answer = probe.json()
    if answer.get("changed") != CLASS_SIZE:
        raise RuntimeError(
            f"the first marking of a register changed {answer.get('changed')}, not {CLASS_SIZE}"
        )
    return "present"


async def attendance_paths(
    stack: dict[str, Any], args: Any
) -> tuple[list[Result], dict[str, float | str], dict[str, Any]]:
    """Setup, the gateway's ladder, then at the knee (the highest step meeting the aim's latency) and at
    the aim's rate: the gRPC step and the raw upserts of the same rows as the gateway's steps."""
    pg_port = int(stack["postgres"]["port"])
    memory_before = resident()
    setup = await set_up(stack, args, registers_needed(args))
    print(f"  attendance setup done in {setup.seconds} s (calendar via {setup.calendar_via})", flush=True)
    dsn = pg_dsn(stack)
    await create_scratch(dsn)
    listener = AbsenceListener(stack["nats"]["url"])
    await listener.start()
    results: list[Result] = []
    details: list[dict[str, Any]] = []
    phases: dict[str, Phase] = {}
    next_index = 1  # register 0: the probe
    aim_name = f"att_gateway_{args.attendance_rate:g}"

    async def step(kind: str, rate: float, first_index: int | None = None) -> dict[str, Any]:
        nonlocal next_index
        raw_kind = kind.startswith("raw")
        token = "" if raw_kind else await authority_token(stack)  # tokens live five minutes
        if raw_kind:
            await create_scratch(dsn)  # empty: each raw step's rows are first inserts
        events_from = len(listener.arrivals)
        start = next_index if first_index is None else first_index
        phase = await run_phase(stack, setup, args, kind, rate, start, token)
        if first_index is None:
            next_index += phase.count
        if not raw_kind:
            await wait_for_events(phase, setup, args, listener, events_from)
        phase.cpu_done(pg_port)
        result, detail = summarize(phase, args, setup, None if raw_kind else listener, events_from)
        phases[phase.name] = phase
        results.append(result)
        details.append(detail)
        print(f"  {result}", flush=True)
        shown = {k: v for k, v in detail.items() if k != "name"}
        print(f"    {json.dumps(shown, ensure_ascii=False)}", flush=True)
        return detail

    async def baselines(rate: float) -> None:
        """At the knee, before the overloaded steps leave anything behind: gRPC and the raw upsert."""
        if not args.attendance_no_grpc:
            await step("grpc", rate)
        await raw(rate)

    async def raw(rate: float, kind: str = "raw") -> None:
        nonlocal next_index
        same = phases.get(f"att_gateway_{rate:g}")  # the same rows as the gateway's step
        if same is None:
            same_from = next_index
            next_index += math.ceil(rate * (args.attendance_warmup + args.attendance_duration))
        else:
            same_from = same.first_index
        await step(kind, rate, same_from)

    knee_rate: float | None = None
    try:
        gateway_route = await probe_route(stack, setup, args)
        measured: list[dict[str, Any]] = []
        for rate in ladder(args) if gateway_route == "present" else []:
            detail = await step("gateway", rate)
            if knee_rate is None and not aim_met(detail):
                met = [d["offered_per_s"] for d in measured if aim_met(d)]
                knee_rate = max(met) if met else rate
                await baselines(knee_rate)
            measured.append(detail)
        if knee_rate is None:  # every step met the aim (or the route is missing)
            knee_rate = args.attendance_rate
            await baselines(knee_rate)
        if knee_rate != args.attendance_rate:
            await raw(args.attendance_rate)
        await raw(args.attendance_rate, "raw_unnest")
    finally:
        await listener.stop()
        await drop_scratch(dsn)
    memory_after = resident()
    by = {d["name"]: d for d in details}
    ratios = attendance_ratios(by, args, knee_rate)
    profile = None
    aim = by.get(aim_name)
    if args.attendance_profile or aim is None or not aim_met(aim):
        profile = await profile_marks(stack, setup, args, next_index)
        next_index += 5 + 2 * args.attendance_profile_calls
        shown = {k: v for k, v in profile.items() if not isinstance(v, list | dict)}
        print(f"  profile: {json.dumps(shown)}", flush=True)
    extra = {
        "setup": {
            "school_id": setup.school_id,
            "school_year": setup.school_year,
            "year_start": setup.year_start.isoformat(),
            "classes": len(setup.classes),
            "class_size": CLASS_SIZE,
            "registers_available": len(setup.registers),
            "registers_used": next_index,
            "calendar_via": setup.calendar_via,
            "setup_s": setup.seconds,
            "gateway_route": gateway_route,
        },
        "knee_per_s": knee_rate,
        "phases": details,
        "memory_rss_mib": {"before": memory_before, "after": memory_after},
        "profile": profile,
    }
    return results, ratios, extra


def aim_met(detail: dict[str, Any]) -> bool:
    """p99 within the aim's 300 ms, the offered rate served (95 %), no errors."""
    return bool(
        detail["p99_ms"] <= AIM_P99_MS
        and detail["achieved_per_s"] >= 0.95 * detail["offered_per_s"]
        and not detail["errors_by_status"]
    )


def attendance_ratios(by: dict[str, dict[str, Any]], args: Any, knee_rate: float) -> dict[str, float | str]:
    def ratio(a: float, b: float) -> float:
        return round(a / b, 2) if b else math.nan

    ratios: dict[str, float | str] = {}
    aim = by.get(f"att_gateway_{args.attendance_rate:g}")
    if aim:
        ratios["att_aim_met"] = "yes" if aim_met(aim) else "no"
        sustained = [d["offered_per_s"] for d in by.values() if d["kind"] == "gateway" and aim_met(d)]
        ratios["att_highest_step_meeting_p99_300ms"] = max(sustained) if sustained else "none"
        ratios["att_gateway_achieved_at_aim_vs_aim"] = ratio(aim["achieved_per_s"], args.attendance_rate)
    for label, rate in (("aim", args.attendance_rate), ("knee", knee_rate)):
        gateway, raw = by.get(f"att_gateway_{rate:g}"), by.get(f"att_raw_pg_{rate:g}")
        if gateway and raw:
            ratios[f"att_{label}_{rate:g}_gateway_p50_vs_raw_pg_p50"] = ratio(
                gateway["p50_ms"], raw["p50_ms"]
            )
            ratios[f"att_{label}_{rate:g}_gateway_p99_vs_raw_pg_p99"] = ratio(
                gateway["p99_ms"], raw["p99_ms"]
            )
            ratios[f"att_{label}_{rate:g}_gateway_throughput_vs_raw_pg"] = ratio(
                gateway["achieved_per_s"], raw["achieved_per_s"]
            )
    values, unnest = (
        by.get(f"att_raw_pg_{args.attendance_rate:g}"),
        by.get(f"att_raw_pg_unnest_{args.attendance_rate:g}"),
    )
    if values and unnest:
        ratios["att_aim_raw_pg_unnest_p50_vs_values_p50"] = ratio(unnest["p50_ms"], values["p50_ms"])
        ratios["att_aim_raw_pg_unnest_p99_vs_values_p99"] = ratio(unnest["p99_ms"], values["p99_ms"])
    gateway, direct = by.get(f"att_gateway_{knee_rate:g}"), by.get(f"att_grpc_{knee_rate:g}")
    if gateway and direct:
        ratios[f"att_knee_{knee_rate:g}_gateway_p50_vs_grpc_p50"] = ratio(gateway["p50_ms"], direct["p50_ms"])
        ratios[f"att_knee_{knee_rate:g}_gateway_p99_vs_grpc_p99"] = ratio(gateway["p99_ms"], direct["p99_ms"])
    if gateway and "events" in gateway:
        ratios[f"att_knee_{knee_rate:g}_absence_event_p50_ms"] = gateway["events"]["after_response_p50_ms"]
        ratios[f"att_knee_{knee_rate:g}_absence_event_p99_ms"] = gateway["events"]["after_response_p99_ms"]
    if aim and "events" in aim:
        ratios["att_aim_absence_event_p50_ms"] = aim["events"]["after_response_p50_ms"]
        ratios["att_aim_absence_event_p99_ms"] = aim["events"]["after_response_p99_ms"]
    return ratios


def markdown(extra: dict[str, Any], settings: dict[str, Any]) -> str:
    """The attendance part of the report: parameters, every phase, events, CPU, memory, profile."""
    s = extra["setup"]
    lines = [
        "",
        "## Attendance: the morning burst",
        "",
        f"School `{s['school_id']}`, {s['classes']} classes × {s['class_size']} in {s['school_year']} "
        f"(from {s['year_start']}), {s['registers_used']} of {s['registers_available']} registers used, "
        f"each marked once (first marking). Calendar via {s['calendar_via']}; gateway route "
        f"{s['gateway_route']}; setup {s['setup_s']} s.",
        f"Open model: arrivals every 1/R s for {settings['attendance_warmup_s']} s of warm-up (not "
        f"counted) + {settings['attendance_duration_s']} s; latency from each request's scheduled start; "
        f"{settings['attendance_clients']} load-generating process(es), at most "
        f"{settings['attendance_max_in_flight']} requests in flight each, "
        f"{settings['attendance_timeout_s']} s timeout; Idempotency-Key sent: "
        f"{settings['attendance_idempotency_key']}. Aim: "
        f"≥ {AIM_RATE:g}/s with p99 ≤ {AIM_P99_MS:g} ms.",
        f"The knee: {extra['knee_per_s']:g} submissions/s, the highest step meeting the aim's latency "
        "(p99 ≤ 300 ms, 95 % of the offered rate served, no errors); the gRPC step and a raw upsert of the "
        "same rows run at it right after the first step that misses the aim, before the overloaded steps; "
        "the raw upsert runs at the aim's rate last, with the rows of the gateway's aim step.",
        "",
        "| phase | offered /s | achieved /s | ok | errors | p50 ms | p95 ms | p99 ms | max ms "
        "| peak in flight | generator lag p99 ms | machine busy % | other jobs % |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in extra["phases"]:
        errors = ", ".join(f"{k}: {v}" for k, v in d["errors_by_status"].items()) or "0"
        lines.append(
            f"| {d['name']} | {d['offered_per_s']:g} | {d['achieved_per_s']} | {d['ok']} | {errors} | "
            f"{d['p50_ms']} | {d['p95_ms']} | {d['p99_ms']} | {d['max_ms']} | {d['peak_in_flight']} | "
            f"{d['generator_lag_p99_ms']} | {d['machine_busy_pct']} | {d['other_busy_pct']} |"
        )
    lines += [
        "",
        "Absence → `AbsenceRecorded` on NATS (`school.attendance.absence.recorded.v1`, plain subscription), "
        "matched by (student, date, session):",
        "",
        "| phase | expected | matched | after response p50 ms | p99 ms | max ms | after send p50 ms "
        "| p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in extra["phases"]:
        e = d.get("events")
        if e:
            lines.append(
                f"| {d['name']} | {e['expected']} | {e['matched']} | {e['after_response_p50_ms']} | "
                f"{e['after_response_p99_ms']} | {e['after_response_max_ms']} | {e['after_send_p50_ms']} | "
                f"{e['after_send_p99_ms']} |"
            )
    names = sorted({k for d in extra["phases"] for k in d["cpu_ms_per_submission"]})
    lines += [
        "",
        "CPU time per successful submission (ms, all cores; postgres includes the relay's and other "
        "services' queries; the machine has 2 cores = 2,000 ms of CPU a second):",
        "",
        "| phase | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for d in extra["phases"]:
        cells = " | ".join(str(d["cpu_ms_per_submission"].get(n, "")) for n in names)
        lines.append(f"| {d['name']} | {cells} |")
    memory = extra["memory_rss_mib"]
    lines += [
        "",
        "Resident memory (RSS, MiB): "
        + ", ".join(
            f"{k} {memory['before'].get(k, '?')} → {memory['after'].get(k, '?')}"
            for k in sorted(set(memory["before"]) | set(memory["after"]))
        )
        + " (before the setup → after the last phase).",
    ]
    p = extra.get("profile")
    if p:
        lines += [
            "",
            f"In-process profile: {p['calls']} submissions straight through `RegisterService.mark` (no gRPC, "
            f"no gateway, the scope answered locally), one at a time: {p['wall_ms_per_mark']} ms each (p50 "
            f"{p['wall_p50_ms']}), {p['cpu_ms_per_mark']} ms of it Python CPU; {p['statements_per_mark']} "
            f"SQL statements taking {p['sql_ms_per_mark']} ms (sent until answered), "
            f"{p['compiled_per_mark']} of them compiled for the call rather than taken from SQLAlchemy's "
            f"cache ({p['compile_ms_per_mark']} ms of compiling).",
            "",
            "| statement | per submission | ms per submission | compiled per submission | compile ms |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {k} | {v['per_mark']} | {v['ms_per_mark']} | {v['compiled_per_mark']} | "
            f"{v['compile_ms_per_mark']} |"
            for k, v in p["sql"].items()
        ]
        lines += [
            "",
            "cProfile (another as many submissions; the profiler roughly doubles Python's time), the "
            "platform's own functions by cumulative time (time spent awaiting the database excluded):",
            "",
            "| function | cumulative ms |",
            "|---|---:|",
        ]
        lines += [f"| `{t['function']}` | {t['cumulative_ms_per_mark']} |" for t in p["own_code_cumulative"]]
        lines += [
            "",
            "and the functions with the most self time:",
            "",
            "| function (self time) | calls per submission | self ms | cumulative ms |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| `{t['function']}` | {t['calls_per_mark']} | {t['self_ms_per_mark']} | "
            f"{t['cumulative_ms_per_mark']} |"
            for t in p["top_self_time"][:12]
        ]
    return "\n".join(lines) + "\n"

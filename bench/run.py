"""make bench: the request path and the event path, measured against baselines in the same run.

Scenarios (each a fixed number of requests at a fixed concurrency, after a warm-up):
- ``fastapi_bare``: a FastAPI app with one JSON endpoint under uvicorn, as the gateway runs — the HTTP floor;
- ``grpc_direct``: ``ListClassStudents`` straight to student-record (token verified, RLS query);
- ``gateway_grpc``: ``GET /v1/classes/{id}/students`` through the gateway (token verified twice, REST→gRPC);
- ``enrol_to_roster``: ``POST /v1/classes/{id}/students`` until attendance's roster shows the student
  (outbox → relay → JetStream → consumer), one at a time, measured as latency;
- gradebook (``bench/gradebook.py``): bulk score entry through the gateway against the same sheet sent
  straight to student-record, closing a class's year with signed transcripts, and the public verification;
- attendance (``bench/attendance.py``): the morning burst — whole-class registers through the gateway
  at a constant arrival rate (open model, a ladder of rates up to the aim's 300/s), the same straight to
  attendance by gRPC and as a raw PostgreSQL upsert of the same rows, and absence → event latency on NATS;
- identity (``bench/identity.py``): Keycloak password logins, refresh and offline-refresh grants per
  second over a fixed duration; the gateway's ``/healthz`` against the authenticated ``/v1/me``; token
  verification in process against an unverified decode.

Absolute numbers depend on the machine; the ratios between scenarios of one run are what to compare
across runs. Reports go to ``bench/results/`` as Markdown and JSON.

``--only identity`` runs the identity scenarios alone, also against a Keycloak started by itself
(``python -m bench.keycloak_alone --out FILE`` on PostgreSQL, or ``python -m school_stack.keycloak --out
FILE`` on H2, then ``--stack-file FILE``); its reports are labelled ``-identity`` and leave ``latest.md``
alone. ``--only gradebook`` and ``--only attendance`` likewise (reports ``-gradebook``, ``-attendance``).
docs/capacity.md turns the figures into a sizing rule.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
from school.attendance.v1 import attendance_pb2 as at_pb
from school.attendance.v1 import attendance_pb2_grpc as at_grpc
from school.student_record.v1 import student_record_pb2 as pb
from school.student_record.v1 import student_record_pb2_grpc as pb_grpc

from bench import attendance, gradebook, identity
from bench.measure import Result, letters, load, percentile

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_bare_fastapi() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before any measurement
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                if (await client.get(f"{url}/ping")).status_code == 200:
                    return process, url
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    process.kill()
    raise RuntimeError("the bare FastAPI app did not start")


async def token(stack: dict[str, Any]) -> str:
    kc = stack["keycloak"]
    realm = kc["realms"]["demo"]
    user = next(u for u in realm["users"] if "authority_admin" in u["roles"])
    async with httpx.AsyncClient(timeout=10) as client:
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


async def make_class(api: httpx.AsyncClient, students: int) -> str:
    school = (
        await api.post(
            "/v1/schools",
            json={"name": f"Trường Đo Tải {os.getpid()}-{time.time_ns()}", "levels": ["lower_secondary"]},
        )
    ).json()
    klass = (
        await api.post(
            f"/v1/schools/{school['id']}/classes", json={"name": "6B", "grade": 6, "school_year": "2025-2026"}
        )
    ).json()
    for n in range(students):
        response = await api.post(
            f"/v1/classes/{klass['id']}/students",
            json={
                "student": {
                    "full_name": f"Học Sinh {letters(n)}",
                    "date_of_birth": "2014-06-01",
                    "sex": "male",
                }
            },
        )
        response.raise_for_status()
    return str(klass["id"])


async def enrol_to_roster(
    api: httpx.AsyncClient, roster_stub: Any, metadata: tuple, class_id: str, samples: int
) -> Result:
    latencies = []
    errors = 0
    began_all = time.perf_counter()
    for n in range(samples):
        began = time.perf_counter()
        response = await api.post(
            f"/v1/classes/{class_id}/students",
            json={
                "student": {
                    "full_name": f"Người Đo {letters(n)}",
                    "date_of_birth": "2014-06-01",
                    "sex": "female",
                }
            },
        )
        if response.status_code != 201:
            errors += 1
            continue
        student_id = response.json()["student"]["id"]
        deadline = began + 10
        while time.perf_counter() < deadline:
            try:
                roster = await roster_stub.GetClassRoster(
                    at_pb.GetClassRosterRequest(class_id=class_id), metadata=metadata, timeout=5
                )
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND:  # the class itself not there yet: wait
                    raise
                await asyncio.sleep(0.002)
                continue
            if any(e.student_id == student_id for e in roster.entries):
                latencies.append((time.perf_counter() - began) * 1000)
                break
            await asyncio.sleep(0.002)
        else:
            errors += 1
    seconds = time.perf_counter() - began_all
    return Result(
        "enrol_to_roster",
        samples,
        errors,
        1,
        round(seconds, 3),
        round(samples / seconds, 1),
        round(percentile(latencies, 50), 2),
        round(percentile(latencies, 90), 2),
        round(percentile(latencies, 99), 2),
        round(max(latencies or [float("nan")]), 2),
    )


def load_stack(path: Path) -> dict[str, Any]:
    """The stack description (``.run/stack.json``), or the Keycloak description that
    ``python -m school_stack.keycloak --out FILE`` writes (then there is no gateway and no service)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data) if "keycloak" in data else {"keycloak": data}


async def request_and_event_paths(
    stack: dict[str, Any], args: argparse.Namespace
) -> tuple[list[Result], dict[str, float | str]]:
    bearer = await token(stack)
    metadata = (("authorization", f"Bearer {bearer}"),)
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    results: list[Result] = []
    bare, bare_url = await start_bare_fastapi()
    try:
        async with (
            httpx.AsyncClient(base_url=bare_url, limits=limits, timeout=10) as bare_client,
            httpx.AsyncClient(
                base_url=stack["gateway_url"],
                limits=limits,
                timeout=10,
                headers={"Authorization": f"Bearer {bearer}"},
            ) as api,
            grpc.aio.insecure_channel(stack["services"]["student-record"]["grpc"]) as sr_channel,
            grpc.aio.insecure_channel(stack["services"]["attendance"]["grpc"]) as at_channel,
        ):
            class_id = await make_class(api, args.class_size)
            sr = pb_grpc.StudentRecordServiceStub(sr_channel)
            request = pb.ListClassStudentsRequest(class_id=class_id)

            async def call_bare() -> bool:
                return (await bare_client.get("/v1/ping")).status_code == 200

            async def call_grpc() -> bool:
                response = await sr.ListClassStudents(request, metadata=metadata, timeout=10)
                return len(response.students) == args.class_size

            async def call_gateway() -> bool:
                response = await api.get(f"/v1/classes/{class_id}/students")
                return response.status_code == 200 and len(response.json()["items"]) == args.class_size

            for name, call in (
                ("fastapi_bare", call_bare),
                ("grpc_direct", call_grpc),
                ("gateway_grpc", call_gateway),
            ):
                results.append(await load(name, call, args.requests, args.concurrency, args.warmup))
                print(f"  {results[-1]}", flush=True)
            roster_class = await make_class(api, 0)
            results.append(
                await enrol_to_roster(
                    api, at_grpc.AttendanceServiceStub(at_channel), metadata, roster_class, args.events
                )
            )
            print(f"  {results[-1]}", flush=True)
    finally:
        bare.terminate()
        bare.wait(10)
    by = {r.name: r for r in results}
    ratios: dict[str, float | str] = {
        "gateway_rps_vs_bare_fastapi": round(by["gateway_grpc"].rps / by["fastapi_bare"].rps, 3),
        "gateway_rps_vs_direct_grpc": round(by["gateway_grpc"].rps / by["grpc_direct"].rps, 3),
        "gateway_p50_vs_direct_grpc_p50": round(by["gateway_grpc"].p50_ms / by["grpc_direct"].p50_ms, 3),
        "gateway_p99_vs_direct_grpc_p99": round(by["gateway_grpc"].p99_ms / by["grpc_direct"].p99_ms, 3),
        "direct_grpc_rps_vs_bare_fastapi": round(by["grpc_direct"].rps / by["fastapi_bare"].rps, 3),
    }
    return results, ratios


async def identity_paths(
    stack: dict[str, Any], args: argparse.Namespace
) -> tuple[list[Result], dict[str, float | str], dict[str, dict[str, float]]]:
    keycloak = stack["keycloak"]
    results, cpu = await identity.keycloak_scenarios(
        keycloak, args.kc_duration, args.kc_concurrency, args.kc_warmup
    )
    why_not = None
    if stack.get("gateway_url"):
        gateway, why_not = await identity.gateway_scenarios(
            stack["gateway_url"],
            await identity.access_token(keycloak),
            args.requests,
            args.concurrency,
            args.warmup,
        )
        results += gateway
    # A fresh token: the one above may be near its five minutes after the gateway scenarios.
    results += await identity.verification_microbench(
        keycloak["base_url"], await identity.access_token(keycloak), args.verify_calls
    )
    return results, identity.ratios({r.name: r for r in results}, why_not), cpu


async def main(args: argparse.Namespace) -> dict[str, Any]:
    stack = load_stack(Path(args.stack_file))
    results: list[Result] = []
    ratios: dict[str, float | str] = {}
    keycloak_cpu: dict[str, dict[str, float]] = {}
    attendance_report: dict[str, Any] | None = None
    if args.only == "all":
        results, ratios = await request_and_event_paths(stack, args)
    if args.only in ("all", "gradebook"):
        more, more_ratios = await gradebook.gradebook_paths(stack, args)
        results += more
        ratios.update(more_ratios)
    if args.only in ("all", "attendance"):
        more, more_ratios, attendance_report = await attendance.attendance_paths(stack, args)
        results += more
        ratios.update(more_ratios)
    if args.only in ("all", "identity"):
        more, more_ratios, keycloak_cpu = await identity_paths(stack, args)
        results += more
        ratios.update(more_ratios)
    memory = resident_memory()
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "only": args.only,
            "requests": args.requests,
            "concurrency": args.concurrency,
            "warmup": args.warmup,
            "class_size": args.class_size,
            "events": args.events,
            "kc_duration_s": args.kc_duration,
            "kc_concurrency": args.kc_concurrency,
            "kc_warmup_s": args.kc_warmup,
            "verify_calls": args.verify_calls,
            "score_requests": args.score_requests,
            "score_concurrency": args.score_concurrency,
            "keycloak_java_opts": keycloak_java_opts(),
            "attendance_rate": args.attendance_rate,
            "attendance_ladder": args.attendance_ladder,
            "attendance_duration_s": args.attendance_duration,
            "attendance_warmup_s": args.attendance_warmup,
            "attendance_clients": args.attendance_clients,
            "attendance_max_in_flight": args.attendance_max_in_flight,
            "attendance_timeout_s": args.attendance_timeout,
            "attendance_seed": args.attendance_seed,
            "attendance_idempotency_key": not args.attendance_no_idempotency_key,
        },
        "results": [asdict(r) for r in results],
        "keycloak_cpu_per_request": keycloak_cpu,
        "memory_mib": memory,
        "ratios": ratios,
        "attendance": attendance_report,
    }


COMPONENTS = {
    "-m identity": "identity",
    "-m student_record": "student-record",
    "-m attendance": "attendance",
    "-m payments": "payments",
    "-m messaging": "messaging",
    "-m health": "health",
    "-m gateway": "gateway",
    "-m simulators": "simulators",
    "nats-server": "nats",
    "keycloak": "keycloak",
}


def resident_memory() -> dict[str, float]:
    """Proportional set size (MiB) of each part of the stack after the load, summed over its processes:
    shared pages (PostgreSQL's shared buffers, say) are divided among the processes that share them, so
    the sums add up."""
    import psutil

    totals: dict[str, float] = {}
    for process in psutil.process_iter(["cmdline", "username"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        name = next((n for marker, n in COMPONENTS.items() if marker in cmdline), None)
        if name is None and process.info["username"] == "embedded_postgres":
            name = "postgres"
        if name:
            try:
                pss = process.memory_full_info().pss
            except (psutil.Error, AttributeError):
                continue
            totals[name] = totals.get(name, 0.0) + pss / 2**20
    return {k: round(v, 1) for k, v in sorted(totals.items())}


def keycloak_java_opts() -> str:
    """How the Keycloak under test runs (its throughput depends on it): JIT and database."""
    import psutil

    for process in psutil.process_iter(["cmdline"]):
        argv = process.info["cmdline"] or []
        if argv and Path(argv[0]).name == "java" and any("keycloak" in a for a in argv):
            jit = (
                "C1 only (-XX:TieredStopAtLevel=1)"
                if "-XX:TieredStopAtLevel=1" in argv
                else "full JIT (C1+C2)"
            )
            db = next((a.split("=", 1)[1] for a in argv if a.startswith("--db=")), "?")
            heap = next((a for a in argv if a.startswith(("-Xmx", "-XX:MaxRAMPercentage"))), "default heap")
            return f"{jit}, database {db}, {heap}"
    return "not found on this machine"


def markdown(report: dict[str, Any]) -> str:
    rows = [
        "| scenario | requests | errors | concurrency | req/s | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        rows.append(
            f"| {r['name']} | {r['requests']} | {r['errors']} | {r['concurrency']} | {r['rps']} | "
            f"{r['p50_ms']} | {r['p90_ms']} | {r['p99_ms']} | {r['max_ms']} |"
        )
    ratios = "\n".join(f"| {k} | {v} |" for k, v in report["ratios"].items())
    cpu_rows = "\n".join(
        f"| {name} | {c['keycloak_cpu_ms']} | {c['postgres_cpu_ms']} | {c['generator_cpu_ms']} | "
        f"{c['other_busy_pct']} |"
        for name, c in report.get("keycloak_cpu_per_request", {}).items()
    )
    cpu_table = (
        f"""
CPU time per request of the Keycloak scenarios (ms, all cores; `other busy`: share of the machine that
unrelated processes used meanwhile; high means the rates above are low):

| scenario | Keycloak | PostgreSQL | load generator | other busy % |
|---|---:|---:|---:|---:|
{cpu_rows}
"""
        if cpu_rows
        else ""
    )
    memory = "\n".join(f"| {k} | {v} |" for k, v in report.get("memory_mib", {}).items())
    attendance_part = (
        attendance.markdown(report["attendance"], report["settings"]) if report.get("attendance") else ""
    )
    s = report["settings"]
    per_scenario = (
        f"{s['requests']} requests at concurrency {s['concurrency']} after {s['warmup']}\nwarm-up requests"
    )
    scope = (
        f"""Each throughput scenario: {per_scenario}; the class listed holds {s["class_size"]} students.
`enrol_to_roster`: {s["events"]} sequential enrolments, each timed from the POST until attendance's
roster (gRPC) shows the student."""
        if s.get("only", "all") == "all"
        else f"Identity scenarios only (`--only identity`). `gateway_*`: {per_scenario}."
        if s.get("only") == "identity"
        else "Gradebook scenarios only (`--only gradebook`)."
        if s.get("only") == "gradebook"
        else "Attendance scenarios only (`--only attendance`)."
    )
    gradebook_note = (
        f"""
`*_scores_bulk`: {s["score_requests"]} sheets of 240 scores (a class of 40, one subject and semester) at
concurrency {s["score_concurrency"]}, every request writing all 240; `grpc_` straight to student-record, the
baseline of `gateway_`. `close_year_per_student`: one class locked and its transcripts issued (results,
PDF and XML, three signatures each), milliseconds per student. `verify_transcript`: the public
verification of one transcript (no token); the first call checks both documents' signatures, the others
find the check remembered by the documents' hashes (`verify_*` ratios)."""
        if "score_requests" in s and s.get("only", "all") in ("all", "gradebook")
        else ""
    )
    identity_note = (
        f"""
`keycloak_*`: {s["kc_concurrency"]} clients back to back for {s["kc_duration_s"]} s after
{s["kc_warmup_s"]} s of warm-up, tenant `demo`, client `school-dev-cli` (password grant; refresh tokens
are single-use, each client follows its chain). Keycloak: {s["keycloak_java_opts"]}.
`token_verify` / `jwt_decode_unverified`: {s["verify_calls"]} sequential calls in the load generator's
process (JWKS cache warm); times in ms. Capacity rule from these figures: docs/capacity.md."""
        if "kc_duration_s" in s and s.get("only", "all") in ("all", "identity")
        else ""
    )
    return f"""# Benchmark report — {report["when"]}

Machine: {report["machine"]["cpus"]} CPUs, Python {report["machine"]["python"]},
{report["machine"]["platform"]}.
Load generator, stack and baselines share this machine; compare ratios, not absolute numbers, across runs.
{scope}{identity_note}{gradebook_note}

{chr(10).join(rows)}

| ratio | value |
|---|---:|
{ratios}
{cpu_table}
Memory after the run (proportional set size, MiB, summed over each component's processes):

| component | PSS MiB |
|---|---:|
{memory}
{attendance_part}"""


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--label", default="")
    parser.add_argument(
        "--only",
        choices=("all", "identity", "gradebook", "attendance"),
        default="all",
        help="identity: the Keycloak, gateway-verification and in-process scenarios only; gradebook: score "
        "entry, closing a year and transcript verification only; attendance: the morning burst of registers",
    )
    parser.add_argument(
        "--stack-file",
        default=str(REPO / ".run" / "stack.json"),
        help="stack description, or the Keycloak description of `python -m school_stack.keycloak --out`",
    )
    parser.add_argument("--kc-duration", type=float, default=20.0, help="seconds per Keycloak scenario")
    parser.add_argument("--kc-concurrency", type=int, default=8)
    parser.add_argument(
        "--kc-warmup", type=float, default=5.0, help="seconds of warm-up per Keycloak scenario"
    )
    parser.add_argument("--verify-calls", type=int, default=5000)
    parser.add_argument("--score-requests", type=int, default=200, help="bulk score sheets per scenario")
    parser.add_argument("--score-concurrency", type=int, default=4)
    parser.add_argument("--verify-requests", type=int, default=200, help="public transcript verifications")
    parser.add_argument(
        "--attendance-rate",
        type=float,
        default=attendance.AIM_RATE,
        help="class submissions/s of the aim's step",
    )
    parser.add_argument(
        "--attendance-ladder",
        default="15,30,45,60,75,100,200",
        help="lower arrival rates (comma-separated) measured before the aim's rate",
    )
    parser.add_argument("--attendance-duration", type=float, default=15.0, help="measured seconds per step")
    parser.add_argument("--attendance-warmup", type=float, default=3.0, help="uncounted seconds per step")
    parser.add_argument(
        "--attendance-clients",
        type=int,
        default=2,
        help="load-generating processes (one httpx process falls behind its schedule past the knee)",
    )
    parser.add_argument("--attendance-max-in-flight", type=int, default=1000, help="per load generator")
    parser.add_argument("--attendance-timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--attendance-seed", type=int, default=2026)
    parser.add_argument("--attendance-classes", type=int, default=0, help="0: as many as the registers need")
    parser.add_argument(
        "--attendance-event-wait",
        type=float,
        default=30.0,
        help="seconds to wait for a step's absence events",
    )
    parser.add_argument(
        "--attendance-quiet-wait",
        type=float,
        default=60.0,
        help="at most this many seconds before each step for the machine to fall under 25 %% busy",
    )
    parser.add_argument("--attendance-no-grpc", action="store_true", help="skip the direct gRPC step")
    parser.add_argument(
        "--attendance-no-idempotency-key", action="store_true", help="submit without an Idempotency-Key"
    )
    parser.add_argument(
        "--attendance-profile",
        action="store_true",
        help="profile RegisterService.mark even if the aim is met",
    )
    parser.add_argument("--attendance-profile-calls", type=int, default=50)
    arguments = parser.parse_args()
    print("benchmarking (this takes a few minutes)…", flush=True)
    report = asyncio.run(main(arguments))
    RESULTS.mkdir(parents=True, exist_ok=True)
    label = arguments.label or ("" if arguments.only == "all" else arguments.only)
    stem = datetime.now(UTC).strftime("%Y-%m-%d-%H%M") + (f"-{label}" if label else "")
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(report))
    if arguments.only == "all":
        (RESULTS / "latest.md").write_text(markdown(report))
    print(markdown(report))
    print(f"reports: bench/results/{stem}.md and .json")

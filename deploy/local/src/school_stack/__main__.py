"""``python -m school_stack run|up|down|status`` (the Makefile's run, up, down and status)."""

from __future__ import annotations

import asyncio
import sys

from school_stack import stack

USAGE = "usage: python -m school_stack {run|up|down|status|running}"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    if command == "run":
        return asyncio.run(stack.run_foreground())
    if command == "up":
        return stack.up()
    if command == "down":
        return stack.down()
    if command == "running":
        return stack.running()
    if command == "status":
        return asyncio.run(stack.status())
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Freezes meal counts at each school's cut-off (placeholder until the boarding use cases land)."""

from __future__ import annotations

import asyncio
from typing import Any


class MealCountFreezer:
    def __init__(self, db: Any, outbox: Any, clock: Any) -> None:
        self.db, self.outbox, self.clock = db, outbox, clock

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()

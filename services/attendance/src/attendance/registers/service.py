"""Registers (placeholder)."""

from __future__ import annotations

from typing import Any


class RegisterService:
    def __init__(self, db: Any, access: Any, outbox: Any, clock: Any) -> None:
        self.db, self.access, self.outbox, self.clock = db, access, outbox, clock

"""Gate check-in devices (placeholder until the gate use cases land)."""

from __future__ import annotations

from typing import Any


class GateService:
    def __init__(self, db: Any, access: Any, identity: Any, identity_timeout_s: float, clock: Any) -> None:
        self.db, self.access, self.identity, self.identity_timeout_s, self.clock = (
            db,
            access,
            identity,
            identity_timeout_s,
            clock,
        )

"""Fault switches: make the register slow, flaky or down, so callers' timeouts, retries and error paths
can be exercised. Set at start-up (command line) and replaced at runtime (``PUT /_simulator/faults``).

Errors are deterministic, not random: the n-th verify call counted since the switches were last set fails
when ``floor(n * error_rate) > floor((n - 1) * error_rate)``. Exactly ``floor(n * error_rate)`` of the
first n calls fail, spread evenly (0.25 fails calls 4, 8, 12, ...); 1.0 fails every call, 0.0 none. The
rate is taken as the decimal it is written as (``Fraction(str(rate))``), so 0.1 fails exactly every tenth
call, with no floating-point drift.
"""

from __future__ import annotations

import math
from fractions import Fraction

from pydantic import BaseModel, ConfigDict, Field

MAX_LATENCY_MS = 600_000  # ten minutes: longer than any client timeout worth testing


class FaultSwitches(BaseModel):
    """Công tắc lỗi mô phỏng / the simulator's fault switches. A field left out is switched off."""

    # Strict: "5" is not a latency and 1 is not a boolean. Unknown fields are refused so a typo
    # ("latency": 500) cannot silently leave a switch off.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    latency_ms: int = Field(
        default=0, ge=0, le=MAX_LATENCY_MS, description="Delay added before answering a verify call, ms"
    )
    error_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Fraction of verify calls answered 503 REGISTRY_ERROR (deterministic, evenly spread)",
    )
    down: bool = Field(
        default=False, description="The register is down: verify answers 503 REGISTRY_UNAVAILABLE"
    )


class Faults:
    """The current switches and the call counter behind ``error_rate``. Single event loop, no locking."""

    def __init__(self, switches: FaultSwitches | None = None) -> None:
        self.replace(switches or FaultSwitches())

    @property
    def switches(self) -> FaultSwitches:
        return self._switches

    def replace(self, switches: FaultSwitches) -> None:
        """New switches; the error counter starts again from zero."""
        self._switches = switches
        self._rate = Fraction(str(switches.error_rate))
        self._calls = 0

    def next_call_fails(self) -> bool:
        """Count one call; whether it is one of the calls ``error_rate`` fails."""
        self._calls += 1
        return math.floor(self._calls * self._rate) > math.floor((self._calls - 1) * self._rate)

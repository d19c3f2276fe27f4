"""Admission control for the morning burst: a process takes so many register submissions at once and
refuses the rest at once, rather than queueing them until every answer is late.

Past its capacity a process that queued every call would answer all of them in seconds (and work on calls
the gateway had already given up on); refusing the excess with UNAVAILABLE/OVERLOADED and a retry delay
keeps the admitted ones fast, and the app retries with the same Idempotency-Key (the gateway answers 503
with Retry-After).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from school_common.errors import Unavailable, bilingual


class Admission:
    def __init__(self, limit: int, retry_after_s: int = 1) -> None:
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.in_flight = 0
        self.refused = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self.in_flight >= self.limit:
            self.refused += 1
            raise Unavailable(
                "OVERLOADED",
                bilingual(
                    "Hệ thống đang nhận nhiều lượt điểm danh, vui lòng gửi lại sau giây lát",
                    "many registers are being marked right now: send it again in a moment",
                ),
                {"retry_after_s": str(self.retry_after_s)},
            )
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

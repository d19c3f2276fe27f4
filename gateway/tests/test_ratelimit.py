from __future__ import annotations

import pytest

from gateway.ratelimit import TokenBucketLimiter, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(rate_per_s=2, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 0]
    wait = limiter.acquire("a")
    assert wait == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") > 0
    clock.now += 10  # never more than the burst
    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire("a") > 0


def test_keys_are_independent() -> None:
    limiter = TokenBucketLimiter(rate_per_s=0.01, burst=1, clock=Clock())
    assert limiter.acquire(("hcm", "alice")) == 0
    assert limiter.acquire(("hcm", "alice")) > 0
    assert limiter.acquire(("hcm", "bob")) == 0
    assert limiter.acquire(("hn", "alice")) == 0


def test_refused_requests_do_not_consume_tokens() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(rate_per_s=1, burst=1, clock=clock)
    limiter.acquire("k")
    for _ in range(5):
        assert limiter.acquire("k") > 0
    clock.now += 1.0
    assert limiter.acquire("k") == 0


def test_memory_is_bounded_by_forgetting_the_least_recently_seen() -> None:
    limiter = TokenBucketLimiter(rate_per_s=0.001, burst=1, max_keys=100, clock=Clock())
    limiter.acquire("first")
    for i in range(150):
        limiter.acquire(i)
    assert len(limiter) == 100
    assert limiter.acquire("first") == 0  # forgotten, so full again


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after(0.01) == "1"
    assert retry_after(1.0) == "1"
    assert retry_after(1.2) == "2"


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucketLimiter(rate_per_s=0, burst=1)

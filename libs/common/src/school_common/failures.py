"""Which infrastructure failures mean what, decided once for the gRPC interceptor and the consumer runner.

A failure of PostgreSQL or NATS is *transient*: nothing was written, the caller may retry, an event is
redelivered without counting towards the dead-letter limit. A unique violation that got past a use case's
own check (two requests racing) is a conflict; a serialization failure or deadlock is an abort to retry.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from school_common.errors import Aborted, AlreadyExists, DomainError, Unavailable, bilingual

_UNAVAILABLE_STATES = (
    "08",
    "53",
    "57P",
    "57014",
    "55P03",
    "25006",
)  # connection, resources, shutdown, timeouts


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, through SQLAlchemy's and asyncpg's wrappers."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str):
            return state
        current = getattr(current, "orig", None) or current.__cause__
    return None


def unavailable() -> Unavailable:
    return Unavailable(
        "DEPENDENCY_UNAVAILABLE",
        bilingual(
            "Hệ thống tạm thời không phục vụ được, vui lòng thử lại",
            "service temporarily unavailable, please retry",
        ),
    )


def classify(exc: BaseException) -> DomainError | None:
    """The domain error an infrastructure exception stands for, or None for a bug."""
    if isinstance(exc, DomainError):
        return exc
    state = sqlstate(exc)
    if state == "23505":
        return AlreadyExists("ALREADY_EXISTS", bilingual("Dữ liệu này đã tồn tại", "this already exists"))
    if state in ("40001", "40P01"):
        return Aborted(
            "CONCURRENT_UPDATE",
            bilingual(
                "Xung đột với một thao tác đồng thời, vui lòng thử lại",
                "conflicted with a concurrent change, please retry",
            ),
        )
    if state and state.startswith(_UNAVAILABLE_STATES):
        return unavailable()
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError | ConnectionError | OSError):
        return unavailable()
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return unavailable()
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return unavailable()
    if type(exc).__module__.startswith(("asyncpg", "nats")) and state is None:
        return unavailable()  # driver/broker errors without a SQLSTATE: connection-level trouble
    return None


def is_transient(exc: BaseException) -> bool:
    return isinstance(classify(exc), Unavailable)

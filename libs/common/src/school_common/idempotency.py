"""Idempotent writes (AIP-155 ``request_id``; ``Idempotency-Key`` at the edge).

Inside the write's own transaction: take a transaction-scoped advisory lock on the key (a concurrent
duplicate fails fast with ABORTED → 409), replay the stored response if the key was used for the same
request, refuse it if it was used for a different one (INVALID_ARGUMENT → 422), otherwise run the use
case and store its response in the same commit.
"""

from __future__ import annotations

import hashlib
import re
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy import text

from school_common.context import current_principal
from school_common.db import UnitOfWork
from school_common.errors import Aborted, InvalidArgument, bilingual

M = TypeVar("M", bound=Message)

# Stored responses carry personal data (names, phones): they are kept for a day, long enough for any
# client's retries, and then purged by the relay component's maintenance loop.
RETENTION_HOURS = 24

_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")


def request_hash(request: Message) -> str:
    clone = type(request)()
    clone.CopyFrom(request)
    if "request_id" in clone.DESCRIPTOR.fields_by_name:
        clone.ClearField("request_id")
    return hashlib.sha256(clone.SerializeToString(deterministic=True)).hexdigest()


def _subject() -> str:
    """Keys belong to the caller who made them: another user of the tenant never gets their response."""
    principal = current_principal()
    return principal.subject if principal is not None else ""


async def purge_expired(uow: UnitOfWork) -> int:
    """Deletes keys past their retention, across tenants (a unit of work with ``infrastructure=True``)."""
    result = await uow.session.execute(
        text("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :h)"),
        {"h": RETENTION_HOURS},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def validate_key(key: str) -> None:
    if key and not _KEY_RE.fullmatch(key):
        raise InvalidArgument(
            "INVALID_IDEMPOTENCY_KEY",
            bilingual(
                "Khóa idempotency phải gồm 1–255 ký tự ASCII in được",
                "idempotency key must be 1-255 printable ASCII characters",
            ),
        )


async def replay(
    uow: UnitOfWork, key: str, operation: str, request: Message, response_type: type[M]
) -> M | None:
    """The stored response for ``key``, or None when this is the first time (the key is then locked)."""
    if not key:
        return None
    validate_key(key)
    subject = _subject()
    locked = await uow.session.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"{uow.tenant}:{subject}:{key}"},
    )
    if not locked:
        raise Aborted(
            "REQUEST_IN_PROGRESS",
            bilingual(
                "Một yêu cầu với cùng khóa đang được xử lý",
                "a request with the same idempotency key is in progress",
            ),
        )
    row = (
        await uow.session.execute(
            text(
                "SELECT operation, request_hash, response FROM idempotency_keys"
                " WHERE subject = :s AND key = :k AND created_at > now() - make_interval(hours => :h)"
            ),
            {"s": subject, "k": key, "h": RETENTION_HOURS},
        )
    ).first()
    if row is None:
        return None
    if row.operation != operation or row.request_hash != request_hash(request):
        raise InvalidArgument(
            "IDEMPOTENCY_KEY_REUSED",
            bilingual(
                "Khóa idempotency đã được dùng cho một yêu cầu khác",
                "the idempotency key was already used for a different request",
            ),
        )
    response = response_type()
    response.ParseFromString(row.response)
    return response


async def remember(uow: UnitOfWork, key: str, operation: str, request: Message, response: Message) -> None:
    if not key:
        return
    await uow.session.execute(
        text(
            "INSERT INTO idempotency_keys (tenant_id, subject, key, operation, request_hash, response)"
            " VALUES (:t, :s, :k, :o, :h, :r)"
            # A key past its retention but not yet purged is reused from scratch.
            " ON CONFLICT (tenant_id, subject, key) DO UPDATE SET operation = EXCLUDED.operation,"
            " request_hash = EXCLUDED.request_hash, response = EXCLUDED.response, created_at = now()"
        ),
        {
            "t": uow.tenant,
            "s": _subject(),
            "k": key,
            "o": operation,
            "h": request_hash(request),
            "r": response.SerializeToString(),
        },
    )

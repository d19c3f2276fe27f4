"""Cursor pagination over UUIDv7 ids (they sort by creation)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from typing import Protocol, TypeVar

from student_record.domain.rules import invalid

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def page_size(requested: int) -> int:
    if requested < 0:
        raise invalid("page_size", "Kích thước trang không hợp lệ", "page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def decode_token(token: str) -> uuid.UUID | None:
    if not token:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError as exc:
        raise invalid("page_token", "Mã trang không hợp lệ", "invalid page token") from exc


def encode_token(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


class HasId(Protocol):
    id: uuid.UUID


R = TypeVar("R", bound=HasId)


def page(rows: Sequence[R], limit: int) -> tuple[Sequence[R], str]:
    """Rows fetched with ``limit + 1``: the page itself and the token of the next one ("" at the end)."""
    if len(rows) <= limit:
        return rows, ""
    return rows[:limit], encode_token(rows[limit - 1].id)

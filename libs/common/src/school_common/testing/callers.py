"""Helpers for tests that call use cases in process: who is calling, identity's answer for them, the
events another service would have delivered, and a clock the test moves."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from google.protobuf.message import Message

from school_common.context import Principal, set_principal
from school_common.events import Event


def act_as(tenant: str, subject: str, *roles: str) -> None:
    """Make ``subject`` (with ``roles``, token ``token-<subject>``) the caller of what runs next."""
    set_principal(Principal(tenant=tenant, subject=subject, roles=frozenset(roles), token=f"token-{subject}"))


def scopes_by_subject(
    scopes: Mapping[str, Any], empty: Callable[[str], Any]
) -> Callable[[Principal], Awaitable[Any]]:
    """A ``ScopeResolver`` fetcher answering identity's ``GetAccessScope`` from ``scopes`` by subject
    (read at each call, so a test may add to it), ``empty(subject)`` for anyone else."""

    async def fetch(principal: Principal) -> Any:
        subject = principal.subject
        return scopes[subject] if subject in scopes else empty(subject)

    return fetch


def delivered(tenant: str, subject: str, payload: Message, source: str = "/school/student-record") -> Event:
    """An event as the consumer receives it (a fresh id each time: a redelivery is the same object twice)."""
    return Event(
        id=str(uuid.uuid4()),
        type=subject,
        source=source,
        subject=subject,
        tenant=tenant,
        data=payload.SerializeToString(),
    )


@dataclass
class Clock:
    """A clock for use cases that take one: local wall time in ``zone``, answered in UTC."""

    zone: tzinfo
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)

    def at(self, day: str, hhmm: str) -> None:
        """Set the clock to ``day`` (YYYY-MM-DD) at ``hhmm`` local time."""
        self.now = datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=self.zone)

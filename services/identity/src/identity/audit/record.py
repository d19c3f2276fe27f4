"""Writing the audit trail (same transaction as the action it records)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from school_common.context import current_principal
from school_common.db import UnitOfWork

from identity.models import AuditEvent


def record(
    uow: UnitOfWork,
    action: str,
    target: str = "",
    *,
    outcome: str = "SUCCESS",
    details: dict[str, Any] | None = None,
    actor: str | None = None,
    source: str = "identity",
    occurred_at: datetime | None = None,
    source_event_id: str | None = None,
) -> None:
    principal = current_principal()
    uow.session.add(
        AuditEvent(
            tenant_id=uow.tenant,
            occurred_at=occurred_at or datetime.now(UTC),
            source=source,
            action=action,
            actor=actor if actor is not None else (principal.subject if principal else ""),
            target=target,
            outcome=outcome,
            details=details or {},
            source_event_id=source_event_id,
        )
    )

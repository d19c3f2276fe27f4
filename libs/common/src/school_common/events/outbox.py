"""The transactional outbox: an event is a row written in the same transaction as the change."""

from __future__ import annotations

import json

from google.protobuf.message import Message
from sqlalchemy import text

from school_common.context import current_principal
from school_common.db import UnitOfWork
from school_common.events.cloudevents import subject_for
from school_common.ids import uuid7
from school_common.telemetry import inject_headers


def channel_for(service: str) -> str:
    """The PostgreSQL NOTIFY channel on which a committed outbox row wakes the service's relay."""
    return f"outbox_{service}"


class Outbox:
    """Adds events of one producing service to the unit of work's transaction."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.source = f"/school/{service.replace('_', '-')}"
        self.channel = channel_for(service)

    async def add(self, uow: UnitOfWork, event_type: str, payload: Message) -> str:
        return (await self.add_many(uow, [(event_type, payload)]))[0]

    async def add_many(self, uow: UnitOfWork, events: list[tuple[str, Message]]) -> list[str]:
        """Several events of one change in one round trip (e.g. a register's absences), in order."""
        if uow.tenant is None:
            raise RuntimeError("events belong to a tenant: open the unit of work with one")
        if not events:
            return []
        headers = inject_headers({})
        principal = current_principal()
        if principal is not None:
            headers["ce-actor"] = principal.subject
        rows: list[dict[str, object]] = []
        ids: list[str] = []
        for event_type, payload in events:
            subject = subject_for(self.service, event_type)
            ids.append(str(uuid7()))
            rows.append(
                {
                    "id": ids[-1],
                    "tenant": uow.tenant,
                    "subject": subject,
                    "type": subject,
                    "source": self.source,
                    "payload": payload.SerializeToString(),
                    "headers": json.dumps(
                        headers | {"ce-dataschema": f"type.googleapis.com/{payload.DESCRIPTOR.full_name}"}
                    ),
                }
            )
        await uow.session.execute(INSERT, rows)
        uow.notify_on_commit(self.channel)
        return ids


INSERT = text(
    "INSERT INTO outbox_events (id, tenant_id, subject, type, source, payload, headers)"
    " VALUES (CAST(:id AS uuid), :tenant, :subject, :type, :source, :payload, CAST(:headers AS jsonb))"
)

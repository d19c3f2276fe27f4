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
        if uow.tenant is None:
            raise RuntimeError("events belong to a tenant: open the unit of work with one")
        event_id = str(uuid7())
        subject = subject_for(self.service, event_type)
        headers = inject_headers({})
        headers["ce-dataschema"] = f"type.googleapis.com/{payload.DESCRIPTOR.full_name}"
        principal = current_principal()
        if principal is not None:
            headers["ce-actor"] = principal.subject
        await uow.session.execute(
            text(
                "INSERT INTO outbox_events (id, tenant_id, subject, type, source, payload, headers)"
                " VALUES (CAST(:id AS uuid), :tenant, :subject, :type, :source, :payload,"
                " CAST(:headers AS jsonb))"
            ),
            {
                "id": event_id,
                "tenant": uow.tenant,
                "subject": subject,
                "type": subject,
                "source": self.source,
                "payload": payload.SerializeToString(),
                "headers": json.dumps(headers),
            },
        )
        uow.notify_on_commit(self.channel)
        return event_id

"""CloudEvents 1.0 in NATS binary mode: attributes in ``ce-*`` headers, the protobuf payload as the body."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

CONTENT_TYPE = "application/protobuf"


def subject_for(service: str, event_type: str) -> str:
    """``school.<service>.<aggregate>.<verb>.v1`` from ``student_record`` and ``student.enrolled``."""
    return f"school.{service}.{event_type}.v1"


def stream_for(service: str) -> str:
    return service.upper()


def stream_subjects(service: str) -> list[str]:
    return [f"school.{service}.>"]


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    source: str
    subject: str
    tenant: str
    data: bytes
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    dataschema: str = ""
    traceparent: str = ""
    tracestate: str = ""
    # Extension attribute ``actor``: the Keycloak subject (a pseudonymous id) of the request that caused
    # the event, empty for events no person caused. For audit trails; never a name.
    actor: str = ""

    def parse(self, message_type: builtins.type[M]) -> M:
        message = message_type()
        message.ParseFromString(self.data)
        return message

    def headers(self) -> dict[str, str]:
        headers = {
            "ce-specversion": "1.0",
            "ce-id": self.id,
            "ce-type": self.type,
            "ce-source": self.source,
            "ce-time": self.time.isoformat(),
            "ce-tenantid": self.tenant,
            "content-type": CONTENT_TYPE,
            "Nats-Msg-Id": self.id,
        }
        if self.dataschema:
            headers["ce-dataschema"] = self.dataschema
        if self.actor:
            headers["ce-actor"] = self.actor
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        if self.tracestate:
            headers["tracestate"] = self.tracestate
        return headers

    @classmethod
    def from_message(cls, subject: str, headers: dict[str, str] | None, data: bytes) -> Event:
        h = headers or {}
        missing = [k for k in ("ce-id", "ce-type", "ce-source", "ce-tenantid") if not h.get(k)]
        if missing:
            raise ValueError(f"not a CloudEvent: missing {', '.join(missing)}")
        try:
            time = datetime.fromisoformat(h["ce-time"]) if h.get("ce-time") else datetime.now(UTC)
        except ValueError:
            time = datetime.now(UTC)
        return cls(
            id=h["ce-id"],
            type=h["ce-type"],
            source=h["ce-source"],
            subject=subject,
            tenant=h["ce-tenantid"],
            data=data,
            time=time,
            dataschema=h.get("ce-dataschema", ""),
            traceparent=h.get("traceparent", ""),
            tracestate=h.get("tracestate", ""),
            actor=h.get("ce-actor", ""),
        )

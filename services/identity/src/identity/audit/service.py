"""The tenant's audit trail: identity's own entries, Keycloak's sign-in and admin events, and the reads of
personal data other services report (``personal_data.accessed`` events).

Keycloak keeps its events for a limited time (``eventsExpiration``); identity copies them into its own
table (by the worker, and before every read of the trail) so they outlive that. Copying is idempotent:
an event is keyed by its Keycloak id.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from school.identity.v1 import identity_pb2 as pb
from school_common.access import Action, Resource, authorize
from school_common.db import Database
from school_common.errors import InvalidArgument, bilingual
from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert

from identity.access.service import AccessService, tenant_principal, ts
from identity.adapters.keycloak import Keycloak
from identity.audit.record import record
from identity.models import AuditEvent

log = logging.getLogger(__name__)

REALM_PREFIX = "tenant-"


def _bad(reason: str, field: str, vi: str, en: str) -> InvalidArgument:
    return InvalidArgument(reason, bilingual(vi, en), {"field": field})


def _event_id(prefix: str, event: dict[str, Any]) -> str:
    if event.get("id"):
        return f"{prefix}:{event['id']}"[:100]
    digest = hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()[:40]
    return f"{prefix}:{digest}"


def user_event_row(tenant: str, event: dict[str, Any]) -> dict[str, Any]:
    kind = str(event.get("type", "UNKNOWN"))
    details = {k: str(event[v]) for k, v in (("client_id", "clientId"), ("error", "error")) if event.get(v)}
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant,
        "occurred_at": datetime.fromtimestamp(int(event.get("time", 0)) / 1000, UTC),
        "source": "keycloak",
        "action": kind,
        "actor": str(event.get("userId") or ""),
        "target": f"user:{event['userId']}" if event.get("userId") else "",
        "outcome": "FAILURE" if kind.endswith("_ERROR") else "SUCCESS",
        "details": details,
        "source_event_id": _event_id("kc", event),
    }


def admin_event_row(tenant: str, event: dict[str, Any]) -> dict[str, Any]:
    auth = event.get("authDetails") or {}
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant,
        "occurred_at": datetime.fromtimestamp(int(event.get("time", 0)) / 1000, UTC),
        "source": "keycloak",
        "action": f"ADMIN_{event.get('operationType', 'UNKNOWN')}",
        "actor": str(auth.get("userId") or ""),
        # resourcePath holds ids only (users/<uuid>/role-mappings/realm), never names.
        "target": f"{str(event.get('resourceType', '')).lower()}:{event.get('resourcePath', '')}"[:200],
        "outcome": "FAILURE" if event.get("error") else "SUCCESS",
        "details": {"realm": str(auth.get("realmId", ""))[:64]},
        "source_event_id": _event_id("kc-admin", event),
    }


class AuditService:
    def __init__(self, db: Database, keycloak: Keycloak, accounts: AccessService) -> None:
        self.db = db
        self.keycloak = keycloak
        self.accounts = accounts

    async def sync_keycloak(self, tenant: str) -> int:
        realm = f"{REALM_PREFIX}{tenant}"
        try:
            rows = [user_event_row(tenant, e) for e in await self.keycloak.events(realm)]
            rows += [admin_event_row(tenant, e) for e in await self.keycloak.admin_events(realm)]
        except Exception as exc:
            log.warning("keycloak events not copied", extra={"tenant": tenant, "error": type(exc).__name__})
            return 0
        if not rows:
            return 0
        async with self.db.unit_of_work(tenant) as uow:
            result = await uow.session.execute(
                insert(AuditEvent)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["tenant_id", "source_event_id"])
            )
            await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def list(self, request: pb.ListAuditEventsRequest) -> pb.ListAuditEventsResponse:
        principal = tenant_principal()
        scope = await self.accounts.scope_of(principal)
        authorize(scope, Action.ADMIN, Resource.tenant())
        page_size = request.page_size or 100
        if not 1 <= page_size <= 1000:
            raise _bad(
                "INVALID_PAGE_SIZE", "page_size", "page_size từ 1 đến 1000", "page_size must be 1-1000"
            )
        cursor = None
        if request.page_token:
            try:
                stamp, _, last = base64.urlsafe_b64decode(request.page_token.encode()).decode().partition("|")
                cursor = (datetime.fromisoformat(stamp), uuid.UUID(last))
            except (ValueError, UnicodeDecodeError) as exc:
                raise _bad(
                    "INVALID_PAGE_TOKEN", "page_token", "page_token không hợp lệ", "page_token is not valid"
                ) from exc
        if len(request.actions) > 20 or any(not a or len(a) > 64 for a in request.actions):
            raise _bad(
                "INVALID_ACTIONS",
                "actions",
                "Danh sách hành động không hợp lệ",
                "actions: up to 20 names of 1-64 characters",
            )
        since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
        until = request.until.ToDatetime(tzinfo=UTC) if request.HasField("until") else None
        if since and until and since > until:
            raise _bad(
                "INVALID_TIME_RANGE",
                "since",
                "Thời điểm bắt đầu sau thời điểm kết thúc",
                "since is after until",
            )
        if not request.page_token:
            await self.sync_keycloak(principal.tenant)
        query = (
            select(AuditEvent)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(page_size + 1)
        )
        if request.actions:
            query = query.where(AuditEvent.action.in_(list(request.actions)))
        if request.actor:
            query = query.where(AuditEvent.actor == request.actor)
        if since:
            query = query.where(AuditEvent.occurred_at >= since)
        if until:
            query = query.where(AuditEvent.occurred_at < until)
        if cursor:
            query = query.where(
                or_(
                    AuditEvent.occurred_at < cursor[0],
                    and_(AuditEvent.occurred_at == cursor[0], AuditEvent.id < cursor[1]),
                )
            )
        async with self.db.unit_of_work(principal.tenant) as uow:
            rows = list((await uow.session.scalars(query)).all())
            if not request.page_token:
                record(uow, "AUDIT_TRAIL_READ", "tenant")
                await uow.commit()
        more = len(rows) > page_size
        rows = rows[:page_size]
        token = ""
        if more:
            token = base64.urlsafe_b64encode(
                f"{rows[-1].occurred_at.isoformat()}|{rows[-1].id}".encode()
            ).decode()
        return pb.ListAuditEventsResponse(
            events=[
                pb.AuditEvent(
                    id=str(e.id),
                    occur_time=ts(e.occurred_at),
                    source=e.source,
                    action=e.action,
                    actor=e.actor,
                    target=e.target,
                    outcome=e.outcome,
                    details={k: str(v) for k, v in e.details.items()},
                )
                for e in rows
            ],
            next_page_token=token,
        )


async def run_keycloak_sync(service: AuditService, interval_s: float, stop: asyncio.Event) -> None:
    """The worker loop: copy every tenant realm's Keycloak events into the audit trail."""
    while not stop.is_set():
        try:
            for realm in await service.keycloak.realm_names():
                if realm.startswith(REALM_PREFIX):
                    await service.sync_keycloak(realm[len(REALM_PREFIX) :])
        except Exception as exc:
            log.warning("keycloak event sync pass failed", extra={"error": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)

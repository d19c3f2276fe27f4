"""identity's definition for the component runner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import grpc
from school.identity.v1 import identity_pb2 as pb
from school.identity.v1 import identity_pb2_grpc as pb_grpc
from school_common.app import Deps, ServiceDefinition
from school_common.events import Subscription

from identity.access.service import AccessService
from identity.adapters.crypto import PersonalIdCipher
from identity.adapters.keycloak import Keycloak
from identity.adapters.registry import PopulationRegistry
from identity.audit.service import AuditService, run_keycloak_sync
from identity.consents.service import ConsentService
from identity.devices.service import DeviceClientService
from identity.events.handlers import Handlers
from identity.grpc.servicer import IdentityServicer
from identity.links.service import LinkService
from identity.people.api import PersonApi
from identity.people.service import PersonService, run_pending_verifications
from identity.settings import Settings
from identity.staff.service import StaffService
from identity.tenants.service import TenantService


@dataclass
class Parts:
    settings: Settings
    keycloak: Keycloak
    people: PersonService
    accounts: AccessService
    audit: AuditService


_PARTS: dict[int, tuple[Deps, Parts]] = {}


def parts(deps: Deps) -> Parts:
    """The service's objects, built once per component run (servicers, consumers and loops share them)."""
    cached = _PARTS.get(id(deps))
    if cached is not None and cached[0] is deps:
        return cached[1]
    settings = deps.settings if isinstance(deps.settings, Settings) else Settings.load()
    keycloak = Keycloak(settings.keycloak)
    cipher = PersonalIdCipher(
        settings.crypto.personal_id_keys.get_secret_value(), settings.crypto.lookup_key.get_secret_value()
    )
    registry = PopulationRegistry(
        settings.registry.base_url, settings.registry.api_key.get_secret_value(), settings.registry.timeout_s
    )
    people = PersonService(deps.db, cipher, registry, settings.registry)
    accounts = AccessService(deps.db, keycloak, people, deps.outbox)
    built = Parts(settings, keycloak, people, accounts, AuditService(deps.db, keycloak, accounts))
    _PARTS[id(deps)] = (deps, built)
    return built


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    p = parts(deps)
    servicer = IdentityServicer(
        tenants=TenantService(deps.db, p.keycloak),
        accounts=p.accounts,
        staff=StaffService(deps.db, p.keycloak, p.people, p.accounts),
        people=PersonApi(deps.db, p.people, p.accounts),
        links=LinkService(deps.db, p.accounts),
        consents=ConsentService(deps.db, p.accounts, deps.outbox),
        audit=p.audit,
        devices=DeviceClientService(deps.db, p.keycloak, p.accounts),
    )
    return [lambda server: pb_grpc.add_IdentityServiceServicer_to_server(servicer, server)]


def subscriptions(deps: Deps) -> list[Subscription]:
    return Handlers(parts(deps).accounts).subscriptions()


def background(deps: Deps) -> list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]]:
    p = parts(deps)
    return [
        partial(run_pending_verifications, p.people),
        partial(run_keycloak_sync, p.audit, p.settings.audit_sync_interval_s),
    ]


DEFINITION = ServiceDefinition(
    name="identity",
    settings_type=Settings,
    root=Path(__file__).resolve().parents[2],
    servicers=servicers,
    service_names=[pb.DESCRIPTOR.services_by_name["IdentityService"].full_name],
    subscriptions=subscriptions,
    background=background,
)

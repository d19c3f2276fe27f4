"""attendance's definition for the component runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from school.attendance.v1 import attendance_pb2 as pb
from school.attendance.v1 import attendance_pb2_grpc as pb_grpc
from school.identity.v1.identity_pb2_grpc import IdentityServiceStub
from school_common.access import Callers, ScopeResolver, identity_scope_fetcher
from school_common.app import Deps, ServiceDefinition
from school_common.events import Subscription
from school_common.grpc.client import channel

from attendance.events.handlers import subscriptions as event_subscriptions
from attendance.grpc.servicer import AttendanceServicer
from attendance.rosters.service import RosterService
from attendance.settings import IdentityClientSettings, Settings


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    settings = deps.settings.identity if isinstance(deps.settings, Settings) else IdentityClientSettings()
    # The channel connects lazily and lives as long as the process.
    stub = IdentityServiceStub(channel(settings.target))
    access = Callers(ScopeResolver(identity_scope_fetcher(stub, settings.timeout_s)))
    servicer = AttendanceServicer(RosterService(deps.db, access))
    return [lambda server: pb_grpc.add_AttendanceServiceServicer_to_server(servicer, server)]


def subscriptions(deps: Deps) -> list[Subscription]:
    return event_subscriptions()


DEFINITION = ServiceDefinition(
    name="attendance",
    settings_type=Settings,
    root=Path(__file__).resolve().parents[2],
    servicers=servicers,
    service_names=[pb.DESCRIPTOR.services_by_name["AttendanceService"].full_name],
    subscriptions=subscriptions,
)

"""attendance's definition for the component runner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import grpc
from school.attendance.v1 import attendance_pb2 as pb
from school.attendance.v1 import attendance_pb2_grpc as pb_grpc
from school.identity.v1.identity_pb2_grpc import IdentityServiceStub
from school_common.access import Callers, ScopeResolver, identity_scope_fetcher
from school_common.app import Deps, ServiceDefinition
from school_common.events import Subscription
from school_common.grpc.client import channel

from attendance.boarding.freezer import MealCountFreezer
from attendance.boarding.service import BoardingService
from attendance.calendar.service import CalendarService
from attendance.domain.calendar import system_clock
from attendance.events.handlers import subscriptions as event_subscriptions
from attendance.gate.service import GateService
from attendance.grpc.servicer import AttendanceServicer, UseCases
from attendance.leave.service import LeaveService
from attendance.registers.admission import Admission
from attendance.registers.service import RegisterService
from attendance.rosters.service import RosterService
from attendance.settings import IdentityClientSettings, RegisterSettings, Settings


def _identity(deps: Deps) -> tuple[IdentityServiceStub, IdentityClientSettings]:
    settings = deps.settings.identity if isinstance(deps.settings, Settings) else IdentityClientSettings()
    # The channel connects lazily and lives as long as the process.
    return IdentityServiceStub(channel(settings.target)), settings


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    stub, settings = _identity(deps)
    access = Callers(ScopeResolver(identity_scope_fetcher(stub, settings.timeout_s)))
    registers = deps.settings.registers if isinstance(deps.settings, Settings) else RegisterSettings()
    clock = system_clock
    use_cases = UseCases(
        rosters=RosterService(deps.db, access),
        calendars=CalendarService(deps.db, access),
        registers=RegisterService(
            deps.db, access, deps.outbox, clock, Admission(registers.max_in_flight, registers.retry_after_s)
        ),
        leave=LeaveService(deps.db, access, deps.outbox, clock),
        gate=GateService(deps.db, access, stub, settings.timeout_s, clock),
        boarding=BoardingService(deps.db, access, deps.outbox, clock),
    )
    servicer = AttendanceServicer(use_cases)
    return [lambda server: pb_grpc.add_AttendanceServiceServicer_to_server(servicer, server)]


def subscriptions(deps: Deps) -> list[Subscription]:
    return event_subscriptions()


def background(deps: Deps) -> list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]]:
    # Each school's meal count freezes at its cut-off even when nobody asks for it then.
    return [MealCountFreezer(deps.db, deps.outbox, system_clock).run]


DEFINITION = ServiceDefinition(
    name="attendance",
    settings_type=Settings,
    root=Path(__file__).resolve().parents[2],
    servicers=servicers,
    service_names=[pb.DESCRIPTOR.services_by_name["AttendanceService"].full_name],
    subscriptions=subscriptions,
    background=background,
)

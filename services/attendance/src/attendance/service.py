"""attendance's definition for the component runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from school.attendance.v1 import attendance_pb2 as pb
from school.attendance.v1 import attendance_pb2_grpc as pb_grpc
from school_common.app import Deps, ServiceDefinition
from school_common.events import Subscription

from attendance.events.handlers import subscriptions as event_subscriptions
from attendance.grpc.servicer import AttendanceServicer
from attendance.rosters.service import RosterService
from attendance.settings import Settings


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    servicer = AttendanceServicer(RosterService(deps.db))
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

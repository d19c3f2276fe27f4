"""health's definition for the component runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from school.health.v1 import health_pb2 as pb
from school.health.v1 import health_pb2_grpc as pb_grpc
from school_common.app import Deps, ServiceDefinition

from health.grpc.servicer import HealthServicer
from health.settings import Settings


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    servicer = HealthServicer()
    return [lambda server: pb_grpc.add_HealthServiceServicer_to_server(servicer, server)]


DEFINITION = ServiceDefinition(
    name="health",
    settings_type=Settings,
    root=Path(__file__).resolve().parents[2],
    servicers=servicers,
    service_names=[pb.DESCRIPTOR.services_by_name["HealthService"].full_name],
)

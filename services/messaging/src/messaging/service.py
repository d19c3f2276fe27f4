"""messaging's definition for the component runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from school.messaging.v1 import messaging_pb2 as pb
from school.messaging.v1 import messaging_pb2_grpc as pb_grpc
from school_common.app import Deps, ServiceDefinition

from messaging.grpc.servicer import MessagingServicer
from messaging.settings import Settings


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    servicer = MessagingServicer()
    return [lambda server: pb_grpc.add_MessagingServiceServicer_to_server(servicer, server)]


DEFINITION = ServiceDefinition(
    name="messaging",
    settings_type=Settings,
    root=Path(__file__).resolve().parents[2],
    servicers=servicers,
    service_names=[pb.DESCRIPTOR.services_by_name["MessagingService"].full_name],
)

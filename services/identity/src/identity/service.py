"""identity's definition for the component runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from school.identity.v1 import identity_pb2 as pb
from school.identity.v1 import identity_pb2_grpc as pb_grpc
from school_common.app import Deps, ServiceDefinition

from identity.grpc.servicer import IdentityServicer
from identity.settings import Settings


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    servicer = IdentityServicer()
    return [lambda server: pb_grpc.add_IdentityServiceServicer_to_server(servicer, server)]


DEFINITION = ServiceDefinition(
    name="identity",
    settings_type=Settings,
    root=Path(__file__).resolve().parents[2],
    servicers=servicers,
    service_names=[pb.DESCRIPTOR.services_by_name["IdentityService"].full_name],
)

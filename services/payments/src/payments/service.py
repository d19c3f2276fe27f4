"""payments's definition for the component runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from school.payments.v1 import payments_pb2 as pb
from school.payments.v1 import payments_pb2_grpc as pb_grpc
from school_common.app import Deps, ServiceDefinition

from payments.grpc.servicer import PaymentsServicer
from payments.settings import Settings


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    servicer = PaymentsServicer()
    return [lambda server: pb_grpc.add_PaymentsServiceServicer_to_server(servicer, server)]


DEFINITION = ServiceDefinition(
    name="payments",
    settings_type=Settings,
    root=Path(__file__).resolve().parents[2],
    servicers=servicers,
    service_names=[pb.DESCRIPTOR.services_by_name["PaymentsService"].full_name],
)

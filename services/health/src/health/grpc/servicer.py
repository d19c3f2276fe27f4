"""gRPC servicer for health."""

from __future__ import annotations

from importlib.metadata import version

import grpc
from school.health.v1 import health_pb2 as pb
from school.health.v1 import health_pb2_grpc as pb_grpc

CAPABILITIES: list[
    str
] = []  # filled in as the health issue lands: health profiles, check-ups, vaccinations, clinic visits


class HealthServicer(pb_grpc.HealthServiceServicer):
    async def GetServiceInfo(
        self, request: pb.GetServiceInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetServiceInfoResponse:
        return pb.GetServiceInfoResponse(
            name="health", version=version("school-health"), capabilities=CAPABILITIES
        )

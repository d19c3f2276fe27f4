"""gRPC servicer for identity."""

from __future__ import annotations

from importlib.metadata import version

import grpc
from school.identity.v1 import identity_pb2 as pb
from school.identity.v1 import identity_pb2_grpc as pb_grpc

CAPABILITIES: list[
    str
] = []  # filled in as the identity issue lands: tenant realms, citizen-ID verification, VNeID federation


class IdentityServicer(pb_grpc.IdentityServiceServicer):
    async def GetServiceInfo(
        self, request: pb.GetServiceInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetServiceInfoResponse:
        return pb.GetServiceInfoResponse(
            name="identity", version=version("school-identity"), capabilities=CAPABILITIES
        )

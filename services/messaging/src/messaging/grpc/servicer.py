"""gRPC servicer for messaging."""

from __future__ import annotations

from importlib.metadata import version

import grpc
from school.messaging.v1 import messaging_pb2 as pb
from school.messaging.v1 import messaging_pb2_grpc as pb_grpc

CAPABILITIES: list[
    str
] = []  # filled in as the messaging issue lands: school-family conversations, announcements, notifications


class MessagingServicer(pb_grpc.MessagingServiceServicer):
    async def GetServiceInfo(
        self, request: pb.GetServiceInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetServiceInfoResponse:
        return pb.GetServiceInfoResponse(
            name="messaging", version=version("school-messaging"), capabilities=CAPABILITIES
        )

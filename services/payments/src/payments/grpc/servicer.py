"""gRPC servicer for payments."""

from __future__ import annotations

from importlib.metadata import version

import grpc
from school.payments.v1 import payments_pb2 as pb
from school.payments.v1 import payments_pb2_grpc as pb_grpc

CAPABILITIES: list[
    str
] = []  # filled in as the payments issue lands: fee catalogue, VietQR, bank webhooks, reconciliation


class PaymentsServicer(pb_grpc.PaymentsServiceServicer):
    async def GetServiceInfo(
        self, request: pb.GetServiceInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetServiceInfoResponse:
        return pb.GetServiceInfoResponse(
            name="payments", version=version("school-payments"), capabilities=CAPABILITIES
        )

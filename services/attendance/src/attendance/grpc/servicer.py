"""gRPC servicer for attendance."""

from __future__ import annotations

import grpc
from school.attendance.v1 import attendance_pb2 as pb
from school.attendance.v1 import attendance_pb2_grpc as pb_grpc

from attendance.rosters.service import RosterService


class AttendanceServicer(pb_grpc.AttendanceServiceServicer):
    def __init__(self, rosters: RosterService) -> None:
        self.rosters = rosters

    async def GetClassRoster(
        self, request: pb.GetClassRosterRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetClassRosterResponse:
        return await self.rosters.get_class_roster(request)

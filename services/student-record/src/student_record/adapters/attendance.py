"""attendance as student-record uses it: the 45-session counter that promotion reads.

The caller's own token goes with the call, so attendance decides again who may see a student's absences.
While attendance cannot answer (away, or it does not know the student) the count is unknown and promotion
waits, rather than taking a guessed zero.
"""

from __future__ import annotations

import logging

import grpc
from school.attendance.v1 import attendance_pb2 as att
from school.attendance.v1.attendance_pb2_grpc import AttendanceServiceStub
from school_common.context import current_principal
from school_common.grpc.client import auth_metadata

log = logging.getLogger(__name__)


class AttendanceAbsences:
    def __init__(self, stub: AttendanceServiceStub, timeout_s: float) -> None:
        self.stub = stub
        self.timeout_s = timeout_s

    async def absent_sessions(self, student_id: str, school_year: str) -> int | None:
        principal = current_principal()
        if principal is None:
            return None
        try:
            response = await self.stub.GetAbsenceSummary(
                att.GetAbsenceSummaryRequest(student_id=student_id, school_year=school_year),
                metadata=auth_metadata(principal.token),
                timeout=self.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            # Ids only in logs: no names, no counts.
            log.warning("absence counter unavailable: %s", exc.code().name)
            return None
        return response.summary.absent_sessions

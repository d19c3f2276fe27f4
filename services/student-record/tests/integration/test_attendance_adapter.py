"""student-record reads attendance's 45-session counter with the caller's own token (adapters/attendance.py);
while attendance cannot answer, the count is unknown, never zero."""

from __future__ import annotations

import grpc
import pytest
from school.attendance.v1 import attendance_pb2 as att
from school.attendance.v1 import attendance_pb2_grpc as attgrpc
from school_common.context import Principal, set_principal
from school_common.grpc.client import channel
from school_common.testing.servers import free_port
from student_record.adapters.attendance import AttendanceAbsences

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


class FakeAttendance(attgrpc.AttendanceServiceServicer):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    async def GetAbsenceSummary(self, request, context):
        token = dict(context.invocation_metadata()).get("authorization", "")
        self.seen.append((token, request.student_id, request.school_year))
        if request.student_id == "unknown":
            await context.abort(grpc.StatusCode.NOT_FOUND, "student not found")
        return att.GetAbsenceSummaryResponse(
            summary=att.AbsenceSummary(student_id=request.student_id, absent_sessions=7, limit=45)
        )


@pytest.fixture
async def attendance():
    fake = FakeAttendance()
    server = grpc.aio.server()
    attgrpc.add_AttendanceServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    chan = channel(f"127.0.0.1:{port}")
    yield fake, AttendanceAbsences(attgrpc.AttendanceServiceStub(chan), 2)
    await chan.close()
    await server.stop(None)
    set_principal(None)


async def test_the_counter_is_read_with_the_caller_s_token(attendance):
    fake, absences = attendance
    set_principal(Principal(tenant="t", subject="teacher", roles=frozenset({"teacher"}), token="tok-123"))
    assert await absences.absent_sessions("s-1", "2025-2026") == 7
    assert fake.seen == [("Bearer tok-123", "s-1", "2025-2026")]


async def test_an_answer_attendance_cannot_give_is_unknown(attendance):
    _, absences = attendance
    set_principal(Principal(tenant="t", subject="teacher", roles=frozenset({"teacher"}), token="tok"))
    assert await absences.absent_sessions("unknown", "2025-2026") is None
    away = AttendanceAbsences(attgrpc.AttendanceServiceStub(channel(f"127.0.0.1:{free_port()}")), 2)
    assert await away.absent_sessions("s-1", "2025-2026") is None
    set_principal(None)
    assert await absences.absent_sessions("s-1", "2025-2026") is None  # no caller, no call

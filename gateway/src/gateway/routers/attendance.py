"""Attendance (attendance service)."""

from __future__ import annotations

from fastapi import APIRouter
from school.attendance.v1 import attendance_pb2 as att

from gateway import mappers, schemas
from gateway.deps import BackendsDep, Caller, ClassId
from gateway.problems import problem_docs

router = APIRouter(prefix="/v1/attendance")


@router.get(
    "/classes/{class_id}/roster",
    tags=["attendance"],
    operation_id="getClassRoster",
    summary="Sĩ số lớp / Class roster",
    description="Danh sách học sinh của lớp theo dịch vụ điểm danh (cập nhật từ sự kiện xếp lớp, có thể "
    "trễ vài giây). / The class roster as attendance knows it (fed by enrolment events, may lag by seconds).",
    responses=problem_docs(403, 404),
)
async def get_class_roster(caller: Caller, class_id: ClassId, backends: BackendsDep) -> schemas.ClassRoster:
    result: att.GetClassRosterResponse = await backends.call(
        backends.attendance.GetClassRoster, att.GetClassRosterRequest(class_id=class_id), caller
    )
    return mappers.roster(result)

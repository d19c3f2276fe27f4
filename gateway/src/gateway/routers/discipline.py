"""A student's violations, educational measures and rewards under Circular 19/2025 (student-record service).

Routes are on a student or a violation: they forward, and student-record decides (it knows the student's
school and classes, and the guardians linked to them). The gateway checks shape only, except that it refuses
any measure Circular 19/2025 does not know (suspension and expulsion were abolished) with its own reason,
``MEASURE_NOT_ALLOWED``, before forwarding anything; which measures a school level uses is the service's
rule (``MEASURE_NOT_ALLOWED_AT_LEVEL``).
"""

from __future__ import annotations

from fastapi import APIRouter
from school.student_record.v1 import student_record_pb2 as sr

from gateway import mappers, schemas
from gateway.deps import BackendsDep, Caller, IdempotencyKey, StudentId, ViolationId
from gateway.problems import problem_docs

router = APIRouter(prefix="/v1", tags=["discipline"])

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)


@router.post(
    "/students/{student_id}/violations",
    status_code=201,
    operation_id="recordViolation",
    summary="Ghi nhận vi phạm / Record a violation",
    description="Ghi nhận một vi phạm của học sinh và biện pháp giáo dục theo Thông tư 19/2025 (giáo viên "
    "chủ nhiệm của lớp học sinh, quản trị viên trường). Thông tư đã bãi bỏ đình chỉ học và buộc thôi "
    "học: một biện pháp khác `reminder`, `apology`, `criticism`, `self_review` bị từ chối (422 "
    "`MEASURE_NOT_ALLOWED`) và không được gửi đi. Tiểu học dùng `reminder`, `apology`; THCS, THPT dùng "
    "`reminder`, `criticism`, `self_review`; biện pháp không hợp cấp học: 422 "
    "`MEASURE_NOT_ALLOWED_AT_LEVEL`. / Records a violation by the student and the educational measure "
    "taken under Circular 19/2025 (the homeroom teacher of the student's class, school admins). The "
    "Circular abolished suspension and expulsion: a measure other than `reminder`, `apology`, `criticism`, "
    "`self_review` is refused (422 `MEASURE_NOT_ALLOWED`) and nothing is forwarded. Primary schools use "
    "`reminder`, `apology`; secondary schools `reminder`, `criticism`, `self_review`; a measure the level "
    "does not use: 422 `MEASURE_NOT_ALLOWED_AT_LEVEL`.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def record_violation(
    caller: Caller,
    student_id: StudentId,
    key: IdempotencyKey,
    body: schemas.ViolationCreate,
    backends: BackendsDep,
) -> schemas.Violation:
    result: sr.RecordViolationResponse = await backends.call(
        backends.student_record.RecordViolation, mappers.record_violation(student_id, body, key), caller
    )
    return mappers.violation(result.violation)


@router.get(
    "/students/{student_id}/violations",
    operation_id="listStudentViolations",
    summary="Vi phạm của học sinh / A student's violations",
    description="Các vi phạm đã ghi nhận của học sinh và biện pháp giáo dục; phụ huynh đã liên kết và cán bộ "
    "của trường có quyền xem học sinh. / The student's recorded violations and their measures; for linked "
    "guardians and the school's staff who may read the student.",
    responses=problem_docs(403, 404),
)
async def list_student_violations(
    caller: Caller, student_id: StudentId, backends: BackendsDep
) -> schemas.ViolationList:
    result: sr.ListStudentViolationsResponse = await backends.call(
        backends.student_record.ListStudentViolations,
        sr.ListStudentViolationsRequest(student_id=student_id),
        caller,
    )
    return schemas.ViolationList(items=[mappers.violation(v) for v in result.violations])


@router.post(
    "/violations/{violation_id}/self-review-confirmation",
    operation_id="confirmSelfReview",
    summary="Gia đình xác nhận bản tự kiểm điểm / The family confirms a self-review",
    description="Phụ huynh của học sinh xác nhận bản tự kiểm điểm (THCS, THPT); không có nội dung yêu cầu. "
    "Trả về vi phạm với `family_confirmed_at`. / A guardian of the student confirms the written self-review "
    "(secondary schools); no request body. Answers with the violation and its `family_confirmed_at`.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def confirm_self_review(
    caller: Caller, violation_id: ViolationId, backends: BackendsDep
) -> schemas.Violation:
    result: sr.ConfirmSelfReviewResponse = await backends.call(
        backends.student_record.ConfirmSelfReview,
        sr.ConfirmSelfReviewRequest(violation_id=violation_id),
        caller,
    )
    return mappers.violation(result.violation)


@router.post(
    "/students/{student_id}/rewards",
    status_code=201,
    operation_id="recordReward",
    summary="Ghi nhận khen thưởng / Record a reward",
    description="Ghi nhận một hình thức khen thưởng theo Thông tư 19/2025 (giáo viên chủ nhiệm, quản trị "
    "viên trường). / Records a reward under Circular 19/2025 (homeroom teachers, school admins).",
    responses=problem_docs(*WRITE_ERRORS),
)
async def record_reward(
    caller: Caller,
    student_id: StudentId,
    key: IdempotencyKey,
    body: schemas.RewardCreate,
    backends: BackendsDep,
) -> schemas.Reward:
    result: sr.RecordRewardResponse = await backends.call(
        backends.student_record.RecordReward, mappers.record_reward(student_id, body, key), caller
    )
    return mappers.reward(result.reward)


@router.get(
    "/students/{student_id}/rewards",
    operation_id="listStudentRewards",
    summary="Khen thưởng của học sinh / A student's rewards",
    description="Các khen thưởng đã ghi nhận của học sinh. / The student's recorded rewards.",
    responses=problem_docs(403, 404),
)
async def list_student_rewards(
    caller: Caller, student_id: StudentId, backends: BackendsDep
) -> schemas.RewardList:
    result: sr.ListStudentRewardsResponse = await backends.call(
        backends.student_record.ListStudentRewards,
        sr.ListStudentRewardsRequest(student_id=student_id),
        caller,
    )
    return schemas.RewardList(items=[mappers.reward(r) for r in result.rewards])

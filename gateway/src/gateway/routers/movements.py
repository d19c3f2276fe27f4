"""Moves between classes and transfers between schools of the tenant (student-record): a school's admins move
a student to another class of the school in the same school year (done at once; the year's grades and
ratings follow the student), or ask another school of the tenant to take them; the receiving school's admins
accept into one of their classes of the same year (the record travels) or refuse with a note.

Routes on a student or a movement forward, and student-record decides (it knows the student's school, the
movement's receiving school). The list of a school's movements checks ADMIN on the school at the edge
first: the school is in the path. The gateway checks shape only, plus the one rule it can see alone: accepting
needs `to_class_id`, refusing a `note`. The rest — `ALREADY_IN_CLASS`, `NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR`,
`SAME_SCHOOL`, `TRANSFER_PENDING`, `STUDENT_MOVED_SINCE_REQUEST`, `MOVEMENT_ALREADY_DECIDED`, an
`effective_on` in the future — are the service's answers, passed through with their reason and field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from school.student_record.v1 import student_record_pb2 as sr
from school_common.access import Action, Resource

from gateway import mappers, schemas
from gateway.deps import AccessDep, BackendsDep, Caller, IdempotencyKey, MovementId, SchoolId, StudentId
from gateway.problems import missing_field, problem_docs

router = APIRouter(prefix="/v1", tags=["movements"])

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)


@router.post(
    "/students/{student_id}/moves",
    status_code=201,
    operation_id="moveStudent",
    summary="Chuyển lớp / Move a student to another class",
    description="Chuyển học sinh sang lớp khác của trường trong cùng năm học, có hiệu lực ngay; điểm và đánh "
    "giá của năm học đi theo học sinh. Quản trị viên trường (người khác: 403). Lớp hiện tại: 409 "
    "`ALREADY_IN_CLASS`; lớp của trường hoặc năm học khác: 422 `NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR` "
    "(sang trường khác là chuyển trường); học sinh chưa xếp lớp: 422 `STUDENT_NOT_ENROLLED`; ngày ở tương "
    "lai: 422 `INVALID_DATE` (`effective_on`). `Idempotency-Key` trả lại đúng kết quả lần đầu. / Moves the "
    "student to another class of the school in the same school year, at once; the year's grades and "
    "ratings follow them. School admins (anyone else: 403). The current class: 409 `ALREADY_IN_CLASS`; a "
    "class of another school or year: 422 `NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR` (another school is a "
    "transfer); not enrolled: 422 `STUDENT_NOT_ENROLLED`; a day in the future: 422 `INVALID_DATE` "
    "(`effective_on`). An `Idempotency-Key` returns the first answer.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def move_student(
    caller: Caller,
    student_id: StudentId,
    key: IdempotencyKey,
    body: schemas.MoveCreate,
    backends: BackendsDep,
) -> schemas.Movement:
    result: sr.MoveStudentResponse = await backends.call(
        backends.student_record.MoveStudent, mappers.move_student(student_id, body, key), caller
    )
    return mappers.movement(result.movement)


@router.post(
    "/students/{student_id}/transfers",
    status_code=201,
    operation_id="requestTransfer",
    summary="Đề nghị chuyển trường / Request a transfer to another school",
    description="Quản trị viên trường đang quản lý học sinh đề nghị một trường khác của đơn vị nhận học "
    "sinh; yêu cầu chờ trường nhận quyết định (`pending`), học sinh vẫn ở lớp cũ đến khi đó. Mỗi học sinh "
    "chỉ một yêu cầu chờ: 422 `TRANSFER_PENDING`; cùng trường: 422 `SAME_SCHOOL` (hãy chuyển lớp); trường "
    "không có: 404 `SCHOOL_NOT_FOUND`. `Idempotency-Key` trả lại đúng kết quả lần đầu. / The admins of the "
    "student's school ask another school of the tenant to take the student; the request waits for the "
    "receiving school (`pending`), and the student stays in their class until then. One pending request a "
    "student: 422 `TRANSFER_PENDING`; the same school: 422 `SAME_SCHOOL` (move them instead); an unknown "
    "school: 404 `SCHOOL_NOT_FOUND`. An `Idempotency-Key` returns the first answer.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def request_transfer(
    caller: Caller,
    student_id: StudentId,
    key: IdempotencyKey,
    body: schemas.TransferCreate,
    backends: BackendsDep,
) -> schemas.Movement:
    result: sr.RequestTransferResponse = await backends.call(
        backends.student_record.RequestTransfer, mappers.request_transfer(student_id, body, key), caller
    )
    return mappers.movement(result.movement)


@router.post(
    "/movements/{movement_id}/decision",
    operation_id="decideTransfer",
    summary="Trường nhận quyết định chuyển trường / The receiving school decides a transfer",
    description="Quản trị viên của trường nhận (người khác: 403) nhận học sinh vào một lớp của trường trong "
    "năm học của học sinh (`to_class_id`; hồ sơ — điểm, học bạ, kỷ luật, câu lạc bộ — đi theo, trường cũ "
    "không còn xem được) hoặc từ chối (cần `note`). Lớp khác năm học hoặc của trường khác: 422 "
    "`NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR`; học sinh đã đổi lớp hoặc trường sau khi đề nghị: 422 "
    "`STUDENT_MOVED_SINCE_REQUEST`; đã quyết định khác: 422 `MOVEMENT_ALREADY_DECIDED`. Gửi lại cùng quyết "
    "định trả về kết quả đã có, nên không cần `Idempotency-Key`. / The receiving school's admins (anyone "
    "else: 403) accept the student into one of their classes of the student's school year (`to_class_id`; "
    "the record — grades, transcripts, discipline, clubs — travels, and the sending school no longer reads "
    "it) or refuse (with a `note`). A class of another year or school: 422 "
    "`NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR`; the student changed class or school since the request: 422 "
    "`STUDENT_MOVED_SINCE_REQUEST`; decided otherwise already: 422 `MOVEMENT_ALREADY_DECIDED`. Sending the "
    "same decision again answers the movement as it is, so it takes no `Idempotency-Key`.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def decide_transfer(
    caller: Caller,
    movement_id: MovementId,
    body: schemas.TransferDecision,
    backends: BackendsDep,
) -> schemas.Movement:
    if body.accept and body.to_class_id is None:
        raise missing_field("to_class_id")
    if not body.accept and body.note is None:
        raise missing_field("note")
    result: sr.DecideTransferResponse = await backends.call(
        backends.student_record.DecideTransfer, mappers.decide_transfer(movement_id, body), caller
    )
    return mappers.movement(result.movement)


@router.get(
    "/schools/{school_id}/movements",
    operation_id="listMovements",
    summary="Chuyển lớp, chuyển trường của trường / A school's moves and transfers",
    description="Các lần chuyển lớp và chuyển trường, đi và đến, của trường, mới nhất trước (tối đa 500), "
    "với người đề nghị, người quyết định và ghi chú; trường nhận thấy ở đây các yêu cầu chờ mình quyết "
    "định (`state=pending`). Quản trị viên trường và quản trị viên Sở/Phòng. / The school's moves and "
    "transfers, in and out, newest first (at most 500), with who asked, who decided and the note; the "
    "receiving school finds here the requests waiting for its decision (`state=pending`). School admins "
    "and authority admins.",
    responses=problem_docs(403, 404, 422),
)
async def list_movements(
    caller: Caller,
    school_id: SchoolId,
    access: AccessDep,
    backends: BackendsDep,
    state: Annotated[
        schemas.MovementState | None,
        Query(description="Chỉ các yêu cầu ở trạng thái này / only movements in this state"),
    ] = None,
) -> schemas.MovementList:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: sr.ListMovementsResponse = await backends.call(
        backends.student_record.ListMovements,
        sr.ListMovementsRequest(
            school_id=school_id,
            state=mappers.MOVEMENT_STATE_TO_PB[state] if state else sr.MOVEMENT_STATE_UNSPECIFIED,
        ),
        caller,
    )
    return schemas.MovementList(items=[mappers.movement(m) for m in result.movements])

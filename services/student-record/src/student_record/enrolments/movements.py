"""Moves between classes and transfers between schools of the tenant.

A student has one class a school year (their enrolment); a move or a transfer changes that class, and the
year's grades and ratings follow the student (they are the student's, not the class's). A move is decided
by the school's admins at once. A transfer is asked by the sending school and decided by the receiving
one, which places the student in one of its classes of the same year; the student's school changes, and
with it who may read the record (the receiving school's staff; the family keeps its access, identity
following ``student.transferred``). Earlier years stay where they were: their classes, transcripts and
discipline remain readable to whoever reached them, and the family, for life.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.access import Action, Caller, Callers
from school_common.db import Database, UnitOfWork
from school_common.errors import AlreadyExists, FailedPrecondition, NotFound, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from student_record.domain import rules
from student_record.enrolments import repository
from student_record.enrolments.service import student_for, student_not_found
from student_record.events import publish
from student_record.mappers import timestamp
from student_record.models import Assessment, Enrolment, Movement, Rating, SchoolClass, SchoolYear, Student
from student_record.schools.repository import get_school
from student_record.schools.service import class_for, school_for, school_not_found

KINDS = {
    "CLASS_MOVE": pb.MOVEMENT_KIND_CLASS_MOVE,
    "SCHOOL_TRANSFER": pb.MOVEMENT_KIND_SCHOOL_TRANSFER,
    "TRANSFER_OUT": pb.MOVEMENT_KIND_TRANSFER_OUT,
    "TRANSFER_IN": pb.MOVEMENT_KIND_TRANSFER_IN,
}
STATES = {
    "PENDING": pb.MOVEMENT_STATE_PENDING,
    "DONE": pb.MOVEMENT_STATE_DONE,
    "REFUSED": pb.MOVEMENT_STATE_REFUSED,
}


def movement_proto(row: Movement) -> pb.Movement:
    message = pb.Movement(
        id=str(row.id),
        student_id=str(row.student_id),
        kind=KINDS[row.kind],
        state=STATES[row.state],
        school_year=row.school_year,
        from_school_id=str(row.from_school_id) if row.from_school_id else "",
        from_class_id=str(row.from_class_id) if row.from_class_id else "",
        to_school_id=str(row.to_school_id) if row.to_school_id else "",
        to_class_id=str(row.to_class_id) if row.to_class_id else "",
        counterpart=row.counterpart,
        effective_on=row.effective_on.isoformat(),
        reason=row.reason,
        requested_by=row.requested_by,
        request_time=timestamp(row.created_at),
        decided_by=row.decided_by or "",
        decision_note=row.decision_note,
    )
    if row.decided_at is not None:
        message.decide_time.CopyFrom(timestamp(row.decided_at))
    return message


def transferred_in_status(day: date, year: SchoolYear | None) -> str:
    """The sector database's "Chuyển đến" status by the term the transfer falls in."""
    return f"TRANSFERRED_IN_{term_of_year(day, year)}"


def term_of_year(day: date, year: SchoolYear | None) -> str:
    """TERM1, TERM2 or SUMMER: by the school year's semester dates, or, when the school has not defined
    them, semester I until 15 January and semester II until the end of May."""
    if year is not None:
        semester_1_end, semester_2_end = year.semester_1_end, year.semester_2_end
    else:
        first = day.year if day.month >= 8 else day.year - 1
        semester_1_end, semester_2_end = date(first + 1, 1, 15), date(first + 1, 5, 31)
    if day <= semester_1_end:
        return "TERM1"
    if day <= semester_2_end:
        return "TERM2"
    return "SUMMER"


def _grade_mismatch(grade: int) -> FailedPrecondition:
    return FailedPrecondition(
        "GRADE_MISMATCH",
        bilingual(f"Học sinh đang học lớp {grade}: chọn một lớp {grade}", f"the student is in grade {grade}"),
        {"field": "to_class_id"},
    )


def movement_not_found() -> NotFound:
    return NotFound("MOVEMENT_NOT_FOUND", bilingual("Không tìm thấy yêu cầu chuyển", "movement not found"))


async def current_enrolment(uow: UnitOfWork, caller: Caller, student_id: str) -> tuple[Student, Enrolment]:
    """The student (once the caller administers them) and their enrolment of their latest year."""
    parsed = parse_uuid(student_id)
    if parsed is None:
        raise student_not_found()
    student, _ = await student_for(uow.session, caller, parsed, Action.ADMIN)
    enrolment = await uow.session.scalar(
        select(Enrolment)
        .where(Enrolment.student_id == student.id)
        .order_by(Enrolment.school_year.desc())
        .limit(1)
        .with_for_update()
    )
    if enrolment is None:
        raise FailedPrecondition(
            "STUDENT_NOT_ENROLLED",
            bilingual("Học sinh chưa được xếp lớp", "the student is not enrolled in a class"),
        )
    return student, enrolment


class MovementService:
    def __init__(self, db: Database, outbox: Outbox, access: Callers) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access

    async def _place(
        self, uow: UnitOfWork, student: Student, enrolment: Enrolment, to: SchoolClass, row: Movement
    ) -> None:
        """Puts the student in ``to`` for the year; the year's grades and ratings follow them."""
        for table in (Assessment, Rating):
            await uow.session.execute(
                update(table)
                .where(table.student_id == student.id, table.school_year == enrolment.school_year)
                .values(class_id=to.id, school_id=to.school_id)
            )
        enrolment.class_id = to.id
        student.school_id = to.school_id
        await uow.session.flush()
        await publish.student_transferred(self.outbox, uow, row, student)

    async def move_student(self, request: pb.MoveStudentRequest) -> pb.MoveStudentResponse:
        caller = await self.access.current()
        today = datetime.now(UTC).date()
        effective_on = rules.check_day(request.effective_on, "effective_on", today)
        reason = rules.check_text(request.reason, "reason", 500)
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, enrolment = await current_enrolment(uow, caller, request.student_id)
            to = await class_for(uow.session, caller, request.to_class_id, Action.ADMIN)
            replayed = await idempotency.replay(
                uow, request.request_id, "MoveStudent", request, pb.MoveStudentResponse
            )
            if replayed:
                return replayed
            if to.id == enrolment.class_id:
                raise AlreadyExists(
                    "ALREADY_IN_CLASS",
                    bilingual("Học sinh đã ở lớp này", "the student is already in this class"),
                )
            from_class = await uow.session.get_one(SchoolClass, enrolment.class_id)
            if to.grade != from_class.grade:
                raise _grade_mismatch(from_class.grade)
            if to.school_id != student.school_id or to.school_year != enrolment.school_year:
                raise FailedPrecondition(
                    "NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR",
                    bilingual(
                        "Chỉ chuyển sang lớp cùng trường, cùng năm học; sang trường khác là chuyển trường",
                        "a move is to a class of the same school and school year; "
                        "another school is a transfer",
                    ),
                    {"field": "to_class_id"},
                )
            row = Movement(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                student_id=student.id,
                kind="CLASS_MOVE",
                state="DONE",
                school_year=enrolment.school_year,
                from_school_id=student.school_id,
                from_class_id=enrolment.class_id,
                to_school_id=to.school_id,
                to_class_id=to.id,
                effective_on=effective_on,
                reason=reason,
                requested_by=caller.principal.subject,
                decided_by=caller.principal.subject,
                decided_at=datetime.now(UTC),
                decision_note="",
            )
            uow.session.add(row)
            await uow.session.flush()
            await self._place(uow, student, enrolment, to, row)
            await uow.session.refresh(row)
            response = pb.MoveStudentResponse(movement=movement_proto(row))
            await idempotency.remember(uow, request.request_id, "MoveStudent", request, response)
            await uow.commit()
        return response

    async def request_transfer(self, request: pb.RequestTransferRequest) -> pb.RequestTransferResponse:
        caller = await self.access.current()
        today = datetime.now(UTC).date()
        effective_on = rules.check_day(request.effective_on, "effective_on", today)
        reason = rules.check_text(request.reason, "reason", 500)
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, enrolment = await current_enrolment(uow, caller, request.student_id)
            # The receiving school need only exist in the tenant (the sending school's admins do not
            # reach it): its own admins decide.
            to_school_id = parse_uuid(request.to_school_id)
            to_school = await get_school(uow.session, to_school_id) if to_school_id else None
            if to_school is None:
                raise school_not_found()
            replayed = await idempotency.replay(
                uow, request.request_id, "RequestTransfer", request, pb.RequestTransferResponse
            )
            if replayed:
                return replayed
            from_class = await uow.session.get_one(SchoolClass, enrolment.class_id)
            if not any(from_class.grade in rules.LEVEL_GRADES.get(level, ()) for level in to_school.levels):
                raise FailedPrecondition(
                    "SCHOOL_LEVEL_MISMATCH",
                    bilingual(
                        f"Trường nhận không dạy lớp {from_class.grade}",
                        f"the receiving school does not teach grade {from_class.grade}",
                    ),
                    {"field": "to_school_id"},
                )
            if to_school.id == student.school_id:
                raise FailedPrecondition(
                    "SAME_SCHOOL",
                    bilingual(
                        "Trong cùng trường thì chuyển lớp", "inside the school, move the student instead"
                    ),
                    {"field": "to_school_id"},
                )
            row = Movement(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                student_id=student.id,
                kind="SCHOOL_TRANSFER",
                state="PENDING",
                school_year=enrolment.school_year,
                from_school_id=student.school_id,
                from_class_id=enrolment.class_id,
                to_school_id=to_school.id,
                effective_on=effective_on,
                reason=reason,
                requested_by=caller.principal.subject,
                decision_note="",
            )
            uow.session.add(row)
            try:
                await uow.session.flush()
            except IntegrityError:
                raise FailedPrecondition(
                    "TRANSFER_PENDING",
                    bilingual(
                        "Học sinh đang có một yêu cầu chuyển trường chờ duyệt",
                        "the student already has a transfer waiting for a decision",
                    ),
                ) from None
            await uow.session.refresh(row)
            response = pb.RequestTransferResponse(movement=movement_proto(row))
            await idempotency.remember(uow, request.request_id, "RequestTransfer", request, response)
            await uow.commit()
        return response

    async def decide_transfer(self, request: pb.DecideTransferRequest) -> pb.DecideTransferResponse:
        caller = await self.access.current()
        movement_id = parse_uuid(request.movement_id)
        if movement_id is None:
            raise movement_not_found()
        note = request.note.strip()
        if not request.accept or note:
            note = rules.check_text(request.note, "note", 500)
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await uow.session.scalar(
                select(Movement)
                .where(Movement.id == movement_id, Movement.kind == "SCHOOL_TRANSFER")
                .with_for_update()
            )
            if row is None or row.to_school_id is None:  # a school transfer always has both schools
                raise movement_not_found()
            await school_for(uow.session, caller, row.to_school_id, Action.ADMIN)
            if row.state != "PENDING":
                same_class = not request.accept or str(row.to_class_id) == request.to_class_id.strip().lower()
                if (row.state == "DONE") == request.accept and same_class:
                    return pb.DecideTransferResponse(movement=movement_proto(row))  # a retry
                raise FailedPrecondition(
                    "MOVEMENT_ALREADY_DECIDED",
                    bilingual("Yêu cầu chuyển trường đã được quyết định", "the transfer has been decided"),
                )
            row.decided_by = caller.principal.subject
            row.decided_at = datetime.now(UTC)
            row.decision_note = note
            if not request.accept:
                row.state = "REFUSED"
                await uow.session.flush()
                response = pb.DecideTransferResponse(movement=movement_proto(row))
                await uow.commit()
                return response
            to = await class_for(uow.session, caller, request.to_class_id, Action.ADMIN)
            student = await uow.session.get_one(Student, row.student_id, with_for_update=True)
            enrolment = await repository.enrolment_in_year(uow.session, student.id, row.school_year)
            if (
                enrolment is None
                or enrolment.class_id != row.from_class_id
                or student.school_id != row.from_school_id
            ):
                raise FailedPrecondition(
                    "STUDENT_MOVED_SINCE_REQUEST",
                    bilingual(
                        "Học sinh đã đổi lớp hoặc trường sau khi yêu cầu được gửi",
                        "the student changed class or school after the request was made",
                    ),
                )
            if to.school_id != row.to_school_id or to.school_year != row.school_year:
                raise FailedPrecondition(
                    "NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR",
                    bilingual(
                        f"Cần một lớp của trường nhận trong năm học {row.school_year}",
                        f"a class of the receiving school in {row.school_year} is required",
                    ),
                    {"field": "to_class_id"},
                )
            from_class = await uow.session.get_one(SchoolClass, row.from_class_id)
            if to.grade != from_class.grade:
                raise _grade_mismatch(from_class.grade)
            row.state = "DONE"
            row.to_class_id = to.id
            year = await uow.session.scalar(
                select(SchoolYear).where(
                    SchoolYear.school_id == to.school_id, SchoolYear.name == row.school_year
                )
            )
            student.status = transferred_in_status(row.effective_on, year)
            student.status_date = row.effective_on
            await self._place(uow, student, enrolment, to, row)
            response = pb.DecideTransferResponse(movement=movement_proto(row))
            await uow.commit()
        return response

    async def list_movements(self, request: pb.ListMovementsRequest) -> pb.ListMovementsResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await school_for(uow.session, caller, request.school_id, Action.ADMIN)
            query = select(Movement).where(
                or_(Movement.from_school_id == school.id, Movement.to_school_id == school.id)
            )
            if request.state:
                state = pb.MovementState.Name(request.state).removeprefix("MOVEMENT_STATE_")
                query = query.where(Movement.state == state)
            rows = (await uow.session.scalars(query.order_by(Movement.created_at.desc()).limit(500))).all()
        return pb.ListMovementsResponse(movements=[movement_proto(r) for r in rows])

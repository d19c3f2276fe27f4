"""Use cases for violations and rewards (Circular 19/2025).

Recording is a WRITE on the student (the homeroom teacher of their class, the school admin); reading is a
READ (the student's guardians, the school's staff who may read the student); only a guardian linked to
the student confirms a self-review.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.access import Action, Caller, Callers
from school_common.db import Database, UnitOfWork
from school_common.errors import FailedPrecondition, NotFound, PermissionDenied, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy import select

from student_record.domain import discipline as rules
from student_record.domain.rules import check_day, check_text, invalid
from student_record.enrolments.service import student_for, student_not_found
from student_record.events import publish
from student_record.mappers import timestamp
from student_record.models import Reward, SchoolClass, Student, Violation

SEVERITY_NAMES: dict[int, str] = {
    pb.VIOLATION_SEVERITY_SELF: "SELF",
    pb.VIOLATION_SEVERITY_CLASS: "CLASS",
    pb.VIOLATION_SEVERITY_SCHOOL: "SCHOOL",
}
MEASURE_NAMES: dict[int, str] = {
    pb.DISCIPLINE_MEASURE_REMINDER: "REMINDER",
    pb.DISCIPLINE_MEASURE_APOLOGY: "APOLOGY",
    pb.DISCIPLINE_MEASURE_CRITICISM: "CRITICISM",
    pb.DISCIPLINE_MEASURE_SELF_REVIEW: "SELF_REVIEW",
}
KIND_NAMES: dict[int, str] = {
    pb.REWARD_KIND_PRAISE_CLASS: "PRAISE_CLASS",
    pb.REWARD_KIND_PRAISE_SCHOOL: "PRAISE_SCHOOL",
    pb.REWARD_KIND_PRINCIPAL_CERTIFICATE: "PRINCIPAL_CERTIFICATE",
    pb.REWARD_KIND_COMMENDATION_LETTER: "COMMENDATION_LETTER",
}


def violation_proto(row: Violation) -> pb.Violation:
    message = pb.Violation(
        id=str(row.id),
        student_id=str(row.student_id),
        school_id=str(row.school_id),
        occurred_on=row.occurred_on.isoformat(),
        description=row.description,
        severity=pb.ViolationSeverity.Value(f"VIOLATION_SEVERITY_{row.severity}"),
        measure=pb.DisciplineMeasure.Value(f"DISCIPLINE_MEASURE_{row.measure}"),
        record_time=timestamp(row.created_at),
    )
    if row.family_confirmed_at is not None:
        message.family_confirm_time.CopyFrom(timestamp(row.family_confirmed_at))
    return message


def reward_proto(row: Reward) -> pb.Reward:
    return pb.Reward(
        id=str(row.id),
        student_id=str(row.student_id),
        school_id=str(row.school_id),
        kind=pb.RewardKind.Value(f"REWARD_KIND_{row.kind}"),
        reason=row.reason,
        awarded_on=row.awarded_on.isoformat(),
        record_time=timestamp(row.created_at),
    )


def _enum(value: int, names: dict[int, str], field: str) -> str:
    name = names.get(value)
    if name is None:
        raise invalid(field, "Giá trị không hợp lệ", f"{field}: not a known value")
    return name


class DisciplineService:
    def __init__(self, db: Database, outbox: Outbox, access: Callers) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access

    async def _student(
        self, uow: UnitOfWork, caller: Caller, student_id: str, action: Action
    ) -> tuple[Student, int]:
        """The student (once the caller may do ``action``) and the grade of their current class."""
        parsed = parse_uuid(student_id)
        if parsed is None:
            raise student_not_found()
        student, class_ids = await student_for(uow.session, caller, parsed, action)
        grade = await uow.session.scalar(
            select(SchoolClass.grade).where(SchoolClass.id.in_([uuid.UUID(c) for c in class_ids]))
        )
        if grade is None:
            raise FailedPrecondition(
                "STUDENT_NOT_ENROLLED",
                bilingual("Học sinh chưa được xếp lớp", "the student is not enrolled in a class"),
            )
        return student, int(grade)

    async def record_violation(self, request: pb.RecordViolationRequest) -> pb.RecordViolationResponse:
        caller = await self.access.current()
        severity = _enum(request.severity, SEVERITY_NAMES, "severity")
        measure = _enum(request.measure, MEASURE_NAMES, "measure")
        today = datetime.now(UTC).date()
        occurred_on = check_day(request.occurred_on, "occurred_on", today)
        description = check_text(request.description, "description", 1000)
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, grade = await self._student(uow, caller, request.student_id, Action.WRITE)
            rules.check_measure(measure, grade)
            replayed = await idempotency.replay(
                uow, request.request_id, "RecordViolation", request, pb.RecordViolationResponse
            )
            if replayed:
                return replayed
            row = Violation(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                student_id=student.id,
                school_id=student.school_id,
                recorded_by=caller.principal.subject,
                occurred_on=occurred_on,
                description=description,
                severity=severity,
                measure=measure,
            )
            uow.session.add(row)
            await uow.session.flush()
            await publish.violation_recorded(self.outbox, uow, row)
            response = pb.RecordViolationResponse(violation=violation_proto(row))
            await idempotency.remember(uow, request.request_id, "RecordViolation", request, response)
            await uow.commit()
        return response

    async def list_violations(
        self, request: pb.ListStudentViolationsRequest
    ) -> pb.ListStudentViolationsResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await self._student(uow, caller, request.student_id, Action.READ)
            rows = (
                await uow.session.scalars(
                    select(Violation)
                    .where(Violation.student_id == student.id)
                    .order_by(Violation.occurred_on.desc(), Violation.id)
                )
            ).all()
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"student:{student.id}/violations",
                subjects=1,
                operation="ListStudentViolations",
            )
            await uow.commit()
        return pb.ListStudentViolationsResponse(violations=[violation_proto(r) for r in rows])

    async def confirm_self_review(self, request: pb.ConfirmSelfReviewRequest) -> pb.ConfirmSelfReviewResponse:
        caller = await self.access.current()
        violation_id = parse_uuid(request.violation_id)
        not_found = NotFound(
            "VIOLATION_NOT_FOUND", bilingual("Không tìm thấy vi phạm", "violation not found")
        )
        if violation_id is None:
            raise not_found
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await uow.session.scalar(
                select(Violation).where(Violation.id == violation_id).with_for_update()
            )
            if row is None:
                raise not_found
            await self._student(uow, caller, str(row.student_id), Action.READ)
            if str(row.student_id) not in caller.scope.children:
                raise PermissionDenied(
                    "GUARDIAN_CONFIRMATION_ONLY",
                    bilingual(
                        "Chỉ cha mẹ/người giám hộ của học sinh xác nhận bản tự kiểm điểm",
                        "only the student's guardian confirms a self-review",
                    ),
                )
            if row.measure != "SELF_REVIEW":
                raise FailedPrecondition(
                    "NOT_A_SELF_REVIEW",
                    bilingual(
                        "Biện pháp này không cần gia đình xác nhận",
                        "this measure needs no family confirmation",
                    ),
                )
            if row.family_confirmed_at is None:
                row.family_confirmed_at = datetime.now(UTC)
                row.family_confirmed_by = caller.principal.subject
                await uow.session.flush()
                await uow.commit()
            return pb.ConfirmSelfReviewResponse(violation=violation_proto(row))

    async def record_reward(self, request: pb.RecordRewardRequest) -> pb.RecordRewardResponse:
        caller = await self.access.current()
        kind = _enum(request.kind, KIND_NAMES, "kind")
        awarded_on = check_day(request.awarded_on, "awarded_on", datetime.now(UTC).date())
        reason = check_text(request.reason, "reason", 500)
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await self._student(uow, caller, request.student_id, Action.WRITE)
            replayed = await idempotency.replay(
                uow, request.request_id, "RecordReward", request, pb.RecordRewardResponse
            )
            if replayed:
                return replayed
            row = Reward(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                student_id=student.id,
                school_id=student.school_id,
                recorded_by=caller.principal.subject,
                kind=kind,
                reason=reason,
                awarded_on=awarded_on,
            )
            uow.session.add(row)
            await uow.session.flush()
            response = pb.RecordRewardResponse(reward=reward_proto(row))
            await idempotency.remember(uow, request.request_id, "RecordReward", request, response)
            await uow.commit()
        return response

    async def list_rewards(self, request: pb.ListStudentRewardsRequest) -> pb.ListStudentRewardsResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await self._student(uow, caller, request.student_id, Action.READ)
            rows = (
                await uow.session.scalars(
                    select(Reward)
                    .where(Reward.student_id == student.id)
                    .order_by(Reward.awarded_on.desc(), Reward.id)
                )
            ).all()
        return pb.ListStudentRewardsResponse(rewards=[reward_proto(r) for r in rows])

"""Use cases for students and enrolments."""

from __future__ import annotations

from datetime import date

from school.events.student_record.v1 import events_pb2 as events
from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.db import Database
from school_common.errors import AlreadyExists, FailedPrecondition, NotFound, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid

from student_record import mappers
from student_record.authz import MANAGE_CLASSES, READ_RECORDS, require
from student_record.domain import rules
from student_record.enrolments import repository
from student_record.models import Enrolment, Guardian, Student
from student_record.pagination import decode_token, page, page_size
from student_record.schools.repository import get_class
from student_record.schools.service import class_not_found

MAX_GUARDIANS = 4


def _new_student(tenant: str, school_id: object, new: pb.NewStudent, today: date) -> Student:
    sex = mappers.PB_TO_SEX.get(new.sex)
    if sex is None:
        raise rules.invalid("sex", "Giới tính không hợp lệ", "sex must be male or female")
    if len(new.guardians) > MAX_GUARDIANS:
        raise rules.invalid("guardians", "Tối đa 4 người giám hộ", "at most 4 guardians")
    guardians = [
        Guardian(
            tenant_id=tenant,
            full_name=rules.person_name(g.full_name, f"guardians[{i}].full_name"),
            relation=rules.relation(g.relationship),
            phone=rules.phone(g.phone),
        )
        for i, g in enumerate(new.guardians)
    ]
    return Student(
        tenant_id=tenant,
        school_id=school_id,
        full_name=rules.person_name(new.full_name),
        date_of_birth=rules.date_of_birth(new.date_of_birth, today),
        sex=sex,
        guardians=guardians,
    )


class EnrolmentService:
    def __init__(self, db: Database, outbox: Outbox) -> None:
        self.db = db
        self.outbox = outbox

    async def enrol_student(self, request: pb.EnrolStudentRequest) -> pb.EnrolStudentResponse:
        principal = require(MANAGE_CLASSES)
        class_id = parse_uuid(request.class_id)
        which = request.WhichOneof("student")
        if which is None:
            raise rules.invalid(
                "student",
                "Cần chọn học sinh hoặc khai báo học sinh mới",
                "give either student_id or new_student",
            )
        student_id = parse_uuid(request.student_id) if which == "student_id" else None
        if which == "student_id" and student_id is None:
            raise rules.invalid("student_id", "Mã học sinh không hợp lệ", "student_id is not a valid id")
        async with self.db.unit_of_work(principal.tenant) as uow:
            replayed = await idempotency.replay(
                uow, request.request_id, "EnrolStudent", request, pb.EnrolStudentResponse
            )
            if replayed:
                return replayed
            school_class = await get_class(uow.session, class_id) if class_id else None
            if school_class is None:
                raise class_not_found()
            if student_id is not None:
                student = await repository.get_student(uow.session, student_id)
                if student is None:
                    raise NotFound(
                        "STUDENT_NOT_FOUND", bilingual("Không tìm thấy học sinh", "student not found")
                    )
                if student.school_id != school_class.school_id:
                    raise FailedPrecondition(
                        "STUDENT_IN_OTHER_SCHOOL",
                        bilingual(
                            "Học sinh thuộc trường khác; cần chuyển trường trước khi xếp lớp",
                            "the student belongs to another school; transfer them first",
                        ),
                    )
                current = await repository.enrolment_in_year(
                    uow.session, student.id, school_class.school_year
                )
                if current is not None:
                    if current.class_id == school_class.id:
                        raise AlreadyExists(
                            "ALREADY_ENROLLED",
                            bilingual("Học sinh đã ở trong lớp này", "the student is already in this class"),
                        )
                    raise FailedPrecondition(
                        "ENROLLED_IN_ANOTHER_CLASS",
                        bilingual(
                            "Học sinh đã được xếp vào lớp khác trong năm học này",
                            "the student is already in another class this school year",
                        ),
                    )
            else:
                student = _new_student(
                    principal.tenant, school_class.school_id, request.new_student, date.today()
                )
                uow.session.add(student)
                await uow.session.flush()
            enrolment = Enrolment(
                tenant_id=principal.tenant,
                class_id=school_class.id,
                student_id=student.id,
                school_year=school_class.school_year,
            )
            uow.session.add(enrolment)
            await uow.session.flush()
            await uow.session.refresh(enrolment)
            await uow.session.refresh(student, ["guardians"])
            await self.outbox.add(
                uow,
                "student.enrolled",
                events.StudentEnrolled(
                    enrolment_id=str(enrolment.id),
                    class_id=str(school_class.id),
                    school_id=str(school_class.school_id),
                    student_id=str(student.id),
                    full_name=student.full_name,
                    enrol_time=mappers.timestamp(enrolment.enrolled_at),
                ),
            )
            response = pb.EnrolStudentResponse(
                enrolment=mappers.enrolment(enrolment), student=mappers.student(student)
            )
            await idempotency.remember(uow, request.request_id, "EnrolStudent", request, response)
            await uow.commit()
            return response

    async def list_class_students(self, request: pb.ListClassStudentsRequest) -> pb.ListClassStudentsResponse:
        principal = require(READ_RECORDS)
        class_id = parse_uuid(request.class_id)
        limit = page_size(request.page_size)
        after = decode_token(request.page_token)
        async with self.db.unit_of_work(principal.tenant) as uow:
            if class_id is None or await get_class(uow.session, class_id) is None:
                raise class_not_found()
            rows = await repository.list_class_students(uow.session, class_id, after, limit + 1)
            items, token = page(rows, limit)
            return pb.ListClassStudentsResponse(
                students=[mappers.student(r) for r in items], next_page_token=token
            )

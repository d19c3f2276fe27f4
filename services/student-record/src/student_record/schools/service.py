"""Use cases for schools and classes."""

from __future__ import annotations

from school.events.student_record.v1 import events_pb2 as events
from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.db import Database
from school_common.errors import AlreadyExists, NotFound, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid

from student_record import mappers
from student_record.authz import MANAGE_CLASSES, MANAGE_SCHOOLS, READ_RECORDS, require
from student_record.domain import rules
from student_record.models import School, SchoolClass
from student_record.pagination import decode_token, page, page_size
from student_record.schools import repository


def school_not_found() -> NotFound:
    return NotFound("SCHOOL_NOT_FOUND", bilingual("Không tìm thấy trường", "school not found"))


def class_not_found() -> NotFound:
    return NotFound("CLASS_NOT_FOUND", bilingual("Không tìm thấy lớp", "class not found"))


class SchoolService:
    def __init__(self, db: Database, outbox: Outbox) -> None:
        self.db = db
        self.outbox = outbox

    async def create_school(self, request: pb.CreateSchoolRequest) -> pb.CreateSchoolResponse:
        principal = require(MANAGE_SCHOOLS)
        name = rules.school_name(request.name)
        code = rules.school_code(request.code)
        levels = rules.school_levels([mappers.PB_TO_LEVEL.get(lv, "") for lv in request.levels])
        async with self.db.unit_of_work(principal.tenant) as uow:
            replayed = await idempotency.replay(
                uow, request.request_id, "CreateSchool", request, pb.CreateSchoolResponse
            )
            if replayed:
                return replayed
            if code and await repository.school_code_taken(uow.session, code):
                raise AlreadyExists(
                    "SCHOOL_CODE_TAKEN", bilingual("Mã trường đã được dùng", "school code already used")
                )
            school = School(tenant_id=principal.tenant, name=name, code=code, levels=levels)
            uow.session.add(school)
            await uow.session.flush()
            await uow.session.refresh(school)
            response = pb.CreateSchoolResponse(school=mappers.school(school))
            await idempotency.remember(uow, request.request_id, "CreateSchool", request, response)
            await uow.commit()
            return response

    async def list_schools(self, request: pb.ListSchoolsRequest) -> pb.ListSchoolsResponse:
        principal = require(READ_RECORDS)
        limit = page_size(request.page_size)
        after = decode_token(request.page_token)
        async with self.db.unit_of_work(principal.tenant) as uow:
            rows = await repository.list_schools(uow.session, after, limit + 1)
        items, token = page(rows, limit)
        return pb.ListSchoolsResponse(schools=[mappers.school(r) for r in items], next_page_token=token)

    async def get_school(self, request: pb.GetSchoolRequest) -> pb.GetSchoolResponse:
        principal = require(READ_RECORDS)
        school_id = parse_uuid(request.school_id)
        if school_id is None:
            raise school_not_found()
        async with self.db.unit_of_work(principal.tenant) as uow:
            school = await repository.get_school(uow.session, school_id)
            if school is None:
                raise school_not_found()
            return pb.GetSchoolResponse(school=mappers.school(school))

    async def create_class(self, request: pb.CreateClassRequest) -> pb.CreateClassResponse:
        principal = require(MANAGE_CLASSES)
        school_id = parse_uuid(request.school_id)
        name = rules.class_name(request.name)
        year = rules.school_year(request.school_year)
        async with self.db.unit_of_work(principal.tenant) as uow:
            replayed = await idempotency.replay(
                uow, request.request_id, "CreateClass", request, pb.CreateClassResponse
            )
            if replayed:
                return replayed
            school = await repository.get_school(uow.session, school_id) if school_id else None
            if school is None:
                raise school_not_found()
            grade = rules.grade_for_school(request.grade, school.levels)
            if await repository.class_name_taken(uow.session, school.id, year, name):
                raise AlreadyExists(
                    "CLASS_NAME_TAKEN",
                    bilingual("Trường đã có lớp này trong năm học", "the school already has this class"),
                )
            row = SchoolClass(
                tenant_id=principal.tenant, school_id=school.id, name=name, grade=grade, school_year=year
            )
            uow.session.add(row)
            await uow.session.flush()
            await uow.session.refresh(row)
            await self.outbox.add(
                uow,
                "class.created",
                events.ClassCreated(
                    class_id=str(row.id),
                    school_id=str(row.school_id),
                    name=row.name,
                    grade=row.grade,
                    school_year=row.school_year,
                ),
            )
            response = pb.CreateClassResponse(**{"class": mappers.school_class(row)})
            await idempotency.remember(uow, request.request_id, "CreateClass", request, response)
            await uow.commit()
            return response

    async def list_classes(self, request: pb.ListClassesRequest) -> pb.ListClassesResponse:
        principal = require(READ_RECORDS)
        school_id = parse_uuid(request.school_id)
        limit = page_size(request.page_size)
        after = decode_token(request.page_token)
        async with self.db.unit_of_work(principal.tenant) as uow:
            if school_id is None or await repository.get_school(uow.session, school_id) is None:
                raise school_not_found()
            rows = await repository.list_classes(uow.session, school_id, after, limit + 1)
        items, token = page(rows, limit)
        return pb.ListClassesResponse(classes=[mappers.school_class(r) for r in items], next_page_token=token)

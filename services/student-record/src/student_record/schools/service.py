"""Use cases for schools and classes."""

from __future__ import annotations

import uuid

from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.access import Action, Caller, Callers, Resource
from school_common.db import Database
from school_common.errors import AlreadyExists, NotFound, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy.ext.asyncio import AsyncSession

from student_record import mappers
from student_record.authz import as_uuids
from student_record.domain import rules
from student_record.events import publish
from student_record.models import School, SchoolClass
from student_record.pagination import decode_token, page, page_size
from student_record.schools import repository


def school_not_found() -> NotFound:
    return NotFound("SCHOOL_NOT_FOUND", bilingual("Không tìm thấy trường", "school not found"))


def class_not_found() -> NotFound:
    return NotFound("CLASS_NOT_FOUND", bilingual("Không tìm thấy lớp", "class not found"))


def _id(value: str | uuid.UUID) -> uuid.UUID | None:
    return value if isinstance(value, uuid.UUID) else parse_uuid(value)


async def school_for(
    session: AsyncSession, caller: Caller, school_id: str | uuid.UUID, action: Action
) -> School:
    """The school, once ``caller`` may do ``action`` on it; ``SCHOOL_NOT_FOUND`` for a malformed id too."""
    parsed = _id(school_id)
    school = await repository.get_school(session, parsed) if parsed else None
    if school is None:
        raise school_not_found()
    await caller.authorize(action, Resource.school(str(school.id)))
    return school


async def class_for(
    session: AsyncSession, caller: Caller, class_id: str | uuid.UUID, action: Action
) -> SchoolClass:
    """The class, once ``caller`` may do ``action`` on it; ``CLASS_NOT_FOUND`` for a malformed id too."""
    parsed = _id(class_id)
    school_class = await repository.get_class(session, parsed) if parsed else None
    if school_class is None:
        raise class_not_found()
    await caller.authorize(action, Resource.klass(str(school_class.id), str(school_class.school_id)))
    return school_class


class SchoolService:
    def __init__(self, db: Database, outbox: Outbox, access: Callers) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access

    async def create_school(self, request: pb.CreateSchoolRequest) -> pb.CreateSchoolResponse:
        caller = await self.access.current()
        await caller.authorize(Action.ADMIN, Resource.tenant())
        name = rules.school_name(request.name)
        code = rules.school_code(request.code)
        levels = rules.school_levels([mappers.PB_TO_LEVEL.get(lv, "") for lv in request.levels])
        async with self.db.unit_of_work(caller.tenant) as uow:
            replayed = await idempotency.replay(
                uow, request.request_id, "CreateSchool", request, pb.CreateSchoolResponse
            )
            if replayed:
                return replayed
            if code and await repository.school_code_taken(uow.session, code):
                raise AlreadyExists(
                    "SCHOOL_CODE_TAKEN", bilingual("Mã trường đã được dùng", "school code already used")
                )
            school = School(tenant_id=caller.tenant, name=name, code=code, levels=levels)
            uow.session.add(school)
            await uow.session.flush()
            await uow.session.refresh(school)
            await publish.school_created(self.outbox, uow, school)
            response = pb.CreateSchoolResponse(school=mappers.school(school))
            await idempotency.remember(uow, request.request_id, "CreateSchool", request, response)
            await uow.commit()
            return response

    async def list_schools(self, request: pb.ListSchoolsRequest) -> pb.ListSchoolsResponse:
        caller = await self.access.current()
        limit = page_size(request.page_size)
        after = decode_token(request.page_token)
        visible = as_uuids(caller.scope.visible_schools())
        async with self.db.unit_of_work(caller.tenant) as uow:
            rows = await repository.list_schools(uow.session, after, limit + 1, visible)
        items, token = page(rows, limit)
        return pb.ListSchoolsResponse(schools=[mappers.school(r) for r in items], next_page_token=token)

    async def get_school(self, request: pb.GetSchoolRequest) -> pb.GetSchoolResponse:
        caller = await self.access.current()
        school_id = parse_uuid(request.school_id)
        if school_id is None:
            raise school_not_found()
        await caller.authorize(Action.READ, Resource.school(str(school_id)))
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await repository.get_school(uow.session, school_id)
            if school is None:
                raise school_not_found()
            return pb.GetSchoolResponse(school=mappers.school(school))

    async def create_class(self, request: pb.CreateClassRequest) -> pb.CreateClassResponse:
        caller = await self.access.current()
        school_id = parse_uuid(request.school_id)
        if school_id is None:
            raise school_not_found()
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        name = rules.class_name(request.name)
        year = rules.school_year(request.school_year)
        async with self.db.unit_of_work(caller.tenant) as uow:
            replayed = await idempotency.replay(
                uow, request.request_id, "CreateClass", request, pb.CreateClassResponse
            )
            if replayed:
                return replayed
            school = await repository.get_school(uow.session, school_id)
            if school is None:
                raise school_not_found()
            grade = rules.grade_for_school(request.grade, school.levels)
            if await repository.class_name_taken(uow.session, school.id, year, name):
                raise AlreadyExists(
                    "CLASS_NAME_TAKEN",
                    bilingual("Trường đã có lớp này trong năm học", "the school already has this class"),
                )
            row = SchoolClass(
                tenant_id=caller.tenant, school_id=school.id, name=name, grade=grade, school_year=year
            )
            uow.session.add(row)
            await uow.session.flush()
            await uow.session.refresh(row)
            await publish.class_created(self.outbox, uow, row)
            response = pb.CreateClassResponse(**{"class": mappers.school_class(row)})
            await idempotency.remember(uow, request.request_id, "CreateClass", request, response)
            await uow.commit()
            return response

    async def list_classes(self, request: pb.ListClassesRequest) -> pb.ListClassesResponse:
        caller = await self.access.current()
        school_id = parse_uuid(request.school_id)
        limit = page_size(request.page_size)
        after = decode_token(request.page_token)
        if school_id is None:
            raise school_not_found()
        await caller.authorize(Action.READ, Resource.school(str(school_id)))
        visible = as_uuids(caller.scope.visible_classes(str(school_id)))
        async with self.db.unit_of_work(caller.tenant) as uow:
            if await repository.get_school(uow.session, school_id) is None:
                raise school_not_found()
            rows = await repository.list_classes(uow.session, school_id, after, limit + 1, visible)
        items, token = page(rows, limit)
        return pb.ListClassesResponse(classes=[mappers.school_class(r) for r in items], next_page_token=token)

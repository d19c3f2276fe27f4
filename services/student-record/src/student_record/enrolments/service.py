"""Use cases for students, their guardians and enrolments."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.access import Action, Caller, Callers, Resource
from school_common.context import Principal
from school_common.db import Database, UnitOfWork
from school_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy.ext.asyncio import AsyncSession

from student_record import mappers
from student_record.adapters.identity import PersonRegistry, PersonToRegister
from student_record.authz import sees_guardian_contacts
from student_record.domain import rules
from student_record.enrolments import repository
from student_record.events import publish
from student_record.models import Enrolment, Guardian, SchoolClass, Student
from student_record.pagination import decode_token, page, page_size
from student_record.schools.service import class_for, class_not_found

MAX_GUARDIANS = 4


def student_not_found() -> NotFound:
    return NotFound("STUDENT_NOT_FOUND", bilingual("Không tìm thấy học sinh", "student not found"))


@dataclass(frozen=True)
class GuardianDraft:
    """A declared guardian, validated; ``person`` is what identity registers (the number stays there)."""

    field: str  # the guardian's path in the request, for errors
    full_name: str
    relation: str
    phone: str | None
    person: PersonToRegister | None


@dataclass(frozen=True)
class StudentDraft:
    full_name: str
    date_of_birth: date
    sex: str
    #: The student's own number, when the school has it: registered with identity like a guardian's.
    person: PersonToRegister | None
    guardians: list[GuardianDraft]

    def declared(self) -> list[tuple[str, PersonToRegister | None]]:
        """Everyone to register with identity, by path: the student first, then the guardians."""
        return [("new_student", self.person), *((g.field, g.person) for g in self.guardians)]


def guardian_draft(g: pb.Guardian, field: str) -> GuardianDraft:
    full_name = rules.person_name(g.full_name, f"{field}.full_name")
    declared = rules.declared_identity(g.personal_id, g.date_of_birth, field)
    return GuardianDraft(
        field=field,
        full_name=full_name,
        relation=rules.relation(g.relationship, f"{field}.relationship"),
        phone=rules.phone(g.phone, f"{field}.phone"),
        person=PersonToRegister(declared[0], full_name, declared[1]) if declared else None,
    )


def student_draft(new: pb.NewStudent, today: date) -> StudentDraft:
    sex = mappers.PB_TO_SEX.get(new.sex)
    if sex is None:
        raise rules.invalid("new_student.sex", "Giới tính không hợp lệ", "sex must be male or female")
    if len(new.guardians) > MAX_GUARDIANS:
        raise rules.invalid("new_student.guardians", "Tối đa 4 người giám hộ", "at most 4 guardians")
    full_name = rules.person_name(new.full_name, "new_student.full_name")
    born = rules.date_of_birth(new.date_of_birth, today, "new_student.date_of_birth")
    number = new.personal_id.strip()
    return StudentDraft(
        full_name=full_name,
        date_of_birth=born,
        sex=sex,
        person=PersonToRegister(number, full_name, born.isoformat()) if number else None,
        guardians=[guardian_draft(g, f"new_student.guardians[{i}]") for i, g in enumerate(new.guardians)],
    )


async def register_persons(
    persons: PersonRegistry, principal: Principal, declared: Sequence[tuple[str, PersonToRegister | None]]
) -> list[uuid.UUID | None]:
    """identity's person id for each (path, person) declared with a personal identification number."""
    ids: list[uuid.UUID | None] = []
    for path, person in declared:
        if person is None:
            ids.append(None)
            continue
        try:
            person_id = await persons.register_person(principal, person)
        except InvalidArgument as refused:
            # identity names the person's field; the caller needs its path in their request.
            named = refused.metadata.get("field") or "personal_id"
            raise InvalidArgument(
                refused.reason, refused.message, {**refused.metadata, "field": f"{path}.{named}"}
            ) from None
        if person_id in ids:
            raise rules.invalid(
                f"{path}.personal_id", "Một người được khai báo hai lần", "the same person is declared twice"
            )
        ids.append(person_id)
    return ids


# A hash of a request holding a 12-digit number would let anyone who reads the stored response (names,
# dates of birth) recover the number by trying the few candidates; idempotency therefore keeps the
# request with the person ids identity issued in place of the numbers and the guardians' dates of birth.


def pseudonymised_guardians(guardians: Iterable[pb.Guardian], person_ids: Sequence[uuid.UUID | None]) -> None:
    for guardian, person_id in zip(guardians, person_ids, strict=True):
        guardian.ClearField("personal_id")
        guardian.ClearField("date_of_birth")
        guardian.person_id = str(person_id) if person_id else ""


def pseudonymised_student(
    new: pb.NewStudent, person_id: uuid.UUID | None, guardian_ids: Sequence[uuid.UUID | None]
) -> None:
    new.personal_id = f"person:{person_id}" if person_id else ""
    pseudonymised_guardians(new.guardians, guardian_ids)


async def student_for(
    session: AsyncSession, caller: Caller, student_id: uuid.UUID, action: Action
) -> tuple[Student, list[str]]:
    """The student and the classes that reach them, once ``caller`` may do ``action`` on them."""
    student = await repository.get_student(session, student_id)
    if student is None:
        raise student_not_found()
    class_ids = [str(c) for c in await repository.current_class_ids(session, student.id)]
    await caller.authorize(action, Resource.student(str(student.id), str(student.school_id), class_ids))
    return student, class_ids


class EnrolmentService:
    def __init__(self, db: Database, outbox: Outbox, access: Callers, persons: PersonRegistry) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access
        self.persons = persons

    async def enrol_student(self, request: pb.EnrolStudentRequest) -> pb.EnrolStudentResponse:
        caller = await self.access.current()
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
        draft = student_draft(request.new_student, date.today()) if which == "new_student" else None
        if class_id is None:
            raise class_not_found()
        declared = draft.declared() if draft else []
        person_ids: list[uuid.UUID | None] = [None] * len(declared)
        if any(person for _, person in declared):
            # identity hears of these people only from a caller who may enrol into this class, and
            # before the write transaction opens (no transaction waits on another service).
            async with self.db.unit_of_work(caller.tenant) as uow:
                await class_for(uow.session, caller, class_id, Action.ADMIN)
            person_ids = await register_persons(self.persons, caller.principal, declared)
        kept = pb.EnrolStudentRequest()
        kept.CopyFrom(request)
        if draft:
            pseudonymised_student(kept.new_student, person_ids[0], person_ids[1:])
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, class_id, Action.ADMIN)
            replayed = await idempotency.replay(
                uow, request.request_id, "EnrolStudent", kept, pb.EnrolStudentResponse
            )
            if replayed:
                return replayed
            if draft is None:
                assert student_id is not None
                student = await self._existing_student(uow, student_id, school_class)
            else:
                student = Student(
                    tenant_id=caller.tenant,
                    school_id=school_class.school_id,
                    full_name=draft.full_name,
                    date_of_birth=draft.date_of_birth,
                    sex=draft.sex,
                    person_id=person_ids[0],
                    temporary_key=rules.new_temporary_key(),
                    guardians=[
                        self._guardian(caller.tenant, g, person_id)
                        for g, person_id in zip(draft.guardians, person_ids[1:], strict=True)
                    ],
                )
                uow.session.add(student)
                await uow.session.flush()
            enrolment = Enrolment(
                tenant_id=caller.tenant,
                class_id=school_class.id,
                student_id=student.id,
                school_year=school_class.school_year,
            )
            uow.session.add(enrolment)
            await uow.session.flush()
            await uow.session.refresh(enrolment)
            await uow.session.refresh(student, ["guardians"])
            await publish.student_enrolled(self.outbox, uow, enrolment, school_class, student)
            response = pb.EnrolStudentResponse(
                enrolment=mappers.enrolment(enrolment), student=mappers.student(student)
            )
            await idempotency.remember(uow, request.request_id, "EnrolStudent", kept, response)
            await uow.commit()
            return response

    @staticmethod
    def _guardian(tenant: str, draft: GuardianDraft, person_id: uuid.UUID | None) -> Guardian:
        return Guardian(
            tenant_id=tenant,
            full_name=draft.full_name,
            relation=draft.relation,
            phone=draft.phone,
            person_id=person_id,
        )

    @staticmethod
    async def _existing_student(uow: UnitOfWork, student_id: uuid.UUID, school_class: SchoolClass) -> Student:
        student = await repository.get_student(uow.session, student_id)
        if student is None:
            raise student_not_found()
        if student.school_id != school_class.school_id:
            raise FailedPrecondition(
                "STUDENT_IN_OTHER_SCHOOL",
                bilingual(
                    "Học sinh thuộc trường khác; cần chuyển trường trước khi xếp lớp",
                    "the student belongs to another school; transfer them first",
                ),
            )
        current = await repository.enrolment_in_year(uow.session, student.id, school_class.school_year)
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
        return student

    async def add_guardian(self, request: pb.AddGuardianRequest) -> pb.AddGuardianResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        if not request.HasField("guardian"):
            raise rules.invalid("guardian", "Cần khai báo người giám hộ", "guardian is required")
        draft = guardian_draft(request.guardian, "guardian")
        person_id: uuid.UUID | None = None
        if draft.person:
            async with self.db.unit_of_work(caller.tenant) as uow:
                await student_for(uow.session, caller, student_id, Action.ADMIN)
            [person_id] = await register_persons(
                self.persons, caller.principal, [(draft.field, draft.person)]
            )
        kept = pb.AddGuardianRequest()
        kept.CopyFrom(request)
        pseudonymised_guardians([kept.guardian], [person_id])
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await student_for(uow.session, caller, student_id, Action.ADMIN)
            replayed = await idempotency.replay(
                uow, request.request_id, "AddGuardian", kept, pb.AddGuardianResponse
            )
            if replayed:
                return replayed
            if len(student.guardians) >= MAX_GUARDIANS:
                raise FailedPrecondition(
                    "GUARDIAN_LIMIT_REACHED",
                    bilingual("Học sinh đã có 4 người giám hộ", "the student already has 4 guardians"),
                )
            if person_id is not None and person_id == student.person_id:
                raise rules.invalid(
                    "guardian.personal_id",
                    "Học sinh không thể là người giám hộ của chính mình",
                    "the student cannot be their own guardian",
                )
            if person_id is not None and any(g.person_id == person_id for g in student.guardians):
                raise AlreadyExists(
                    "GUARDIAN_ALREADY_RECORDED",
                    bilingual(
                        "Người này đã là người giám hộ của học sinh",
                        "this person is already a guardian of the student",
                    ),
                )
            guardian = self._guardian(caller.tenant, draft, person_id)
            student.guardians.append(guardian)
            await uow.session.flush()
            await uow.session.refresh(student, ["guardians"])
            await publish.guardian_added(self.outbox, uow, student, guardian)
            response = pb.AddGuardianResponse(student=mappers.student(student))
            await idempotency.remember(uow, request.request_id, "AddGuardian", kept, response)
            await uow.commit()
            return response

    async def get_student(self, request: pb.GetStudentRequest) -> pb.GetStudentResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, class_ids = await student_for(uow.session, caller, student_id, Action.READ)
            contacts = sees_guardian_contacts(caller.scope, str(student.school_id), class_ids)
            response = pb.GetStudentResponse(student=mappers.student(student, contacts))
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"student:{student.id}",
                subjects=1,
                operation="GetStudent",
            )
            await uow.commit()
        return response

    async def list_class_students(self, request: pb.ListClassStudentsRequest) -> pb.ListClassStudentsResponse:
        caller = await self.access.current()
        class_id = parse_uuid(request.class_id)
        limit = page_size(request.page_size)
        after = decode_token(request.page_token)
        if class_id is None:
            raise class_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, class_id, Action.READ)
            rows = await repository.list_class_students(uow.session, class_id, after, limit + 1)
            items, token = page(rows, limit)
            contacts = sees_guardian_contacts(
                caller.scope, str(school_class.school_id), [str(school_class.id)]
            )
            response = pb.ListClassStudentsResponse(
                students=[mappers.student(r, contacts) for r in items], next_page_token=token
            )
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"class:{school_class.id}/students",
                subjects=len(items),
                operation="ListClassStudents",
            )
            await uow.commit()
        return response

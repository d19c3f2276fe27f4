"""Import and export of the sector database's ``C1-HocSinh`` student list (the sheet itself is read and
written by ``student_record.sector``; this module matches its rows with the school's students).

A row is matched with a student of the school by the sector student code when it has one, otherwise by
name and date of birth (a new intake has no code yet). A new student gets a temporary key; when a later
file carries the code for a student known by name and date of birth, the code replaces the key. Importing
the same file again finds every row unchanged. A row is refused (and the rest imported) when its class is
not one of the school's classes that year, when its code belongs to another student or another school, or
when the student is already in another class that year (moving them is a separate, audited act).

The student's personal identification number is registered with identity, before the write transaction,
and only the pseudonymous person id is stored. Guardians' numbers are not registered: the sheet carries
their year of birth only, and identity needs the full date to check a number. Ethnicity and disability
are sensitive data the platform does not keep here; they are neither stored nor exported.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from school.student_record.v1 import student_record_pb2 as pb
from school_common.access import Action, Caller, Callers
from school_common.db import Database, UnitOfWork
from school_common.errors import InvalidArgument, bilingual
from school_common.events import Outbox
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from student_record.adapters.identity import PersonRegistry, PersonToRegister
from student_record.domain import rules
from student_record.events import publish
from student_record.models import Enrolment, Guardian, School, SchoolClass, Student
from student_record.schools.service import school_for
from student_record.sector import C1Guardian, C1Row, C1Sheet, StudentStatus, read_c1, write_c1

MAX_BYTES = 10 * 1024 * 1024
MAX_GUARDIANS = 4


def _natural(name: str, born: object) -> tuple[str, str]:
    return unicodedata.normalize("NFC", name).casefold(), str(born)


@dataclass
class _Known:
    by_code: dict[str, Student] = field(default_factory=dict)
    by_natural: dict[tuple[str, str], Student] = field(default_factory=dict)
    enrolment: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # student → class this year
    #: The file's sector codes that belong to students of other schools.
    codes_elsewhere: set[str] = field(default_factory=set)


def _refused(row: C1Row | int, column: str, reason: str, vi: str, en: str) -> pb.StudentImportRow:
    number = row if isinstance(row, int) else row.row
    return pb.StudentImportRow(
        row=number,
        outcome=pb.IMPORT_OUTCOME_REFUSED,
        column=column,
        reason=reason,
        message=bilingual(vi, en),
    )


class StudentListService:
    def __init__(self, db: Database, outbox: Outbox, access: Callers, persons: PersonRegistry) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access
        self.persons = persons

    @staticmethod
    async def _known(session: AsyncSession, school_id: uuid.UUID, year: str, sheet: C1Sheet) -> _Known:
        """The school's students and this year's enrolments, and which of the file's codes are taken by
        other schools: read once per import, not once per row."""
        known = _Known()
        students = (
            await session.scalars(
                select(Student).where(Student.school_id == school_id).options(selectinload(Student.guardians))
            )
        ).all()
        for s in students:
            if s.student_code:
                known.by_code[s.student_code] = s
            known.by_natural.setdefault(_natural(s.full_name, s.date_of_birth), s)
        enrolments = await session.execute(
            select(Enrolment.student_id, Enrolment.class_id)
            .join(SchoolClass, SchoolClass.id == Enrolment.class_id)
            .where(SchoolClass.school_id == school_id, Enrolment.school_year == year)
        )
        known.enrolment = {student: klass for student, klass in enrolments.all()}
        codes = {row.student_code for row in sheet.rows if row.student_code}
        if codes:
            elsewhere = await session.scalars(
                select(Student.student_code).where(
                    Student.student_code.in_(codes), Student.school_id != school_id
                )
            )
            known.codes_elsewhere = {code for code in elsewhere.all() if code}
        return known

    async def import_students(self, request: pb.ImportStudentsRequest) -> pb.ImportStudentsResponse:
        caller = await self.access.current()
        year = rules.school_year(request.school_year)
        if len(request.content) > MAX_BYTES:
            raise InvalidArgument(
                "FILE_TOO_LARGE",
                bilingual("Tệp lớn hơn 10 MB", "the file is larger than 10 MB"),
                {"field": "content"},
            )
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await school_for(uow.session, caller, request.school_id, Action.ADMIN)
            sheet = read_c1(request.content, today=datetime.now(UTC).date())
            known = await self._known(uow.session, school.id, year, sheet)
        # identity hears of the new students' numbers before the write transaction opens.
        person_ids: dict[int, uuid.UUID] = {}
        refusals: dict[int, InvalidArgument] = {}
        if not request.dry_run:
            for row in sheet.rows:
                if row.personal_id and self._match(known, row) is None:
                    person = PersonToRegister(row.personal_id, row.full_name, row.date_of_birth.isoformat())
                    try:
                        person_ids[row.row] = await self.persons.register_person(caller.principal, person)
                    except InvalidArgument as refused:
                        refusals[row.row] = refused
        reports = [
            pb.StudentImportRow(
                row=p.row,
                outcome=pb.IMPORT_OUTCOME_REFUSED,
                column=p.column,
                reason=p.reason,
                message=p.message,
            )
            for p in sheet.problems
        ]
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await school_for(uow.session, caller, request.school_id, Action.ADMIN)
            known = await self._known(uow.session, school.id, year, sheet)
            classes = {
                c.name.casefold(): c
                for c in (
                    await uow.session.scalars(
                        select(SchoolClass).where(
                            SchoolClass.school_id == school.id, SchoolClass.school_year == year
                        )
                    )
                ).all()
            }
            for row in sheet.rows:
                if row.row in refusals:
                    by_identity = refusals[row.row]
                    vi, _, en = by_identity.message.partition(" / ")
                    reports.append(_refused(row, "Số định danh cá nhân", by_identity.reason, vi, en))
                    continue
                reports.append(
                    await self._apply(uow, caller, school, year, classes, known, row, person_ids.get(row.row))
                )
            reports.sort(key=lambda r: r.row)
            if not request.dry_run:  # a dry run's unit of work ends without a commit: rolled back
                await uow.commit()
        counts = {o: sum(1 for r in reports if r.outcome == o) for o in range(1, 5)}
        return pb.ImportStudentsResponse(
            created=counts[pb.IMPORT_OUTCOME_CREATED],
            updated=counts[pb.IMPORT_OUTCOME_UPDATED],
            unchanged=counts[pb.IMPORT_OUTCOME_UNCHANGED],
            refused=counts[pb.IMPORT_OUTCOME_REFUSED],
            rows=reports,
            ignored_headers=list(sheet.ignored_headers),
        )

    @staticmethod
    def _match(known: _Known, row: C1Row) -> Student | None:
        if row.student_code and row.student_code in known.by_code:
            return known.by_code[row.student_code]
        return known.by_natural.get(_natural(row.full_name, row.date_of_birth))

    async def _apply(
        self,
        uow: UnitOfWork,
        caller: Caller,
        school: School,
        year: str,
        classes: dict[str, SchoolClass],
        known: _Known,
        row: C1Row,
        person_id: uuid.UUID | None,
    ) -> pb.StudentImportRow:
        school_class = classes.get(row.class_name.casefold())
        if school_class is None:
            return _refused(
                row, "Lớp", "UNKNOWN_CLASS", f"Trường không có lớp này trong năm học {year}",
                f"the school has no such class in {year}",
            )  # fmt: skip
        if row.student_code in known.codes_elsewhere:
            return _refused(
                row, "Mã học sinh", "STUDENT_IN_OTHER_SCHOOL",
                "Mã học sinh thuộc học sinh của trường khác; cần chuyển trường",
                "the student code belongs to a student of another school; transfer them first",
            )  # fmt: skip
        student = self._match(known, row)
        if student is not None:
            if row.student_code and student.student_code and student.student_code != row.student_code:
                return _refused(
                    row, "Mã học sinh", "STUDENT_CODE_CONFLICT",
                    "Học sinh cùng họ tên, ngày sinh đã có mã học sinh khác",
                    "a student with this name and date of birth already has another student code",
                )  # fmt: skip
            current_class = known.enrolment.get(student.id)
            if current_class is not None and current_class != school_class.id:
                return _refused(
                    row, "Lớp", "ENROLLED_IN_ANOTHER_CLASS",
                    "Học sinh đã ở lớp khác trong năm học này; hãy chuyển lớp",
                    "the student is already in another class this school year; move them",
                )  # fmt: skip
        created = student is None
        changed = False
        if student is None:
            student = Student(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                school_id=school.id,
                full_name=row.full_name,
                date_of_birth=row.date_of_birth,
                sex=row.sex,
                student_code=row.student_code,
                temporary_key=None if row.student_code else rules.new_temporary_key(),
                person_id=person_id,
                status=row.status.value,
                status_date=row.status_date,
                address=row.address,
                guardians=[],
            )
            uow.session.add(student)
        else:
            if row.student_code and not student.student_code:
                student.student_code, student.temporary_key = row.student_code, None  # the code arrives
                changed = True
            for attribute, value in (
                ("full_name", row.full_name),
                ("date_of_birth", row.date_of_birth),
                ("sex", row.sex),
                ("status", row.status.value),
                ("status_date", row.status_date),
                ("address", row.address),
            ):
                if getattr(student, attribute) != value:
                    setattr(student, attribute, value)
                    changed = True
        new_guardians = self._guardians(caller.tenant, student, row.guardians)
        changed = changed or bool(new_guardians)
        await uow.session.flush()
        if student.id not in known.enrolment:
            enrolment = Enrolment(
                tenant_id=caller.tenant, class_id=school_class.id, student_id=student.id, school_year=year
            )
            uow.session.add(enrolment)
            await uow.session.flush()
            await uow.session.refresh(enrolment)
            await uow.session.refresh(student, ["guardians"])
            await publish.student_enrolled(self.outbox, uow, enrolment, school_class, student)
            known.enrolment[student.id] = school_class.id
            changed = True
        elif not created:
            for guardian in new_guardians:
                await publish.guardian_added(self.outbox, uow, student, guardian)
        if created:
            known.by_natural[_natural(student.full_name, student.date_of_birth)] = student
        if student.student_code:
            known.by_code[student.student_code] = student
        return pb.StudentImportRow(
            row=row.row,
            outcome=(
                pb.IMPORT_OUTCOME_CREATED
                if created
                else pb.IMPORT_OUTCOME_UPDATED
                if changed
                else pb.IMPORT_OUTCOME_UNCHANGED
            ),
            student_id=str(student.id),
            student_code=student.student_code or "",
            temporary_key=student.temporary_key or "",
        )

    @staticmethod
    def _guardians(tenant: str, student: Student, declared: tuple[C1Guardian, ...]) -> list[Guardian]:
        """The sheet's guardians the student does not have yet (by relation and name); phones updated."""
        added = []
        for g in declared:
            same = next(
                (
                    x
                    for x in student.guardians
                    if x.relation == g.relation and x.full_name.casefold() == g.full_name.casefold()
                ),
                None,
            )
            if same is not None:
                if g.phone and same.phone != g.phone:
                    same.phone = g.phone
                continue
            if len(student.guardians) >= MAX_GUARDIANS:
                continue
            guardian = Guardian(tenant_id=tenant, full_name=g.full_name, relation=g.relation, phone=g.phone)
            student.guardians.append(guardian)
            added.append(guardian)
        return added

    async def export_students(self, request: pb.ExportStudentsRequest) -> pb.ExportStudentsResponse:
        caller = await self.access.current()
        year = rules.school_year(request.school_year)
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await school_for(uow.session, caller, request.school_id, Action.ADMIN)
            found = (
                await uow.session.execute(
                    select(Student, SchoolClass.name)
                    .join(Enrolment, Enrolment.student_id == Student.id)
                    .join(SchoolClass, SchoolClass.id == Enrolment.class_id)
                    .where(SchoolClass.school_id == school.id, Enrolment.school_year == year)
                    .options(selectinload(Student.guardians))
                    .order_by(SchoolClass.name, Student.full_name, Student.id)
                )
            ).all()
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"school:{school.id}/students/{year}/c1-hocsinh",
                subjects=len(found),
                operation="ExportStudents",
            )
            await uow.commit()
        rows = [_row(number, student, class_name) for number, (student, class_name) in enumerate(found, 3)]
        return pb.ExportStudentsResponse(
            content=write_c1(rows),
            filename=f"C1-HocSinh_{school.code or school.id}_{year}.xlsx",
            students=len(rows),
        )


_TEMPLATE_RELATIONS = {"father": "father", "mother": "mother"}


def _row(number: int, student: Student, class_name: str) -> C1Row:
    guardians: dict[str, C1Guardian] = {}
    for g in student.guardians:
        relation = _TEMPLATE_RELATIONS.get(
            g.relation, "guardian"
        )  # the template has father, mother, guardian
        guardians.setdefault(relation, C1Guardian(relation=relation, full_name=g.full_name, phone=g.phone))
    return C1Row(
        row=number,
        class_name=class_name,
        student_code=student.student_code,
        full_name=student.full_name,
        date_of_birth=student.date_of_birth,
        sex=student.sex,
        status=StudentStatus(student.status),
        status_date=student.status_date,
        address=student.address,
        guardians=tuple(guardians[r] for r in ("father", "mother", "guardian") if r in guardians),
    )

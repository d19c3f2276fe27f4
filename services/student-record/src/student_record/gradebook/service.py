"""Use cases of the gradebook: school years and semester locks, bulk entry of assessments and ratings,
changes after the lock approved by the principal, results with their explanations, and publication.

Who may do what:
- a subject's teachers in a class (identity's teaching assignments: class and subject) and school admins
  record that subject's assessments; the homeroom teacher and school admins record conduct (secondary)
  and qualities and competences (primary);
- school admins define school years, lock semesters, publish results and, as the principal, approve or
  refuse changes after a lock (never their own request);
- staff who may read a class read its gradebook; whoever may read a student reads their results, and a
  guardian sees a term's learning result, conduct, promotion and award once the school has published it.
Reads of grades are personal data: each is audited in the read's own transaction.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.access import HOMEROOM_TEACHER, SCHOOL_ADMIN, Action, Caller, Callers, Resource
from school_common.db import Database, UnitOfWork
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy import and_, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from student_record.authz import sees_unpublished_results
from student_record.domain import curriculum
from student_record.domain import evaluation as ev
from student_record.domain import gradebook as gb
from student_record.domain.rules import check_text, invalid, school_year
from student_record.enrolments.repository import on_roll
from student_record.enrolments.service import student_for, student_not_found
from student_record.events import publish
from student_record.mappers import timestamp
from student_record.models import (
    Assessment,
    Enrolment,
    GradeChange,
    Rating,
    ResultPublication,
    SchoolClass,
    SchoolYear,
    SemesterLock,
    Student,
)
from student_record.schools.service import class_for, school_for

MAX_ENTRIES = 2000
CONDUCT = "CONDUCT"

KIND_NAMES = {
    pb.ASSESSMENT_KIND_REGULAR: gb.Kind.REGULAR,
    pb.ASSESSMENT_KIND_MID_TERM: gb.Kind.MID_TERM,
    pb.ASSESSMENT_KIND_END_TERM: gb.Kind.END_TERM,
    pb.ASSESSMENT_KIND_MID_RATING: gb.Kind.MID_RATING,
    pb.ASSESSMENT_KIND_END_RATING: gb.Kind.END_RATING,
    pb.ASSESSMENT_KIND_MID_TEST: gb.Kind.MID_TEST,
    pb.ASSESSMENT_KIND_END_TEST: gb.Kind.END_TEST,
}
EVALUATIONS = {
    curriculum.Evaluation.SCORED: pb.EVALUATION_SCORED,
    curriculum.Evaluation.COMMENT: pb.EVALUATION_COMMENT,
    curriculum.Evaluation.RATED: pb.EVALUATION_RATED,
}


class AbsenceSource(Protocol):
    """Sessions a student was absent in a school year (excused and unexcused, counted on a
    one-session-a-day plan), as attendance keeps them; ``None`` while attendance cannot say."""

    async def absent_sessions(self, student_id: str, school_year: str) -> int | None: ...


# ---------------------------------------------------------------- mapping


def subject_proto(s: curriculum.Subject) -> pb.Subject:
    return pb.Subject(
        code=s.code,
        name=s.name,
        name_en=s.name_en,
        evaluation=EVALUATIONS[s.evaluation],
        periods_per_year=s.periods,
        regular_assessments=s.regular_count,
        tested=s.tested,
        mid_tested=s.mid_tested,
        elective=s.elective,
    )


def _kind_proto(kind: str) -> int:
    return int(pb.AssessmentKind.Value(f"ASSESSMENT_KIND_{kind}"))


def change_proto(row: GradeChange) -> pb.GradeChange:
    message = pb.GradeChange(
        id=str(row.id),
        class_id=str(row.class_id),
        student_id=str(row.student_id),
        subject_code=row.subject,
        semester=row.semester,
        kind=_kind_proto(row.kind),  # type: ignore[arg-type]
        ordinal=row.ordinal,
        old_value=row.old_value,
        new_value=row.new_value,
        reason=row.reason,
        state=pb.GradeChangeState.Value(f"GRADE_CHANGE_STATE_{row.state}"),
        requested_by=row.requested_by,
        request_time=timestamp(row.created_at),
        decided_by=row.decided_by or "",
        decision_note=row.decision_note,
        school_year=row.school_year,
    )
    if row.decided_at is not None:
        message.decide_time.CopyFrom(timestamp(row.decided_at))
    return message


def _explanation(e: ev.Explanation) -> pb.Explanation:
    return pb.Explanation(rule=e.rule, vi=e.vi, en=e.en, subjects=list(e.subjects))


def term_proto(result: gb.TermResult, published: bool, reveal: bool) -> pb.TermResult:
    """``reveal`` False hides the term's overall results (a guardian before publication)."""
    message = pb.TermResult(
        term=result.term,
        subjects=[
            pb.SubjectResult(
                subject_code=t.subject.code,
                subject_name=t.subject.name,
                value=t.value or "",
                display=gb.display_value(t.subject, "", t.value) if t.value else "",
                missing=list(t.missing),
                test_score=t.test if t.test is not None else -1,
            )
            for t in result.subjects
        ],
        incomplete=list(result.incomplete),
        absent_sessions=-1 if result.absent_sessions is None else result.absent_sessions,
        published=published,
    )
    if not reveal:
        return message
    if result.learning is not None:
        message.learning = result.learning.level.name
        message.learning_explanation.CopyFrom(_explanation(result.learning.explanation))
    if result.conduct is not None:
        message.conduct = result.conduct.level.name
        message.conduct_explanation.CopyFrom(_explanation(result.conduct.explanation))
    if result.promotion is not None:
        message.promotion = result.promotion.decision.value
        message.promotion_explanation.CopyFrom(_explanation(result.promotion.explanation))
    if result.award is not None:
        message.award = result.award[0].value
        message.award_explanation.CopyFrom(_explanation(result.award[1]))
    if result.primary is not None:
        message.primary_result = result.primary[0].value
        message.primary_explanation.CopyFrom(_explanation(result.primary[1]))
    return message


# ---------------------------------------------------------------- errors and small queries


def semester_locked() -> FailedPrecondition:
    return FailedPrecondition(
        "SEMESTER_LOCKED",
        bilingual(
            "Học kì đã khóa sổ điểm: hãy gửi đề nghị sửa điểm để hiệu trưởng duyệt",
            "the semester is locked: request a change for the principal to approve",
        ),
    )


def _unknown_subject(fld: str = "subject_code") -> InvalidArgument:
    return InvalidArgument(
        "UNKNOWN_SUBJECT",
        bilingual("Khối lớp này không học môn này", "the grade has no such subject"),
        {"field": fld},
    )


async def is_locked(session: AsyncSession, school_id: uuid.UUID, year: str, semester: int) -> bool:
    query = select(SemesterLock.id).where(
        SemesterLock.school_id == school_id,
        SemesterLock.school_year == year,
        SemesterLock.semester == semester,
    )
    return (await session.scalar(query)) is not None


async def _class_students(session: AsyncSession, class_id: uuid.UUID) -> dict[uuid.UUID, Student]:
    rows = await session.scalars(
        select(Student)
        .join(Enrolment, Enrolment.student_id == Student.id)
        .where(Enrolment.class_id == class_id, on_roll())
        .order_by(Student.full_name, Student.id)
    )
    return {s.id: s for s in rows.all()}


def _may_grade(caller: Caller, school_class: SchoolClass, subject: curriculum.Subject) -> None:
    scope = caller.scope
    if SCHOOL_ADMIN in scope.school_roles(str(school_class.school_id)):
        return
    grant = scope.classes.get(str(school_class.id))
    if grant is not None and any(
        (m := curriculum.match(school_class.grade, name)) is not None and m.code == subject.code
        for name in grant.subjects
    ):
        return
    raise PermissionDenied(
        "NOT_YOUR_SUBJECT",
        bilingual(
            f"Bạn không được phân công dạy môn {subject.name} ở lớp này",
            f"you are not assigned to teach {subject.name_en} in this class",
        ),
    )


def _may_rate(caller: Caller, school_class: SchoolClass) -> None:
    scope = caller.scope
    if SCHOOL_ADMIN in scope.school_roles(str(school_class.school_id)):
        return
    grant = scope.classes.get(str(school_class.id))
    if grant is not None and HOMEROOM_TEACHER in grant.roles:
        return
    raise PermissionDenied(
        "HOMEROOM_TEACHER_ONLY",
        bilingual(
            "Chỉ giáo viên chủ nhiệm đánh giá rèn luyện, phẩm chất và năng lực",
            "only the homeroom teacher rates conduct, qualities and competences",
        ),
    )


def _is_principal(caller: Caller, school_id: uuid.UUID) -> None:
    if SCHOOL_ADMIN not in caller.scope.school_roles(str(school_id)):
        raise PermissionDenied(
            "PRINCIPAL_ONLY",
            bilingual("Chỉ hiệu trưởng (quản trị trường) thực hiện", "only the principal (school admin) may"),
        )


def _subject_of(school_class: SchoolClass, code: str) -> curriculum.Subject:
    subject = curriculum.subject(school_class.grade, code)
    if subject is None:
        raise _unknown_subject()
    return subject


def _upsert(values: list[dict[str, object]]) -> Insert:
    """Assessments written by their key (student, year, semester, subject, kind, ordinal); a row whose
    value is already the one given is left alone, so it is neither rewritten nor returned."""
    statement = insert(Assessment).values(values)
    return statement.on_conflict_do_update(
        index_elements=["student_id", "school_year", "semester", "subject", "kind", "ordinal"],
        set_={
            "value": statement.excluded.value,
            "recorded_by": statement.excluded.recorded_by,
            "class_id": statement.excluded.class_id,
            "updated_at": func.now(),
        },
        where=Assessment.value != statement.excluded.value,
    )


@dataclass(frozen=True)
class _Entry:
    student_id: uuid.UUID
    kind: str
    ordinal: int
    value: str  # canonical; "" clears


def _entries(
    subject: curriculum.Subject,
    entries: Sequence[pb.AssessmentEntry],
    students: dict[uuid.UUID, Student],
    prefix: str = "entries",
) -> list[_Entry]:
    if not entries:
        raise invalid(prefix, "Chưa có điểm nào", "no entries")
    if len(entries) > MAX_ENTRIES:
        raise invalid(
            prefix, f"Tối đa {MAX_ENTRIES} điểm mỗi lần", f"at most {MAX_ENTRIES} entries a request"
        )
    out: list[_Entry] = []
    seen: set[tuple[uuid.UUID, str, int]] = set()
    for i, entry in enumerate(entries):
        fld = f"{prefix}[{i}]"
        student_id = parse_uuid(entry.student_id)
        if student_id is None or student_id not in students:
            raise InvalidArgument(
                "STUDENT_NOT_IN_CLASS",
                bilingual("Học sinh không thuộc lớp này", "the student is not in this class"),
                {"field": f"{fld}.student_id"},
            )
        kind = KIND_NAMES.get(entry.kind)
        if kind is None:
            raise invalid(f"{fld}.kind", "Loại đánh giá không hợp lệ", "unknown assessment kind")
        ordinal = gb.check_kind(subject, kind, entry.ordinal, fld)
        value = gb.parse_value(subject, kind, entry.value, fld) if entry.value.strip() else ""
        key = (student_id, kind.value, ordinal)
        if key in seen:
            raise invalid(fld, "Một điểm được nhập hai lần", "the same assessment appears twice")
        seen.add(key)
        out.append(_Entry(student_id, kind.value, ordinal, value))
    return out


# ---------------------------------------------------------------- the service


class GradebookService:
    def __init__(self, db: Database, outbox: Outbox, access: Callers, absences: AbsenceSource) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access
        self.absences = absences

    # ------------------------------------------------------------ structure

    async def list_subjects(self, request: pb.ListSubjectsRequest) -> pb.ListSubjectsResponse:
        await self.access.current()
        if request.grade not in curriculum.CURRICULUM:
            raise invalid("grade", "Khối lớp từ 1 đến 12", "the grade is 1 to 12")
        return pb.ListSubjectsResponse(
            subjects=[subject_proto(s) for s in curriculum.subjects_of(request.grade)]
        )

    async def _year_proto(self, session: AsyncSession, school_id: uuid.UUID, name: str) -> pb.SchoolYear:
        row = await session.scalar(
            select(SchoolYear).where(SchoolYear.school_id == school_id, SchoolYear.name == name)
        )
        locks = await session.scalars(
            select(SemesterLock.semester)
            .where(SemesterLock.school_id == school_id, SemesterLock.school_year == name)
            .order_by(SemesterLock.semester)
        )
        message = pb.SchoolYear(school_id=str(school_id), name=name, locked_semesters=list(locks.all()))
        if row is not None:
            message.semester_1_start = row.semester_1_start.isoformat()
            message.semester_1_end = row.semester_1_end.isoformat()
            message.semester_2_start = row.semester_2_start.isoformat()
            message.semester_2_end = row.semester_2_end.isoformat()
        return message

    async def define_school_year(self, request: pb.DefineSchoolYearRequest) -> pb.DefineSchoolYearResponse:
        caller = await self.access.current()
        name = school_year(request.name, "name")
        first, last = int(name[:4]), int(name[5:])
        days = []
        for fld in ("semester_1_start", "semester_1_end", "semester_2_start", "semester_2_end"):
            try:
                day = date.fromisoformat(getattr(request, fld))
            except ValueError:
                raise invalid(fld, "Ngày theo dạng YYYY-MM-DD", "a date as YYYY-MM-DD") from None
            if day.year not in (first, last):
                raise invalid(fld, f"Ngày nằm ngoài năm học {name}", f"the date is outside {name}")
            days.append(day)
        if not all(a < b for a, b in itertools.pairwise(days)):
            raise invalid(
                "semester_2_start",
                "Các mốc học kì phải theo thứ tự: bắt đầu HKI < kết thúc HKI < bắt đầu HKII < kết thúc HKII",
                "semester dates must be in order",
            )
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await school_for(uow.session, caller, request.school_id, Action.ADMIN)
            replayed = await idempotency.replay(
                uow, request.request_id, "DefineSchoolYear", request, pb.DefineSchoolYearResponse
            )
            if replayed:
                return replayed
            row = await uow.session.scalar(
                select(SchoolYear)
                .where(SchoolYear.school_id == school.id, SchoolYear.name == name)
                .with_for_update()
            )
            if row is None:
                row = SchoolYear(id=uuid.uuid4(), tenant_id=caller.tenant, school_id=school.id, name=name)
                uow.session.add(row)
            elif await is_locked(uow.session, school.id, name, 1):
                raise FailedPrecondition(
                    "SEMESTER_LOCKED",
                    bilingual("Năm học đã có học kì khóa sổ", "a semester of this year is already locked"),
                )
            row.semester_1_start, row.semester_1_end, row.semester_2_start, row.semester_2_end = days
            await uow.session.flush()
            # Every save is published (consumers upsert): saving a year again resynchronises them.
            await publish.school_year_defined(self.outbox, uow, row)
            response = pb.DefineSchoolYearResponse(
                school_year=await self._year_proto(uow.session, school.id, name)
            )
            await idempotency.remember(uow, request.request_id, "DefineSchoolYear", request, response)
            await uow.commit()
        return response

    async def list_school_years(self, request: pb.ListSchoolYearsRequest) -> pb.ListSchoolYearsResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await school_for(uow.session, caller, request.school_id, Action.READ)
            names = set(
                (
                    await uow.session.scalars(
                        select(SchoolYear.name).where(SchoolYear.school_id == school.id)
                    )
                ).all()
            ) | set(
                (
                    await uow.session.scalars(
                        select(SchoolClass.school_year).where(SchoolClass.school_id == school.id)
                    )
                ).all()
            )
            years = [await self._year_proto(uow.session, school.id, n) for n in sorted(names, reverse=True)]
        return pb.ListSchoolYearsResponse(school_years=years)

    async def lock_semester(self, request: pb.LockSemesterRequest) -> pb.LockSemesterResponse:
        caller = await self.access.current()
        name = school_year(request.school_year)
        semester = gb.check_semester(request.semester)
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await school_for(uow.session, caller, request.school_id, Action.ADMIN)
            _is_principal(caller, school.id)
            if semester == 2 and not await is_locked(uow.session, school.id, name, 1):
                raise FailedPrecondition(
                    "EARLIER_SEMESTER_OPEN",
                    bilingual("Hãy khóa sổ học kì I trước", "lock semester I first"),
                )
            inserted = await uow.session.execute(
                insert(SemesterLock)
                .values(
                    id=uuid.uuid4(),
                    tenant_id=caller.tenant,
                    school_id=school.id,
                    school_year=name,
                    semester=semester,
                    locked_by=caller.principal.subject,
                )
                .on_conflict_do_nothing()
                .returning(SemesterLock.created_at)
            )
            locked_at = inserted.scalar()
            if locked_at is not None:
                await publish.grades_locked(self.outbox, uow, str(school.id), name, semester, locked_at)
            response = pb.LockSemesterResponse(
                school_year=await self._year_proto(uow.session, school.id, name)
            )
            await uow.commit()
        return response

    # ------------------------------------------------------------ entry

    async def record_assessments(self, request: pb.RecordAssessmentsRequest) -> pb.RecordAssessmentsResponse:
        caller = await self.access.current()
        semester = gb.check_semester(request.semester)
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, request.class_id, Action.WRITE)
            subject = _subject_of(school_class, request.subject_code)
            _may_grade(caller, school_class, subject)
            students = await _class_students(uow.session, school_class.id)
            entries = _entries(subject, request.entries, students)
            # A retry of a write that landed just before the lock gets its answer, not SEMESTER_LOCKED.
            replayed = await idempotency.replay(
                uow, request.request_id, "RecordAssessments", request, pb.RecordAssessmentsResponse
            )
            if replayed:
                return replayed
            if await is_locked(uow.session, school_class.school_id, school_class.school_year, semester):
                raise semester_locked()
            written = await self._write_assessments(uow, caller, school_class, subject, semester, entries)
            response = pb.RecordAssessmentsResponse(written=written, unchanged=len(entries) - written)
            await idempotency.remember(uow, request.request_id, "RecordAssessments", request, response)
            await uow.commit()
        return response

    @staticmethod
    async def _write_assessments(
        uow: UnitOfWork,
        caller: Caller,
        school_class: SchoolClass,
        subject: curriculum.Subject,
        semester: int,
        entries: Sequence[_Entry],
    ) -> int:
        written = 0
        common = {
            "tenant_id": caller.tenant,
            "school_id": school_class.school_id,
            "class_id": school_class.id,
            "school_year": school_class.school_year,
            "semester": semester,
            "subject": subject.code,
            "recorded_by": caller.principal.subject,
        }
        values = [
            {
                **common,
                "id": uuid.uuid4(),
                "student_id": e.student_id,
                "kind": e.kind,
                "ordinal": e.ordinal,
                "value": e.value,
            }
            for e in entries
            if e.value
        ]
        if values:
            written += len((await uow.session.execute(_upsert(values).returning(Assessment.id))).all())
        cleared = [(e.student_id, e.kind, e.ordinal) for e in entries if not e.value]
        if cleared:
            result = await uow.session.execute(
                delete(Assessment)
                .where(
                    Assessment.school_year == school_class.school_year,
                    Assessment.semester == semester,
                    Assessment.subject == subject.code,
                    tuple_(Assessment.student_id, Assessment.kind, Assessment.ordinal).in_(cleared),
                )
                .returning(Assessment.id)
            )
            written += len(result.all())
        return written

    async def record_ratings(self, request: pb.RecordRatingsRequest) -> pb.RecordRatingsResponse:
        caller = await self.access.current()
        semester = gb.check_semester(request.semester)
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, request.class_id, Action.WRITE)
            _may_rate(caller, school_class)
            students = await _class_students(uow.session, school_class.id)
            if not request.entries:
                raise invalid("entries", "Chưa có đánh giá nào", "no entries")
            if len(request.entries) > MAX_ENTRIES:
                raise invalid(
                    "entries",
                    f"Tối đa {MAX_ENTRIES} đánh giá mỗi lần",
                    f"at most {MAX_ENTRIES} entries a request",
                )
            values = []
            for i, entry in enumerate(request.entries):
                fld = f"entries[{i}]"
                student_id = parse_uuid(entry.student_id)
                if student_id is None or student_id not in students:
                    raise InvalidArgument(
                        "STUDENT_NOT_IN_CLASS",
                        bilingual("Học sinh không thuộc lớp này", "the student is not in this class"),
                        {"field": f"{fld}.student_id"},
                    )
                if school_class.grade <= 5:
                    item = gb.quality_item(entry.item, f"{fld}.item")
                    value = gb.parse_quality(entry.value, f"{fld}.value")
                else:
                    if entry.item not in ("", CONDUCT):
                        raise invalid(f"{fld}.item", "Chỉ đánh giá rèn luyện (CONDUCT)", "only CONDUCT")
                    item, value = CONDUCT, gb.parse_conduct(entry.value, f"{fld}.value")
                values.append(
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": caller.tenant,
                        "school_id": school_class.school_id,
                        "class_id": school_class.id,
                        "student_id": student_id,
                        "school_year": school_class.school_year,
                        "semester": semester,
                        "item": item,
                        "value": value,
                        "recorded_by": caller.principal.subject,
                    }
                )
            replayed = await idempotency.replay(
                uow, request.request_id, "RecordRatings", request, pb.RecordRatingsResponse
            )
            if replayed:
                return replayed
            if await is_locked(uow.session, school_class.school_id, school_class.school_year, semester):
                raise semester_locked()
            statement = insert(Rating).values(values)
            upsert = statement.on_conflict_do_update(
                index_elements=["student_id", "school_year", "semester", "item"],
                set_={
                    "value": statement.excluded.value,
                    "recorded_by": statement.excluded.recorded_by,
                    "updated_at": func.now(),
                },
                where=Rating.value != statement.excluded.value,
            ).returning(Rating.id)
            written = len((await uow.session.execute(upsert)).all())
            response = pb.RecordRatingsResponse(written=written, unchanged=len(values) - written)
            await idempotency.remember(uow, request.request_id, "RecordRatings", request, response)
            await uow.commit()
        return response

    async def get_class_gradebook(self, request: pb.GetClassGradebookRequest) -> pb.GetClassGradebookResponse:
        caller = await self.access.current()
        semester = gb.check_semester(request.semester)
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, request.class_id, Action.READ)
            subject = _subject_of(school_class, request.subject_code)
            students = await _class_students(uow.session, school_class.id)
            rows = (
                await uow.session.scalars(
                    select(Assessment).where(
                        Assessment.class_id == school_class.id,
                        Assessment.subject == subject.code,
                        Assessment.semester == semester,
                    )
                )
            ).all()
            locked = await is_locked(uow.session, school_class.school_id, school_class.school_year, semester)
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"class:{school_class.id}/gradebook/{subject.code}/{semester}",
                subjects=len(students),
                operation="GetClassGradebook",
            )
            await uow.commit()
        by_student: dict[uuid.UUID, list[Assessment]] = {}
        for row in rows:
            by_student.setdefault(row.student_id, []).append(row)
        out = []
        for student in students.values():
            cells = sorted(by_student.get(student.id, []), key=lambda r: (gb.Kind(r.kind).name, r.ordinal))
            book = {(semester, subject.code, r.kind, r.ordinal): r.value for r in cells}
            term = gb.term_of(subject, semester, book)
            out.append(
                pb.GradebookRow(
                    student_id=str(student.id),
                    full_name=student.full_name,
                    cells=[
                        pb.GradebookCell(
                            kind=_kind_proto(r.kind),  # type: ignore[arg-type]
                            ordinal=r.ordinal,
                            value=r.value,
                            display=gb.display_value(subject, r.kind, r.value),
                        )
                        for r in cells
                    ],
                    result=gb.display_value(subject, "", term.value) if term.value else "",
                    missing=list(term.missing),
                )
            )
        return pb.GetClassGradebookResponse(
            subject=subject_proto(subject), semester=semester, locked=locked, rows=out
        )

    # ------------------------------------------------------------ changes after the lock

    async def request_grade_change(
        self, request: pb.RequestGradeChangeRequest
    ) -> pb.RequestGradeChangeResponse:
        caller = await self.access.current()
        semester = gb.check_semester(request.semester)
        reason = check_text(request.reason, "reason", 500)
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, request.class_id, Action.WRITE)
            subject = _subject_of(school_class, request.subject_code)
            _may_grade(caller, school_class, subject)
            students = await _class_students(uow.session, school_class.id)
            [entry] = _entries(subject, [request.entry], students, prefix="entry")
            if not entry.value:
                raise invalid("entry.value", "Cần giá trị mới", "the new value is required")
            if not await is_locked(uow.session, school_class.school_id, school_class.school_year, semester):
                raise FailedPrecondition(
                    "SEMESTER_NOT_LOCKED",
                    bilingual(
                        "Học kì chưa khóa sổ: giáo viên sửa trực tiếp",
                        "the semester is not locked: the teacher edits the value directly",
                    ),
                )
            replayed = await idempotency.replay(
                uow, request.request_id, "RequestGradeChange", request, pb.RequestGradeChangeResponse
            )
            if replayed:
                return replayed
            old = await uow.session.scalar(
                select(Assessment.value).where(
                    Assessment.student_id == entry.student_id,
                    Assessment.school_year == school_class.school_year,
                    Assessment.semester == semester,
                    Assessment.subject == subject.code,
                    Assessment.kind == entry.kind,
                    Assessment.ordinal == entry.ordinal,
                )
            )
            if old == entry.value:
                raise FailedPrecondition(
                    "VALUE_UNCHANGED", bilingual("Giá trị mới trùng giá trị cũ", "the new value is the same")
                )
            row = GradeChange(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                school_id=school_class.school_id,
                class_id=school_class.id,
                student_id=entry.student_id,
                school_year=school_class.school_year,
                semester=semester,
                subject=subject.code,
                kind=entry.kind,
                ordinal=entry.ordinal,
                old_value=old or "",
                new_value=entry.value,
                reason=reason,
                state="PENDING",
                requested_by=caller.principal.subject,
                decision_note="",
            )
            uow.session.add(row)
            await uow.session.flush()
            await uow.session.refresh(row)
            response = pb.RequestGradeChangeResponse(change=change_proto(row))
            await idempotency.remember(uow, request.request_id, "RequestGradeChange", request, response)
            await uow.commit()
        return response

    async def decide_grade_change(self, request: pb.DecideGradeChangeRequest) -> pb.DecideGradeChangeResponse:
        caller = await self.access.current()
        change_id = parse_uuid(request.change_id)
        not_found = NotFound(
            "GRADE_CHANGE_NOT_FOUND", bilingual("Không tìm thấy đề nghị sửa điểm", "grade change not found")
        )
        if change_id is None:
            raise not_found
        note = request.note.strip()
        if not request.approve:
            note = check_text(request.note, "note", 500)
        elif note:
            note = check_text(note, "note", 500)
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await uow.session.scalar(
                select(GradeChange).where(GradeChange.id == change_id).with_for_update()
            )
            if row is None:
                raise not_found
            await caller.authorize(Action.ADMIN, Resource.school(str(row.school_id)))
            _is_principal(caller, row.school_id)
            if row.requested_by == caller.principal.subject:
                raise PermissionDenied(
                    "OWN_REQUEST",
                    bilingual("Không tự duyệt đề nghị của mình", "nobody approves their own request"),
                )
            if row.state != "PENDING":
                if (row.state == "APPROVED") == request.approve:
                    return pb.DecideGradeChangeResponse(change=change_proto(row))  # a retry
                raise FailedPrecondition(
                    "GRADE_CHANGE_ALREADY_DECIDED",
                    bilingual("Đề nghị đã được quyết định", "the change has already been decided"),
                )
            row.state = "APPROVED" if request.approve else "REFUSED"
            row.decided_by = caller.principal.subject
            row.decided_at = datetime.now(UTC)
            row.decision_note = note
            if request.approve:
                current = await uow.session.scalar(
                    select(Assessment.value)
                    .where(
                        Assessment.student_id == row.student_id,
                        Assessment.school_year == row.school_year,
                        Assessment.semester == row.semester,
                        Assessment.subject == row.subject,
                        Assessment.kind == row.kind,
                        Assessment.ordinal == row.ordinal,
                    )
                    .with_for_update()
                )
                if (current or "") != row.old_value:
                    raise FailedPrecondition(
                        "VALUE_CHANGED_SINCE_REQUEST",
                        bilingual(
                            "Điểm đã thay đổi sau khi đề nghị được gửi",
                            "the value changed after the request was made",
                        ),
                    )
                await uow.session.execute(
                    _upsert(
                        [
                            {
                                "id": uuid.uuid4(),
                                "tenant_id": caller.tenant,
                                "school_id": row.school_id,
                                "class_id": row.class_id,
                                "student_id": row.student_id,
                                "school_year": row.school_year,
                                "semester": row.semester,
                                "subject": row.subject,
                                "kind": row.kind,
                                "ordinal": row.ordinal,
                                "value": row.new_value,
                                "recorded_by": row.requested_by,
                            }
                        ]
                    )
                )
            await uow.session.flush()
            response = pb.DecideGradeChangeResponse(change=change_proto(row))
            await uow.commit()
        return response

    async def list_grade_changes(self, request: pb.ListGradeChangesRequest) -> pb.ListGradeChangesResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            school = await school_for(uow.session, caller, request.school_id, Action.READ)
            query = select(GradeChange).where(GradeChange.school_id == school.id)
            if SCHOOL_ADMIN not in caller.scope.school_roles(str(school.id)) and not caller.scope.tenant_wide:
                query = query.where(GradeChange.requested_by == caller.principal.subject)
            if request.state:
                state = pb.GradeChangeState.Name(request.state).removeprefix("GRADE_CHANGE_STATE_")
                query = query.where(GradeChange.state == state)
            rows = (await uow.session.scalars(query.order_by(GradeChange.created_at.desc()).limit(500))).all()
        return pb.ListGradeChangesResponse(changes=[change_proto(r) for r in rows])

    # ------------------------------------------------------------ results

    @staticmethod
    async def student_book(
        session: AsyncSession, student_id: uuid.UUID, year: str, grade: int
    ) -> gb.StudentBook:
        """Everything recorded for the student in a school year."""
        assessments = (
            await session.execute(
                select(
                    Assessment.semester,
                    Assessment.subject,
                    Assessment.kind,
                    Assessment.ordinal,
                    Assessment.value,
                ).where(Assessment.student_id == student_id, Assessment.school_year == year)
            )
        ).all()
        ratings = (
            await session.execute(
                select(Rating.semester, Rating.item, Rating.value).where(
                    Rating.student_id == student_id, Rating.school_year == year
                )
            )
        ).all()
        return gb.StudentBook(
            grade=grade,
            assessments={(s, subj, k, o): v for s, subj, k, o, v in assessments},
            conduct={s: v for s, item, v in ratings if item == CONDUCT},
            qualities={item: v for s, item, v in ratings if item != CONDUCT and s == 2},
        )

    async def results_for(
        self, book: gb.StudentBook, student_id: str, year: str
    ) -> tuple[gb.TermResult, ...]:
        """Semester I, II and the year, with the absences attendance counts for the year."""
        return gb.results(book, await self.absences.absent_sessions(student_id, year))

    async def get_student_results(self, request: pb.GetStudentResultsRequest) -> pb.GetStudentResultsResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        year = school_year(request.school_year) if request.school_year else ""
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await student_for(uow.session, caller, student_id, Action.READ)
            query = select(Enrolment, SchoolClass).join(SchoolClass, SchoolClass.id == Enrolment.class_id)
            query = query.where(Enrolment.student_id == student.id)
            if year:
                query = query.where(Enrolment.school_year == year)
            found = (await uow.session.execute(query.order_by(Enrolment.school_year.desc()).limit(1))).first()
            if found is None:
                raise NotFound(
                    "NO_ENROLMENT_IN_YEAR",
                    bilingual("Học sinh không học năm học này", "the student has no class that year"),
                )
            enrolment, school_class = found
            book = await self.student_book(uow.session, student.id, enrolment.school_year, school_class.grade)
            published = set(
                (
                    await uow.session.scalars(
                        select(ResultPublication.term).where(ResultPublication.class_id == school_class.id)
                    )
                ).all()
            )
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"student:{student.id}/results/{enrolment.school_year}",
                subjects=1,
                operation="GetStudentResults",
            )
            await uow.commit()
        staff = sees_unpublished_results(caller.scope, str(student.school_id), str(school_class.id))
        terms = [
            term_proto(t, t.term in published, reveal=staff or t.term in published)
            for t in await self.results_for(book, str(student.id), enrolment.school_year)
        ]
        return pb.GetStudentResultsResponse(
            student_id=str(student.id),
            school_year=enrolment.school_year,
            class_id=str(school_class.id),
            grade=school_class.grade,
            terms=terms,
        )

    async def publish_results(self, request: pb.PublishResultsRequest) -> pb.PublishResultsResponse:
        caller = await self.access.current()
        if request.term not in (0, 1, 2):
            raise invalid("term", "Kì là 1, 2 hoặc 0 (cả năm)", "the term is 1, 2 or 0 (the year)")
        async with self.db.unit_of_work(caller.tenant) as uow:
            school_class = await class_for(uow.session, caller, request.class_id, Action.ADMIN)
            _is_principal(caller, school_class.school_id)
            semester = request.term or 2
            if not await is_locked(uow.session, school_class.school_id, school_class.school_year, semester):
                raise FailedPrecondition(
                    "SEMESTER_NOT_LOCKED",
                    bilingual(
                        "Chỉ công bố kết quả sau khi khóa sổ học kì",
                        "results are published once the semester is locked",
                    ),
                )
            students = await _class_students(uow.session, school_class.id)
            inserted = await uow.session.execute(
                insert(ResultPublication)
                .values(
                    id=uuid.uuid4(),
                    tenant_id=caller.tenant,
                    school_id=school_class.school_id,
                    class_id=school_class.id,
                    school_year=school_class.school_year,
                    term=request.term,
                    published_by=caller.principal.subject,
                )
                .on_conflict_do_nothing()
                .returning(ResultPublication.created_at)
            )
            published_at = inserted.scalar()
            if published_at is not None:
                await publish.results_published(
                    self.outbox, uow, school_class, request.term, [str(s) for s in students], published_at
                )
            else:
                published_at = await uow.session.scalar(
                    select(ResultPublication.created_at).where(
                        and_(
                            ResultPublication.class_id == school_class.id,
                            ResultPublication.term == request.term,
                        )
                    )
                )
            await uow.commit()
        assert published_at is not None
        return pb.PublishResultsResponse(publish_time=timestamp(published_at), students=len(students))

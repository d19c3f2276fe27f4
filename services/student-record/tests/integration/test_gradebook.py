"""The gradebook on a real PostgreSQL: bulk entry by a subject's teacher, the rules of Circular 22 on what
a value may be, the semester lock and changes approved by the principal with their audit trail, results
with explanations, and what a family sees before and after publication."""

from __future__ import annotations

import pytest
from school.events.audit.v1 import events_pb2 as audit
from school.events.student_record.v1 import events_pb2 as events
from school.student_record.v1 import student_record_pb2 as pb
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from student_record.domain import curriculum

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

REG, MID, END = pb.ASSESSMENT_KIND_REGULAR, pb.ASSESSMENT_KIND_MID_TERM, pb.ASSESSMENT_KIND_END_TERM
# Lower secondary (grade 6): scored subjects with their regular assessments, and comment subjects.
SCORED = {"NGU_VAN": 4, "TOAN": 4, "NGOAI_NGU_1": 4, "GDCD": 2, "LICH_SU_DIA_LI": 4, "KHTN": 4,
          "CONG_NGHE": 2, "TIN_HOC": 2}  # fmt: skip
COMMENT = ("GDTC", "AM_NHAC", "MI_THUAT", "HDTN_HN", "GDDP")


def entry(student: str, kind: int, value: str, ordinal: int = 1) -> pb.AssessmentEntry:
    return pb.AssessmentEntry(student_id=student, kind=kind, ordinal=ordinal, value=value)


def maths_teacher(services, tenant: str, world, subject: str = "Toán") -> None:
    services.act_as(
        tenant, "gv-toan", "teacher", classes=[(world.class_a1.id, world.school_a.id, "teacher", subject)]
    )


def principal(services, tenant: str, world, subject: str = "hieu-truong") -> None:
    services.act_as(tenant, subject, "school_admin", schools=[(world.school_a.id, "school_admin")])


def homeroom(services, tenant: str, world) -> None:
    services.act_as(
        tenant,
        "gvcn-a1",
        "teacher",
        "homeroom_teacher",
        classes=[(world.class_a1.id, world.school_a.id, "homeroom_teacher", "")],
    )


def mother(services, tenant: str, world) -> None:
    services.act_as(tenant, "me-an", "guardian", children=[(world.child.id, world.school_a.id)])


def record(class_id: str, subject: str, entries, semester: int = 1, **kw) -> pb.RecordAssessmentsRequest:
    return pb.RecordAssessmentsRequest(
        class_id=class_id, subject_code=subject, semester=semester, entries=entries, **kw
    )


async def test_a_subject_teacher_enters_a_class_in_one_request_and_sees_the_averages(services) -> None:
    world = await services.world("g-entry")
    maths_teacher(services, "g-entry", world)
    child, mate = world.child.id, world.classmate.id
    scores = [entry(child, REG, v, i) for i, v in enumerate(["8", "7,5", "9", "8.0"], 1)]
    scores += [entry(child, MID, "8"), entry(child, END, "8,5"), entry(mate, REG, "6", 1)]
    first = await services.gradebook.record_assessments(record(world.class_a1.id, "TOAN", scores))
    assert (first.written, first.unchanged) == (7, 0)
    # the same sheet sent again writes nothing
    again = await services.gradebook.record_assessments(record(world.class_a1.id, "TOAN", scores))
    assert (again.written, again.unchanged) == (0, 7)

    book = await services.gradebook.get_class_gradebook(
        pb.GetClassGradebookRequest(class_id=world.class_a1.id, subject_code="TOAN", semester=1)
    )
    assert book.subject.regular_assessments == 4
    assert not book.locked
    rows = {r.student_id: r for r in book.rows}
    # (8 + 7.5 + 9 + 8 + 2·8 + 3·8.5) / 9 = 8.22… → 8,2
    assert rows[child].result == "8,2"
    assert not rows[child].missing
    assert [c.display for c in rows[child].cells if c.kind == REG] == ["8", "7,5", "9", "8"]
    assert rows[mate].result == ""
    assert list(rows[mate].missing) == ["REGULAR 2", "REGULAR 3", "REGULAR 4", "MID_TERM", "END_TERM"]
    # reading grades is audited: who read which class's book, and how many students it showed
    [read] = [
        audit.PersonalDataAccessed.FromString(p)
        for p in await services.events("g-entry", "personal_data.accessed")
    ]
    assert (read.actor, read.target, read.subjects, read.operation) == (
        "gv-toan",
        f"class:{world.class_a1.id}/gradebook/TOAN/1",
        2,
        "GetClassGradebook",
    )

    # a cleared value is deleted (before the lock)
    cleared = await services.gradebook.record_assessments(
        record(world.class_a1.id, "TOAN", [entry(mate, REG, "", 1)])
    )
    assert cleared.written == 1
    assert await services.count("g-entry", "assessments") == 6


@pytest.mark.parametrize(
    ("subject", "bad", "reason", "field"),
    [
        ("TOAN", entry("CHILD", REG, "10,5"), "INVALID_SCORE", "entries[1].value"),
        ("TOAN", entry("CHILD", REG, "8,55"), "INVALID_SCORE", "entries[1].value"),
        ("GDCD", entry("CHILD", REG, "7", 3), "TOO_MANY_REGULAR_SCORES", "entries[1].ordinal"),  # 2 allowed
        ("TOAN", entry("CHILD", REG, "7", 5), "TOO_MANY_REGULAR_SCORES", "entries[1].ordinal"),
        ("GDTC", entry("CHILD", REG, "8"), "INVALID_COMMENT", "entries[1].value"),
        (
            "TOAN",
            entry("CHILD", pb.ASSESSMENT_KIND_END_RATING, "T"),
            "ASSESSMENT_KIND_NOT_ALLOWED",
            "entries[1].kind",
        ),
        ("TOAN", entry("OTHER", REG, "7"), "STUDENT_NOT_IN_CLASS", "entries[1].student_id"),
        ("TOAN", entry("CHILD", REG, "7", 1), "INVALID_ARGUMENT", "entries[1]"),  # the same one twice
        ("TIENG_VIET", entry("CHILD", REG, "7"), "UNKNOWN_SUBJECT", "subject_code"),  # a primary subject
    ],
)
async def test_bad_values_are_refused_with_the_field_and_nothing_is_written(
    services, subject, bad, reason, field
) -> None:
    tenant = f"g-bad-{reason.lower().replace('_', '-')[:20]}"
    world = await services.world(tenant)
    principal(services, tenant, world)  # a school admin may enter any subject
    ids = {"CHILD": world.child.id, "OTHER": world.other.id}
    good = entry(world.child.id, REG, "Đ" if subject == "GDTC" else "7", 1)
    bad = entry(ids[bad.student_id], bad.kind, bad.value, bad.ordinal)
    before = await services.count(tenant, "assessments")
    with pytest.raises(InvalidArgument) as caught:
        await services.gradebook.record_assessments(record(world.class_a1.id, subject, [good, bad]))
    assert caught.value.reason == reason
    assert caught.value.metadata["field"] == field
    assert await services.count(tenant, "assessments") == before


async def test_only_the_subjects_teachers_of_the_class_and_the_school_admin_enter_scores(services) -> None:
    world = await services.world("g-who")
    sheet = record(world.class_a1.id, "TOAN", [entry(world.child.id, REG, "8")])
    maths_teacher(services, "g-who", world, subject="Ngữ văn")
    with pytest.raises(PermissionDenied) as caught:
        await services.gradebook.record_assessments(sheet)
    assert caught.value.reason == "NOT_YOUR_SUBJECT"
    homeroom(services, "g-who", world)  # the homeroom teacher does not teach maths here
    with pytest.raises(PermissionDenied):
        await services.gradebook.record_assessments(sheet)
    services.act_as(
        "g-who", "gv-toan-a2", "teacher", classes=[(world.class_a2.id, world.school_a.id, "teacher", "Toán")]
    )
    with pytest.raises(PermissionDenied) as caught:
        await services.gradebook.record_assessments(sheet)
    assert caught.value.reason == "NOT_YOUR_CLASS"
    mother(services, "g-who", world)
    with pytest.raises(PermissionDenied):
        await services.gradebook.record_assessments(sheet)
    with pytest.raises(PermissionDenied):  # nor reads the class's gradebook
        await services.gradebook.get_class_gradebook(
            pb.GetClassGradebookRequest(class_id=world.class_a1.id, subject_code="TOAN", semester=1)
        )
    maths_teacher(services, "g-who", world, subject="toan")  # as the staff spreadsheet wrote it
    assert (await services.gradebook.record_assessments(sheet)).written == 1
    assert await services.count("g-who", "assessments") == 1


async def test_after_the_lock_a_change_needs_the_principals_approval_and_leaves_a_trail(services) -> None:
    world = await services.world("g-lock")
    maths_teacher(services, "g-lock", world)
    child = world.child.id
    await services.gradebook.record_assessments(record(world.class_a1.id, "TOAN", [entry(child, END, "6")]))
    principal(services, "g-lock", world)
    lock = pb.LockSemesterRequest(school_id=world.school_a.id, school_year="2025-2026", semester=1)
    locked = await services.gradebook.lock_semester(lock)
    assert list(locked.school_year.locked_semesters) == [1]
    await services.gradebook.lock_semester(lock)  # idempotent: one lock, one event
    [payload] = await services.events("g-lock", "grades.locked")
    assert events.GradesLocked.FromString(payload).semester == 1

    maths_teacher(services, "g-lock", world)
    with pytest.raises(FailedPrecondition) as caught:
        await services.gradebook.record_assessments(
            record(world.class_a1.id, "TOAN", [entry(child, END, "7")])
        )
    assert caught.value.reason == "SEMESTER_LOCKED"
    change_request = pb.RequestGradeChangeRequest(
        class_id=world.class_a1.id,
        subject_code="TOAN",
        semester=1,
        entry=entry(child, END, "7"),
        reason="Cộng nhầm điểm bài cuối kì",
        request_id="chg-1",
    )
    change = (await services.gradebook.request_grade_change(change_request)).change
    assert (change.old_value, change.new_value, change.state) == ("6", "7", pb.GRADE_CHANGE_STATE_PENDING)
    assert (await services.gradebook.request_grade_change(change_request)).change.id == change.id
    with pytest.raises(PermissionDenied):  # the teacher does not approve
        await services.gradebook.decide_grade_change(
            pb.DecideGradeChangeRequest(change_id=change.id, approve=True)
        )

    principal(services, "g-lock", world)
    with pytest.raises(InvalidArgument):  # a refusal needs a note
        await services.gradebook.decide_grade_change(pb.DecideGradeChangeRequest(change_id=change.id))
    approved = (
        await services.gradebook.decide_grade_change(
            pb.DecideGradeChangeRequest(change_id=change.id, approve=True, note="Đã kiểm tra bài thi")
        )
    ).change
    assert approved.state == pb.GRADE_CHANGE_STATE_APPROVED
    assert approved.decided_by == "hieu-truong"
    assert approved.requested_by == "gv-toan"
    assert approved.reason == "Cộng nhầm điểm bài cuối kì"
    with pytest.raises(FailedPrecondition) as caught:
        await services.gradebook.decide_grade_change(
            pb.DecideGradeChangeRequest(change_id=change.id, approve=False, note="đổi ý")
        )
    assert caught.value.reason == "GRADE_CHANGE_ALREADY_DECIDED"
    book = await services.gradebook.get_class_gradebook(
        pb.GetClassGradebookRequest(class_id=world.class_a1.id, subject_code="TOAN", semester=1)
    )
    assert book.locked
    [row] = [r for r in book.rows if r.student_id == child]
    assert [c.value for c in row.cells] == ["7"]
    trail = (
        await services.gradebook.list_grade_changes(pb.ListGradeChangesRequest(school_id=world.school_a.id))
    ).changes
    assert [(c.old_value, c.new_value, c.decided_by) for c in trail] == [("6", "7", "hieu-truong")]

    # the principal's own request is decided by someone else
    own = (
        await services.gradebook.request_grade_change(
            pb.RequestGradeChangeRequest(
                class_id=world.class_a1.id,
                subject_code="TOAN",
                semester=1,
                entry=entry(child, MID, "9"),
                reason="Bổ sung điểm giữa kì",
            )
        )
    ).change
    with pytest.raises(PermissionDenied) as caught:
        await services.gradebook.decide_grade_change(
            pb.DecideGradeChangeRequest(change_id=own.id, approve=True)
        )
    assert caught.value.reason == "OWN_REQUEST"
    with pytest.raises(NotFound):
        await services.gradebook.decide_grade_change(
            pb.DecideGradeChangeRequest(change_id="00000000-0000-0000-0000-000000000000", approve=True)
        )


async def fill_year(services, world, scores: dict[str, str], comment: str = "D") -> None:
    """Every assessment of both semesters of the child, entered by the school admin."""
    for semester in (1, 2):
        for code, regular in SCORED.items():
            value = scores.get(code, "8")
            entries = [entry(world.child.id, REG, value, i) for i in range(1, regular + 1)]
            entries += [entry(world.child.id, MID, value), entry(world.child.id, END, value)]
            await services.gradebook.record_assessments(record(world.class_a1.id, code, entries, semester))
        for code in COMMENT:
            regular = curriculum.subject(6, code).regular_count
            entries = [entry(world.child.id, REG, comment, i) for i in range(1, regular + 1)]
            entries += [entry(world.child.id, MID, comment), entry(world.child.id, END, comment)]
            await services.gradebook.record_assessments(record(world.class_a1.id, code, entries, semester))


async def test_results_explain_themselves_and_reach_the_family_once_published(services) -> None:
    tenant = "g-results"
    world = await services.world(tenant)
    principal(services, tenant, world)
    # every subject 9.0 but literature 6.0: Khá, because of Ngữ văn
    await fill_year(services, world, {code: "9" for code in SCORED} | {"NGU_VAN": "6"})
    homeroom(services, tenant, world)
    for semester in (1, 2):
        await services.gradebook.record_ratings(
            pb.RecordRatingsRequest(
                class_id=world.class_a1.id,
                semester=semester,
                entries=[pb.RatingEntry(student_id=world.child.id, item="CONDUCT", value="Tốt")],
            )
        )
    with pytest.raises(InvalidArgument) as caught:
        await services.gradebook.record_ratings(
            pb.RecordRatingsRequest(
                class_id=world.class_a1.id,
                semester=1,
                entries=[pb.RatingEntry(student_id=world.child.id, item="CONDUCT", value="Xuất sắc")],
            )
        )
    assert caught.value.reason == "INVALID_CONDUCT"

    results = await services.gradebook.get_student_results(
        pb.GetStudentResultsRequest(student_id=world.child.id)
    )
    assert results.school_year == "2025-2026"
    assert results.grade == 6
    year = next(t for t in results.terms if t.term == 0)
    assert year.learning == "KHA"
    assert year.conduct == "TOT"
    assert list(year.learning_explanation.subjects) == ["Ngữ văn"]
    assert "Ngữ văn" in year.learning_explanation.vi
    assert year.award == "NONE"
    # Promotion follows attendance's 45-session counter.
    assert (year.promotion, year.absent_sessions) == ("PROMOTED", 0)
    services.absences.counts[world.child.id] = 46
    over = await services.gradebook.get_student_results(
        pb.GetStudentResultsRequest(student_id=world.child.id)
    )
    year_over = next(t for t in over.terms if t.term == 0)
    assert (year_over.promotion, year_over.absent_sessions) == ("REPEAT", 46)
    assert "46" in year_over.promotion_explanation.vi
    # While attendance cannot say, promotion stays open and the year is not final (no transcript).
    services.absences.counts[world.child.id] = None
    unknown = await services.gradebook.get_student_results(
        pb.GetStudentResultsRequest(student_id=world.child.id)
    )
    year_unknown = next(t for t in unknown.terms if t.term == 0)
    assert (year_unknown.promotion, year_unknown.absent_sessions) == ("", -1)
    assert "Chuyên cần" in year_unknown.incomplete
    del services.absences.counts[world.child.id]
    literature = next(s for s in year.subjects if s.subject_code == "NGU_VAN")
    assert literature.display == "6,0"  # averages always carry their decimal

    mother(services, tenant, world)
    before = await services.gradebook.get_student_results(
        pb.GetStudentResultsRequest(student_id=world.child.id)
    )
    year = next(t for t in before.terms if t.term == 0)
    assert not year.published
    assert year.learning == ""
    assert year.conduct == ""
    assert any(s.value for s in year.subjects)  # the subjects' results, as entered, are theirs to see
    principal(services, tenant, world)
    with pytest.raises(FailedPrecondition) as caught:
        await services.gradebook.publish_results(pb.PublishResultsRequest(class_id=world.class_a1.id, term=0))
    assert caught.value.reason == "SEMESTER_NOT_LOCKED"
    for semester in (1, 2):
        await services.gradebook.lock_semester(
            pb.LockSemesterRequest(school_id=world.school_a.id, school_year="2025-2026", semester=semester)
        )
    published = await services.gradebook.publish_results(
        pb.PublishResultsRequest(class_id=world.class_a1.id, term=0)
    )
    assert published.students == 2
    await services.gradebook.publish_results(pb.PublishResultsRequest(class_id=world.class_a1.id, term=0))
    [payload] = await services.events(tenant, "results.published")
    event = events.ResultsPublished.FromString(payload)
    assert set(event.student_ids) == {world.child.id, world.classmate.id}
    assert event.term == 0
    mother(services, tenant, world)
    after = await services.gradebook.get_student_results(
        pb.GetStudentResultsRequest(student_id=world.child.id)
    )
    year = next(t for t in after.terms if t.term == 0)
    assert year.published
    assert year.learning == "KHA"
    assert "Ngữ văn" in year.learning_explanation.vi
    # another family reads nothing
    services.act_as(tenant, "other-parent", "guardian", children=[(world.other.id, world.school_b.id)])
    with pytest.raises(PermissionDenied):
        await services.gradebook.get_student_results(pb.GetStudentResultsRequest(student_id=world.child.id))


async def test_school_years_are_defined_in_order_and_semesters_lock_in_order(services) -> None:
    world = await services.world("g-years")
    principal(services, "g-years", world)
    define = pb.DefineSchoolYearRequest(
        school_id=world.school_a.id,
        name="2025-2026",
        semester_1_start="2025-09-05",
        semester_1_end="2026-01-10",
        semester_2_start="2026-01-12",
        semester_2_end="2026-05-25",
    )
    year = (await services.gradebook.define_school_year(define)).school_year
    assert year.semester_2_end == "2026-05-25"
    # attendance hears of the year each time it is saved (consumers upsert: a re-save resynchronises them)
    moved = pb.DefineSchoolYearRequest()
    moved.CopyFrom(define)
    moved.semester_2_end = "2026-05-29"
    await services.gradebook.define_school_year(moved)
    published = [
        events.SchoolYearDefined.FromString(p)
        for p in await services.events("g-years", "school_year.defined")
    ]
    assert [(e.school_id, e.name, e.semester_1_start, e.semester_2_end) for e in published] == [
        (world.school_a.id, "2025-2026", "2025-09-05", "2026-05-25"),
        (world.school_a.id, "2025-2026", "2025-09-05", "2026-05-29"),
    ]
    await services.gradebook.define_school_year(define)
    bad = pb.DefineSchoolYearRequest()
    bad.CopyFrom(define)
    bad.semester_2_start = "2026-01-05"
    with pytest.raises(InvalidArgument):
        await services.gradebook.define_school_year(bad)
    bad.semester_2_start = "2027-01-12"
    with pytest.raises(InvalidArgument):
        await services.gradebook.define_school_year(bad)
    with pytest.raises(FailedPrecondition) as caught:
        await services.gradebook.lock_semester(
            pb.LockSemesterRequest(school_id=world.school_a.id, school_year="2025-2026", semester=2)
        )
    assert caught.value.reason == "EARLIER_SEMESTER_OPEN"
    with pytest.raises(InvalidArgument):
        await services.gradebook.lock_semester(
            pb.LockSemesterRequest(school_id=world.school_a.id, school_year="2025-2026", semester=3)
        )
    years = await services.gradebook.list_school_years(pb.ListSchoolYearsRequest(school_id=world.school_a.id))
    assert [y.name for y in years.school_years] == ["2025-2026"]
    maths_teacher(services, "g-years", world)
    with pytest.raises(PermissionDenied):
        await services.gradebook.define_school_year(define)
    subjects = await services.gradebook.list_subjects(pb.ListSubjectsRequest(grade=6))
    maths = next(s for s in subjects.subjects if s.code == "TOAN")
    assert (maths.periods_per_year, maths.regular_assessments) == (140, 4)
    with pytest.raises(InvalidArgument):
        await services.gradebook.list_subjects(pb.ListSubjectsRequest(grade=13))

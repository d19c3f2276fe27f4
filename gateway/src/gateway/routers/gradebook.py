"""The gradebook under Circulars 22/2021 (secondary) and 27/2020 (primary): the curriculum's subjects, school
years and semester locks, bulk entry of assessments and ratings, changes after the lock decided by the
principal, a student's results with their explanations, and their publication to families (student-record).

Routes on a school (school years, locks, the changes of a school) check access at the edge first, as for
classes: the school is in the path. Routes on a class, a student or a change forward, and student-record
decides (it knows the class's school, the teachers of each subject in it, its homeroom teacher, the
student's guardians). The gateway checks shape only — a semester is 1 or 2, a kind one of seven, a value
at most 16 characters, at most 2000 entries — plus one rule it can see alone: refusing a change needs a
note. What a value may be (``INVALID_SCORE``: "10,5", "8,55"), how many regular assessments a subject has
(``TOO_MANY_REGULAR_SCORES``), the lock (``SEMESTER_LOCKED``) and who may do what (``NOT_YOUR_SUBJECT``,
``OWN_REQUEST``…) are the service's answers, passed through with their reason and field.

No route ever returns a ranking or a comparison between students (the school charter keeps results
confidential).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from school.student_record.v1 import student_record_pb2 as sr
from school_common.access import Action, Resource

from gateway import mappers, schemas
from gateway.deps import (
    AccessDep,
    BackendsDep,
    Caller,
    ClassId,
    Grade,
    GradeChangeId,
    IdempotencyKey,
    SchoolId,
    SchoolYearName,
    Semester,
    StudentId,
    SubjectCode,
    TermName,
)
from gateway.problems import missing_field, problem_docs

router = APIRouter(prefix="/v1", tags=["gradebook"])

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)

ENTRY_REASONS = (
    "`INVALID_SCORE` (điểm từ 0 đến 10, số nguyên hoặc một chữ số thập phân: `10,5`, `8,55` bị từ chối), "
    "`TOO_MANY_REGULAR_SCORES`, `INVALID_COMMENT`, `INVALID_RATING`, `INVALID_TEST_SCORE`, "
    "`ASSESSMENT_KIND_NOT_ALLOWED`, `STUDENT_NOT_IN_CLASS`, `UNKNOWN_SUBJECT`"
)
ENTRY_REASONS_EN = (
    "`INVALID_SCORE` (a score is 0 to 10, an integer or with one decimal: `10,5` and `8,55` are refused), "
    "`TOO_MANY_REGULAR_SCORES`, `INVALID_COMMENT`, `INVALID_RATING`, `INVALID_TEST_SCORE`, "
    "`ASSESSMENT_KIND_NOT_ALLOWED`, `STUDENT_NOT_IN_CLASS`, `UNKNOWN_SUBJECT`"
)


def school_year_field(name: str) -> str:
    """DefineSchoolYear names the year ``name``; the REST path calls it ``school_year``."""
    return "school_year" if name == "name" else name


@router.get(
    "/curriculum/grades/{grade}/subjects",
    operation_id="listSubjects",
    summary="Môn học của khối lớp / The subjects of a grade",
    description="Các môn học và hoạt động giáo dục của chương trình 2018 ở khối lớp: cách đánh giá (`scored` "
    "điểm 10, `comment` nhận xét, `rated` tiểu học T/H/C), số tiết một năm, số điểm đánh giá thường xuyên "
    "mỗi học kì (2, 3 hoặc 4), kiểm tra định kì ở tiểu học. Cho mọi người dùng của đơn vị. / The 2018 "
    "curriculum's subjects and educational activities of the grade: how each is evaluated, periods a "
    "year, regular assessments a semester (2, 3 or 4), primary periodic tests. For any user of the tenant.",
    responses=problem_docs(422),
)
async def list_subjects(caller: Caller, grade: Grade, backends: BackendsDep) -> schemas.SubjectList:
    result: sr.ListSubjectsResponse = await backends.call(
        backends.student_record.ListSubjects, sr.ListSubjectsRequest(grade=grade), caller
    )
    return schemas.SubjectList(items=[mappers.subject(s) for s in result.subjects])


@router.put(
    "/schools/{school_id}/school-years/{school_year}",
    operation_id="defineSchoolYear",
    summary="Khai báo năm học / Define a school year",
    description="Khai báo (hoặc sửa, khi chưa học kì nào khóa sổ) các mốc học kì của năm học cho trường; cần "
    "quyền quản trị trường. Các mốc phải theo thứ tự và nằm trong năm học (422 `INVALID_ARGUMENT` với "
    "trường sai); năm học đã có học kì khóa sổ: 422 `SEMESTER_LOCKED`. Gửi lại cùng nội dung không thay "
    "đổi gì. / Defines (or redefines, while no semester is locked) the school year's semester dates for the "
    "school; needs the school's admin. The dates must be in order and within the year (422 "
    "`INVALID_ARGUMENT` with the field); a year with a locked semester: 422 `SEMESTER_LOCKED`. Sending the "
    "same again changes nothing.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def define_school_year(
    caller: Caller,
    school_id: SchoolId,
    school_year: SchoolYearName,
    body: schemas.SchoolYearDefinition,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.SchoolYear:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: sr.DefineSchoolYearResponse = await backends.call(
        backends.student_record.DefineSchoolYear,
        mappers.define_school_year(school_id, school_year, body),
        caller,
        field_names=school_year_field,
    )
    return mappers.school_year(result.school_year)


@router.get(
    "/schools/{school_id}/school-years",
    operation_id="listSchoolYears",
    summary="Năm học của trường / A school's school years",
    description="Các năm học của trường (đã khai báo, hoặc có lớp), mới nhất trước, với các học kì đã khóa "
    "sổ; cho những ai được xem trường. / The school's years (defined, or with classes), latest first, with "
    "their locked semesters; for whoever may read the school.",
    responses=problem_docs(403, 404),
)
async def list_school_years(
    caller: Caller, school_id: SchoolId, access: AccessDep, backends: BackendsDep
) -> schemas.SchoolYearList:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: sr.ListSchoolYearsResponse = await backends.call(
        backends.student_record.ListSchoolYears, sr.ListSchoolYearsRequest(school_id=school_id), caller
    )
    return schemas.SchoolYearList(items=[mappers.school_year(y) for y in result.school_years])


@router.post(
    "/schools/{school_id}/school-years/{school_year}/semesters/{semester}/lock",
    operation_id="lockSemester",
    summary="Khóa sổ điểm học kì / Lock a semester's gradebook",
    description="Khóa sổ điểm một học kì cho toàn trường; cần quyền quản trị trường. Sau đó không ai nhập "
    "hay sửa điểm học kì đó trực tiếp (422 `SEMESTER_LOCKED`): giáo viên gửi đề nghị sửa điểm để hiệu "
    "trưởng duyệt. Học kì II chỉ khóa sau học kì I (422 `EARLIER_SEMESTER_OPEN`). Khóa lại lần nữa không "
    "thay đổi gì, nên không cần `Idempotency-Key`; không có nội dung yêu cầu. / Locks a semester's "
    "gradebook for the whole school; needs the school's admin. Nobody then enters or edits that semester "
    "directly (422 `SEMESTER_LOCKED`): teachers request changes for the principal to decide. Semester II "
    "locks only after semester I (422 `EARLIER_SEMESTER_OPEN`). Locking again changes nothing, so it takes "
    "no `Idempotency-Key`; no request body.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def lock_semester(
    caller: Caller,
    school_id: SchoolId,
    school_year: SchoolYearName,
    semester: Semester,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.SchoolYear:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: sr.LockSemesterResponse = await backends.call(
        backends.student_record.LockSemester,
        sr.LockSemesterRequest(school_id=school_id, school_year=school_year, semester=semester),
        caller,
    )
    return mappers.school_year(result.school_year)


@router.put(
    "/classes/{class_id}/gradebook/{subject_code}/semesters/{semester}",
    operation_id="recordAssessments",
    summary="Nhập điểm một môn cho cả lớp / Enter a subject's values for a class",
    description="Nhập một lần điểm (hoặc mức đánh giá) một môn của cả lớp trong một học kì: tất cả hoặc "
    "không gì. Giáo viên được phân công dạy môn đó ở lớp và quản trị viên trường; người khác: 403 "
    "`NOT_YOUR_SUBJECT` hoặc `NOT_YOUR_CLASS`. Giá trị đã có như vậy không được ghi lại (`unchanged`), nên "
    "gửi lại cùng bảng điểm không ghi gì; chuỗi rỗng xóa một điểm. Giá trị sai: 422 với `reason` và trường "
    f"(`entries[i].value`…): {ENTRY_REASONS}. Học kì đã khóa sổ: 422 `SEMESTER_LOCKED` (gửi đề nghị sửa "
    "điểm). / Enters one subject's values for the whole class and semester in one request: all or nothing. "
    "The teachers assigned to the subject in the class, and school admins; anyone else: 403 "
    "`NOT_YOUR_SUBJECT` or `NOT_YOUR_CLASS`. A value already recorded is not written again (`unchanged`), "
    "so sending the same sheet again writes nothing; an empty value clears one. A wrong value: 422 with the "
    f"`reason` and the field (`entries[i].value`…): {ENTRY_REASONS_EN}. A locked semester: 422 "
    "`SEMESTER_LOCKED` (request a change instead).",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def record_assessments(
    caller: Caller,
    class_id: ClassId,
    subject_code: SubjectCode,
    semester: Semester,
    body: schemas.AssessmentsIn,
    backends: BackendsDep,
) -> schemas.EntryCounts:
    result: sr.RecordAssessmentsResponse = await backends.call(
        backends.student_record.RecordAssessments,
        mappers.record_assessments(class_id, subject_code, semester, body),
        caller,
    )
    return schemas.EntryCounts(written=result.written, unchanged=result.unchanged)


@router.get(
    "/classes/{class_id}/gradebook/{subject_code}/semesters/{semester}",
    operation_id="getClassGradebook",
    summary="Sổ điểm một môn của lớp / A subject's gradebook for a class",
    description="Sổ điểm một môn của lớp trong một học kì: từng học sinh, các điểm (dạng chuẩn và như in), "
    "điểm trung bình hoặc kết quả học kì, còn thiếu gì, học kì đã khóa sổ chưa. Cho cán bộ được xem lớp "
    "(giáo viên của lớp, quản trị viên trường); phụ huynh và học sinh không xem sổ điểm của lớp (403), chỉ "
    "xem kết quả của con. Không có xếp hạng. Mỗi lần xem được ghi nhật ký. / One subject's gradebook for the "
    "class and semester: each student, their values (canonical and as printed), the semester's average or "
    "result, what is still missing, whether the semester is locked. For staff who may read the class (its "
    "teachers, school admins); families never read a class's gradebook (403), only their child's results. "
    "No ranking. Every read is audited.",
    responses=problem_docs(403, 404, 422),
)
async def get_class_gradebook(
    caller: Caller,
    class_id: ClassId,
    subject_code: SubjectCode,
    semester: Semester,
    backends: BackendsDep,
) -> schemas.Gradebook:
    result: sr.GetClassGradebookResponse = await backends.call(
        backends.student_record.GetClassGradebook,
        sr.GetClassGradebookRequest(class_id=class_id, subject_code=subject_code, semester=semester),
        caller,
    )
    return mappers.gradebook(class_id, result)


@router.put(
    "/classes/{class_id}/ratings/semesters/{semester}",
    operation_id="recordRatings",
    summary="Đánh giá rèn luyện, phẩm chất, năng lực / Rate conduct, qualities and competences",
    description="Giáo viên chủ nhiệm của lớp và quản trị viên trường (người khác: 403 "
    "`HOMEROOM_TEACHER_ONLY`) đánh giá rèn luyện (THCS, THPT: `item` `CONDUCT`) hoặc phẩm chất, năng lực "
    "(tiểu học; học kì 2 là cuối năm) của học sinh trong lớp, một lần cho nhiều học sinh. Giá trị sai: 422 "
    "`INVALID_CONDUCT`, `INVALID_QUALITY`, `UNKNOWN_QUALITY`, `STUDENT_NOT_IN_CLASS`; học kì đã khóa sổ: "
    "422 `SEMESTER_LOCKED`. Gửi lại cùng nội dung không ghi gì. / The class's homeroom teacher and school "
    "admins (anyone else: 403 `HOMEROOM_TEACHER_ONLY`) rate conduct (secondary: `item` `CONDUCT`) or "
    "qualities and competences (primary; semester 2 is the year's end) of the class's students, many in "
    "one request. A wrong value: 422 `INVALID_CONDUCT`, `INVALID_QUALITY`, `UNKNOWN_QUALITY`, "
    "`STUDENT_NOT_IN_CLASS`; a locked semester: 422 `SEMESTER_LOCKED`. Sending the same again writes "
    "nothing.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def record_ratings(
    caller: Caller,
    class_id: ClassId,
    semester: Semester,
    body: schemas.RatingsIn,
    backends: BackendsDep,
) -> schemas.EntryCounts:
    result: sr.RecordRatingsResponse = await backends.call(
        backends.student_record.RecordRatings, mappers.record_ratings(class_id, semester, body), caller
    )
    return schemas.EntryCounts(written=result.written, unchanged=result.unchanged)


@router.post(
    "/classes/{class_id}/grade-changes",
    status_code=201,
    operation_id="requestGradeChange",
    summary="Đề nghị sửa điểm sau khóa sổ / Request a change after the lock",
    description="Sau khi học kì khóa sổ, giáo viên dạy môn đó ở lớp (hoặc quản trị viên trường) đề nghị sửa "
    "một giá trị, kèm lý do; giá trị chỉ đổi khi hiệu trưởng duyệt. Học kì chưa khóa sổ: 422 "
    "`SEMESTER_NOT_LOCKED` (sửa trực tiếp); giá trị mới trùng giá trị cũ: 422 `VALUE_UNCHANGED`; giá trị "
    f"sai: 422 ({ENTRY_REASONS}, trường `entry.value`…); không dạy môn này: 403 `NOT_YOUR_SUBJECT`. / Once "
    "the semester is locked, the subject's teachers in the class (or a school admin) ask for one value to "
    "change, with a reason; it changes only when the principal approves. A semester not locked: 422 "
    "`SEMESTER_NOT_LOCKED` (edit directly); the same value: 422 `VALUE_UNCHANGED`; a wrong value: 422 "
    f"({ENTRY_REASONS_EN}, field `entry.value`…); not teaching the subject: 403 `NOT_YOUR_SUBJECT`.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def request_grade_change(
    caller: Caller,
    class_id: ClassId,
    key: IdempotencyKey,
    body: schemas.GradeChangeCreate,
    backends: BackendsDep,
) -> schemas.GradeChange:
    result: sr.RequestGradeChangeResponse = await backends.call(
        backends.student_record.RequestGradeChange,
        mappers.request_grade_change(class_id, body, key),
        caller,
    )
    return mappers.grade_change(result.change)


@router.get(
    "/schools/{school_id}/grade-changes",
    operation_id="listGradeChanges",
    summary="Đề nghị sửa điểm của trường / A school's grade changes",
    description="Các đề nghị sửa điểm của trường, mới nhất trước (tối đa 500), với giá trị cũ và mới, lý "
    "do, người đề nghị, người quyết định: dấu vết sửa điểm sau khóa sổ. Quản trị viên trường thấy tất cả; "
    "giáo viên chỉ thấy đề nghị của mình. / The school's grade changes, latest first (at most 500), with "
    "the old and new values, the reason, who asked and who decided: the trail of changes after the lock. "
    "School admins see them all; teachers see their own.",
    responses=problem_docs(403, 404, 422),
)
async def list_grade_changes(
    caller: Caller,
    school_id: SchoolId,
    access: AccessDep,
    backends: BackendsDep,
    state: Annotated[
        schemas.GradeChangeState | None,
        Query(description="Chỉ các đề nghị ở trạng thái này / only changes in this state"),
    ] = None,
) -> schemas.GradeChangeList:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: sr.ListGradeChangesResponse = await backends.call(
        backends.student_record.ListGradeChanges,
        sr.ListGradeChangesRequest(
            school_id=school_id,
            state=mappers.GRADE_CHANGE_STATE_TO_PB[state] if state else sr.GRADE_CHANGE_STATE_UNSPECIFIED,
        ),
        caller,
    )
    return schemas.GradeChangeList(items=[mappers.grade_change(c) for c in result.changes])


@router.post(
    "/grade-changes/{change_id}/decision",
    operation_id="decideGradeChange",
    summary="Hiệu trưởng duyệt hoặc từ chối sửa điểm / The principal decides a grade change",
    description="Hiệu trưởng (quản trị viên trường; người khác: 403 `PRINCIPAL_ONLY`) duyệt (giá trị đổi "
    "ngay) hoặc từ chối (cần `note`) một đề nghị sửa điểm; không ai tự duyệt đề nghị của mình (403 "
    "`OWN_REQUEST`). Đã quyết định khác: 422 `GRADE_CHANGE_ALREADY_DECIDED`; giá trị đã đổi sau khi đề "
    "nghị: 422 `VALUE_CHANGED_SINCE_REQUEST`. Một đề nghị chỉ được quyết một lần, nên không cần "
    "`Idempotency-Key`. / The principal (a school admin; anyone else: 403 `PRINCIPAL_ONLY`) approves (the "
    "value changes at once) or refuses (with a `note`) a requested change; nobody decides their own request "
    "(403 `OWN_REQUEST`). Decided otherwise already: 422 `GRADE_CHANGE_ALREADY_DECIDED`; the value changed "
    "since the request: 422 `VALUE_CHANGED_SINCE_REQUEST`. A change is decided once, so it takes no "
    "`Idempotency-Key`.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def decide_grade_change(
    caller: Caller,
    change_id: GradeChangeId,
    body: schemas.GradeChangeDecision,
    backends: BackendsDep,
) -> schemas.GradeChange:
    if not body.approve and body.note is None:
        raise missing_field("note")
    result: sr.DecideGradeChangeResponse = await backends.call(
        backends.student_record.DecideGradeChange, mappers.decide_grade_change(change_id, body), caller
    )
    return mappers.grade_change(result.change)


@router.get(
    "/students/{student_id}/results",
    operation_id="getStudentResults",
    summary="Kết quả học tập của học sinh / A student's results",
    description="Kết quả từng học kì và cả năm của học sinh: điểm trung bình hoặc kết quả từng môn, kết quả "
    "học tập, rèn luyện, lên lớp, khen thưởng (tiểu học: kết quả cuối năm), mỗi kết quả kèm giải thích "
    "(quy tắc nào, vì môn nào). Cho những ai được xem học sinh; phụ huynh thấy kết quả từng môn, còn kết "
    "quả học tập, rèn luyện, lên lớp, khen thưởng chỉ sau khi nhà trường công bố (trước đó là null). Không "
    "bao giờ có xếp hạng hay so sánh với học sinh khác. Học sinh không học năm học đó: 404 "
    "`NO_ENROLMENT_IN_YEAR`. / The student's results for each semester and the year: each subject's "
    "average or result, the learning result, conduct, promotion and award (primary: the year's result), "
    "each with its explanation (which rule, which subjects). For whoever may read the student; guardians "
    "see the subjects' results, and the learning result, conduct, promotion and award only once the school "
    "has published them (null before). Never a ranking or a comparison with other students. No class that "
    "year: 404 `NO_ENROLMENT_IN_YEAR`.",
    responses=problem_docs(403, 404, 422),
)
async def get_student_results(
    caller: Caller,
    student_id: StudentId,
    backends: BackendsDep,
    school_year: Annotated[
        str | None,
        Query(
            pattern=schemas.SCHOOL_YEAR_PATTERN,
            description="Năm học; mặc định năm học gần nhất của học sinh / school year; default the "
            "student's latest",
            examples=["2025-2026"],
        ),
    ] = None,
) -> schemas.StudentResults:
    result: sr.GetStudentResultsResponse = await backends.call(
        backends.student_record.GetStudentResults,
        sr.GetStudentResultsRequest(student_id=student_id, school_year=school_year or ""),
        caller,
    )
    return mappers.student_results(result)


@router.post(
    "/classes/{class_id}/results/{term}/publication",
    operation_id="publishResults",
    summary="Công bố kết quả cho gia đình / Publish results to families",
    description="Công bố kết quả của lớp cho một kì (`semester_1`, `semester_2` hoặc `year` cả năm) tới các "
    "gia đình, sau khi học kì đó (cả năm: học kì II) đã khóa sổ (nếu chưa: 422 `SEMESTER_NOT_LOCKED`); cần "
    "quyền quản trị trường. Từ đó phụ huynh thấy kết quả học tập, rèn luyện, lên lớp, khen thưởng của con; "
    "không bao giờ có xếp hạng. Công bố lại không thay đổi gì (trả về lần công bố đầu), nên không cần "
    "`Idempotency-Key`; không có nội dung yêu cầu. / Publishes the class's results for a term "
    "(`semester_1`, `semester_2` or `year`) to its families, once that semester (the year: semester II) is "
    "locked (else 422 `SEMESTER_NOT_LOCKED`); needs the school's admin. Guardians then see their child's "
    "learning result, conduct, promotion and award; never a ranking. Publishing again changes nothing (it "
    "answers with the first publication), so it takes no `Idempotency-Key`; no request body.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def publish_results(
    caller: Caller, class_id: ClassId, term: TermName, backends: BackendsDep
) -> schemas.ResultsPublication:
    result: sr.PublishResultsResponse = await backends.call(
        backends.student_record.PublishResults,
        sr.PublishResultsRequest(class_id=class_id, term=mappers.TERM_TO_PB[term]),
        caller,
    )
    return mappers.results_publication(result)

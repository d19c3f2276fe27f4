"""Schools, their classes, and students (student-record service).

Routes on a school (or creating one) check access at the edge first (``EdgeAccess``): the school is in the
path. Routes on a class or a student forward, and student-record decides: it knows their school.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from school.student_record.v1 import student_record_pb2 as sr
from school_common.access import Action, Resource

from gateway import mappers, schemas
from gateway.deps import (
    AccessDep,
    BackendsDep,
    Caller,
    ClassId,
    IdempotencyKey,
    PageSize,
    PageToken,
    SchoolId,
    StudentId,
)
from gateway.problems import problem_docs

router = APIRouter(prefix="/v1")

WRITE_ERRORS = (403, 409, 413, 415, 422)


@router.post(
    "/schools",
    status_code=201,
    tags=["schools"],
    operation_id="createSchool",
    summary="Tạo trường / Create a school",
    description="Tạo một trường của đơn vị (cần vai trò `authority_admin`). / "
    "Creates a school of the tenant (needs the `authority_admin` role).",
    responses={
        201: {
            "headers": {
                "Location": {
                    "description": "Đường dẫn của trường / URL of the school",
                    "schema": {"type": "string"},
                }
            }
        },
        **problem_docs(*WRITE_ERRORS),
    },
)
async def create_school(
    caller: Caller,
    key: IdempotencyKey,
    body: schemas.SchoolCreate,
    access: AccessDep,
    backends: BackendsDep,
    response: Response,
) -> schemas.School:
    await access.authorize(caller, Action.ADMIN, Resource.tenant())
    result: sr.CreateSchoolResponse = await backends.call(
        backends.student_record.CreateSchool, mappers.create_school(body, key), caller
    )
    response.headers["Location"] = f"/v1/schools/{result.school.id}"
    return mappers.school(result.school)


@router.get(
    "/schools",
    tags=["schools"],
    operation_id="listSchools",
    summary="Danh sách trường / List schools",
    description="Các trường của đơn vị, theo thứ tự tạo. / The tenant's schools, in creation order.",
    responses=problem_docs(403, 422),
)
async def list_schools(
    caller: Caller, backends: BackendsDep, page_size: PageSize = None, page_token: PageToken = None
) -> schemas.SchoolPage:
    result: sr.ListSchoolsResponse = await backends.call(
        backends.student_record.ListSchools,
        sr.ListSchoolsRequest(page_size=page_size or 0, page_token=page_token or ""),
        caller,
    )
    return schemas.SchoolPage(
        items=[mappers.school(s) for s in result.schools], next_page_token=result.next_page_token or None
    )


@router.get(
    "/schools/{school_id}",
    tags=["schools"],
    operation_id="getSchool",
    summary="Xem một trường / Get a school",
    responses=problem_docs(403, 404),
)
async def get_school(
    caller: Caller, school_id: SchoolId, access: AccessDep, backends: BackendsDep
) -> schemas.School:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: sr.GetSchoolResponse = await backends.call(
        backends.student_record.GetSchool, sr.GetSchoolRequest(school_id=school_id), caller
    )
    return mappers.school(result.school)


@router.post(
    "/schools/{school_id}/classes",
    status_code=201,
    tags=["classes"],
    operation_id="createClass",
    summary="Tạo lớp / Create a class",
    description="Tạo một lớp của trường trong một năm học; khối lớp phải thuộc cấp học của trường. / "
    "Creates a class of the school for a school year; the grade must be taught at the school.",
    responses=problem_docs(404, *WRITE_ERRORS),
)
async def create_class(
    caller: Caller,
    school_id: SchoolId,
    key: IdempotencyKey,
    body: schemas.ClassCreate,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.SchoolClass:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: sr.CreateClassResponse = await backends.call(
        backends.student_record.CreateClass, mappers.create_class(school_id, body, key), caller
    )
    return mappers.school_class(getattr(result, "class"))


@router.get(
    "/schools/{school_id}/classes",
    tags=["classes"],
    operation_id="listClasses",
    summary="Danh sách lớp của trường / List the classes of a school",
    responses=problem_docs(403, 404, 422),
)
async def list_classes(
    caller: Caller,
    school_id: SchoolId,
    access: AccessDep,
    backends: BackendsDep,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> schemas.ClassPage:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: sr.ListClassesResponse = await backends.call(
        backends.student_record.ListClasses,
        sr.ListClassesRequest(school_id=school_id, page_size=page_size or 0, page_token=page_token or ""),
        caller,
    )
    return schemas.ClassPage(
        items=[mappers.school_class(c) for c in result.classes],
        next_page_token=result.next_page_token or None,
    )


def enrolment_field(name: str) -> str:
    """The service names fields of the request (``new_student.guardians[1].phone``); the REST body nests
    the new student under ``student``."""
    if name.startswith("new_student."):
        return "student." + name.removeprefix("new_student.")
    if name == "new_student":
        return "student"
    return name


def guardian_field(name: str) -> str:
    """AddGuardian names the guardian's fields (``guardian.phone``); the REST body is the guardian."""
    return name.removeprefix("guardian.")


@router.post(
    "/classes/{class_id}/students",
    status_code=201,
    tags=["students"],
    operation_id="enrolStudent",
    summary="Xếp học sinh vào lớp / Enrol a student in a class",
    description="Xếp một học sinh đã có của trường (`student_id`) hoặc tiếp nhận một học sinh mới "
    "(`student`) vào lớp. Họ tên được chuẩn hóa Unicode NFC. Số định danh cá nhân của người giám hộ (nếu có, "
    "kèm ngày sinh) chỉ được chuyển tới dịch vụ định danh và không bao giờ được trả lại. / Enrols an "
    "existing student of the school (`student_id`) or admits a new one (`student`) into the class. Names "
    "are normalised to Unicode NFC. A guardian's personal identification number (optional, with their date "
    "of birth) only goes to identity and is never returned.",
    responses=problem_docs(404, *WRITE_ERRORS),
)
async def enrol_student(
    caller: Caller,
    class_id: ClassId,
    key: IdempotencyKey,
    body: schemas.EnrolmentCreate,
    backends: BackendsDep,
) -> schemas.EnrolmentResult:
    result: sr.EnrolStudentResponse = await backends.call(
        backends.student_record.EnrolStudent,
        mappers.enrol_student(class_id, body, key),
        caller,
        field_names=enrolment_field,
    )
    return schemas.EnrolmentResult(
        enrolment=mappers.enrolment(result.enrolment), student=mappers.student(result.student)
    )


@router.get(
    "/classes/{class_id}/students",
    tags=["students"],
    operation_id="listClassStudents",
    summary="Học sinh của lớp / List the students of a class",
    responses=problem_docs(403, 404, 422),
)
async def list_class_students(
    caller: Caller,
    class_id: ClassId,
    backends: BackendsDep,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> schemas.StudentPage:
    result: sr.ListClassStudentsResponse = await backends.call(
        backends.student_record.ListClassStudents,
        sr.ListClassStudentsRequest(class_id=class_id, page_size=page_size or 0, page_token=page_token or ""),
        caller,
    )
    return schemas.StudentPage(
        items=[mappers.student(s) for s in result.students], next_page_token=result.next_page_token or None
    )


@router.get(
    "/students/{student_id}",
    tags=["students"],
    operation_id="getStudent",
    summary="Xem một học sinh / Get a student",
    description="Hồ sơ học sinh và người giám hộ (không bao giờ có số định danh cá nhân). Dịch vụ hồ sơ học "
    "sinh quyết định ai được xem: phụ huynh đã liên kết, cán bộ của trường có quyền, quản trị viên Sở/Phòng. "
    "/ The student and their guardians (never a personal identification number). student-record decides "
    "who may see it: linked guardians, the school's staff with access, the authority.",
    responses=problem_docs(403, 404),
)
async def get_student(caller: Caller, student_id: StudentId, backends: BackendsDep) -> schemas.Student:
    result: sr.GetStudentResponse = await backends.call(
        backends.student_record.GetStudent, sr.GetStudentRequest(student_id=student_id), caller
    )
    return mappers.student(result.student)


@router.post(
    "/students/{student_id}/guardians",
    status_code=201,
    tags=["students"],
    operation_id="addGuardian",
    summary="Thêm người giám hộ / Add a guardian",
    description="Ghi nhận thêm một người giám hộ cho học sinh. Nếu có số định danh cá nhân (kèm ngày sinh), "
    "số này chỉ được chuyển tới dịch vụ định danh để cấp mã cá nhân ẩn danh (`person_id`) và liên kết tài "
    "khoản phụ huynh; nó không được lưu ở hồ sơ học sinh và không bao giờ được trả lại. / Records one more "
    "guardian of the student. A personal identification number (with the date of birth) only goes to "
    "identity, which issues the pseudonymous `person_id` and links the guardian's account; it is never "
    "stored with the student record nor returned.",
    responses=problem_docs(404, *WRITE_ERRORS),
)
async def add_guardian(
    caller: Caller,
    student_id: StudentId,
    key: IdempotencyKey,
    body: schemas.GuardianCreate,
    backends: BackendsDep,
) -> schemas.Student:
    result: sr.AddGuardianResponse = await backends.call(
        backends.student_record.AddGuardian,
        mappers.add_guardian(student_id, body, key),
        caller,
        field_names=guardian_field,
    )
    return mappers.student(result.student)

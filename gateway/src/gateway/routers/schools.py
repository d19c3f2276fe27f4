"""Schools, their classes, and the students of a class (student-record service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from school.student_record.v1 import student_record_pb2 as sr

from gateway import mappers, schemas
from gateway.deps import BackendsDep, Caller, ClassId, IdempotencyKey, SchoolId
from gateway.problems import problem_docs

router = APIRouter(prefix="/v1")

PageSize = Annotated[
    int | None,
    Query(
        ge=1,
        le=200,
        description="Số mục mỗi trang (mặc định 50, tối đa 200) / items per page (default 50, at most 200)",
    ),
]
PageToken = Annotated[
    str | None,
    Query(
        max_length=512,
        description="`next_page_token` của trang trước / the previous page's `next_page_token`",
    ),
]

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
    caller: Caller, key: IdempotencyKey, body: schemas.SchoolCreate, backends: BackendsDep, response: Response
) -> schemas.School:
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
async def get_school(caller: Caller, school_id: SchoolId, backends: BackendsDep) -> schemas.School:
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
    caller: Caller, school_id: SchoolId, key: IdempotencyKey, body: schemas.ClassCreate, backends: BackendsDep
) -> schemas.SchoolClass:
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
    backends: BackendsDep,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> schemas.ClassPage:
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
    """The service names NewStudent's fields; the REST body nests them under ``student``."""
    if name in ("student_id", "student"):
        return name
    if name in ("phone", "relationship"):  # the service does not say which guardian
        return f"student.guardians[*].{name}"
    return f"student.{name}"


@router.post(
    "/classes/{class_id}/students",
    status_code=201,
    tags=["students"],
    operation_id="enrolStudent",
    summary="Xếp học sinh vào lớp / Enrol a student in a class",
    description="Xếp một học sinh đã có của trường (`student_id`) hoặc tiếp nhận một học sinh mới "
    "(`student`) vào lớp. Họ tên được chuẩn hóa Unicode NFC. / Enrols an existing student of the school "
    "(`student_id`) or admits a new one (`student`) into the class. Names are normalised to "
    "Unicode NFC.",
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

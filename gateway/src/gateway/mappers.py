"""REST bodies ↔ protobuf messages of the backend services."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from school.attendance.v1 import attendance_pb2 as att
from school.student_record.v1 import student_record_pb2 as sr

from gateway import schemas

LEVEL_TO_PB = {
    "primary": sr.SCHOOL_LEVEL_PRIMARY,
    "lower_secondary": sr.SCHOOL_LEVEL_LOWER_SECONDARY,
    "upper_secondary": sr.SCHOOL_LEVEL_UPPER_SECONDARY,
}
PB_TO_LEVEL = {v: k for k, v in LEVEL_TO_PB.items()}
SEX_TO_PB = {"male": sr.SEX_MALE, "female": sr.SEX_FEMALE}
PB_TO_SEX = {v: k for k, v in SEX_TO_PB.items()}


def _time(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def _optional(value: str) -> str | None:
    return value or None


# Requests


def create_school(body: schemas.SchoolCreate, request_id: str) -> sr.CreateSchoolRequest:
    return sr.CreateSchoolRequest(
        name=body.name,
        code=body.code or "",
        levels=[LEVEL_TO_PB[lv] for lv in body.levels],
        request_id=request_id,
    )


def create_class(school_id: str, body: schemas.ClassCreate, request_id: str) -> sr.CreateClassRequest:
    return sr.CreateClassRequest(
        school_id=school_id,
        name=body.name,
        grade=body.grade,
        school_year=body.school_year,
        request_id=request_id,
    )


def enrol_student(class_id: str, body: schemas.EnrolmentCreate, request_id: str) -> sr.EnrolStudentRequest:
    if body.student is None:
        return sr.EnrolStudentRequest(
            class_id=class_id, student_id=body.student_id or "", request_id=request_id
        )
    new = body.student
    return sr.EnrolStudentRequest(
        class_id=class_id,
        new_student=sr.NewStudent(
            full_name=new.full_name,
            date_of_birth=new.date_of_birth,
            sex=SEX_TO_PB[new.sex],
            guardians=[
                sr.Guardian(full_name=g.full_name, relationship=g.relationship, phone=g.phone or "")
                for g in new.guardians
            ],
        ),
        request_id=request_id,
    )


# Responses


def school(msg: sr.School) -> schemas.School:
    return schemas.School(
        id=msg.id,
        name=msg.name,
        code=_optional(msg.code),
        levels=[PB_TO_LEVEL[lv] for lv in msg.levels if lv in PB_TO_LEVEL],
        created_at=_time(msg.create_time),
    )


def school_class(msg: sr.Class) -> schemas.SchoolClass:
    return schemas.SchoolClass(
        id=msg.id,
        school_id=msg.school_id,
        name=msg.name,
        grade=msg.grade,
        school_year=msg.school_year,
        created_at=_time(msg.create_time),
    )


def student(msg: sr.Student) -> schemas.Student:
    return schemas.Student(
        id=msg.id,
        school_id=msg.school_id,
        full_name=msg.full_name,
        date_of_birth=msg.date_of_birth,
        sex=PB_TO_SEX.get(msg.sex),
        student_code=_optional(msg.student_code),
        guardians=[
            schemas.Guardian(full_name=g.full_name, relationship=g.relationship, phone=_optional(g.phone))
            for g in msg.guardians
        ],
    )


def enrolment(msg: sr.Enrolment) -> schemas.Enrolment:
    return schemas.Enrolment(
        id=msg.id, class_id=msg.class_id, student_id=msg.student_id, enrolled_at=_time(msg.enrol_time)
    )


def roster(msg: att.GetClassRosterResponse) -> schemas.ClassRoster:
    return schemas.ClassRoster(
        class_id=msg.class_id,
        school_id=msg.school_id,
        class_name=msg.class_name,
        entries=[
            schemas.RosterEntry(
                student_id=e.student_id, full_name=e.full_name, enrolled_at=_time(e.enrol_time)
            )
            for e in msg.entries
        ],
    )

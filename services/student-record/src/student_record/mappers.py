"""Rows → protobuf messages."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from school.student_record.v1 import student_record_pb2 as pb

from student_record.models import Enrolment, Guardian, School, SchoolClass, Student

LEVEL_TO_PB = {
    "primary": pb.SCHOOL_LEVEL_PRIMARY,
    "lower_secondary": pb.SCHOOL_LEVEL_LOWER_SECONDARY,
    "upper_secondary": pb.SCHOOL_LEVEL_UPPER_SECONDARY,
}
PB_TO_LEVEL = {v: k for k, v in LEVEL_TO_PB.items()}
SEX_TO_PB = {"male": pb.SEX_MALE, "female": pb.SEX_FEMALE}
PB_TO_SEX = {v: k for k, v in SEX_TO_PB.items()}


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def school(row: School) -> pb.School:
    return pb.School(
        id=str(row.id),
        name=row.name,
        code=row.code or "",
        levels=[LEVEL_TO_PB[lv] for lv in row.levels],
        create_time=timestamp(row.created_at),
    )


def school_class(row: SchoolClass) -> pb.Class:
    return pb.Class(
        id=str(row.id),
        school_id=str(row.school_id),
        name=row.name,
        grade=row.grade,
        school_year=row.school_year,
        create_time=timestamp(row.created_at),
    )


def guardian(row: Guardian, contacts: bool = True) -> pb.Guardian:
    """``contacts=False``: name and relationship only (see ``authz.sees_guardian_contacts``). The
    personal identification number is never here: it was never stored."""
    if not contacts:
        return pb.Guardian(full_name=row.full_name, relationship=row.relation)
    return pb.Guardian(
        full_name=row.full_name,
        relationship=row.relation,
        phone=row.phone or "",
        person_id=str(row.person_id) if row.person_id else "",
    )


def student(row: Student, contacts: bool = True) -> pb.Student:
    return pb.Student(
        id=str(row.id),
        school_id=str(row.school_id),
        full_name=row.full_name,
        date_of_birth=row.date_of_birth.isoformat(),
        sex=SEX_TO_PB[row.sex],
        student_code=row.student_code or "",
        guardians=[guardian(g, contacts) for g in row.guardians],
        person_id=str(row.person_id) if contacts and row.person_id else "",
        temporary_key=row.temporary_key or "",
        status=row.status,
    )


def enrolment(row: Enrolment) -> pb.Enrolment:
    return pb.Enrolment(
        id=str(row.id),
        class_id=str(row.class_id),
        student_id=str(row.student_id),
        enrol_time=timestamp(row.enrolled_at),
    )

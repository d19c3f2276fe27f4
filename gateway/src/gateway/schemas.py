"""REST request and response bodies.

Requests are strict: unknown fields and wrong JSON types are refused (422) rather than guessed at. The
gateway checks shape only; the service owns the rules (name normalisation to NFC, plausible dates of
birth, phone formats, grades per school level) and answers with the field at fault.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Level = Literal["primary", "lower_secondary", "upper_secondary"]
Sex = Literal["male", "female"]
Relationship = Literal["mother", "father", "guardian", "grandparent", "other"]

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
UUID_RE = re.compile(UUID_PATTERN)

EXAMPLE_SCHOOL_ID = "0193a4c2-1f00-7c4e-9a1b-2f0e4c3d5b6a"
EXAMPLE_CLASS_ID = "0193a4c2-2e11-7d2a-8c3b-4a5e6f708192"
EXAMPLE_STUDENT_ID = "0193a4c2-3d22-7e3b-9d4c-5b6f708192a3"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Response(BaseModel):
    """Responses may gain fields over time: clients must ignore the ones they do not know."""


# Requests


class SchoolCreate(_Request):
    """Trường mới / A new school."""

    name: str = Field(
        min_length=1,
        max_length=255,
        description="Tên trường / school name",
        examples=["Trường THCS Nguyễn Du"],
    )
    code: str | None = Field(
        default=None,
        max_length=32,
        description="Mã trường trên CSDL ngành, nếu có / sector-database school code",
        examples=["79000701"],
    )
    levels: list[Level] = Field(
        min_length=1,
        max_length=3,
        description="Cấp học / school levels taught",
        examples=[["lower_secondary"]],
    )


class ClassCreate(_Request):
    """Lớp mới / A new class."""

    name: str = Field(min_length=1, max_length=50, description="Tên lớp / class name", examples=["6A1"])
    grade: int = Field(ge=1, le=12, description="Khối lớp 1–12 / grade 1-12", examples=[6])
    school_year: str = Field(
        pattern=r"^\d{4}-\d{4}$", description="Năm học / school year", examples=["2025-2026"]
    )


class GuardianIn(_Request):
    """Người giám hộ / A guardian."""

    full_name: str = Field(
        min_length=1, max_length=255, description="Họ tên / full name", examples=["Trần Thị Mai"]
    )
    relationship: Relationship = Field(description="Quan hệ với học sinh / relationship to the student")
    phone: str | None = Field(
        default=None, max_length=32, description="Số điện thoại / phone number", examples=["0912345678"]
    )


class NewStudent(_Request):
    """Học sinh mới được tiếp nhận / A student admitted by this request."""

    full_name: str = Field(
        min_length=1, max_length=255, description="Họ tên / full name", examples=["Nguyễn Văn An"]
    )
    date_of_birth: str = Field(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="Ngày sinh / date of birth (YYYY-MM-DD)",
        examples=["2014-09-05"],
        json_schema_extra={"format": "date"},
    )
    sex: Sex = Field(description="Giới tính / sex")
    guardians: list[GuardianIn] = Field(
        default_factory=list, max_length=4, description="Người giám hộ (tối đa 4) / guardians (at most 4)"
    )

    @field_validator("date_of_birth")
    @classmethod
    def _real_date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError("Ngày không tồn tại / not a calendar date") from exc
        return value


class EnrolmentCreate(_Request):
    """Xếp một học sinh vào lớp: đúng một trong `student_id` (học sinh đã có) hoặc `student` (học sinh mới) /
    Enrol a student: exactly one of `student_id` (an existing student) or `student` (a new one)."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["student_id"]}, {"required": ["student"]}]},
    )

    student_id: str | None = Field(
        default=None,
        pattern=UUID_PATTERN,
        description="Học sinh đã có của trường / an existing student of the school",
        examples=[EXAMPLE_STUDENT_ID],
    )
    student: NewStudent | None = Field(default=None, description="Học sinh mới / a new student")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.student_id is None) == (self.student is None):
            raise ValueError(
                "Cần đúng một trong student_id hoặc student / give exactly one of student_id or student"
            )
        return self


# Responses


class School(_Response):
    """Trường học / A school."""

    id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    name: str = Field(examples=["Trường THCS Nguyễn Du"])
    code: str | None = Field(examples=["79000701"])
    levels: list[Level]
    created_at: datetime


class SchoolPage(_Response):
    items: list[School]
    next_page_token: str | None = Field(description="Mã trang sau; null khi hết / next page, null at the end")


class SchoolClass(_Response):
    """Lớp học / A class."""

    id: str = Field(examples=[EXAMPLE_CLASS_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    name: str = Field(examples=["6A1"])
    grade: int = Field(examples=[6])
    school_year: str = Field(examples=["2025-2026"])
    created_at: datetime


class ClassPage(_Response):
    items: list[SchoolClass]
    next_page_token: str | None


class Guardian(_Response):
    full_name: str
    relationship: str
    phone: str | None


class Student(_Response):
    """Học sinh / A student."""

    id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    date_of_birth: str = Field(examples=["2014-09-05"])
    sex: Sex | None
    student_code: str | None = Field(
        description="Mã học sinh trên CSDL ngành, khi đã có / sector student code"
    )
    guardians: list[Guardian]


class StudentPage(_Response):
    items: list[Student]
    next_page_token: str | None


class Enrolment(_Response):
    """Việc học sinh thuộc một lớp / A student's membership of a class."""

    id: str
    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    enrolled_at: datetime


class EnrolmentResult(_Response):
    enrolment: Enrolment
    student: Student


class RosterEntry(_Response):
    student_id: str = Field(examples=[EXAMPLE_STUDENT_ID])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    enrolled_at: datetime


class ClassRoster(_Response):
    """Sĩ số lớp theo điểm danh / A class roster as attendance knows it."""

    class_id: str = Field(examples=[EXAMPLE_CLASS_ID])
    school_id: str = Field(examples=[EXAMPLE_SCHOOL_ID])
    class_name: str = Field(examples=["6A1"])
    entries: list[RosterEntry]


CheckState = Literal["serving", "failing", "not_configured"]


class Readiness(_Response):
    status: Literal["ready", "not_ready"]
    checks: dict[str, CheckState]

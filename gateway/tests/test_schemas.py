from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from pydantic import ValidationError

from gateway import mappers
from gateway.problems import validation_errors
from gateway.schemas import CitizenVerificationCreate, ClassCreate, EnrolmentCreate, GuardianIn, SchoolCreate

NEW_STUDENT: dict[str, Any] = {
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "2014-09-05",
    "sex": "male",
    "guardians": [{"full_name": "Trần Thị Mai", "relationship": "mother", "phone": "0912345678"}],
}


def errors_of(model: type, data: Any) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return validation_errors(info.value.errors())


def test_valid_school() -> None:
    body = SchoolCreate.model_validate({"name": "Trường THCS Nguyễn Du", "levels": ["lower_secondary"]})
    assert body.code is None
    request = mappers.create_school(body, "key-1")
    assert list(request.levels) == [mappers.LEVEL_TO_PB["lower_secondary"]]
    assert request.request_id == "key-1"


def test_unknown_fields_are_refused() -> None:
    errors = errors_of(SchoolCreate, {"name": "A", "levels": ["primary"], "tenant_id": "other"})
    assert errors == [{"field": "tenant_id", "message": "Trường không được chấp nhận / unknown field"}]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": 5, "levels": ["primary"]}, "name"),
        ({"name": "A", "levels": "primary"}, "levels"),
        ({"name": "A", "levels": ["kindergarten"]}, "levels[0]"),
        ({"name": "A", "levels": []}, "levels"),
        ({"name": "", "levels": ["primary"]}, "name"),
        ({"levels": ["primary"]}, "name"),
    ],
)
def test_school_shape_errors_name_the_field(data: dict[str, Any], field: str) -> None:
    assert [e["field"] for e in errors_of(SchoolCreate, data)] == [field]


@pytest.mark.parametrize("grade", ["6", 6.0, 6.5, True, None])
def test_grade_must_be_a_json_integer(grade: Any) -> None:
    errors = errors_of(ClassCreate, {"name": "6A1", "grade": grade, "school_year": "2025-2026"})
    assert errors[0]["field"] == "grade"
    assert " / " in errors[0]["message"]


def test_school_year_format() -> None:
    errors = errors_of(ClassCreate, {"name": "6A1", "grade": 6, "school_year": "2025"})
    assert errors == [{"field": "school_year", "message": "Sai định dạng / wrong format"}]


def test_nfd_names_pass_through_as_given() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    assert nfd != unicodedata.normalize("NFC", nfd)
    body = EnrolmentCreate.model_validate({"student": {**NEW_STUDENT, "full_name": nfd}})
    request = mappers.enrol_student("c", body, "")
    assert request.new_student.full_name == nfd  # the service normalises to NFC, not the gateway


def test_enrolment_needs_exactly_one_way() -> None:
    assert (
        EnrolmentCreate.model_validate({"student_id": "0193a4c2-3d22-7e3b-9d4c-5b6f708192a3"}).student is None
    )
    assert EnrolmentCreate.model_validate({"student": NEW_STUDENT}).student_id is None
    for data in ({}, {"student_id": "0193a4c2-3d22-7e3b-9d4c-5b6f708192a3", "student": NEW_STUDENT}):
        errors = errors_of(EnrolmentCreate, data)
        assert errors[0]["field"] == "body"
        assert "exactly one of student_id or student" in errors[0]["message"]


@pytest.mark.parametrize(
    ("student", "field"),
    [
        ({**NEW_STUDENT, "date_of_birth": "05/09/2014"}, "student.date_of_birth"),
        ({**NEW_STUDENT, "date_of_birth": "2014-02-30"}, "student.date_of_birth"),
        ({**NEW_STUDENT, "sex": "m"}, "student.sex"),
        (
            {**NEW_STUDENT, "guardians": [{"full_name": "X", "relationship": "uncle"}]},
            "student.guardians[0].relationship",
        ),
        (
            {**NEW_STUDENT, "guardians": [{"full_name": "X", "relationship": "other", "phone": 912345678}]},
            "student.guardians[0].phone",
        ),
        ({**NEW_STUDENT, "pin": "079214000001"}, "student.pin"),
    ],
)
def test_new_student_shape_errors(student: dict[str, Any], field: str) -> None:
    assert [e["field"] for e in errors_of(EnrolmentCreate, {"student": student})] == [field]


def test_student_id_must_look_like_an_id() -> None:
    assert errors_of(EnrolmentCreate, {"student_id": "42"})[0]["field"] == "student_id"


def test_validation_messages_never_echo_the_input() -> None:
    secret = "079214000001"
    errors = errors_of(EnrolmentCreate, {"student": {**NEW_STUDENT, "sex": secret}})
    assert secret not in str(errors)
    assert errors[0]["message"].startswith("Giá trị không hợp lệ, chỉ nhận")


def test_personal_ids_stay_out_of_reprs() -> None:
    secret = "001085000456"
    guardian = GuardianIn.model_validate(
        {"full_name": "A", "relationship": "father", "personal_id": secret, "date_of_birth": "1985-06-01"}
    )
    citizen = CitizenVerificationCreate.model_validate(
        {"personal_id": secret, "full_name": "A", "date_of_birth": "1985-06-01"}
    )
    for model in (guardian, citizen):
        assert model.personal_id == secret
        assert secret not in repr(model)
        assert secret not in str(model)


@pytest.mark.parametrize(
    "value", ["00108500045", "0010850004567", "00108500045a", "００１０８５０００４５６", ""]
)
def test_personal_id_shape(value: str) -> None:
    errors = errors_of(
        CitizenVerificationCreate, {"personal_id": value, "full_name": "A", "date_of_birth": "1985-06-01"}
    )
    assert errors == [
        {
            "field": "personal_id",
            "message": "Số định danh cá nhân gồm đúng 12 chữ số / a personal identification number is "
            "12 digits",
        }
    ]


@pytest.mark.parametrize("value", ["２０１４-09-05", "2014-09-05\n", "2014-9-5", "14-09-05"])
def test_dates_are_ascii_yyyy_mm_dd(value: str) -> None:
    errors = errors_of(EnrolmentCreate, {"student": {**NEW_STUDENT, "date_of_birth": value}})
    assert errors == [
        {"field": "student.date_of_birth", "message": "Ngày có dạng YYYY-MM-DD / a date is YYYY-MM-DD"}
    ]

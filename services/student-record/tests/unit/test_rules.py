"""Pure rules of student-record: normalisation and validation of what schools declare."""

import unicodedata
from datetime import date

import pytest
from school_common.errors import InvalidArgument
from student_record.domain import rules

TODAY = date(2026, 11, 29)


def test_names_are_stored_composed_with_single_spaces():
    decomposed = unicodedata.normalize("NFD", "  Nguyễn   Thị  Ánh ")
    assert rules.person_name(decomposed) == "Nguyễn Thị Ánh"
    assert unicodedata.is_normalized("NFC", rules.person_name(decomposed))


@pytest.mark.parametrize("name", ["", "   ", "Nguyễn Văn 3", "<script>", "A" * 201, "Lê\u0000Văn"])
def test_bad_names_are_refused(name):
    with pytest.raises(InvalidArgument):
        rules.person_name(name)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("0901234567", "0901234567"),
        ("+84 90 123 4567", "0901234567"),
        ("090.123.4567", "0901234567"),
        ("", None),
    ],
)
def test_vietnamese_mobile_numbers_are_normalised(raw, stored):
    assert rules.phone(raw) == stored


@pytest.mark.parametrize("raw", ["12345", "0201234567", "09012345678", "+1 202 555 0100"])
def test_other_numbers_are_refused(raw):
    with pytest.raises(InvalidArgument):
        rules.phone(raw)


@pytest.mark.parametrize("year", ["2025-2026", " 2030-2031 "])
def test_school_years(year):
    assert rules.school_year(year) == year.strip()


@pytest.mark.parametrize("year", ["2025-2027", "2025/2026", "25-26", "1999-2000", ""])
def test_bad_school_years(year):
    with pytest.raises(InvalidArgument):
        rules.school_year(year)


def test_grades_must_be_taught_at_the_school():
    assert rules.grade_for_school(6, ["lower_secondary"]) == 6
    assert rules.grade_for_school(1, ["primary", "lower_secondary"]) == 1
    with pytest.raises(InvalidArgument):
        rules.grade_for_school(10, ["primary", "lower_secondary"])


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        ("2023-11-29", True),
        ("2023-11-30", False),
        ("2001-11-29", True),
        ("2000-11-28", False),
        ("2017-02-29", False),
        ("29/11/2017", False),
    ],
)
def test_date_of_birth_is_a_real_date_of_a_school_age_child(born, ok):
    if ok:
        assert rules.date_of_birth(born, TODAY) == date.fromisoformat(born)
    else:
        with pytest.raises(InvalidArgument):
            rules.date_of_birth(born, TODAY)


def test_levels_are_known_and_deduplicated_in_order():
    assert rules.school_levels(["lower_secondary", "primary", "primary"]) == ["primary", "lower_secondary"]
    with pytest.raises(InvalidArgument):
        rules.school_levels([])
    with pytest.raises(InvalidArgument):
        rules.school_levels(["university"])


def test_every_error_names_its_field():
    with pytest.raises(InvalidArgument) as caught:
        rules.class_name("")
    assert caught.value.metadata == {"field": "name"}
    assert " / " in caught.value.message  # Vietnamese first, then English


def test_a_guardian_number_and_date_of_birth_come_together_and_are_left_to_identity():
    assert rules.declared_identity("", " ", "guardian") is None
    # Format and consistency are identity's to judge: passed on as declared, trimmed.
    assert rules.declared_identity(" 079185001234 ", "1985-03-12", "guardian") == (
        "079185001234",
        "1985-03-12",
    )
    assert rules.declared_identity("12", "soon", "guardian") == ("12", "soon")
    with pytest.raises(InvalidArgument) as caught:
        rules.declared_identity("079185001234", "", "new_student.guardians[2]")
    assert caught.value.metadata == {"field": "new_student.guardians[2].date_of_birth"}
    assert "079185001234" not in caught.value.message
    with pytest.raises(InvalidArgument) as caught:
        rules.declared_identity("", "1985-03-12", "guardian")
    assert caught.value.metadata == {"field": "guardian.personal_id"}


def test_fields_can_be_named_by_their_path_in_the_request():
    with pytest.raises(InvalidArgument) as caught:
        rules.phone("123", "new_student.guardians[1].phone")
    assert caught.value.metadata == {"field": "new_student.guardians[1].phone"}
    with pytest.raises(InvalidArgument) as caught:
        rules.relation("neighbour", "guardian.relationship")
    assert caught.value.metadata == {"field": "guardian.relationship"}

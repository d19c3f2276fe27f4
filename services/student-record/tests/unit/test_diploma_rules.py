"""The register's rules without a database: who may hold a diploma or certificate, the years and dates,
the numbers, classification, signer and reasons."""

from __future__ import annotations

from datetime import date

import pytest
from school_common.errors import FailedPrecondition, InvalidArgument
from student_record.domain import diplomas as rules
from student_record.domain.diplomas import Classification, Kind, Status

TODAY = date(2026, 11, 29)


def reason_of(call) -> str:
    with pytest.raises((InvalidArgument, FailedPrecondition)) as caught:
        call()
    return caught.value.reason


def test_there_is_no_lower_secondary_diploma_to_express() -> None:
    assert {k.value for k in Kind} == {"UPPER_SECONDARY_DIPLOMA", "UPPER_SECONDARY_COMPLETION"}
    assert reason_of(lambda: rules.kind("LOWER_SECONDARY_DIPLOMA")) == "INVALID_ARGUMENT"
    assert reason_of(lambda: rules.kind("")) == "INVALID_ARGUMENT"
    assert rules.kind("UPPER_SECONDARY_COMPLETION") is Kind.UPPER_SECONDARY_COMPLETION


def test_only_grade_12_of_an_upper_secondary_school_is_eligible() -> None:
    assert rules.eligible(["upper_secondary"], [(12, "2025-2026")]) == "2025-2026"
    assert rules.eligible(["lower_secondary", "upper_secondary"], [(12, "2024-2025"), (12, "2025-2026")]) == (
        "2025-2026"
    )
    assert reason_of(lambda: rules.eligible(["lower_secondary"], [(9, "2025-2026")])) == "NOT_UPPER_SECONDARY"
    assert reason_of(lambda: rules.eligible(["primary"], [])) == "NOT_UPPER_SECONDARY"
    assert reason_of(lambda: rules.eligible(["upper_secondary"], [(10, "2025-2026")])) == "NOT_IN_FINAL_GRADE"
    assert reason_of(lambda: rules.eligible(["upper_secondary"], [])) == "NOT_IN_FINAL_GRADE"


def test_the_graduation_year_follows_the_final_year() -> None:
    assert rules.final_year_end("2025-2026") == 2026
    assert rules.graduation_year(2026, 2026) == 2026
    assert rules.graduation_year(2027, 2026) == 2027  # completed, graduated a year later
    assert reason_of(lambda: rules.graduation_year(2025, 2026)) == "GRADUATION_BEFORE_FINAL_YEAR"
    assert reason_of(lambda: rules.graduation_year(0, 2026)) == "INVALID_ARGUMENT"
    with pytest.raises(ValueError, match="not a school year"):
        rules.final_year_end("2025")


@pytest.mark.parametrize(
    ("value", "year", "reason"),
    [("2026-11-30", 2026, "INVALID_DATE"), ("2025-12-31", 2026, "ISSUED_BEFORE_GRADUATION_YEAR"),
     ("20/07/2026", 2026, "INVALID_DATE"), ("2026-02-30", 2026, "INVALID_DATE"), ("", 2026, "INVALID_DATE"),
     ("2026-7-20", 2026, "INVALID_DATE")],
)  # fmt: skip
def test_the_issue_date_is_neither_future_nor_before_the_year(value, year, reason) -> None:
    assert reason_of(lambda: rules.issued_on(value, year, TODAY)) == reason


def test_an_issue_date_in_or_after_the_year_is_kept() -> None:
    assert rules.issued_on("2026-07-20", 2026, TODAY) == date(2026, 7, 20)
    assert rules.issued_on("2026-11-29", 2026, TODAY) == TODAY
    assert rules.issued_on("2026-01-01", 2025, TODAY) == date(2026, 1, 1)


def test_numbers_are_normalised_and_checked() -> None:
    assert rules.document_number("  b  0123456 ", "serial_number") == "B 0123456"
    assert rules.document_number("12/2026-THPT", "register_number") == "12/2026-THPT"
    for bad in ("", " ", "A" * 33, "SỐ 1", "1;DROP", "-12", "12/"):
        assert reason_of(lambda bad=bad: rules.document_number(bad, "serial_number")) == "INVALID_ARGUMENT"


def test_only_a_diploma_may_carry_a_classification() -> None:
    assert rules.classification(None, Kind.UPPER_SECONDARY_DIPLOMA) is None
    assert rules.classification("KHA", Kind.UPPER_SECONDARY_DIPLOMA) is Classification.KHA
    assert rules.classification("", Kind.UPPER_SECONDARY_COMPLETION) is None
    assert (
        reason_of(lambda: rules.classification("GIOI", Kind.UPPER_SECONDARY_COMPLETION))
        == "CLASSIFICATION_NOT_ALLOWED"
    )
    assert reason_of(lambda: rules.classification("XUAT_SAC", Kind.UPPER_SECONDARY_DIPLOMA)) == (
        "INVALID_ARGUMENT"
    )


def test_signer_and_reason_are_required() -> None:
    assert rules.signer(" Đặng  Văn Hùng ", "Giám đốc Sở GD&ĐT") == ("Đặng Văn Hùng", "Giám đốc Sở GD&ĐT")
    assert reason_of(lambda: rules.signer("", "Hiệu trưởng")) == "INVALID_ARGUMENT"
    assert reason_of(lambda: rules.signer("Đặng Văn Hùng", " ")) == "INVALID_TEXT"
    assert reason_of(lambda: rules.reason("  ")) == "INVALID_TEXT"
    assert rules.reason(" sai  ngày sinh ") == "sai ngày sinh"


def test_status_revoked_over_corrected_over_valid() -> None:
    assert rules.status_of(False, False) is Status.VALID
    assert rules.status_of(True, False) is Status.CORRECTED
    assert rules.status_of(False, True) is Status.REVOKED

"""Pure rules of the register of upper-secondary diplomas and certificates of programme completion.

From 1/1/2026 there is no lower-secondary diploma (completion is confirmed on the transcript): the kinds
below are the only two documents, both upper secondary (THPT). Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from school_common.errors import FailedPrecondition, InvalidArgument, bilingual

from student_record.domain.rules import check_text, invalid, normalise_text, person_name

FINAL_GRADE = 12
UPPER_SECONDARY = "upper_secondary"
EARLIEST_YEAR = 2000

_NUMBER = re.compile(r"^[A-Z0-9](?:[A-Z0-9 ./-]{0,30}[A-Z0-9])?$")
_SCHOOL_YEAR = re.compile(r"^\d{4}-(\d{4})$")


class Kind(StrEnum):
    #: Bằng tốt nghiệp trung học phổ thông.
    UPPER_SECONDARY_DIPLOMA = "UPPER_SECONDARY_DIPLOMA"
    #: Giấy chứng nhận hoàn thành chương trình giáo dục phổ thông cấp trung học phổ thông.
    UPPER_SECONDARY_COMPLETION = "UPPER_SECONDARY_COMPLETION"


class Classification(StrEnum):
    """Xếp loại, for a diploma form that prints one (none by default)."""

    GIOI = "GIOI"
    KHA = "KHA"
    TRUNG_BINH = "TRUNG_BINH"


class Status(StrEnum):
    VALID = "VALID"
    CORRECTED = "CORRECTED"
    REVOKED = "REVOKED"


def status_of(corrected: bool, revoked: bool) -> Status:
    return Status.REVOKED if revoked else Status.CORRECTED if corrected else Status.VALID


def final_year_end(school_year: str) -> int:
    """2026 for "2025-2026": the year a final-grade class ends."""
    match = _SCHOOL_YEAR.match(school_year)
    if match is None:
        raise ValueError(f"not a school year: {school_year!r}")
    return int(match.group(1))


def eligible(levels: Iterable[str], final_classes: Iterable[tuple[int, str]]) -> str:
    """The school year of the student's final-grade class, from the levels of the student's school and
    the (grade, school year) of their latest year's classes at it; refused otherwise."""
    if UPPER_SECONDARY not in set(levels):
        raise FailedPrecondition(
            "NOT_UPPER_SECONDARY",
            bilingual(
                "Trường không có cấp THPT: không cấp bằng hay giấy chứng nhận (từ 1/1/2026 không còn bằng"
                " tốt nghiệp THCS, việc hoàn thành được xác nhận trên học bạ)",
                "the school teaches no upper-secondary grades: no diploma or certificate (there is no"
                " lower-secondary diploma from 1/1/2026; completion is confirmed on the transcript)",
            ),
        )
    years = sorted(year for grade, year in final_classes if grade == FINAL_GRADE)
    if not years:
        raise FailedPrecondition(
            "NOT_IN_FINAL_GRADE",
            bilingual("Học sinh không học lớp 12", "the student is not in grade 12"),
        )
    return years[-1]


def kind(value: str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise invalid(
            "kind",
            "Chọn bằng tốt nghiệp THPT hoặc giấy chứng nhận hoàn thành chương trình THPT",
            "the kind is an upper-secondary diploma or certificate of completion",
        ) from None


def classification(value: str | None, of: Kind) -> Classification | None:
    """Optional; only a diploma may carry one (a certificate of completion grades nothing)."""
    if not value:
        return None
    if of is not Kind.UPPER_SECONDARY_DIPLOMA:
        raise InvalidArgument(
            "CLASSIFICATION_NOT_ALLOWED",
            bilingual(
                "Giấy chứng nhận hoàn thành chương trình không ghi xếp loại",
                "a certificate of completion carries no classification",
            ),
            {"field": "classification"},
        )
    try:
        return Classification(value)
    except ValueError:
        raise invalid("classification", "Xếp loại không hợp lệ", "unknown classification") from None


def document_number(value: str, field: str) -> str:
    """A serial number (số hiệu) or register number (số vào sổ): letters, digits, space, . / -; 1-32,
    upper-cased with single spaces so that "a 012" and "A  012" are the same number."""
    number = normalise_text(value).upper()
    if not _NUMBER.match(number):
        raise invalid(
            field,
            "Số gồm 1–32 chữ cái, chữ số, dấu cách, dấu chấm, gạch chéo hoặc gạch nối",
            "1-32 letters, digits, spaces, dots, slashes or hyphens",
        )
    return number


def graduation_year(value: int, final_year_end: int) -> int:
    """The year of graduation (or of completion): not before the student's grade-12 year ends (a student
    who completes and graduates a later year is still in the register of their school)."""
    if not EARLIEST_YEAR <= value <= 2999:
        raise invalid("graduation_year", "Năm tốt nghiệp không hợp lệ", "not a graduation year")
    if value < final_year_end:
        raise InvalidArgument(
            "GRADUATION_BEFORE_FINAL_YEAR",
            bilingual(
                "Năm tốt nghiệp trước khi kết thúc năm học lớp 12",
                "the graduation year is before the student's grade-12 year ends",
            ),
            {"field": "graduation_year"},
        )
    return value


def issued_on(value: str, graduation_year: int, today: date) -> date:
    """YYYY-MM-DD, not in the future and not before the graduation year."""
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or day > today:
        raise InvalidArgument(
            "INVALID_DATE",
            bilingual(
                "Ngày cấp phải có dạng YYYY-MM-DD và không ở tương lai",
                "a YYYY-MM-DD date, not in the future",
            ),
            {"field": "issued_on"},
        )
    if day.year < graduation_year:
        raise InvalidArgument(
            "ISSUED_BEFORE_GRADUATION_YEAR",
            bilingual("Ngày cấp trước năm tốt nghiệp", "the issue date is before the graduation year"),
            {"field": "issued_on"},
        )
    return day


def signer(name: str, title: str) -> tuple[str, str]:
    """Who signs, as printed: e.g. the director of the provincial department or the principal."""
    return person_name(name, "signer_name"), check_text(title, "signer_title", 200)


def reason(value: str) -> str:
    """Why an entry is corrected or revoked: required."""
    return check_text(value, "reason", 500)

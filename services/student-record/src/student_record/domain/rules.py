"""Pure rules for schools, classes and students: normalisation and validation, no I/O."""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from datetime import date

from school_common.errors import InvalidArgument, bilingual

LEVEL_GRADES = {
    "primary": range(1, 6),  # tiểu học
    "lower_secondary": range(6, 10),  # THCS
    "upper_secondary": range(10, 13),  # THPT
}
RELATIONS = ("mother", "father", "guardian", "grandparent", "other")
SEXES = ("male", "female")

_SPACES = re.compile(r"\s+")
_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
_PHONE = re.compile(r"^(?:\+84|0)(?:3|5|7|8|9)\d{8}$")
_CODE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
_CLASS_NAME = re.compile(r"^[\w .\-/]{1,50}$")


def invalid(field: str, vi: str, en: str) -> InvalidArgument:
    return InvalidArgument("INVALID_ARGUMENT", bilingual(vi, en), {"field": field})


def normalise_text(value: str) -> str:
    """NFC (Vietnamese typed on some keyboards arrives decomposed, NFD) and single spaces."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def person_name(value: str, field: str = "full_name") -> str:
    name = normalise_text(value)
    if not name:
        raise invalid(field, "Họ tên không được để trống", "name is required")
    if len(name) > 200:
        raise invalid(field, "Họ tên dài quá 200 ký tự", "name is longer than 200 characters")
    if not all(ch.isalpha() or ch in " '-." for ch in name):
        raise invalid(
            field,
            "Họ tên chỉ gồm chữ cái, dấu cách, dấu nháy và gạch nối",
            "name may contain letters, spaces, apostrophes and hyphens only",
        )
    return name


def school_name(value: str) -> str:
    name = normalise_text(value)
    if not name or len(name) > 200:
        raise invalid("name", "Tên trường phải có từ 1 đến 200 ký tự", "school name must be 1-200 characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise invalid("name", "Tên trường chứa ký tự điều khiển", "school name contains control characters")
    return name


def school_code(value: str) -> str | None:
    code = value.strip()
    if not code:
        return None
    if not _CODE.match(code):
        raise invalid(
            "code",
            "Mã trường chỉ gồm chữ, số, '.', '_' hoặc '-' (tối đa 32)",
            "school code must be letters, digits, '.', '_' or '-' (at most 32)",
        )
    return code


def school_levels(levels: list[str]) -> list[str]:
    if not levels:
        raise invalid("levels", "Cần ít nhất một cấp học", "at least one school level is required")
    unknown = [lv for lv in levels if lv not in LEVEL_GRADES]
    if unknown:
        raise invalid("levels", "Cấp học không hợp lệ", "unknown school level")
    return sorted(set(levels), key=list(LEVEL_GRADES).index)


def class_name(value: str) -> str:
    name = normalise_text(value)
    if not _CLASS_NAME.match(name):
        raise invalid(
            "name",
            "Tên lớp phải có từ 1 đến 50 ký tự (ví dụ 6A1)",
            "class name must be 1-50 characters (e.g. 6A1)",
        )
    return name


def school_year(value: str, field: str = "school_year") -> str:
    match = _SCHOOL_YEAR.match(value.strip())
    if not match or int(match.group(2)) != int(match.group(1)) + 1 or not 2000 <= int(match.group(1)) <= 2100:
        raise invalid(field, "Năm học có dạng 2025-2026", "school year must look like 2025-2026")
    return value.strip()


def grade_for_school(grade: int, levels: list[str]) -> int:
    if not any(grade in LEVEL_GRADES[lv] for lv in levels):
        raise invalid(
            "grade", "Khối lớp không thuộc cấp học của trường", "grade is not taught at this school"
        )
    return grade


def date_of_birth(value: str, today: date, field: str = "date_of_birth") -> date:
    try:
        born = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise invalid(field, "Ngày sinh có dạng YYYY-MM-DD", "date of birth must be YYYY-MM-DD") from exc
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if not 3 <= age <= 25:
        raise invalid(
            field,
            "Ngày sinh không phù hợp với học sinh phổ thông",
            "date of birth is not plausible for a K-12 student",
        )
    return born


def phone(value: str, field: str = "phone") -> str | None:
    digits = re.sub(r"[\s.()-]", "", value)
    if not digits:
        return None
    if not _PHONE.match(digits):
        raise invalid(field, "Số điện thoại Việt Nam không hợp lệ", "not a valid Vietnamese phone number")
    return "0" + digits[3:] if digits.startswith("+84") else digits


def relation(value: str, field: str = "relationship") -> str:
    if value not in RELATIONS:
        raise invalid(field, "Quan hệ với học sinh không hợp lệ", "unknown relationship to the student")
    return value


def declared_identity(personal_id: str, born: str, field: str) -> tuple[str, str] | None:
    """A guardian's personal identification number and date of birth, declared together or not at all.
    Their format and consistency are identity's to judge; ``field`` is the guardian's path."""
    number, born = personal_id.strip(), born.strip()
    if not number and not born:
        return None
    if not born:
        raise invalid(
            f"{field}.date_of_birth",
            "Cần ngày sinh đi kèm số định danh cá nhân",
            "date_of_birth is required with personal_id",
        )
    if not number:
        raise invalid(
            f"{field}.personal_id",
            "Cần số định danh cá nhân đi kèm ngày sinh",
            "personal_id is required with date_of_birth",
        )
    return number, born


EARLIEST_DAY = date(2000, 1, 1)


def check_day(value: str, field: str, today: date) -> date:
    """A YYYY-MM-DD day, not in the future."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or len(value) != 10 or not EARLIEST_DAY <= day <= today:
        raise InvalidArgument(
            "INVALID_DATE",
            bilingual(
                "Ngày phải có dạng YYYY-MM-DD và không ở tương lai", "a YYYY-MM-DD date, not in the future"
            ),
            {"field": field},
        )
    return day


def check_text(value: str, field: str, limit: int) -> str:
    """Free text (a description, a topic), normalised like names: NFC, single spaces; 1 to ``limit``."""
    text = normalise_text(value)
    if not 0 < len(text) <= limit:
        raise InvalidArgument(
            "INVALID_TEXT",
            bilingual(f"Nội dung từ 1 đến {limit} ký tự", f"1 to {limit} characters"),
            {"field": field},
        )
    return text


def new_temporary_key() -> str:
    """A school's key for a student the sector database has not coded yet ("TAM" for tạm, temporary);
    replaced by the sector student code when it arrives."""
    return f"TAM-{secrets.token_hex(6).upper()}"


#: Verification codes printed beside a QR code: no 0/O, 1/I, read aloud and typed by hand.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_matches(stored: str, given: str) -> bool:
    """Whether a visitor's code is the document's, in any case, compared in constant time."""
    given = given.strip().upper()
    return bool(given) and hmac.compare_digest(stored.encode(), given.encode())

"""The sector database's student list, template ``C1-HocSinh`` ("Mẫu import học sinh"): read and written.

Pure: bytes in, rows and problems out (and rows in, bytes out). No database, no files, no network.

Reading. Template versions add, drop, reorder and reword columns, and schools' exports carry title rows
above the header, so the header row is *found* (the row among the first 15 of a sheet that names the most
known columns; the first sheet having every required column wins) and every column is matched by its
header text, never by its position. A header is compared after NFC normalisation, case folding, whitespace
collapsing (line breaks included), spaces around "/" removed and trailing "(*)", "*" or ":" stripped; the
same text without diacritics is accepted too ("Ngay sinh"). A row with problems is left out of the rows and
reported, one problem per bad cell; blank rows are skipped silently.

Writing produces the template's wording and order for the columns this module knows, one row per student,
dates as dd/mm/yyyy text, the personal identification number as text. ``read_c1(write_c1(rows)).rows ==
rows``: a row's ``row`` number is left out of equality.

Values marked "(verify)" come from schools' exports and third-party tools, not from a published
specification of the template: check them against the template the sector database hands out.
See ``services/student-record/docs/c1-hocsinh.md``.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import chain, islice
from typing import Any, TypeVar

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from school_common.errors import InvalidArgument, bilingual

from student_record.domain import rules

MAX_ROWS = 20_000  # data rows per file
HEADER_SEARCH_ROWS = 15  # the header row is looked for among a sheet's first rows
BLANK_RUN_LIMIT = 1_000  # this many blank rows in a row end the data (styled, empty rows to row 1,048,576)
EARLIEST_DATE = date(1990, 1, 1)  # dates of birth and of status before this are refused
EARLIEST_BIRTH_YEAR = 1900  # a parent's or guardian's year of birth
YOUNGEST_GUARDIAN = 10  # years: a guardian born after today's year minus this is refused
TITLE = "DANH SÁCH HỌC SINH"  # the title row write_c1 puts above the header (verify)


# ---------------------------------------------------------------- statuses


class StudentStatus(StrEnum):
    """The sector database's "Trạng thái HS": the student's movement in the school year, by term (verify:
    the twelve values below are what schools' exports and tools built on them show)."""

    STUDYING = "STUDYING"  # Đang học
    TRANSFERRED_IN_TERM1 = "TRANSFERRED_IN_TERM1"  # Chuyển đến kỳ 1
    RESUMED_TERM1 = "RESUMED_TERM1"  # Nghỉ học xin học lại kỳ 1: had left, came back
    TRANSFERRED_OUT_TERM1 = "TRANSFERRED_OUT_TERM1"  # Chuyển đi kỳ 1
    DROPPED_OUT_TERM1 = "DROPPED_OUT_TERM1"  # Thôi học kỳ 1
    TRANSFERRED_IN_TERM2 = "TRANSFERRED_IN_TERM2"  # Chuyển đến kỳ 2
    RESUMED_TERM2 = "RESUMED_TERM2"  # Nghỉ học xin học lại kỳ 2
    TRANSFERRED_OUT_TERM2 = "TRANSFERRED_OUT_TERM2"  # Chuyển đi kỳ 2
    DROPPED_OUT_TERM2 = "DROPPED_OUT_TERM2"  # Thôi học kỳ 2
    TRANSFERRED_IN_SUMMER = "TRANSFERRED_IN_SUMMER"  # Chuyển đến trong hè
    TRANSFERRED_OUT_SUMMER = "TRANSFERRED_OUT_SUMMER"  # Chuyển đi trong hè
    DROPPED_OUT_SUMMER = "DROPPED_OUT_SUMMER"  # Thôi học trong hè
    COMPLETED = "COMPLETED"  # Hoàn thành chương trình (verify: seen in one tool only)


STATUS_LABELS: dict[StudentStatus, str] = {
    StudentStatus.STUDYING: "Đang học",
    StudentStatus.TRANSFERRED_IN_TERM1: "Chuyển đến kỳ 1",
    StudentStatus.RESUMED_TERM1: "Nghỉ học xin học lại kỳ 1",
    StudentStatus.TRANSFERRED_OUT_TERM1: "Chuyển đi kỳ 1",
    StudentStatus.DROPPED_OUT_TERM1: "Thôi học kỳ 1",
    StudentStatus.TRANSFERRED_IN_TERM2: "Chuyển đến kỳ 2",
    StudentStatus.RESUMED_TERM2: "Nghỉ học xin học lại kỳ 2",
    StudentStatus.TRANSFERRED_OUT_TERM2: "Chuyển đi kỳ 2",
    StudentStatus.DROPPED_OUT_TERM2: "Thôi học kỳ 2",
    StudentStatus.TRANSFERRED_IN_SUMMER: "Chuyển đến trong hè",
    StudentStatus.TRANSFERRED_OUT_SUMMER: "Chuyển đi trong hè",
    StudentStatus.DROPPED_OUT_SUMMER: "Thôi học trong hè",
    StudentStatus.COMPLETED: "Hoàn thành chương trình",
}

# What a status means for the platform, whatever the term: studying, transferred_in, resumed (the three
# mean the student is on the school's roll), transferred_out, dropped_out, completed.
STATUS_KINDS: dict[StudentStatus, str] = {
    status: (
        "studying"
        if status is StudentStatus.STUDYING
        else "completed"
        if status is StudentStatus.COMPLETED
        else status.value.rsplit("_", 1)[0].lower()
    )
    for status in StudentStatus
}
_ENROLLED_KINDS = {"studying", "transferred_in", "resumed"}


def is_enrolled(status: StudentStatus) -> bool:
    """Whether a student with this status is on the school's roll."""
    return STATUS_KINDS[status] in _ENROLLED_KINDS


# ---------------------------------------------------------------- text helpers

_SPACES = re.compile(r"\s+")
_SLASH = re.compile(r"\s*/\s*")
_MARKERS = re.compile(r"(?:\s*(?:\(\s*\*\s*\)|\*|:))+$")


def _fold(text: str) -> str:
    """Case-folded, without diacritics: "Nữ" → "nu", "Đang học" → "dang hoc"."""
    folded = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def _header_key(text: str) -> str:
    key = _SPACES.sub(" ", unicodedata.normalize("NFC", text).casefold()).strip()
    return _MARKERS.sub("", _SLASH.sub("/", key)).strip()


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text: NFC, single spaces; a whole number stored as a float loses its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return rules.normalise_text(str(value))


def _status_key(text: str) -> str:
    key = _fold(_text(text)).strip(" .;,")
    key = re.sub(r"\bhoc k[iy]\b", "ky", key)  # "học kỳ 1" → "ky 1"
    key = re.sub(r"\bk[iy]\s*(\d)\b", r"ky \1", key)  # "kì 1", "kỳ1"
    key = re.sub(r"\bhk\s*(\d)\b", r"ky \1", key)  # "HK1"
    return re.sub(r"\b(?:trong )?(?:dip )?he\b", "trong he", key)  # "hè", "trong dịp hè"


_STATUS_BY_KEY: dict[str, StudentStatus] = {_status_key(label): s for s, label in STATUS_LABELS.items()}
_STATUS_BY_KEY.update(
    {
        _status_key("Đang theo học"): StudentStatus.STUDYING,
        # "Bỏ học" for "Thôi học" (verify)
        _status_key("Bỏ học kỳ 1"): StudentStatus.DROPPED_OUT_TERM1,
        _status_key("Bỏ học kỳ 2"): StudentStatus.DROPPED_OUT_TERM2,
        _status_key("Bỏ học trong hè"): StudentStatus.DROPPED_OUT_SUMMER,
    }
)


def status_from_label(label: str) -> StudentStatus | None:
    """The status a "Trạng thái HS" cell names (any case, with or without diacritics), None if unknown.

    An empty cell is STUDYING. "Chuyển đến", "Chuyển đi" and "Thôi học" without their term are unknown:
    the term is part of the sector database's value and is not guessed."""
    if not label.strip():
        return StudentStatus.STUDYING
    key = _status_key(label)
    if key in _STATUS_BY_KEY:
        return _STATUS_BY_KEY[key]
    if key.startswith(("hoan thanh chuong trinh", "tot nghiep")):  # "… tiểu học", "… THCS" (verify)
        return StudentStatus.COMPLETED
    return None


# ---------------------------------------------------------------- columns

REQUIRED = ("class_name", "full_name", "date_of_birth", "sex")
RELATIONS = ("father", "mother", "guardian")
_RELATION_WORDS = {"father": ("cha", "bố"), "mother": ("mẹ",), "guardian": ("người giám hộ",)}

# key → (the template's header, which write_c1 writes and MISSING_COLUMN names; accepted variants)
_STUDENT_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "row_number": ("STT", ("STT", "TT", "Số thứ tự")),  # recognised, not read
    "class_name": ("Mã lớp", ("Mã lớp", "Lớp", "Tên lớp", "Lớp học")),
    "student_code": ("Mã học sinh", ("Mã học sinh", "Mã HS", "Mã số học sinh")),
    "full_name": ("Họ tên", ("Họ tên", "Họ và tên", "Họ tên học sinh", "Họ và tên học sinh")),
    "date_of_birth": (
        "Ngày sinh",
        ("Ngày sinh", "Ngày tháng năm sinh", "Ngày, tháng, năm sinh", "Ngày/tháng/năm sinh"),
    ),
    "sex": ("Giới tính", ("Giới tính",)),
    "status": ("Trạng thái HS", ("Trạng thái HS", "Trạng thái học sinh", "Trạng thái")),
    "status_date": (
        "Ngày nhập trạng thái",
        ("Ngày nhập trạng thái", "Ngày trạng thái", "Ngày cập nhật trạng thái"),
    ),
    "ethnicity": ("Dân tộc", ("Dân tộc",)),
    "disability": ("Loại khuyết tật", ("Loại khuyết tật", "Khuyết tật", "Dạng khuyết tật")),
    "personal_id": (
        "Số định danh cá nhân",
        (
            "Số định danh cá nhân",
            "Mã định danh cá nhân",
            "Số định danh",
            "Số CCCD",
            "CCCD",
            "Số căn cước",
            "Số căn cước công dân",
        ),
    ),
    "address_current": (
        "Chỗ ở hiện nay",
        (
            "Chỗ ở hiện nay",
            "Nơi ở hiện nay",
            "Chỗ ở hiện tại",
            "Nơi ở hiện tại",
            "Địa chỉ hiện nay",
            "Địa chỉ",
        ),
    ),
    "address_permanent": ("Địa chỉ thường trú", ("Địa chỉ thường trú", "Nơi thường trú")),
    "address_hamlet": (
        "Tổ/Thôn/Xóm (Theo địa chỉ thường trú)",
        ("Tổ/Thôn/Xóm (Theo địa chỉ thường trú)", "Thôn/Xóm (Theo địa chỉ thường trú)"),
    ),
    "address_ward": (
        "Xã/Phường (Theo địa chỉ thường trú)",
        ("Xã/Phường (Theo địa chỉ thường trú)", "Phường/Xã (Theo địa chỉ thường trú)"),
    ),
    "address_district": (
        "Quận/Huyện (Theo địa chỉ thường trú)",
        ("Quận/Huyện (Theo địa chỉ thường trú)", "Huyện/Quận (Theo địa chỉ thường trú)"),
    ),
    "address_province": (
        "Tỉnh/Thành phố (Theo địa chỉ thường trú)",
        ("Tỉnh/Thành phố (Theo địa chỉ thường trú)", "Tỉnh/TP (Theo địa chỉ thường trú)"),
    ),
}
_ADDRESS_PARTS = ("address_hamlet", "address_ward", "address_district", "address_province")

# attribute → (header pattern of the template, variant patterns); "{}" is the relation's word
_GUARDIAN_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("Họ tên {}", ("Họ tên {}", "Họ và tên {}", "Tên {}")),
    "occupation": ("Nghề nghiệp {}", ("Nghề nghiệp {}",)),
    "birth_year": ("Năm sinh {}", ("Năm sinh {}",)),
    "phone": ("Số điện thoại {}", ("Số điện thoại {}", "SĐT {}", "Điện thoại {}", "ĐT {}")),
    "personal_id": (  # verify: not every template version has these
        "Số định danh cá nhân {}",
        ("Số định danh cá nhân {}", "Mã định danh cá nhân {}", "Số định danh {}", "Số CCCD {}", "CCCD {}"),
    ),
}


def _all_columns() -> dict[str, tuple[str, tuple[str, ...]]]:
    columns = dict(_STUDENT_COLUMNS)
    for relation, words in _RELATION_WORDS.items():
        for attribute, (title, variants) in _GUARDIAN_COLUMNS.items():
            columns[f"{relation}.{attribute}"] = (
                title.format(words[0]),
                tuple(v.format(w) for w in words for v in variants),
            )
    return columns


COLUMNS = _all_columns()
TITLES = {key: title for key, (title, _) in COLUMNS.items()}

# The header row write_c1 writes, in the template's order (verify): identity, status, personal data,
# address, then the father's, the mother's and the guardian's groups.
WRITE_ORDER: tuple[str, ...] = (
    "row_number",
    "class_name",
    "student_code",
    "full_name",
    "date_of_birth",
    "sex",
    "status",
    "status_date",
    "ethnicity",
    "disability",
    "personal_id",
    "address_current",
    *(f"{relation}.{attribute}" for relation in RELATIONS for attribute in _GUARDIAN_COLUMNS),
)


def _aliases() -> tuple[dict[str, str], dict[str, str]]:
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    for key, (title, variants) in COLUMNS.items():
        for variant in (title, *variants):
            for table, alias in ((exact, _header_key(variant)), (folded, _fold(_header_key(variant)))):
                if table.setdefault(alias, key) != key:
                    raise ValueError(f"header {variant!r} names two columns")
    return exact, folded


_EXACT, _FOLDED = _aliases()


def column_of(header: str) -> str | None:
    """The column key a header text names (e.g. "father.phone" for "SĐT cha"), None if unknown."""
    key = _header_key(header)
    return _EXACT.get(key) or _FOLDED.get(_fold(key))


# ---------------------------------------------------------------- rows


@dataclass(frozen=True)
class C1Guardian:
    relation: str  # "father" | "mother" | "guardian"
    full_name: str
    birth_year: int | None = None
    occupation: str = ""
    phone: str | None = None  # 0XXXXXXXXX
    personal_id: str | None = None  # 12 digits


@dataclass(frozen=True)
class C1Row:
    """One student of the list. ``row`` (the sheet row, for reports) is left out of equality and hashing;
    guardians are kept in the order father, mother, guardian."""

    row: int = field(compare=False)
    class_name: str
    student_code: str | None
    full_name: str
    date_of_birth: date
    sex: str  # "male" | "female"
    status: StudentStatus = StudentStatus.STUDYING
    status_date: date | None = None
    ethnicity: str = ""
    disability: str = ""
    personal_id: str | None = None
    guardians: tuple[C1Guardian, ...] = ()
    address: str = ""

    def __post_init__(self) -> None:
        order = {relation: i for i, relation in enumerate(RELATIONS)}
        ordered = tuple(sorted(self.guardians, key=lambda g: order.get(g.relation, len(order))))
        object.__setattr__(self, "guardians", ordered)


@dataclass(frozen=True)
class RowProblem:
    row: int  # the sheet row, 1-based
    column: str  # the column's header as the file spells it (NFC, single spaces)
    reason: str  # MISSING_VALUE, INVALID_DATE, INVALID_NAME, INVALID_SEX, UNKNOWN_STATUS, ...
    message: str  # "vi / en", without personal data


@dataclass(frozen=True)
class C1Sheet:
    rows: tuple[C1Row, ...]
    problems: tuple[RowProblem, ...]
    ignored_headers: tuple[str, ...]  # header cells naming no column this module reads


# ---------------------------------------------------------------- cell parsers


class _Bad(Exception):
    def __init__(self, reason: str, vi: str, en: str) -> None:
        super().__init__(reason)
        self.reason, self.vi, self.en = reason, vi, en


def _missing() -> _Bad:
    return _Bad("MISSING_VALUE", "Ô bắt buộc đang trống", "this cell is required")


_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
_CODE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
_PERSONAL_ID = re.compile(r"^\d{12}$")
_SEXES = {"nam": "male", "nu": "female", "male": "male", "female": "female"}
_SEX_LABELS = {"male": "Nam", "female": "Nữ"}


def _bad_date() -> _Bad:
    return _Bad(
        "INVALID_DATE",
        "Ngày phải có dạng dd/mm/yyyy, từ 01/01/1990 đến hôm nay",
        "a dd/mm/yyyy date from 01/01/1990 to today",
    )


def _date(value: Any, today: date) -> date | None:
    """dd/mm/yyyy or d/m/yyyy text (also with "-" or "."), yyyy-mm-dd, a date cell or a date serial number."""
    if _is_empty(value):
        return None
    day: date | None = None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if 61 <= value < 2_958_466:  # a date cell whose format was lost: days since 30/12/1899
            day = _EXCEL_EPOCH + timedelta(days=int(value))
    else:
        text = _text(value)
        match = _DMY.match(text)
        parts = (match.group(3), match.group(2), match.group(1)) if match else None
        if parts is None and (match := _YMD.match(text)):
            parts = (match.group(1), match.group(2), match.group(3))
        if parts is not None:
            try:
                day = date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                day = None
    if day is None or not EARLIEST_DATE <= day <= today:
        raise _bad_date()
    return day


def _required_date(value: Any, today: date) -> date:
    day = _date(value, today)
    if day is None:
        raise _missing()
    return day


def _class_name(value: Any) -> str:
    text = _text(value)
    if not text:
        raise _missing()
    try:
        return rules.class_name(text)
    except InvalidArgument as exc:
        raise _Bad(
            "INVALID_CLASS_NAME", "Tên lớp không hợp lệ (ví dụ 6A1)", "not a class name (e.g. 6A1)"
        ) from exc


def _student_code(value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    if not _CODE.match(text):
        raise _Bad(
            "INVALID_CODE",
            "Mã học sinh chỉ gồm chữ, số, '.', '_' hoặc '-' (tối đa 32)",
            "a student code is letters, digits, '.', '_' or '-' (at most 32)",
        )
    return text


def _name(value: Any) -> str:
    text = _text(value)
    if not text:
        raise _missing()
    try:
        return rules.person_name(text)
    except InvalidArgument as exc:
        raise _Bad(
            "INVALID_NAME",
            "Họ tên chỉ gồm chữ cái, dấu cách, dấu nháy và gạch nối (tối đa 200)",
            "a name is letters, spaces, apostrophes and hyphens (at most 200)",
        ) from exc


def _sex(value: Any) -> str:
    text = _text(value)
    if not text:
        raise _missing()
    sex = _SEXES.get(_fold(text))
    if sex is None:
        raise _Bad("INVALID_SEX", "Giới tính phải là Nam hoặc Nữ", "sex must be Nam or Nữ")
    return sex


def _status(value: Any) -> StudentStatus:
    status = status_from_label(_text(value))
    if status is None:
        raise _Bad(
            "UNKNOWN_STATUS",
            "Trạng thái không có trong danh mục của CSDL ngành (ví dụ: Đang học, Chuyển đến kỳ 1)",
            "not a status of the sector database (e.g. Đang học, Chuyển đến kỳ 1)",
        )
    return status


def _free_text(value: Any, limit: int = 255) -> str:
    text = _text(value)
    if len(text) > limit or any(unicodedata.category(ch) == "Cc" for ch in text):
        raise _Bad(
            "INVALID_TEXT",
            f"Nội dung tối đa {limit} ký tự, không có ký tự điều khiển",
            f"at most {limit} characters, no control characters",
        )
    return text


def _personal_id(value: Any) -> str | None:
    """12 digits. A number cell lost the leading zeros (province codes start with 0): they are put back."""
    if _is_empty(value):
        return None
    bad = _Bad(
        "INVALID_PERSONAL_ID", "Số định danh cá nhân phải gồm 12 chữ số", "a personal ID number is 12 digits"
    )
    if isinstance(value, bool):
        raise bad
    if isinstance(value, float):
        if not value.is_integer():
            raise bad
        value = int(value)
    if isinstance(value, int):
        digits = str(value)
        if value < 0 or not 10 <= len(digits) <= 12:
            raise bad
        return digits.zfill(12)
    text = re.sub(r"[\s.\-]", "", _text(value))
    if not _PERSONAL_ID.match(text):
        raise bad
    return text


def _birth_year(value: Any, today: date) -> int | None:
    """1985, 1985.0, "1985", "1985,0", or a date (its year)."""
    if _is_empty(value):
        return None
    bad = _Bad(
        "INVALID_YEAR",
        f"Năm sinh phải là năm có 4 chữ số, từ {EARLIEST_BIRTH_YEAR}",
        f"a year of birth is a 4-digit year from {EARLIEST_BIRTH_YEAR}",
    )
    number: float
    if isinstance(value, datetime | date):
        number = float(value.year)
    elif isinstance(value, bool):
        raise bad
    elif isinstance(value, int | float):
        number = float(value)
    else:
        text = _text(value)
        if match := _DMY.match(text):
            number = float(match.group(3))
        else:
            try:
                number = float(text.replace(",", "."))
            except ValueError:
                raise bad from None
    if not number.is_integer():
        raise bad
    year = int(number)
    if not EARLIEST_BIRTH_YEAR <= year <= today.year - YOUNGEST_GUARDIAN:
        raise bad
    return year


def _phone(value: Any) -> str | None:
    if _is_empty(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _text(value)
    digits = re.sub(r"[\s.()-]", "", text)
    if digits.isdigit() and len(digits) == 9 and digits[0] in "35789":
        text = "0" + digits  # a number cell lost the leading zero
    elif digits.isdigit() and len(digits) == 11 and digits.startswith("84"):
        text = "+" + digits
    try:
        return rules.phone(text)
    except InvalidArgument as exc:
        raise _Bad(
            "INVALID_PHONE", "Số điện thoại Việt Nam không hợp lệ", "not a valid Vietnamese phone number"
        ) from exc


# ---------------------------------------------------------------- reading

T = TypeVar("T")
_CORRUPT = (zipfile.BadZipFile, zlib.error, KeyError, ValueError, OSError, EOFError, SyntaxError)


def _unreadable(vi: str = "Không đọc được tệp: cần tệp Excel .xlsx") -> InvalidArgument:
    return InvalidArgument(
        "INVALID_SPREADSHEET",
        bilingual(vi, "the file is not a readable .xlsx workbook"),
        {"field": "content"},
    )


def _sheet_rows(sheet: Any) -> Iterator[tuple[Any, ...]]:
    rows = sheet.iter_rows(values_only=True)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except _CORRUPT as exc:  # read-only sheets are parsed while iterating
            raise _unreadable() from exc
        yield row


def _match_header(cells: tuple[Any, ...]) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """(column key → (index, header text), header texts naming no column, or one already matched)."""
    found: dict[str, tuple[int, str]] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        text = _text(cell)
        if not text:
            continue
        key = column_of(text)
        if key is None or key in found:
            ignored.append(text)
        else:
            found[key] = (index, text)
    return found, ignored


class _RowReader:
    def __init__(self, columns: dict[str, tuple[int, str]], today: date) -> None:
        self.columns = columns
        self.today = today
        self.data_indexes = [index for key, (index, _) in columns.items() if key != "row_number"]
        self.codes: dict[str, int] = {}
        self.people: dict[tuple[str, date, str], int] = {}

    def is_blank(self, cells: tuple[Any, ...]) -> bool:
        return all(i >= len(cells) or _is_empty(cells[i]) for i in self.data_indexes)

    def header(self, key: str) -> str:
        return self.columns[key][1] if key in self.columns else TITLES[key]

    def read(self, number: int, cells: tuple[Any, ...]) -> tuple[C1Row | None, list[RowProblem]]:
        problems: list[RowProblem] = []

        def cell(key: str) -> Any:
            spec = self.columns.get(key)
            return cells[spec[0]] if spec is not None and spec[0] < len(cells) else None

        def parse(key: str, parser: Callable[[Any], T]) -> T | None:
            try:
                return parser(cell(key))
            except _Bad as bad:
                problems.append(RowProblem(number, self.header(key), bad.reason, bilingual(bad.vi, bad.en)))
                return None

        today = self.today
        class_name = parse("class_name", _class_name)
        student_code = parse("student_code", _student_code)
        full_name = parse("full_name", _name)
        born = parse("date_of_birth", lambda v: _required_date(v, today))
        sex = parse("sex", _sex)
        status = parse("status", _status)
        status_date = parse("status_date", lambda v: _date(v, today))
        ethnicity = parse("ethnicity", _free_text)
        disability = parse("disability", _free_text)
        personal_id = parse("personal_id", _personal_id)
        address = parse("address_current", lambda v: _free_text(v, 500))
        if not address:
            address = parse("address_permanent", lambda v: _free_text(v, 500))
        if not address:
            parts = [parse(key, lambda v: _free_text(v, 500)) for key in _ADDRESS_PARTS]
            address = ", ".join(p for p in parts if p)

        guardians: list[C1Guardian] = []
        for relation in RELATIONS:
            if _is_empty(cell(f"{relation}.name")):
                continue  # a group is read only when it names someone
            guardian_name = parse(f"{relation}.name", _name)
            year = parse(f"{relation}.birth_year", lambda v: _birth_year(v, today))
            occupation = parse(f"{relation}.occupation", _free_text)
            phone = parse(f"{relation}.phone", _phone)
            guardian_id = parse(f"{relation}.personal_id", _personal_id)
            if guardian_name is not None:
                guardians.append(
                    C1Guardian(relation, guardian_name, year, occupation or "", phone, guardian_id)
                )

        if student_code is not None:
            first = self.codes.setdefault(student_code, number)
            if first != number:
                problems.append(
                    RowProblem(
                        number,
                        self.header("student_code"),
                        "DUPLICATE_ROW",
                        bilingual(f"Trùng mã học sinh với dòng {first}", f"same student code as row {first}"),
                    )
                )
        if full_name is not None and born is not None and class_name is not None:
            first = self.people.setdefault((full_name.casefold(), born, class_name.casefold()), number)
            if first != number:
                problems.append(
                    RowProblem(
                        number,
                        self.header("full_name"),
                        "DUPLICATE_ROW",
                        bilingual(
                            f"Trùng họ tên, ngày sinh và lớp với dòng {first}",
                            f"same name, date of birth and class as row {first}",
                        ),
                    )
                )
        if problems:
            return None, problems
        assert class_name is not None
        assert full_name is not None
        assert born is not None
        assert sex is not None
        return (
            C1Row(
                row=number,
                class_name=class_name,
                student_code=student_code,
                full_name=full_name,
                date_of_birth=born,
                sex=sex,
                status=status or StudentStatus.STUDYING,
                status_date=status_date,
                ethnicity=ethnicity or "",
                disability=disability or "",
                personal_id=personal_id,
                guardians=tuple(guardians),
                address=address or "",
            ),
            [],
        )


def read_c1(content: bytes, *, today: date | None = None) -> C1Sheet:
    """The students of a ``C1-HocSinh`` workbook (.xlsx), and the problems of the rows left out.

    Raises ``InvalidArgument``: ``INVALID_SPREADSHEET`` (not a readable .xlsx), ``MISSING_COLUMN`` (no
    sheet has a header row with the class, full name, date of birth and sex columns; ``field`` names the
    first missing one), ``TOO_MANY_ROWS`` (more than ``MAX_ROWS`` data rows)."""
    today = today or date.today()
    if content[:4] == b"\xd0\xcf\x11\xe0":  # the old binary .xls
        raise _unreadable("Tệp .xls (Excel 97-2003) không được hỗ trợ: mở bằng Excel và lưu lại dạng .xlsx")
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors for what is not an .xlsx
        raise _unreadable() from exc
    try:
        return _read_workbook(workbook, today)
    finally:
        workbook.close()


def _read_workbook(workbook: Any, today: date) -> C1Sheet:
    best: dict[str, tuple[int, str]] = {}
    for sheet in workbook.worksheets:
        rows = _sheet_rows(sheet)
        head = list(islice(rows, HEADER_SEARCH_ROWS))
        matches = [_match_header(cells) for cells in head]
        if not matches:
            continue
        index = max(range(len(matches)), key=lambda i: len(matches[i][0]))
        columns, ignored = matches[index]
        if len(columns) > len(best):
            best = columns
        if all(key in columns for key in REQUIRED):
            return _read_rows(chain(head[index + 1 :], rows), index + 2, columns, ignored, today)
    missing = [key for key in REQUIRED if key not in best]
    titles = [TITLES[key] for key in missing]
    raise InvalidArgument(
        "MISSING_COLUMN",
        bilingual(
            "Không tìm thấy cột bắt buộc: " + ", ".join(titles),
            "required column(s) not found: " + ", ".join(key.replace("_", " ") for key in missing),
        ),
        {"field": titles[0], "columns": ",".join(titles)},
    )


def _read_rows(
    rows: Iterable[tuple[Any, ...]],
    first_number: int,
    columns: dict[str, tuple[int, str]],
    ignored: list[str],
    today: date,
) -> C1Sheet:
    reader = _RowReader(columns, today)
    good: list[C1Row] = []
    problems: list[RowProblem] = []
    count = blank_run = 0
    for number, cells in enumerate(rows, start=first_number):
        if reader.is_blank(cells):
            blank_run += 1
            if blank_run >= BLANK_RUN_LIMIT:
                break
            continue
        blank_run = 0
        count += 1
        if count > MAX_ROWS:
            raise InvalidArgument(
                "TOO_MANY_ROWS",
                bilingual(f"Tối đa {MAX_ROWS} học sinh mỗi tệp", f"at most {MAX_ROWS} students per file"),
                {"field": "content"},
            )
        row, row_problems = reader.read(number, cells)
        if row is not None:
            good.append(row)
        problems.extend(row_problems)
    return C1Sheet(tuple(good), tuple(problems), tuple(ignored))


# ---------------------------------------------------------------- writing


def _day(value: date | None) -> str | None:
    return value.strftime("%d/%m/%Y") if value is not None else None


def _values(number: int, row: C1Row) -> dict[str, Any]:
    sex = _SEX_LABELS.get(row.sex)
    if sex is None:
        raise InvalidArgument(
            "INVALID_SEX", bilingual("Giới tính không hợp lệ", "sex must be male or female"), {"field": "sex"}
        )
    values: dict[str, Any] = {
        "row_number": number,
        "class_name": row.class_name,
        "student_code": row.student_code,
        "full_name": row.full_name,
        "date_of_birth": _day(row.date_of_birth),
        "sex": sex,
        "status": STATUS_LABELS[StudentStatus(row.status)],
        "status_date": _day(row.status_date),
        "ethnicity": row.ethnicity,
        "disability": row.disability,
        "personal_id": row.personal_id,
        "address_current": row.address,
    }
    for guardian in row.guardians:
        if guardian.relation not in RELATIONS or f"{guardian.relation}.name" in values:
            raise InvalidArgument(
                "UNSUPPORTED_RELATION",
                bilingual(
                    "Mẫu C1 chỉ có một cha, một mẹ và một người giám hộ",
                    "the C1 template holds one father, one mother and one guardian",
                ),
                {"field": "guardians"},
            )
        prefix = guardian.relation
        values[f"{prefix}.name"] = guardian.full_name
        values[f"{prefix}.occupation"] = guardian.occupation
        values[f"{prefix}.birth_year"] = guardian.birth_year
        values[f"{prefix}.phone"] = guardian.phone
        values[f"{prefix}.personal_id"] = guardian.personal_id
    return values


def write_c1(rows: Iterable[C1Row], *, sheet_title: str = "C1-HocSinh") -> bytes:
    """A ``C1-HocSinh`` workbook: a title row, the header row (``WRITE_ORDER``), one row per student.

    Text is written as text cells (format "@"), so leading zeros of codes and ID numbers stay; dates are
    dd/mm/yyyy text; statuses are their Vietnamese labels; sex is "Nam"/"Nữ"."""
    table = [_values(number, row) for number, row in enumerate(rows, start=1)]  # refuse before writing
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title)
    sheet.append([TITLE])
    sheet.append([TITLES[key] for key in WRITE_ORDER])

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = WriteOnlyCell(sheet, value=value)
        text.number_format = "@"
        return text

    for values in table:
        sheet.append([cell(values.get(key)) for key in WRITE_ORDER])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

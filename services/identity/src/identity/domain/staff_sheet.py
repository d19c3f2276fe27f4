"""The sector database's staff spreadsheet: columns matched by header text, rows checked. Pure, no I/O.

Template versions reorder and reword columns, so a column is found by what its header says, never by
where it is. Headers are compared after Unicode NFC normalisation, case folding, whitespace collapsing
and with trailing markers such as ``(*)`` or ``:`` removed. The header row is the row, among the first
ones, that names the most known columns (templates put titles above it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# field → accepted header texts (normalised form is computed below)
COLUMNS: dict[str, tuple[str, ...]] = {
    "full_name": ("Họ và tên", "Họ tên", "Họ và tên cán bộ"),
    "date_of_birth": ("Ngày sinh", "Ngày tháng năm sinh"),
    "sex": ("Giới tính",),
    "personal_id": ("Số định danh cá nhân", "Số CCCD", "CCCD", "Số căn cước công dân", "Số căn cước"),
    "staff_code": ("Mã cán bộ", "Mã định danh cán bộ", "Mã CBGVNV"),
    "email": ("Email", "Thư điện tử", "Địa chỉ email"),
    "phone": ("Số điện thoại", "Điện thoại", "Điện thoại di động"),
    "school_code": ("Mã trường", "Mã đơn vị"),
    "position": ("Vị trí việc làm", "Chức vụ", "Nhóm chức vụ"),
    "homeroom_class": ("Lớp chủ nhiệm", "Chủ nhiệm lớp"),
    "subject": ("Môn dạy", "Môn giảng dạy", "Môn học giảng dạy"),
    "teaching_classes": ("Lớp dạy", "Lớp giảng dạy", "Các lớp giảng dạy"),
}
REQUIRED = ("full_name", "date_of_birth", "personal_id", "email", "school_code", "position")

# Position (vị trí việc làm / chức vụ) → platform role; matched on the normalised text's start.
POSITIONS: tuple[tuple[str, str], ...] = (
    ("hiệu trưởng", "school_admin"),
    ("phó hiệu trưởng", "school_admin"),
    ("giáo viên", "teacher"),
    ("nhân viên y tế", "nurse"),
    ("y tế", "nurse"),
    ("kế toán", "accountant"),
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_MARKERS = re.compile(r"[\s:*()]+$")


def normalise(text: Any) -> str:
    value = unicodedata.normalize("NFC", str(text or "")).casefold()
    value = " ".join(value.split())
    return _MARKERS.sub("", value).strip()


_ALIASES = {normalise(alias): name for name, aliases in COLUMNS.items() for alias in aliases}


def match_headers(row: list[Any]) -> dict[str, int]:
    """field → column index for the headers of ``row`` that name a known column (first one wins)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        name = _ALIASES.get(normalise(cell))
        if name and name not in found:
            found[name] = index
    return found


def find_header(rows: list[list[Any]], look_at: int = 15) -> tuple[int, dict[str, int]]:
    """(index of the header row, its columns): the row among the first ``look_at`` naming the most."""
    best = (-1, {})  # type: tuple[int, dict[str, int]]
    for index, row in enumerate(rows[:look_at]):
        columns = match_headers(row)
        if len(columns) > len(best[1]):
            best = (index, columns)
    return best


@dataclass
class Problem:
    column: str
    reason: str
    message: str


@dataclass
class StaffRow:
    row: int
    full_name: str = ""
    date_of_birth: date | None = None
    personal_id: str = ""
    staff_code: str = ""
    email: str = ""
    phone: str = ""
    school_code: str = ""
    role: str = ""
    homeroom_class: str = ""
    subject: str = ""
    teaching_classes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def refuse(self, column: str, reason: str, vi: str, en: str) -> None:
        self.problems.append(Problem(column, reason, f"{vi} / {en}"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def parse_date(value: Any) -> date | None:
    """dd/mm/yyyy (the sector templates), yyyy-mm-dd, or a spreadsheet date cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def role_of(position: str) -> str:
    norm = normalise(position)
    for prefix, role in POSITIONS:
        if norm.startswith(prefix):
            return role
    return ""


def split_classes(value: Any) -> list[str]:
    return [c for c in (p.strip() for p in re.split(r"[,;]", _text(value))) if c]


def parse_row(number: int, cells: list[Any], columns: dict[str, int]) -> StaffRow:
    def cell(name: str) -> Any:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    row = StaffRow(row=number)
    row.full_name = _text(cell("full_name"))
    row.personal_id = _text(cell("personal_id")).replace(" ", "")
    row.staff_code = _text(cell("staff_code"))
    row.email = _text(cell("email")).lower()
    row.phone = _text(cell("phone"))
    row.school_code = _text(cell("school_code"))
    row.homeroom_class = _text(cell("homeroom_class"))
    row.subject = _text(cell("subject"))
    row.teaching_classes = split_classes(cell("teaching_classes"))
    position = _text(cell("position"))
    row.role = role_of(position)

    if not row.full_name:
        row.refuse("full_name", "MISSING_VALUE", "Thiếu họ và tên", "full name is missing")
    raw_date = cell("date_of_birth")
    row.date_of_birth = parse_date(raw_date)
    if row.date_of_birth is None:
        row.refuse(
            "date_of_birth",
            "INVALID_DATE_OF_BIRTH",
            "Ngày sinh phải có dạng dd/mm/yyyy",
            "date of birth must be dd/mm/yyyy",
        )
    if not row.personal_id:
        row.refuse(
            "personal_id",
            "MISSING_VALUE",
            "Thiếu số định danh cá nhân",
            "personal identification number is missing",
        )
    if not _EMAIL.fullmatch(row.email):
        row.refuse("email", "INVALID_EMAIL", "Email không hợp lệ", "e-mail address is not valid")
    if not row.school_code:
        row.refuse("school_code", "MISSING_VALUE", "Thiếu mã trường", "school code is missing")
    if not row.role:
        row.refuse(
            "position",
            "UNKNOWN_POSITION",
            "Vị trí việc làm không được hỗ trợ "
            "(Hiệu trưởng, Phó hiệu trưởng, Giáo viên, Nhân viên y tế, Kế toán)",
            "position not supported (principal, vice-principal, teacher, school nurse, accountant)",
        )
    if row.role != "teacher" and (row.homeroom_class or row.teaching_classes):
        row.refuse(
            "position", "CLASSES_NEED_TEACHER", "Chỉ giáo viên mới có lớp", "only teachers have classes"
        )
    if row.teaching_classes and not row.subject:
        row.refuse(
            "subject",
            "MISSING_VALUE",
            "Thiếu môn dạy cho các lớp dạy",
            "subject missing for the classes taught",
        )
    return row


def is_blank(cells: list[Any]) -> bool:
    return all(_text(c) == "" for c in cells)


def split_name(full_name: str) -> tuple[str, str]:
    """(family name, given names): Vietnamese names put the family name first."""
    parts = full_name.split()
    if len(parts) == 1:
        return parts[0], ""
    return parts[0], " ".join(parts[1:])

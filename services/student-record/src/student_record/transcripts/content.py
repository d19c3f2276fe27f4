"""The content of a transcript: the one source that both the PDF and the XML are rendered from.

The service assembles a :class:`TranscriptContent` from its records (display strings already formatted:
"8,3", "Đạt", "Hoàn thành tốt"); nothing here computes results. Strings are normalised on construction
(Unicode NFC, ``\\n`` line ends) and checked for characters XML cannot carry, so the PDF, the XML and
:func:`content_digest` all see exactly the same text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from school_common.errors import InvalidArgument, bilingual

NAMESPACE = "urn:vn-school:hoc-ba:1"

LEVELS: dict[str, tuple[str, range]] = {
    "primary": ("TIỂU HỌC", range(1, 6)),
    "lower_secondary": ("TRUNG HỌC CƠ SỞ", range(6, 10)),
    "upper_secondary": ("TRUNG HỌC PHỔ THÔNG", range(10, 13)),
}
SEXES: dict[str, str] = {"male": "Nam", "female": "Nữ"}

_ROLE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
# XML 1.0 cannot carry C0 controls other than tab and line feed (carriage returns are folded first).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _invalid(what: str, vi: str, en: str) -> InvalidArgument:
    return InvalidArgument("TRANSCRIPT_CONTENT_INVALID", bilingual(vi, en), {"field": what})


def _text(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise _invalid(what, f"{what} phải là chuỗi", f"{what} must be a string")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    if _XML_ILLEGAL.search(text):
        raise _invalid(what, f"{what} chứa ký tự điều khiển", f"{what} contains a control character")
    return text


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Table:
    """A generic table of the transcript layout: a title, header texts and rows of display strings."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        _set(self, "title", _text(self.title, "table.title"))
        _set(self, "columns", tuple(_text(c, "table.columns") for c in self.columns))
        _set(self, "rows", tuple(tuple(_text(c, "table.rows") for c in row) for row in self.rows))
        if not self.columns:
            raise _invalid("table.columns", "Bảng không có cột", "a table needs at least one column")
        for row in self.rows:
            if len(row) != len(self.columns):
                raise _invalid(
                    "table.rows",
                    f"Bảng '{self.title}': dòng có {len(row)} ô, cần {len(self.columns)}",
                    f"table '{self.title}': a row has {len(row)} cells, expected {len(self.columns)}",
                )


@dataclass(frozen=True)
class Signatory:
    """A responsible individual named in the signature block, e.g. the homeroom teacher."""

    role: str  # "HOMEROOM_TEACHER" | "PRINCIPAL" | "SUBJECT_TEACHER" ...
    title: str  # "Giáo viên chủ nhiệm" | "Hiệu trưởng"
    full_name: str

    def __post_init__(self) -> None:
        _set(self, "role", _text(self.role, "signatory.role"))
        _set(self, "title", _text(self.title, "signatory.title"))
        _set(self, "full_name", _text(self.full_name, "signatory.full_name"))
        if not _ROLE.match(self.role):
            raise _invalid("signatory.role", "Vai trò người ký không hợp lệ", "role must be UPPER_SNAKE_CASE")
        if not self.full_name.strip():
            raise _invalid("signatory.full_name", "Thiếu họ tên người ký", "signatory name is empty")


@dataclass(frozen=True)
class TranscriptContent:
    """Everything a transcript shows, for one student and one school year."""

    transcript_id: str
    version: int
    supersedes: str | None
    authority_name: str
    school_name: str
    school_code: str
    level: str  # "primary" | "lower_secondary" | "upper_secondary"
    school_year: str  # "2025-2026"
    class_name: str
    grade: int
    student_name: str
    date_of_birth: date
    sex: str  # "male" | "female"
    student_code: str  # "" until the sector database assigns it
    tables: tuple[Table, ...]
    summary: tuple[tuple[str, str], ...]
    signatories: tuple[Signatory, ...]  # individuals, in signing order
    issued_on: date
    verification_url: str

    def __post_init__(self) -> None:
        for name in (
            "transcript_id",
            "authority_name",
            "school_name",
            "school_code",
            "level",
            "school_year",
            "class_name",
            "student_name",
            "sex",
            "student_code",
            "verification_url",
        ):
            _set(self, name, _text(getattr(self, name), name))
        if self.supersedes is not None:
            _set(self, "supersedes", _text(self.supersedes, "supersedes"))
        _set(self, "tables", tuple(self.tables))
        _set(self, "signatories", tuple(self.signatories))
        _set(self, "summary", tuple((_text(k, "summary"), _text(v, "summary")) for k, v in self.summary))
        self._check()

    def _check(self) -> None:
        for name in ("transcript_id", "supersedes"):
            value = getattr(self, name)
            if value is not None:
                try:
                    uuid.UUID(value)
                except ValueError:
                    raise _invalid(name, f"{name} không phải UUID", f"{name} is not a UUID") from None
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise _invalid("version", "Phiên bản phải từ 1", "version must be an integer ≥ 1")
        if (self.version > 1) != (self.supersedes is not None):
            raise _invalid(
                "supersedes",
                "Chỉ phiên bản sau phiên bản 1 mới thay thế một học bạ",
                "exactly the versions after 1 supersede an earlier transcript",
            )
        if self.supersedes == self.transcript_id:
            raise _invalid("supersedes", "Học bạ không thể thay thế chính nó", "cannot supersede itself")
        if self.level not in LEVELS:
            raise _invalid("level", "Cấp học không hợp lệ", f"level must be one of {sorted(LEVELS)}")
        if isinstance(self.grade, bool) or self.grade not in LEVELS[self.level][1]:
            raise _invalid("grade", "Khối lớp không thuộc cấp học", "grade does not belong to the level")
        if self.sex not in SEXES:
            raise _invalid("sex", "Giới tính không hợp lệ", "sex must be 'male' or 'female'")
        year = _SCHOOL_YEAR.match(self.school_year)
        if year is None or int(year.group(2)) != int(year.group(1)) + 1:
            raise _invalid(
                "school_year", "Năm học phải có dạng 2025-2026", "school_year must be like 2025-2026"
            )
        for name in ("date_of_birth", "issued_on"):
            if not isinstance(getattr(self, name), date):
                raise _invalid(name, f"{name} phải là ngày", f"{name} must be a date")
        if not all(isinstance(t, Table) for t in self.tables):
            raise _invalid("tables", "Bảng không hợp lệ", "tables must be Table objects")
        if not all(isinstance(s, Signatory) for s in self.signatories):
            raise _invalid("signatories", "Người ký không hợp lệ", "signatories must be Signatory objects")
        if not self.student_name.strip():
            raise _invalid("student_name", "Thiếu họ tên học sinh", "student name is empty")

    @property
    def level_title(self) -> str:
        """The level as the transcript's cover prints it, e.g. "TRUNG HỌC PHỔ THÔNG"."""
        return LEVELS[self.level][0]

    @property
    def sex_label(self) -> str:
        return SEXES[self.sex]


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value).__name__}")


def canonical_json(content: TranscriptContent) -> bytes:
    """A stable serialisation: sorted keys, no insignificant whitespace, UTF-8, dates as ISO 8601."""
    document = {"format": NAMESPACE, "content": dataclasses.asdict(content)}
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable)
    return text.encode("utf-8")


def content_digest(content: TranscriptContent) -> str:
    """SHA-256 (hex) of :func:`canonical_json`: what the service stores to recognise this content."""
    return hashlib.sha256(canonical_json(content)).hexdigest()

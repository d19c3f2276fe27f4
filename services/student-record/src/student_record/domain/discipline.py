"""Discipline and rewards by Circular 19/2025/TT-BGDĐT (in force from 31/10/2025). Pure rules, no I/O.

Violations have three severity levels (affecting the student themself, the group or class, the school).
The measures are educational: in primary school a reminder or a request to apologise; in lower and upper
secondary a reminder, criticism, or a written self-review that the family confirms. Suspension and
expulsion no longer exist: they have no value here and no column can hold them.
"""

from __future__ import annotations

from school_common.errors import InvalidArgument, bilingual

SEVERITIES = ("SELF", "CLASS", "SCHOOL")
PRIMARY_MEASURES = ("REMINDER", "APOLOGY")
SECONDARY_MEASURES = ("REMINDER", "CRITICISM", "SELF_REVIEW")
REWARD_KINDS = ("PRAISE_CLASS", "PRAISE_SCHOOL", "PRINCIPAL_CERTIFICATE", "COMMENDATION_LETTER")
MEASURE_NAMES = {
    "REMINDER": "nhắc nhở",
    "APOLOGY": "yêu cầu xin lỗi",
    "CRITICISM": "phê bình",
    "SELF_REVIEW": "viết bản tự kiểm điểm",
}


def measures_for_grade(grade: int) -> tuple[str, ...]:
    """The measures a school of this grade's level may take."""
    if not 1 <= grade <= 12:
        raise ValueError("grade must be 1-12")
    return PRIMARY_MEASURES if grade <= 5 else SECONDARY_MEASURES


def check_measure(measure: str, grade: int) -> None:
    allowed = measures_for_grade(grade)
    if measure not in allowed:
        level_vi, level_en = ("tiểu học", "primary") if grade <= 5 else ("THCS, THPT", "secondary")
        raise InvalidArgument(
            "MEASURE_NOT_ALLOWED_AT_LEVEL",
            bilingual(
                f"Ở cấp {level_vi} chỉ áp dụng: " + ", ".join(MEASURE_NAMES[m] for m in allowed),
                f"at {level_en} level only these measures apply: " + ", ".join(m.lower() for m in allowed),
            ),
            {"field": "measure"},
        )

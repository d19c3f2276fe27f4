"""Purposes of processing a student's data and their legal basis (Law 91/2025/QH15, Decree 356/2025).

Processing a law requires rests on that law: no consent is asked and none can be withdrawn. Everything
else rests on explicit consent of the legal representative, and also of the child from age 7 where the
purpose discloses the child's private information. Silence is not consent: a purpose with a missing
consent is not permitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Basis = Literal["LAW", "CONSENT"]
CHILD_CONSENT_AGE = 7


@dataclass(frozen=True)
class Purpose:
    code: str
    title: str
    basis: Basis
    legal_reference: str = ""
    child_consent_from_age_7: bool = False


PURPOSES: tuple[Purpose, ...] = (
    Purpose(
        "student_records",
        "Hồ sơ học sinh, đánh giá và học bạ / Student records, evaluation and transcripts",
        "LAW",
        "Luật Giáo dục 2019; Thông tư 22/2021/TT-BGDĐT; Thông tư 27/2020/TT-BGDĐT",
    ),
    Purpose(
        "sector_database",
        "Cơ sở dữ liệu ngành giáo dục / Education-sector database",
        "LAW",
        "Thông tư 42/2021/TT-BGDĐT",
    ),
    Purpose(
        "school_health",
        "Y tế trường học / School health",
        "LAW",
        "Thông tư liên tịch 13/2016/TTLT-BYT-BGDĐT",
    ),
    Purpose(
        "photos",
        "Đăng ảnh của học sinh trên kênh của nhà trường / Photos of the student on school channels",
        "CONSENT",
        child_consent_from_age_7=True,
    ),
    Purpose(
        "messaging_channels",
        "Nhận thông báo qua Zalo OA, SMS / Notifications through Zalo OA and SMS",
        "CONSENT",
    ),
    Purpose(
        "optional_services",
        "Dịch vụ tự chọn (câu lạc bộ, bán trú, xe đưa đón) / Optional services (clubs, semi-boarding, bus)",
        "CONSENT",
    ),
    Purpose(
        "partner_learning",
        "Chia sẻ với đối tác học tập trực tuyến / Sharing with online-learning partners",
        "CONSENT",
        child_consent_from_age_7=True,
    ),
)
BY_CODE = {p.code: p for p in PURPOSES}


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def required_parties(purpose: Purpose, child_born: date | None, today: date) -> tuple[str, ...]:
    """Who must consent: nobody for a legal basis; the guardian; and the child from age 7 if needed.

    An unknown date of birth counts as 7 or older: asking the child too is the safe side.
    """
    if purpose.basis == "LAW":
        return ()
    if purpose.child_consent_from_age_7 and (
        child_born is None or age_on(child_born, today) >= CHILD_CONSENT_AGE
    ):
        return ("guardian", "child")
    return ("guardian",)


def missing_consents(purpose: Purpose, child_born: date | None, today: date, granted: set[str]) -> list[str]:
    return [party for party in required_parties(purpose, child_born, today) if party not in granted]

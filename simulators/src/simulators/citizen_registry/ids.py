"""The personal identification number (số định danh cá nhân), Circular 07/2016/TT-BCA, Article 7.

Twelve digits: ``PPP`` province code of birth registration, ``G`` century/gender digit, ``YY`` last two
digits of the birth year, then six random digits. The format says nothing about whether a person exists:
that authority belongs to the national population database alone.

Pure functions and no I/O, so other components (the identity service) can copy the rules verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["male", "female"]

INVALID_PERSONAL_ID_FORMAT = "INVALID_PERSONAL_ID_FORMAT"
UNKNOWN_PROVINCE_CODE = "UNKNOWN_PROVINCE_CODE"
CENTURY_MISMATCH = "CENTURY_MISMATCH"
BIRTH_YEAR_MISMATCH = "BIRTH_YEAR_MISMATCH"

# ASCII digits only: str.isdigit() would also accept "０" or "٣".
_FORMAT = re.compile(r"[0-9]{12}")

# Province codes of birth registration, on the pre-2025 map: numbers already issued never change, so the
# 2025 province mergers do not touch this table.
PROVINCES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa–Vũng Tàu",
    "079": "Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}

# Century/gender digit → (first year of the century, sex). The circular goes on to 6/7 (2200s) and 8/9
# (2300s); nobody alive can hold those, so they are refused as a bad format rather than described.
_CENTURY_DIGITS: dict[str, tuple[int, Sex]] = {
    "0": (1900, "male"),
    "1": (1900, "female"),
    "2": (2000, "male"),
    "3": (2000, "female"),
    "4": (2100, "male"),
    "5": (2100, "female"),
}


@dataclass(frozen=True, slots=True)
class PersonalIdInfo:
    """What a well-formed number says about its holder (claims, not facts, until verified)."""

    province_code: str
    province_name: str
    sex: Sex
    century_start: int  # 1900 for people born 1900–1999
    birth_year: int


def validate_personal_id(pid: str, date_of_birth: date | None = None) -> list[str]:
    """The reasons ``pid`` is not acceptable, empty when it is.

    Without ``date_of_birth`` only the number itself is checked; with it, the century/gender digit and the
    two-digit year must agree with the birth year. A malformed number gets only
    ``INVALID_PERSONAL_ID_FORMAT``: nothing else can be read from it.
    """
    if not isinstance(pid, str) or not _FORMAT.fullmatch(pid) or pid[3] not in _CENTURY_DIGITS:
        return [INVALID_PERSONAL_ID_FORMAT]
    reasons: list[str] = []
    if pid[:3] not in PROVINCES:
        reasons.append(UNKNOWN_PROVINCE_CODE)
    if date_of_birth is not None:
        century_start, _ = _CENTURY_DIGITS[pid[3]]
        if not century_start <= date_of_birth.year < century_start + 100:
            reasons.append(CENTURY_MISMATCH)
        if int(pid[4:6]) != date_of_birth.year % 100:
            reasons.append(BIRTH_YEAR_MISMATCH)
    return reasons


def describe(pid: str) -> PersonalIdInfo:
    """Province, sex, century and birth year encoded in ``pid``; ``ValueError`` naming the first reason
    when the number is not valid."""
    reasons = validate_personal_id(pid)
    if reasons:
        raise ValueError(reasons[0])
    century_start, sex = _CENTURY_DIGITS[pid[3]]
    return PersonalIdInfo(
        province_code=pid[:3],
        province_name=PROVINCES[pid[:3]],
        sex=sex,
        century_start=century_start,
        birth_year=century_start + int(pid[4:6]),
    )

"""The pure rules: personal identification numbers (Circular 07/2016/TT-BCA) and name comparison."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from simulators.citizen_registry.ids import PROVINCES, PersonalIdInfo, describe, validate_personal_id
from simulators.citizen_registry.registry import Citizen, Registry, Result, load_citizens, name_key


@pytest.mark.parametrize(
    ("pid", "dob"),
    [
        ("079185001234", date(1985, 4, 12)),
        ("001080004321", date(1980, 9, 23)),
        ("001199062531", date(1999, 12, 31)),  # last year of the 1900s
        ("079200041876", date(2000, 1, 1)),  # first year of the 2000s
        ("079312000001", date(2012, 1, 1)),
        ("096400000001", date(2100, 6, 1)),
        ("001599000001", date(2199, 6, 1)),
    ],
)
def test_valid_numbers(pid: str, dob: date) -> None:
    assert validate_personal_id(pid) == []
    assert validate_personal_id(pid, dob) == []


@pytest.mark.parametrize(
    "pid",
    [
        "",
        "07918500123",
        "0791850012345",
        "07918500123A",
        "079-85001234",
        " 079185001234",
        "０７９１８５００１２３４",
        "079185001234\n",
        "079685001234",
        "079785001234",
        "079885001234",
        "079985001234",
    ],
)
def test_malformed_numbers_give_only_the_format_reason(pid: str) -> None:
    assert validate_personal_id(pid) == ["INVALID_PERSONAL_ID_FORMAT"]
    assert validate_personal_id(pid, date(1985, 4, 12)) == ["INVALID_PERSONAL_ID_FORMAT"]


def test_non_strings_are_malformed() -> None:
    assert validate_personal_id(79185001234) == ["INVALID_PERSONAL_ID_FORMAT"]  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["000", "003", "005", "078", "081", "097", "999"])
def test_unknown_province(code: str) -> None:
    assert validate_personal_id(f"{code}185001234") == ["UNKNOWN_PROVINCE_CODE"]


@pytest.mark.parametrize(
    ("pid", "dob", "reasons"),
    [
        ("079285001234", date(1985, 4, 12), ["CENTURY_MISMATCH"]),  # 2 = male, 2000s
        ("079085001234", date(2085, 4, 12), ["CENTURY_MISMATCH"]),
        ("079212003456", date(1912, 8, 15), ["CENTURY_MISMATCH"]),
        ("079485001234", date(1985, 4, 12), ["CENTURY_MISMATCH"]),
        ("079186001234", date(1985, 4, 12), ["BIRTH_YEAR_MISMATCH"]),
        ("079100001234", date(1999, 12, 31), ["BIRTH_YEAR_MISMATCH"]),
        ("079299001234", date(1999, 12, 31), ["CENTURY_MISMATCH"]),  # a 1999 birth written as 2099
        ("079312001234", date(1985, 4, 12), ["CENTURY_MISMATCH", "BIRTH_YEAR_MISMATCH"]),
        (
            "003312001234",
            date(1985, 4, 12),
            ["UNKNOWN_PROVINCE_CODE", "CENTURY_MISMATCH", "BIRTH_YEAR_MISMATCH"],
        ),
        ("079185001234", date(1899, 4, 12), ["CENTURY_MISMATCH", "BIRTH_YEAR_MISMATCH"]),
    ],
)
def test_consistency_with_the_date_of_birth(pid: str, dob: date, reasons: list[str]) -> None:
    assert validate_personal_id(pid, dob) == reasons
    assert "CENTURY_MISMATCH" not in validate_personal_id(pid)  # needs the date to be known


@pytest.mark.parametrize(
    ("pid", "info"),
    [
        ("079185001234", PersonalIdInfo("079", "Hồ Chí Minh", "female", 1900, 1985)),
        ("001080004321", PersonalIdInfo("001", "Hà Nội", "male", 1900, 1980)),
        ("079212003456", PersonalIdInfo("079", "Hồ Chí Minh", "male", 2000, 2012)),
        ("092318000001", PersonalIdInfo("092", "Cần Thơ", "female", 2000, 2018)),
        ("046400000001", PersonalIdInfo("046", "Thừa Thiên Huế", "male", 2100, 2100)),
        ("001599000001", PersonalIdInfo("001", "Hà Nội", "female", 2100, 2199)),
    ],
)
def test_describe(pid: str, info: PersonalIdInfo) -> None:
    assert describe(pid) == info


@pytest.mark.parametrize(
    ("pid", "reason"),
    [("12345", "INVALID_PERSONAL_ID_FORMAT"), ("003185001234", "UNKNOWN_PROVINCE_CODE")],
)
def test_describe_refuses_invalid_numbers(pid: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        describe(pid)


def test_province_table() -> None:
    assert len(PROVINCES) == 63  # the pre-2025 map
    assert all(len(code) == 3 and code.isascii() and code.isdigit() for code in PROVINCES)
    assert all(unicodedata.normalize("NFC", name) == name for name in PROVINCES.values())
    assert PROVINCES["079"] == "Hồ Chí Minh"
    assert PROVINCES["001"] == "Hà Nội"


# ---------------------------------------------------------------- names and the register


def test_name_key() -> None:
    assert name_key("  TRẦN   Thị\u00a0Mai ") == "trần thị mai"
    assert name_key(unicodedata.normalize("NFD", "Đặng Thị Ngọc Ánh")) == "đặng thị ngọc ánh"
    assert name_key("Hòa") != name_key("Hoa")
    assert name_key("") == ""


def test_registry_verify() -> None:
    registry = Registry([Citizen("079185001234", "Trần Thị Mai", date(1985, 3, 12))])

    assert registry.verify("079185001234", "trần thị mai", date(1985, 3, 12)).result is Result.MATCH
    assert registry.verify("079185001234", "Trần Thị Mai", date(1985, 3, 13)).result is Result.MISMATCH
    assert registry.verify("079185001235", "Trần Thị Mai", date(1985, 3, 12)).result is Result.NOT_FOUND


def _write(tmp_path: Path, *citizens: dict[str, str]) -> Path:
    path = tmp_path / "citizens.json"
    path.write_text(json.dumps({"citizens": list(citizens)}, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"personal_id": "079185001234", "full_name": "A", "date_of_birth": "1986-04-12"},
            "BIRTH_YEAR_MISMATCH",
        ),
        (
            {"personal_id": "079185001234", "full_name": "A", "date_of_birth": "1985-04-12", "sex": "male"},
            "sex",
        ),
        (
            {
                "personal_id": "079185001234",
                "full_name": unicodedata.normalize("NFD", "Hoà"),
                "date_of_birth": "1985-04-12",
            },
            "NFC",
        ),
    ],
)
def test_load_refuses_an_inconsistent_seed(tmp_path: Path, entry: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        load_citizens(_write(tmp_path, entry))
    assert entry["personal_id"] not in str(caught.value)  # errors name the entry's position only


def test_registry_refuses_duplicates(tmp_path: Path) -> None:
    entry = {"personal_id": "079185001234", "full_name": "A", "date_of_birth": "1985-04-12"}
    with pytest.raises(ValueError, match="duplicate"):
        Registry(load_citizens(_write(tmp_path, entry, entry)))

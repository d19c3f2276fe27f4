"""Pure identity rules: citizen-ID form, staff spreadsheet columns, consent parties, number encryption."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from identity.adapters.crypto import PersonalIdCipher
from identity.domain import consent, staff_sheet
from identity.people.service import check_claim
from school_common.errors import InvalidArgument

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("personal_id", "born", "reason"),
    [
        ("07918500123", "1985-03-12", "INVALID_PERSONAL_ID_FORMAT"),  # 11 digits
        ("0791850012345", "1985-03-12", "INVALID_PERSONAL_ID_FORMAT"),  # 13 digits
        ("07918500123A", "1985-03-12", "INVALID_PERSONAL_ID_FORMAT"),  # a letter
        ("０79185001234", "1985-03-12", "INVALID_PERSONAL_ID_FORMAT"),  # a full-width digit
        ("079685001234", "1985-03-12", "INVALID_PERSONAL_ID_FORMAT"),  # century digit 6: not issuable
        ("003185001234", "1985-03-12", "UNKNOWN_PROVINCE_CODE"),  # 003 is no province
        ("079285001234", "1985-03-12", "CENTURY_MISMATCH"),  # 2 = born 2000-2099, but 1985
        ("079186001234", "1985-03-12", "BIRTH_YEAR_MISMATCH"),  # 86 != 85
        ("079185001234", "1985-02-30", "INVALID_DATE_OF_BIRTH"),
        ("079185001234", "12/03/1985", "INVALID_DATE_OF_BIRTH"),
        ("079185001234", "2027-01-01", "INVALID_DATE_OF_BIRTH"),  # future
    ],
)
def test_bad_claims_are_refused_with_the_reason_and_field(personal_id: str, born: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_claim(personal_id, "Trần Thị Mai", born, today=TODAY)
    assert caught.value.reason == reason
    assert caught.value.metadata["field"] == ("date_of_birth" if "DATE" in reason else "personal_id")
    assert " / " in caught.value.message
    assert personal_id not in caught.value.message  # never echoed


def test_a_good_claim_is_normalised() -> None:
    claim = check_claim("079185001234", "  Trần   Thị Mai ", "1985-03-12", today=TODAY)
    assert (claim.personal_id, claim.full_name, claim.date_of_birth) == (
        "079185001234",
        "Trần Thị Mai",
        date(1985, 3, 12),
    )


@pytest.mark.parametrize("name", ["", "   ", "A" * 151, "Trần\x00Mai"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_claim("079185001234", name, "1985-03-12", today=TODAY)
    assert caught.value.reason == "INVALID_FULL_NAME"


# ---------------------------------------------------------------- staff spreadsheet


def test_headers_are_matched_by_text_whatever_their_order_and_wording() -> None:
    rows = [
        ["DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN"],  # title row above the header
        [],
        [
            "STT",
            "Mã trường",
            "  HỌ VÀ TÊN (*) ",
            "Ngày sinh:",
            "Số CCCD",
            "Vị trí việc làm",
            "Thư điện tử",
            "Lớp dạy",
            "Môn dạy",
        ],
    ]
    index, columns = staff_sheet.find_header(rows)
    assert index == 2
    assert columns == {
        "school_code": 1,
        "full_name": 2,
        "date_of_birth": 3,
        "personal_id": 4,
        "position": 5,
        "email": 6,
        "teaching_classes": 7,
        "subject": 8,
    }


def test_a_row_is_parsed_with_its_dates_positions_and_classes() -> None:
    columns = {
        "full_name": 0,
        "date_of_birth": 1,
        "personal_id": 2,
        "email": 3,
        "school_code": 4,
        "position": 5,
        "teaching_classes": 6,
        "subject": 7,
        "homeroom_class": 8,
    }
    row = staff_sheet.parse_row(
        5,
        [
            "Nguyễn Thị Hoa",
            "05/09/1988",
            "001188001111",
            "GV.Hoa@Example.edu.vn",
            79000702,
            "Giáo viên THCS hạng II",
            "6A1; 7A2",
            "Toán",
            "6A1",
        ],
        columns,
    )
    assert row.problems == []
    assert (row.role, row.date_of_birth, row.school_code, row.email) == (
        "teacher",
        date(1988, 9, 5),
        "79000702",
        "gv.hoa@example.edu.vn",
    )
    assert row.teaching_classes == ["6A1", "7A2"]
    assert row.homeroom_class == "6A1"
    # a date cell from the spreadsheet works too
    assert staff_sheet.parse_date(datetime(1988, 9, 5)) == date(1988, 9, 5)


def test_a_bad_row_lists_every_problem() -> None:
    columns = {
        "full_name": 0,
        "date_of_birth": 1,
        "personal_id": 2,
        "email": 3,
        "school_code": 4,
        "position": 5,
        "teaching_classes": 6,
    }
    row = staff_sheet.parse_row(7, ["", "1988-13-40", "", "not-an-email", "", "Bảo vệ", "6A1"], columns)
    reasons = {(p.column, p.reason) for p in row.problems}
    assert reasons == {
        ("full_name", "MISSING_VALUE"),
        ("date_of_birth", "INVALID_DATE_OF_BIRTH"),
        ("personal_id", "MISSING_VALUE"),
        ("email", "INVALID_EMAIL"),
        ("school_code", "MISSING_VALUE"),
        ("position", "UNKNOWN_POSITION"),
        ("position", "CLASSES_NEED_TEACHER"),
        ("subject", "MISSING_VALUE"),
    }


@pytest.mark.parametrize(
    ("position", "role"),
    [
        ("Hiệu trưởng", "school_admin"),
        ("PHÓ HIỆU TRƯỞNG", "school_admin"),
        ("Nhân viên y tế", "nurse"),
        ("Kế toán", "accountant"),
        ("Giáo viên", "teacher"),
        ("Văn thư", ""),
    ],
)
def test_positions_map_to_roles(position: str, role: str) -> None:
    assert staff_sheet.role_of(position) == role


def test_vietnamese_names_put_the_family_name_first() -> None:
    assert staff_sheet.split_name("Nguyễn Thị Hoa") == ("Nguyễn", "Thị Hoa")


# ---------------------------------------------------------------- consent


def test_law_based_purposes_need_no_consent() -> None:
    records = consent.BY_CODE["student_records"]
    assert consent.required_parties(records, date(2015, 1, 1), TODAY) == ()


def test_the_child_consents_too_from_age_seven_where_the_purpose_discloses() -> None:
    photos = consent.BY_CODE["photos"]
    assert consent.required_parties(photos, date(2019, 11, 30), TODAY) == ("guardian",)  # 6 the day before
    assert consent.required_parties(photos, date(2019, 11, 29), TODAY) == ("guardian", "child")  # 7 today
    messaging = consent.BY_CODE["messaging_channels"]
    assert consent.required_parties(messaging, date(2010, 1, 1), TODAY) == ("guardian",)
    assert consent.missing_consents(photos, date(2015, 1, 1), TODAY, {"guardian"}) == ["child"]
    assert consent.missing_consents(photos, None, TODAY, set()) == ["guardian", "child"]


# ---------------------------------------------------------------- encryption


def test_numbers_are_encrypted_and_looked_up_by_a_keyed_hash() -> None:
    cipher = PersonalIdCipher("k2:" + "b" * 40 + ",k1:" + "a" * 40, "l" * 40)
    sealed = cipher.encrypt("079185001234")
    assert b"079185001234" not in sealed
    assert cipher.encrypt("079185001234") != sealed  # a fresh nonce every time
    assert cipher.decrypt(sealed) == "079185001234"
    assert cipher.lookup_hash("079185001234") == cipher.lookup_hash("079185001234")
    other_key = PersonalIdCipher("k1:" + "a" * 40, "m" * 40)
    assert other_key.lookup_hash("079185001234") != cipher.lookup_hash("079185001234")
    # rotation: what k1 sealed is still readable once k2 encrypts
    old = PersonalIdCipher("k1:" + "a" * 40, "l" * 40).encrypt("001080004321")
    assert cipher.decrypt(old) == "001080004321"
    with pytest.raises(ValueError, match="no longer configured"):
        PersonalIdCipher("k9:" + "z" * 40, "l" * 40).decrypt(sealed)


@pytest.mark.parametrize("keys", ["", "k1", "k1:short", ":" + "a" * 40])
def test_weak_key_settings_are_refused(keys: str) -> None:
    with pytest.raises(ValueError, match="personal_id_keys"):
        PersonalIdCipher(keys, "l" * 40)


def test_the_number_rules_are_the_registers_own() -> None:
    """identity keeps a copy of the rules the citizen-registry simulator applies (services never import
    simulators); this keeps the two from drifting apart."""
    from identity.domain import citizen_id
    from simulators.citizen_registry import ids as register

    assert citizen_id.PROVINCES == register.PROVINCES
    samples = ["079185001234", "07918500123", "003185001234", "079285001234", "079186001234", "079685001234"]
    for number in samples:
        for born in (None, date(1985, 3, 12), date(2012, 8, 15)):
            ours, theirs = (
                citizen_id.validate_personal_id(number, born),
                register.validate_personal_id(number, born),
            )
            assert ours == theirs

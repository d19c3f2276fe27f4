"""The sector database's student list (template C1-HocSinh): read by header text, written back the same."""

import io
import time
import unicodedata
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from school_common.errors import InvalidArgument
from student_record.sector import c1_hocsinh
from student_record.sector.c1_hocsinh import (
    STATUS_LABELS,
    C1Guardian,
    C1Row,
    StudentStatus,
    column_of,
    is_enrolled,
    read_c1,
    status_from_label,
    write_c1,
)

TODAY = date(2026, 11, 29)


def workbook(header: list[str], rows: list[list[object]], *, titles: int = 2, sheets: int = 0) -> bytes:
    """An .xlsx as schools export it: ``titles`` title rows above the header, data below it."""
    book = Workbook()
    first = book.active
    assert first is not None
    for i in range(sheets):  # e.g. an instructions sheet before the data
        if i == 0:
            first.title = "Hướng dẫn"
            first.append(["Hướng dẫn nhập liệu"])
        else:
            book.create_sheet(f"Danh mục {i}").append(["Mã", "Tên"])
    sheet = first if sheets == 0 else book.create_sheet("Sheet1")
    for i in range(titles):
        sheet.append([f"DANH SÁCH HỌC SINH (dòng tiêu đề {i + 1})"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Shuffled, with variant wording, markers, no diacritics, a line break, and columns the module does not read.
HEADER = [
    "Giới tính (*)",
    "STT",
    "Ho va ten",
    "Mã HS",
    "Quốc tịch",
    "Ngày sinh:",
    "Tên lớp *",
    "Trạng thái học sinh",
    "Số định danh cá nhân",
    "Dân tộc",
    "Họ tên mẹ",
    "SĐT mẹ",
    "Năm sinh mẹ",
    "Nghề nghiệp mẹ",
    "Ngày nhập\ntrạng thái",
    "Họ và tên cha",
    "Năm sinh cha",
    "Tỉnh/Thành phố\n(Theo địa chỉ thường trú)",
    "Xã/Phường (Theo địa chỉ thường trú)",
    "Loại khuyết tật",
]


def line(**cells: object) -> list[object]:
    keys = [
        "sex",
        "stt",
        "name",
        "code",
        "nationality",
        "born",
        "klass",
        "status",
        "pid",
        "ethnicity",
        "mother",
        "mother_phone",
        "mother_year",
        "mother_job",
        "status_date",
        "father",
        "father_year",
        "province",
        "ward",
        "disability",
    ]
    unknown = set(cells) - set(keys)
    assert not unknown, unknown
    return [cells.get(k) for k in keys]


def test_columns_are_found_by_header_text_below_title_rows():
    nfd_name = unicodedata.normalize("NFD", "  Nguyễn   Thị  Ánh ")
    content = workbook(
        HEADER,
        [
            line(
                sex="Nữ",
                stt=1,
                name=nfd_name,
                code="0101234567",
                nationality="Việt Nam",
                born="05/09/2014",
                klass="6A1",
                pid=79314001234,  # a number cell: the leading zero of the province code is gone
                ethnicity="Kinh",
                mother="Trần Thị Bình",
                mother_phone=912345678,  # a number cell: the leading zero is gone
                mother_year="1985",
                mother_job="Giáo viên",
                province="Hồ Chí Minh",
                ward="Phường Bến Nghé",
            ),
            line(
                sex="nu",
                stt=2,
                name="Lê Thị Hoa",
                born=datetime(2014, 1, 2),  # a real date cell
                klass="6A1",
                status="Chuyển đến kỳ 1",
                status_date="7/9/2025",
                father="Lê Văn Cường",
                father_year=1980.0,
                mother="Phạm Thị Dung",
                mother_year="1985,0",
            ),
            [None] * len(HEADER),  # blank rows are skipped silently
            line(stt=3),  # so is a row with only its number
            line(sex="NAM", name="Đỗ Minh Khoa", born="1/2/2014", klass="6A2", status="Đang học"),
        ],
    )

    sheet = read_c1(content, today=TODAY)

    assert sheet.problems == ()
    assert sheet.ignored_headers == ("Quốc tịch",)
    first, second, third = sheet.rows
    assert [r.row for r in sheet.rows] == [4, 5, 8]
    assert first.full_name == "Nguyễn Thị Ánh"
    assert unicodedata.is_normalized("NFC", first.full_name)
    assert first.sex == "female"
    assert first.student_code == "0101234567"
    assert first.date_of_birth == date(2014, 9, 5)
    assert first.class_name == "6A1"
    assert first.status is StudentStatus.STUDYING  # empty → Đang học
    assert first.personal_id == "079314001234"
    assert first.ethnicity == "Kinh"
    assert first.address == "Phường Bến Nghé, Hồ Chí Minh"
    assert first.guardians == (C1Guardian("mother", "Trần Thị Bình", 1985, "Giáo viên", "0912345678", None),)

    assert second.student_code is None  # new intake: the sector database has not given a code yet
    assert second.date_of_birth == date(2014, 1, 2)
    assert second.status is StudentStatus.TRANSFERRED_IN_TERM1
    assert second.status_date == date(2025, 9, 7)
    assert [(g.relation, g.birth_year) for g in second.guardians] == [("father", 1980), ("mother", 1985)]

    assert third.sex == "male"
    assert third.date_of_birth == date(2014, 2, 1)


def test_the_data_sheet_need_not_be_the_first():
    content = workbook(
        ["Lớp", "Họ tên", "Ngày sinh", "Giới tính"],
        [["7B", "Vũ Văn An", "03/03/2013", "Nam"]],
        sheets=3,
    )
    sheet = read_c1(content, today=TODAY)
    assert [(r.row, r.full_name) for r in sheet.rows] == [(4, "Vũ Văn An")]


def test_bad_rows_are_reported_cell_by_cell_and_good_rows_still_pass():
    header = [
        "Mã lớp",
        "Mã học sinh",
        "Họ tên",
        "Ngày sinh",
        "Giới tính",
        "Số định danh cá nhân",
        "Trạng thái HS",
    ]
    rows = [
        ["6A1", "HS1", "Ngô Văn Bình", "12/03/2014", "Nam", "001214000001", ""],  # row 3: good
        ["6A1", "HS2", "Ngô Thị Hạnh", "30/02/2015", "Nữ", None, None],  # 4: no 30 February
        ["6A1", "HS3", "Ngô Văn Tú", "01/01/2014", "X", None, None],  # 5: unknown sex
        ["6A1", "HS4", "Ngô Văn Lộc", "01/01/2014", "Nam", "79314001234", None],  # 6: 11 digits as text
        ["6A1", "HS5", None, "01/01/2014", "Nam", None, None],  # 7: no name
        ["6A1", "HS1", "Ngô Văn Phúc", "02/02/2014", "Nam", None, None],  # 8: code of row 3 again
        ["6A2", None, "Trần Thu Hà", "05/05/2014", "Nữ", None, None],  # 9: good
        ["6a2", None, "trần thu hà", "05/05/2014", "nữ", None, None],  # 10: row 9 again
        ["6A1", "HS6", "Ngô Văn 3", "01/13/2014", "?", "12", "Chuyển đến"],  # 11: five bad cells
        ["6A1", "HS7", "Lý Văn Long", "01/01/1989", "Nam", None, None],  # 12: before 1990
        ["6A1", "HS8", "Lý Văn Sơn", "01/01/2027", "Nam", None, None],  # 13: in the future
    ]
    sheet = read_c1(workbook(header, rows, titles=1), today=TODAY)

    assert [r.student_code or r.full_name for r in sheet.rows] == ["HS1", "Trần Thu Hà"]
    assert [(p.row, p.column, p.reason) for p in sheet.problems] == [
        (4, "Ngày sinh", "INVALID_DATE"),
        (5, "Giới tính", "INVALID_SEX"),
        (6, "Số định danh cá nhân", "INVALID_PERSONAL_ID"),
        (7, "Họ tên", "MISSING_VALUE"),
        (8, "Mã học sinh", "DUPLICATE_ROW"),
        (10, "Họ tên", "DUPLICATE_ROW"),
        (11, "Họ tên", "INVALID_NAME"),
        (11, "Ngày sinh", "INVALID_DATE"),
        (11, "Giới tính", "INVALID_SEX"),
        (11, "Trạng thái HS", "UNKNOWN_STATUS"),
        (11, "Số định danh cá nhân", "INVALID_PERSONAL_ID"),
        (12, "Ngày sinh", "INVALID_DATE"),
        (13, "Ngày sinh", "INVALID_DATE"),
    ]
    duplicate = next(p for p in sheet.problems if p.row == 8)
    assert "dòng 3" in duplicate.message
    assert "row 3" in duplicate.message
    for problem in sheet.problems:  # bilingual, and no personal data
        assert " / " in problem.message
        assert "Ngô" not in problem.message
        assert "79314001234" not in problem.message


def test_guardian_cells_are_checked_when_the_group_names_someone():
    header = ["Lớp", "Họ tên", "Ngày sinh", "Giới tính", "Họ tên cha", "Năm sinh cha", "SĐT cha", "CCCD cha"]
    rows = [
        ["8A", "Hồ Văn Nam", "01/01/2012", "Nam", "Hồ Văn Bắc", "19x5", "12345", "12"],
        ["8A", "Hồ Văn Tây", "01/01/2012", "Nam", None, "19x5", "12345", "12"],  # no father named
        ["8A", "Hồ Văn Đông", "01/01/2012", "Nam", "Hồ Văn Tư", "7.5", "84912345678", 1185001234],
    ]
    sheet = read_c1(workbook(header, rows), today=TODAY)
    assert [(p.row, p.column, p.reason) for p in sheet.problems] == [
        (4, "Năm sinh cha", "INVALID_YEAR"),
        (4, "SĐT cha", "INVALID_PHONE"),
        (4, "CCCD cha", "INVALID_PERSONAL_ID"),
        (6, "Năm sinh cha", "INVALID_YEAR"),  # "7.5" is read as a number, and no year
    ]
    assert [r.full_name for r in sheet.rows] == ["Hồ Văn Tây"]
    assert sheet.rows[0].guardians == ()


def test_number_like_years_are_accepted():
    header = ["Lớp", "Họ tên", "Ngày sinh", "Giới tính", "Họ tên mẹ", "Năm sinh mẹ", "Điện thoại mẹ"]
    years = ["1985", 1985, 1985.0, "1985.0", "1985,0", "12/06/1985"]
    rows = [
        ["9C", f"Mai Thị {n}", "01/01/2011", "Nữ", "Mai Thị Lan", y, "0912 345 678"]
        for n, y in zip(["An", "Bé", "Chi", "Dung", "Giang", "Hà"], years, strict=True)
    ]
    sheet = read_c1(workbook(header, rows), today=TODAY)
    assert sheet.problems == ()
    assert {r.guardians[0].birth_year for r in sheet.rows} == {1985}
    assert {r.guardians[0].phone for r in sheet.rows} == {"0912345678"}


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["Họ tên", "Ngày sinh", "Giới tính", "Mã học sinh"], "Mã lớp"),
        (["Lớp", "Họ tên", "Ngày sinh", "Mã học sinh"], "Giới tính"),
        (["Lớp", "Tên", "Ngày sinh", "Giới tính"], "Họ tên"),
    ],
)
def test_a_missing_required_column_refuses_the_file(header, missing):
    with pytest.raises(InvalidArgument) as caught:
        read_c1(workbook(header, [["x"] * len(header)]), today=TODAY)
    assert caught.value.reason == "MISSING_COLUMN"
    assert caught.value.metadata["field"] == missing
    assert missing in caught.value.message


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a spreadsheet at all",
        b"PK\x03\x04garbage",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
    ],
)
def test_what_is_not_an_xlsx_is_refused(content):
    with pytest.raises(InvalidArgument) as caught:
        read_c1(content, today=TODAY)
    assert caught.value.reason == "INVALID_SPREADSHEET"


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr(c1_hocsinh, "MAX_ROWS", 3)
    header = ["Lớp", "Họ tên", "Ngày sinh", "Giới tính"]
    rows = [["6A", f"Phan Văn {c}", "01/01/2014", "Nam"] for c in "ABCD"]
    assert len(read_c1(workbook(header, rows[:3]), today=TODAY).rows) == 3
    with pytest.raises(InvalidArgument) as caught:
        read_c1(workbook(header, rows), today=TODAY)
    assert caught.value.reason == "TOO_MANY_ROWS"


GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Ngọc"]


def students(count: int) -> list[C1Row]:
    """Distinct students (a name per number), every status, with and without codes, IDs, guardians."""
    statuses = list(StudentStatus)
    return [
        C1Row(
            row=0,
            class_name=f"{6 + i % 4}A{i % 3 + 1}",
            student_code=f"{7900000000 + i}" if i % 5 else None,
            full_name="Nguyễn " + " ".join(GIVEN[int(d)] for d in str(i)),
            date_of_birth=date(2010 + i % 5, 1 + i % 12, 1 + i % 28),
            sex="male" if i % 2 else "female",
            status=statuses[i % len(statuses)],
            status_date=date(2025, 9, 1 + i % 28) if i % 3 else None,
            ethnicity="Kinh" if i % 4 else "Tày",
            disability="Khiếm thị" if i % 17 == 0 else "",
            personal_id=f"{1 + i % 96:03d}3{10 + i % 5:02d}{i:06d}" if i % 2 else None,
            guardians=(
                C1Guardian("mother", "Trần Thị Mơ", 1980 + i % 10, "Nông dân", "0912345678", "001180000001"),
                C1Guardian("father", "Nguyễn Văn Bố"),
                *([C1Guardian("guardian", "Lê Văn Ông", 1950, "Hưu trí", None, None)] if i % 7 == 0 else []),
            ),
            address="Thôn 3, Xã Tân Phú, Đồng Nai" if i % 2 else "",
        )
        for i in range(count)
    ]


def test_what_is_written_reads_back_the_same():
    rows = students(60)
    content = write_c1(rows)
    sheet = read_c1(content, today=TODAY)
    assert sheet.problems == ()
    assert sheet.ignored_headers == ()
    assert sheet.rows == tuple(rows)
    assert [r.row for r in sheet.rows] == list(range(3, 63))
    # and once more, from what was read
    assert read_c1(write_c1(sheet.rows), today=TODAY).rows == sheet.rows


def test_the_written_sheet_uses_the_template_wording_and_text_cells():
    row = students(2)[1]
    written = load_workbook(io.BytesIO(write_c1([row], sheet_title="6A1")))
    sheet = written["6A1"]
    assert sheet["A1"].value == c1_hocsinh.TITLE
    header = [c.value for c in sheet[2]]
    assert header[:12] == [
        "STT",
        "Mã lớp",
        "Mã học sinh",
        "Họ tên",
        "Ngày sinh",
        "Giới tính",
        "Trạng thái HS",
        "Ngày nhập trạng thái",
        "Dân tộc",
        "Loại khuyết tật",
        "Số định danh cá nhân",
        "Chỗ ở hiện nay",
    ]
    assert header[12:17] == [
        "Họ tên cha",
        "Nghề nghiệp cha",
        "Năm sinh cha",
        "Số điện thoại cha",
        "Số định danh cá nhân cha",
    ]
    values = dict(zip(header, (c for c in sheet[3]), strict=False))
    assert values["Ngày sinh"].value == row.date_of_birth.strftime("%d/%m/%Y")
    assert values["Số định danh cá nhân"].value == row.personal_id
    assert values["Số định danh cá nhân"].value.startswith("0")
    assert values["Số định danh cá nhân"].number_format == "@"
    assert values["Trạng thái HS"].value == STATUS_LABELS[row.status]
    assert values["Giới tính"].value == "Nam"
    assert values["Năm sinh mẹ"].value == row.guardians[1].birth_year


def test_the_writer_refuses_what_the_template_cannot_hold():
    row = students(1)[0]
    two_mothers = C1Row(
        **{**row.__dict__, "guardians": (C1Guardian("mother", "A"), C1Guardian("mother", "B"))}
    )
    with pytest.raises(InvalidArgument) as caught:
        write_c1([two_mothers])
    assert caught.value.reason == "UNSUPPORTED_RELATION"


def test_row_numbers_do_not_take_part_in_equality():
    a, b = students(1)[0], C1Row(**{**students(1)[0].__dict__, "row": 99})
    assert a == b
    assert hash(a) == hash(b)


def test_every_status_label_reads_back_and_variants_are_understood():
    for status, label in STATUS_LABELS.items():
        assert status_from_label(label) is status
        assert status_from_label(unicodedata.normalize("NFD", label.upper())) is status
    assert status_from_label("chuyen den hoc ki 2") is StudentStatus.TRANSFERRED_IN_TERM2
    assert status_from_label("Thôi học trong dịp hè") is StudentStatus.DROPPED_OUT_SUMMER
    assert status_from_label("Đang theo học") is StudentStatus.STUDYING
    assert status_from_label("") is StudentStatus.STUDYING
    assert status_from_label("Chuyển đến") is None  # the term is part of the value: not guessed
    assert is_enrolled(StudentStatus.RESUMED_TERM1)
    assert is_enrolled(StudentStatus.TRANSFERRED_IN_SUMMER)
    assert not is_enrolled(StudentStatus.TRANSFERRED_OUT_TERM2)
    assert not is_enrolled(StudentStatus.DROPPED_OUT_TERM1)


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Ngay sinh", "date_of_birth"),
        ("HỌ VÀ TÊN HỌC SINH (*)", "full_name"),
        ("Mã lớp:", "class_name"),
        ("Tỉnh/ Thành phố (Theo địa chỉ thường trú)", "address_province"),
        ("SĐT người giám hộ", "guardian.phone"),
        ("Họ tên bố", "father.name"),
        ("Quốc tịch", None),
    ],
)
def test_header_variants(header, key):
    assert column_of(header) == key


def test_two_thousand_rows_read_quickly():
    content = write_c1(students(2000))
    started = time.perf_counter()
    sheet = read_c1(content, today=TODAY)
    elapsed = time.perf_counter() - started
    assert len(sheet.rows) == 2000
    assert elapsed < 2.0, elapsed


@pytest.mark.parametrize(
    "born",
    [
        "05/09/2014",
        "5/9/2014",
        "05-09-2014",
        "05.09.2014",
        "2014-09-05",
        datetime(2014, 9, 5),
        41887,
        41887.0,
    ],
)
def test_date_forms(born):
    content = workbook(["Lớp", "Họ tên", "Ngày sinh", "Giới tính"], [["6A", "Kim Văn Tú", born, "Nam"]])
    assert read_c1(content, today=TODAY).rows[0].date_of_birth == date(2014, 9, 5)

"""The sector database's C1-HocSinh student list through the gateway, on the demo tenant (THCS Lê Quý Đôn):
the school admin previews and imports a sheet built here (two students, one with a sector code), imports it
again to find every row unchanged, and downloads the export with both students in it.

Repeatable on a persistent stack: each run makes its own class in a random school year, and its students
have names, dates of birth and a sector code of their own."""

from __future__ import annotations

import io
import secrets
import string
import uuid
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

pytestmark = pytest.mark.e2e

ADMIN = "thcs.lequydon.admin"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def lequydon(stack: dict[str, Any]) -> dict[str, Any]:
    return dict(next(s for s in stack["demo_data"]["demo"]["schools"] if "Lê Quý Đôn" in s["name"]))


def random_given_name() -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(6)).capitalize()


def c1_sheet(class_name: str, students: list[dict[str, str]]) -> bytes:
    """A C1-HocSinh export as schools download it: a title row above the header, extra columns."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append(["DANH SÁCH HỌC SINH"])
    sheet.append(
        ["STT", "Mã lớp", "Mã học sinh", "Họ tên", "Ngày sinh", "Giới tính", "Trạng thái HS", "Quốc tịch"]
    )
    for n, student in enumerate(students, 1):
        sheet.append(
            [
                n,
                class_name,
                student["code"],
                student["name"],
                student["born"],
                student["sex"],
                "Đang học",
                "Việt Nam",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def free_year() -> str:
    first = 2030 + secrets.randbelow(60)
    return f"{first}-{first + 1}"


def upload(principal: httpx.Client, path: str, content: bytes) -> dict[str, Any]:
    response = principal.post(path, files={"file": ("C1-HocSinh.xlsx", content, XLSX)}, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_import_the_sector_list_then_export_it(stack, tokens, client_for) -> None:
    school = lequydon(stack)
    class_name = f"6S{uuid.uuid4().hex[:6]}"
    code = f"{secrets.randbelow(10**10):010d}"
    students = [
        {
            "code": code,
            "name": f"Nguyễn Văn {random_given_name()}",
            "born": f"{secrets.randbelow(28) + 1:02d}/03/2014",
            "sex": "Nam",
        },
        {
            "code": "",  # a new intake: the sector database has not coded her yet
            "name": f"Trần Thị {random_given_name()}",
            "born": f"{secrets.randbelow(28) + 1:02d}/07/2014",
            "sex": "Nữ",
        },
    ]
    with client_for(tokens.named("demo", ADMIN)) as principal:
        year = free_year()
        created = principal.post(
            f"/v1/schools/{school['id']}/classes", json={"name": class_name, "grade": 6, "school_year": year}
        )
        assert created.status_code == 201, created.text
        path = f"/v1/schools/{school['id']}/student-lists/{year}"
        content = c1_sheet(class_name, students)

        # A preview changes nothing: the real import still creates both.
        preview = upload(principal, f"{path}?dry_run=true", content)
        assert preview["dry_run"] is True
        assert [r["outcome"] for r in preview["rows"]] == ["created", "created"], preview

        report = upload(principal, path, content)
        assert report["dry_run"] is False
        assert (report["created"], report["updated"], report["unchanged"], report["refused"]) == (2, 0, 0, 0)
        assert [r["row"] for r in report["rows"]] == [3, 4]
        coded, uncoded = report["rows"]
        assert (coded["outcome"], coded["student_code"], coded["temporary_key"]) == ("created", code, None)
        assert uncoded["outcome"] == "created"
        assert uncoded["student_code"] is None
        assert uncoded["temporary_key"].startswith("TAM-")
        assert "Quốc tịch" in report["ignored_headers"]
        ids = [coded["student_id"], uncoded["student_id"]]

        again = upload(principal, path, content)
        assert (again["created"], again["updated"], again["unchanged"], again["refused"]) == (0, 0, 2, 0)
        assert [r["student_id"] for r in again["rows"]] == ids

        roster = principal.get(f"/v1/classes/{created.json()['id']}/students")
        assert roster.status_code == 200, roster.text
        assert sorted(s["id"] for s in roster.json()["items"]) == sorted(ids)

        exported = principal.get(path, timeout=60)
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"] == XLSX
        assert exported.headers["content-disposition"].startswith("attachment; filename=")
        assert f"_{year}.xlsx" in exported.headers["content-disposition"]
        sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
        rows = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
        header = next(r for r in rows if "Họ tên" in r)
        name_at, code_at, class_at = (
            header.index("Họ tên"),
            header.index("Mã học sinh"),
            header.index("Mã lớp"),
        )
        found = {r[name_at]: r for r in rows if r[name_at] in {s["name"] for s in students}}
        assert set(found) == {s["name"] for s in students}
        assert found[students[0]["name"]][code_at] == code
        assert found[students[1]["name"]][code_at] == ""  # the temporary key is never exported as a code
        assert {r[class_at] for r in found.values()} == {class_name}

        # The file's checks at the edge: not an .xlsx, and a malformed school year.
        csv = principal.post(path, files={"file": ("hs.csv", b"Ma lop,Ho ten\r\n", "text/csv")})
        assert csv.status_code == 415, csv.text
        assert csv.json()["reason"] == "UNSUPPORTED_FILE_TYPE"
        bad_year = principal.get(f"/v1/schools/{school['id']}/student-lists/2030")
        assert bad_year.status_code == 422, bad_year.text
        assert bad_year.json()["errors"][0]["field"] == "school_year"

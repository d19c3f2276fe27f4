"""REST ↔ student-record gRPC: the sector database's C1-HocSinh student list — the multipart import (bytes and
``dry_run`` forwarded, the body guard on a templated upload route, file checks) and the .xlsx export
(against the shared fake student-record, ``support.FakeStudentRecord``)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from school.student_record.v1 import student_record_pb2 as sr

from gateway.downloads import attachment
from gateway.tests.support import (
    EXPORTED_XLSX,
    OTHER_SCHOOL_ID,
    OTHER_STUDENT_ID,
    SCHOOL_ID,
    STUDENT_ID,
    TEACHER,
    Failure,
    Fakes,
    GatewayClient,
    MakeToken,
    bearer,
    teacher_scope,
)
from gateway.tests.test_identity_routes import MIB, xlsx_bytes, xlsx_of_size
from gateway.tests.test_routes import assert_problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST = f"/v1/schools/{SCHOOL_ID}/student-lists/2025-2026"


def sr_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.student_record.recorder.calls if c.method == method]


REPORT = {
    "dry_run": False,
    "created": 1,
    "updated": 0,
    "unchanged": 1,
    "refused": 1,
    "rows": [
        {
            "row": 3,
            "outcome": "created",
            "student_id": STUDENT_ID,
            "student_code": "0123456789",
            "temporary_key": None,
            "column": None,
            "reason": None,
            "message": None,
        },
        {
            "row": 4,
            "outcome": "unchanged",
            "student_id": OTHER_STUDENT_ID,
            "student_code": None,
            "temporary_key": "TAM-3F9A1C2B7E04",
            "column": None,
            "reason": None,
            "message": None,
        },
        {
            "row": 5,
            "outcome": "refused",
            "student_id": None,
            "student_code": None,
            "temporary_key": None,
            "column": "Ngày sinh",
            "reason": "INVALID_DATE",
            "message": "Ngày sinh không hợp lệ / invalid date of birth",
        },
    ],
    "ignored_headers": ["Quốc tịch", "Tôn giáo"],
}


async def test_import_forwards_the_file(client: GatewayClient, fakes: Fakes, token: str) -> None:
    content = xlsx_bytes()
    response = await client.post(
        LIST, headers=bearer(token), files={"file": ("C1-HocSinh 6A1.xlsx", content, XLSX)}
    )
    assert response.status_code == 200, response.text
    assert response.json() == REPORT
    assert sr_calls(fakes, "ImportStudents") == [
        sr.ImportStudentsRequest(school_id=SCHOOL_ID, school_year="2025-2026", content=content, dry_run=False)
    ]
    # The school is in the path: access is checked at the edge first.
    assert fakes.identity.recorder.methods() == ["GetAccessScope"]


async def test_import_dry_run(client: GatewayClient, fakes: Fakes, token: str) -> None:
    content = xlsx_bytes()
    response = await client.post(
        f"{LIST}?dry_run=true",
        headers=bearer(token),
        files={"file": ("s.xlsx", content, XLSX)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    [request] = sr_calls(fakes, "ImportStudents")
    assert (request.dry_run, request.school_id, request.content) == (True, SCHOOL_ID, content)


async def test_import_takes_exactly_10_mib(client: GatewayClient, fakes: Fakes, token: str) -> None:
    content = xlsx_of_size(10 * MIB)
    response = await client.post(LIST, headers=bearer(token), files={"file": ("s.xlsx", content)})
    assert response.status_code == 200, response.text
    assert sr_calls(fakes, "ImportStudents")[0].content == content


async def test_import_refuses_a_larger_file(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        LIST, headers=bearer(token), files={"file": ("s.xlsx", xlsx_of_size(10 * MIB + 1))}
    )
    body = assert_problem(response, 413, "FILE_TOO_LARGE")
    assert "10 MiB" in body["detail"]
    assert sr_calls(fakes, "ImportStudents") == []


async def test_import_refuses_a_huge_body_before_reading_it(client: GatewayClient, token: str) -> None:
    response = await client.post(
        LIST,
        headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=x"},
        content=b"-" * (11 * MIB),
    )
    body = assert_problem(response, 413, "FILE_TOO_LARGE")
    assert "10 MiB" in body["detail"]


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("hs.csv", b"Ma lop,Ho ten\r\n6A1,Nguyen Van An\r\n"),
        ("hs.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100),  # Excel 97-2003
        ("hs.xlsx", b"Ma lop,Ho ten\r\n"),  # a CSV renamed
    ],
)
async def test_import_refuses_other_file_types(
    client: GatewayClient, fakes: Fakes, token: str, filename: str, content: bytes
) -> None:
    response = await client.post(LIST, headers=bearer(token), files={"file": (filename, content)})
    body = assert_problem(response, 415, "UNSUPPORTED_FILE_TYPE")
    assert body["errors"][0]["field"] == "file"
    assert sr_calls(fakes, "ImportStudents") == []


async def test_import_needs_a_multipart_file(client: GatewayClient, fakes: Fakes, token: str) -> None:
    as_json = await client.post(LIST, headers=bearer(token), json={"file": "x"})
    assert "multipart/form-data" in assert_problem(as_json, 415, "UNSUPPORTED_MEDIA_TYPE")["detail"]
    no_file = await client.post(LIST, headers=bearer(token), files={"other": ("s.xlsx", xlsx_bytes())})
    assert assert_problem(no_file, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == "other"
    assert sr_calls(fakes, "ImportStudents") == []


async def test_import_path_shapes(client: GatewayClient, fakes: Fakes, token: str) -> None:
    files = {"file": ("s.xlsx", xlsx_bytes())}
    bad_year = await client.post(
        f"/v1/schools/{SCHOOL_ID}/student-lists/2025", headers=bearer(token), files=files
    )
    assert assert_problem(bad_year, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == "school_year"
    bad_school = await client.post(
        "/v1/schools/nope/student-lists/2025-2026", headers=bearer(token), files=files
    )
    assert_problem(bad_school, 404, "SCHOOL_NOT_FOUND")
    assert sr_calls(fakes, "ImportStudents") == []


async def test_import_is_for_the_school_admin(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken
) -> None:
    fakes.identity.recorder.scopes[TEACHER] = teacher_scope(TEACHER)
    teacher = make_token(subject=TEACHER, roles=("teacher",))
    response = await client.post(LIST, headers=bearer(teacher), files={"file": ("s.xlsx", xlsx_bytes())})
    assert response.status_code == 403, response.text
    other = await client.post(
        f"/v1/schools/{OTHER_SCHOOL_ID}/student-lists/2025-2026",
        headers=bearer(teacher),
        files={"file": ("s.xlsx", xlsx_bytes())},
    )
    assert_problem(other, 403, "NOT_YOUR_SCHOOL")
    assert sr_calls(fakes, "ImportStudents") == []


async def test_import_whole_file_refusal_names_the_file(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fakes.student_record.recorder.failures["ImportStudents"] = Failure(
        grpc.StatusCode.INVALID_ARGUMENT,
        "Tệp không phải bảng tính Excel (.xlsx) / not an Excel workbook",
        "INVALID_SPREADSHEET",
        {"field": "content"},
    )
    response = await client.post(LIST, headers=bearer(token), files={"file": ("s.xlsx", xlsx_bytes())})
    body = assert_problem(response, 422, "INVALID_SPREADSHEET")
    assert body["errors"] == [{"field": "file", "message": body["detail"]}]


async def test_import_takes_no_idempotency_key_but_repeats_harmlessly(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    files = {"file": ("s.xlsx", xlsx_bytes())}
    first = await client.post(LIST, headers=bearer(token), files=files)
    again = await client.post(LIST, headers=bearer(token), files=files)
    assert first.status_code == again.status_code == 200
    assert len(sr_calls(fakes, "ImportStudents")) == 2


async def test_export_is_an_attachment(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(LIST, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"] == 'attachment; filename="C1-HocSinh_LQD01_2025-2026.xlsx"'
    assert response.headers["cache-control"] == "no-store"
    assert response.content == EXPORTED_XLSX
    assert sr_calls(fakes, "ExportStudents") == [
        sr.ExportStudentsRequest(school_id=SCHOOL_ID, school_year="2025-2026")
    ]


async def test_export_is_for_the_school_admin(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken
) -> None:
    fakes.identity.recorder.scopes[TEACHER] = teacher_scope(TEACHER)
    teacher = make_token(subject=TEACHER, roles=("teacher",))
    response = await client.get(
        f"/v1/schools/{OTHER_SCHOOL_ID}/student-lists/2025-2026", headers=bearer(teacher)
    )
    assert_problem(response, 403, "NOT_YOUR_SCHOOL")
    assert sr_calls(fakes, "ExportStudents") == []


def test_attachment_names_are_safe() -> None:
    assert (
        attachment("C1-HocSinh_LQD01_2025-2026.xlsx")
        == 'attachment; filename="C1-HocSinh_LQD01_2025-2026.xlsx"'
    )
    assert attachment("Học bạ.pdf") == (
        "attachment; filename=\"Hoc_ba.pdf\"; filename*=UTF-8''H%E1%BB%8Dc%20b%E1%BA%A1.pdf"
    )
    hostile = attachment('a"b\r\nSet-Cookie: x=1/../c.xlsx')
    assert "\r" not in hostile
    assert "\n" not in hostile
    assert hostile.startswith('attachment; filename="a_b_Set-Cookie_x_1_.._c.xlsx"')


def test_templated_upload_routes_match_one_segment_per_parameter() -> None:
    from gateway.middleware import BodyGuardMiddleware

    guard = BodyGuardMiddleware(
        app=None,  # type: ignore[arg-type]
        max_bytes=1024,
        uploads={"/v1/staff/imports": 5, "/v1/schools/{school_id}/student-lists/{school_year}": 10},
    )
    assert guard.upload_limit("/v1/staff/imports") == 5
    assert guard.upload_limit(f"/v1/schools/{SCHOOL_ID}/student-lists/2025-2026") == 10
    assert guard.upload_limit("/v1/schools//student-lists/2025-2026") is None
    assert guard.upload_limit(f"/v1/schools/{SCHOOL_ID}/student-lists/2025-2026/x") is None
    assert guard.upload_limit(f"/v1/schools/{SCHOOL_ID}/x/student-lists/2025-2026") is None
    assert guard.upload_limit("/v1/schools") is None

"""REST ↔ identity gRPC: tenants, the caller, staff, citizen verification, link requests, consent, audit."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from school.identity.v1 import identity_pb2 as idn
from school_common.logging import JsonFormatter
from school_common.telemetry import configure_telemetry

from gateway.tests.support import (
    ACCOUNT_ID,
    CLASS_ID,
    IMPORT_ID,
    LINK_REQUEST_ID,
    OTHER_STUDENT_ID,
    PERSON_ID,
    SCHOOL_ID,
    STUDENT_ID,
    Failure,
    Fakes,
    GatewayClient,
    MakeToken,
    bearer,
    platform_token,
)
from gateway.tests.test_routes import assert_problem

MIB = 1024 * 1024
PERSONAL_ID = "079185000123"


def identity_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.identity.recorder.calls if c.method == method]


# Tenants


async def test_create_tenant(client: GatewayClient, fakes: Fakes, make_token: MakeToken) -> None:
    response = await client.post(
        "/v1/tenants",
        headers={**bearer(platform_token(make_token)), "Idempotency-Key": "tenant-hcm-1"},
        json={"slug": "hcm", "display_name": "Sở GD-ĐT TP. Hồ Chí Minh"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/tenants/hcm"
    assert response.json() == {
        "slug": "hcm",
        "display_name": "Sở GD-ĐT TP. Hồ Chí Minh",
        "realm": "tenant-hcm",
        "state": "active",
        "completed_steps": ["realm", "clients", "roles", "citizen-id-broker"],
        "last_error": None,
        "created_at": "2025-11-24T16:00:00Z",
        "updated_at": "2025-11-24T16:01:00Z",
    }
    assert identity_calls(fakes, "CreateTenant") == [
        idn.CreateTenantRequest(
            slug="hcm", display_name="Sở GD-ĐT TP. Hồ Chí Minh", request_id="tenant-hcm-1"
        )
    ]


async def test_get_tenant_as_its_authority_admin(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get("/v1/tenants/demo", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["last_error"]) == ("provisioning", "KEYCLOAK_UNAVAILABLE")
    assert body["completed_steps"] == ["realm", "clients"]
    assert fakes.identity.recorder.methods() == ["GetAccessScope", "GetTenant"]


@pytest.mark.parametrize(
    "slug", ["HCM", "-hcm", "hcm-", "h_cm", "hà-nội", "a" * 64, "", " hcm", 5, None, ["hcm"]]
)
async def test_bad_slug(client: GatewayClient, fakes: Fakes, make_token: MakeToken, slug: Any) -> None:
    response = await client.post(
        "/v1/tenants", headers=bearer(platform_token(make_token)), json={"slug": slug, "display_name": "X"}
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == ["slug"]
    assert fakes.identity.recorder.calls == []


async def test_tenant_fields_are_required(client: GatewayClient, make_token: MakeToken) -> None:
    response = await client.post("/v1/tenants", headers=bearer(platform_token(make_token)), json={})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert {e["field"] for e in body["errors"]} == {"slug", "display_name"}


@pytest.mark.parametrize("slug", ["HCM", "h_cm", "a" * 64, "hcm%0A"])
async def test_malformed_slug_in_path_is_not_found(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken, slug: str
) -> None:
    response = await client.get(f"/v1/tenants/{slug}", headers=bearer(platform_token(make_token)))
    assert_problem(response, 404, "TENANT_NOT_FOUND")
    assert fakes.identity.recorder.calls == []


async def test_tenant_already_exists(client: GatewayClient, fakes: Fakes, make_token: MakeToken) -> None:
    fakes.identity.recorder.failures["CreateTenant"] = Failure(
        grpc.StatusCode.ALREADY_EXISTS, "Đơn vị đã tồn tại / tenant exists", "TENANT_EXISTS"
    )
    response = await client.post(
        "/v1/tenants", headers=bearer(platform_token(make_token)), json={"slug": "hcm", "display_name": "X"}
    )
    assert_problem(response, 409, "TENANT_EXISTS")


# The caller


async def test_get_me(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get("/v1/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "subject": "0193a4c2-0000-7000-8000-000000000001",
        "tenant": "demo",
        "display_name": "Trần Thị Mai",
        "roles": ["guardian", "teacher"],
        "person_id": PERSON_ID,
        "verification": {
            "status": "verified",
            "checks": {"full_name": True},
            "verified_at": "2025-11-24T16:00:00Z",
            "identification_level": 2,
            "source": "VNEID",
        },
        "schools": [{"school_id": SCHOOL_ID, "school_name": "Trường THCS Nguyễn Du", "roles": []}],
        "classes": [
            {
                "class_id": CLASS_ID,
                "school_id": SCHOOL_ID,
                "class_name": "6A1",
                "role": "teacher",
                "subject": "Toán",
            }
        ],
        "children": [
            {
                "student_id": STUDENT_ID,
                "full_name": "Nguyễn Văn An",
                "school_id": SCHOOL_ID,
                "school_name": "Trường THCS Nguyễn Du",
                "class_id": CLASS_ID,
                "class_name": "6A1",
                "relationship": "mother",
                "linked_at": "2025-11-24T16:00:00Z",
            }
        ],
        "link_state": "linked",
        "pending_link_requests": 1,
        "tenant_wide": False,
        "own_records": [
            {
                "student_id": OTHER_STUDENT_ID,
                "full_name": "Trần Thị Mai",
                "school_id": SCHOOL_ID,
                "school_name": "Trường THCS Nguyễn Du",
                "class_id": CLASS_ID,
                "class_name": "9A1",
                "relationship": "self",
                "linked_at": None,
            }
        ],
    }
    assert fakes.identity.recorder.methods() == ["GetMe"]  # identity decides; no edge check needed


# Staff


def xlsx_bytes(padding: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        if padding:
            archive.writestr("xl/media/padding.bin", b"\0" * padding)
    return buffer.getvalue()


def xlsx_of_size(size: int) -> bytes:
    base = len(xlsx_bytes(1))
    content = xlsx_bytes(1 + size - base)
    assert len(content) == size
    return content


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_import_staff(client: GatewayClient, fakes: Fakes, token: str) -> None:
    content = xlsx_bytes()
    response = await client.post(
        "/v1/staff/imports",
        headers={**bearer(token), "Idempotency-Key": "import-1"},
        files={"file": ("Danh sách cán bộ.xlsx", content, XLSX)},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "import_id": IMPORT_ID,
        "columns": {"full_name": "Họ và tên", "date_of_birth": "Ngày sinh"},
        "rows": [
            {
                "row": 2,
                "outcome": "created",
                "problems": [],
                "account_id": ACCOUNT_ID,
                "verification_status": "pending",
            },
            {
                "row": 3,
                "outcome": "refused",
                "problems": [
                    {
                        "column": "Ngày sinh",
                        "reason": "INVALID_DATE",
                        "message": "Ngày sinh không hợp lệ / invalid date of birth",
                    }
                ],
                "account_id": None,
                "verification_status": None,
            },
        ],
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "refused": 1,
    }
    assert identity_calls(fakes, "ImportStaff") == [
        idn.ImportStaffRequest(content=content, filename="Danh sách cán bộ.xlsx", request_id="import-1")
    ]


async def test_import_takes_a_file_of_exactly_5_mib(client: GatewayClient, fakes: Fakes, token: str) -> None:
    content = xlsx_of_size(5 * MIB)
    response = await client.post(
        "/v1/staff/imports", headers=bearer(token), files={"file": ("s.xlsx", content)}
    )
    assert response.status_code == 200, response.text
    assert identity_calls(fakes, "ImportStaff")[0].content == content


async def test_import_refuses_a_larger_file(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        "/v1/staff/imports", headers=bearer(token), files={"file": ("s.xlsx", xlsx_of_size(5 * MIB + 1))}
    )
    body = assert_problem(response, 413, "FILE_TOO_LARGE")
    assert "5 MiB" in body["detail"]
    assert fakes.identity.recorder.calls == []


async def test_import_refuses_a_huge_body_before_reading_it(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(
        "/v1/staff/imports",
        headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=x"},
        content=b"-" * (6 * MIB),
    )
    assert_problem(response, 413, "FILE_TOO_LARGE")


async def test_import_refuses_a_huge_streamed_body(client: GatewayClient, fakes: Fakes, token: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="s.xlsx"\r\n\r\nPK\x03\x04'
        for _ in range(6):
            yield b"\0" * MIB

    response = await client.post(
        "/v1/staff/imports",
        headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=x"},
        content=chunks(),
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "FILE_TOO_LARGE")
    assert fakes.identity.recorder.calls == []


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("staff.csv", b"ho_ten,ngay_sinh\r\nNguyen Thi Lan,1990-01-01\r\n"),
        ("staff.xlsx", b"ho_ten,ngay_sinh\r\n"),  # a CSV renamed
        ("staff.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100),  # Excel 97-2003
        ("staff.xls", b"PK\x03\x04" + b"\0" * 100),
        ("staff", b"PK\x03\x04" + b"\0" * 100),
    ],
)
async def test_import_refuses_other_file_types(
    client: GatewayClient, fakes: Fakes, token: str, filename: str, content: bytes
) -> None:
    response = await client.post(
        "/v1/staff/imports", headers=bearer(token), files={"file": (filename, content)}
    )
    body = assert_problem(response, 415, "UNSUPPORTED_FILE_TYPE")
    assert body["errors"][0]["field"] == "file"
    assert fakes.identity.recorder.calls == []


async def test_import_needs_multipart(client: GatewayClient, token: str) -> None:
    response = await client.post("/v1/staff/imports", headers=bearer(token), json={"file": "UEsDBA=="})
    body = assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert "multipart/form-data" in body["detail"]
    empty = await client.post("/v1/staff/imports", headers=bearer(token))
    assert_problem(empty, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_multipart_is_for_upload_routes_only(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        "/v1/schools", headers=bearer(token), files={"file": ("s.xlsx", xlsx_bytes())}
    )
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"data": {"school_id": SCHOOL_ID}, "files": {"file": ("s.xlsx", xlsx_bytes())}}, "school_id"),
        ({"files": {"spreadsheet": ("s.xlsx", xlsx_bytes())}}, "spreadsheet"),
        ({"files": {"file": (None, "not a file")}}, "file"),
        ({"files": {"file": ("s.xlsx", b"")}}, "file"),
        ({"files": [("file", ("a.xlsx", xlsx_bytes())), ("file", ("b.xlsx", xlsx_bytes()))]}, "file"),
    ],
)
async def test_import_form_errors(
    client: GatewayClient, fakes: Fakes, token: str, form: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/staff/imports", headers=bearer(token), **form)
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.identity.recorder.calls == []


async def test_import_malformed_multipart(client: GatewayClient, token: str) -> None:
    response = await client.post(
        "/v1/staff/imports",
        headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=abc"},
        content=b"this is not multipart",
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert body["errors"][0]["field"] == "body"


async def test_list_staff(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(
        "/v1/staff",
        params={"school_id": SCHOOL_ID.upper(), "page_size": 20, "page_token": "staff-1"},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "account_id": ACCOUNT_ID,
                "subject": "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f",
                "username": "lan.nguyen",
                "full_name": "Nguyễn Thị Lan",
                "staff_code": None,
                "assignments": [
                    {"role": "teacher", "school_id": SCHOOL_ID, "class_id": CLASS_ID, "subject": "Toán"}
                ],
                "verification": None,
            }
        ],
        "next_page_token": "staff-2",
    }
    assert identity_calls(fakes, "ListStaff") == [
        idn.ListStaffRequest(school_id=SCHOOL_ID, page_size=20, page_token="staff-1")
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"school_id": "42"}, "school_id"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 201}, "page_size"),
        ({"page_size": "all"}, "page_size"),
        ({"page_token": "x" * 513}, "page_token"),
    ],
)
async def test_list_staff_bad_query(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, Any], field: str
) -> None:
    body = assert_problem(
        await client.get("/v1/staff", params=params, headers=bearer(token)), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.identity.recorder.calls == []


# Citizen verification

CITIZEN = {"personal_id": PERSONAL_ID, "full_name": "Trần Thị Mai", "date_of_birth": "1985-03-12"}


async def test_verify_citizen(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post("/v1/citizen-verifications", headers=bearer(token), json=CITIZEN)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "person_id": PERSON_ID,
        "status": "mismatch",
        "checks": {"full_name": True, "date_of_birth": False},
        "verified_at": "2025-11-24T16:00:00Z",
        "identification_level": 0,
        "source": "POPULATION_REGISTRY",
    }
    assert PERSONAL_ID not in response.text
    assert identity_calls(fakes, "VerifyCitizen") == [idn.VerifyCitizenRequest(**CITIZEN)]


@pytest.mark.parametrize(
    "personal_id",
    [
        "07918500012",
        "0791850001234",
        "07918500012a",
        "079 185 000 12",
        "０７９１８５０００１２３",
        "٠٧٩١٨٥٠٠٠١٢٣",
        79185000123,
        None,
    ],
)
async def test_personal_id_must_be_12_ascii_digits(
    client: GatewayClient, fakes: Fakes, token: str, personal_id: Any
) -> None:
    response = await client.post(
        "/v1/citizen-verifications", headers=bearer(token), json={**CITIZEN, "personal_id": personal_id}
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == ["personal_id"]
    if isinstance(personal_id, str):
        assert personal_id not in response.text
    assert fakes.identity.recorder.calls == []


@pytest.mark.parametrize(
    "date_of_birth", ["1985-02-30", "12/03/1985", "1985-3-12", "1985-03-12T00:00:00", 19850312]
)
async def test_verification_bad_dates(client: GatewayClient, token: str, date_of_birth: Any) -> None:
    response = await client.post(
        "/v1/citizen-verifications", headers=bearer(token), json={**CITIZEN, "date_of_birth": date_of_birth}
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == ["date_of_birth"]


async def test_verification_missing_and_unknown_fields(client: GatewayClient, token: str) -> None:
    response = await client.post(
        "/v1/citizen-verifications", headers=bearer(token), json={"full_name": "A", "cccd": PERSONAL_ID}
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert {e["field"] for e in body["errors"]} == {"personal_id", "date_of_birth", "cccd"}
    assert PERSONAL_ID not in response.text


async def test_personal_id_never_reaches_logs_or_traces(
    client: GatewayClient, fakes: Fakes, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = InMemorySpanExporter()
    configure_telemetry("gateway-test", [SimpleSpanProcessor(exporter)])
    caplog.set_level(logging.DEBUG)
    responses = [await client.post("/v1/citizen-verifications", headers=bearer(token), json=CITIZEN)]
    # A careless identity putting the number in its error message; a 503; a refused shape.
    fakes.identity.recorder.failures["VerifyCitizen"] = Failure(
        grpc.StatusCode.INTERNAL, f"crash verifying {PERSONAL_ID}"
    )
    responses.append(await client.post("/v1/citizen-verifications", headers=bearer(token), json=CITIZEN))
    fakes.identity.recorder.failures["VerifyCitizen"] = Failure(
        grpc.StatusCode.UNAVAILABLE, f"register down for {PERSONAL_ID}"
    )
    responses.append(await client.post("/v1/citizen-verifications", headers=bearer(token), json=CITIZEN))
    responses.append(
        await client.post(
            "/v1/citizen-verifications",
            headers=bearer(token),
            json={**CITIZEN, "personal_id": PERSONAL_ID + "9"},
        )
    )
    assert [r.status_code for r in responses] == [200, 500, 503, 422]
    for response in responses:
        assert PERSONAL_ID not in response.text
    assert len(identity_calls(fakes, "VerifyCitizen")) == 3  # it did reach identity

    records = [r for r in caplog.records if r.name != "httpx"]  # the test's own client
    assert any(r.name == "gateway.access" for r in records)
    formatter = JsonFormatter("gateway")
    for record in records:
        assert PERSONAL_ID not in formatter.format(record), record.getMessage()
        assert PERSONAL_ID not in repr(record.__dict__)

    spans = exporter.get_finished_spans()
    assert any(s.name == "POST /v1/citizen-verifications" for s in spans)
    for span in spans:
        assert PERSONAL_ID not in repr(dict(span.attributes or {})), span.name
        for event in span.events:
            assert PERSONAL_ID not in repr(dict(event.attributes or {})), span.name
        # The gRPC client span's status carries the service's own message: services must not put
        # personal data there. The gateway's spans never do.
        if span.kind is not SpanKind.CLIENT:
            assert PERSONAL_ID not in str(span.status.description or ""), span.name


# Link requests

LINK_REQUEST = {
    "school_id": SCHOOL_ID,
    "child_full_name": "Nguyễn Văn An",
    "child_date_of_birth": "2014-09-05",
    "relationship": "mother",
    "note": "Con học lớp 6A1",
}


async def test_create_link_request(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        "/v1/link-requests", headers={**bearer(token), "Idempotency-Key": "link-1"}, json=LINK_REQUEST
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": LINK_REQUEST_ID,
        "school_id": SCHOOL_ID,
        "student_id": None,
        "child_full_name": "Nguyễn Văn An",
        "child_date_of_birth": "2014-09-05",
        "relationship": "mother",
        "note": "Con học lớp 6A1",
        "state": "pending",
        "decision_reason": None,
        "requester_name": "Trần Thị Mai",
        "candidate_student_ids": [],
        "created_at": "2025-11-24T16:00:00Z",
        "decided_at": None,
    }
    assert identity_calls(fakes, "CreateLinkRequest") == [
        idn.CreateLinkRequestRequest(**LINK_REQUEST, request_id="link-1")
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"school_id": "school-1"}, "school_id"),
        ({"child_date_of_birth": "2014-13-01"}, "child_date_of_birth"),
        ({"child_date_of_birth": "05/09/2014"}, "child_date_of_birth"),
        ({"relationship": "uncle"}, "relationship"),
        ({"child_full_name": ""}, "child_full_name"),
        ({"child_full_name": None}, "child_full_name"),
        ({"note": 5}, "note"),
        ({"student_id": STUDENT_ID}, "student_id"),
    ],
)
async def test_link_request_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/link-requests", headers=bearer(token), json={**LINK_REQUEST, **change})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.identity.recorder.calls == []


async def test_link_request_without_optional_note(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {k: v for k, v in LINK_REQUEST.items() if k != "note"}
    assert (await client.post("/v1/link-requests", headers=bearer(token), json=body)).status_code == 201
    assert identity_calls(fakes, "CreateLinkRequest")[0].note == ""


async def test_list_link_requests(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(
        "/v1/link-requests", params={"state": "approved", "page_size": 5}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["items"]] == [LINK_REQUEST_ID]
    assert response.json()["next_page_token"] is None
    await client.get("/v1/link-requests", headers=bearer(token))
    assert identity_calls(fakes, "ListLinkRequests") == [
        idn.ListLinkRequestsRequest(state=idn.LINK_REQUEST_STATE_APPROVED, page_size=5),
        idn.ListLinkRequestsRequest(state=idn.LINK_REQUEST_STATE_UNSPECIFIED),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"state": "open"}, "state"), ({"state": "PENDING"}, "state"), ({"page_size": -1}, "page_size")],
)
async def test_list_link_requests_bad_query(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/v1/link-requests", params=params, headers=bearer(token))
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.identity.recorder.calls == []


async def test_decide_link_request(client: GatewayClient, fakes: Fakes, token: str) -> None:
    url = f"/v1/link-requests/{LINK_REQUEST_ID}/decision"
    approved = await client.post(url, headers=bearer(token), json={"approve": True, "student_id": STUDENT_ID})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["student_id"]) == ("approved", STUDENT_ID)
    assert approved.json()["decided_at"] == "2025-11-24T16:05:00Z"
    refused = await client.post(url, headers=bearer(token), json={"approve": False, "reason": "Không khớp"})
    assert (refused.json()["state"], refused.json()["decision_reason"]) == ("refused", "Không khớp")
    assert identity_calls(fakes, "DecideLinkRequest") == [
        idn.DecideLinkRequestRequest(link_request_id=LINK_REQUEST_ID, approve=True, student_id=STUDENT_ID),
        idn.DecideLinkRequestRequest(link_request_id=LINK_REQUEST_ID, approve=False, reason="Không khớp"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"approve": True}, "student_id"),
        ({"approve": False}, "reason"),
        ({"approve": False, "reason": ""}, "reason"),
        ({"approve": "yes", "student_id": STUDENT_ID}, "approve"),
        ({"approve": 1, "student_id": STUDENT_ID}, "approve"),
        ({"student_id": STUDENT_ID}, "approve"),
        ({"approve": True, "student_id": "42"}, "student_id"),
    ],
)
async def test_decision_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(
        f"/v1/link-requests/{LINK_REQUEST_ID}/decision", headers=bearer(token), json=body
    )
    problem = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.identity.recorder.calls == []


async def test_decision_on_a_malformed_id_is_not_found(client: GatewayClient, token: str) -> None:
    response = await client.post(
        "/v1/link-requests/7/decision", headers=bearer(token), json={"approve": False, "reason": "x"}
    )
    assert_problem(response, 404, "LINK_REQUEST_NOT_FOUND")


async def test_guardian_cannot_decide_their_own_request(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fakes.identity.recorder.failures["DecideLinkRequest"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED,
        "Không thể tự duyệt đề nghị của mình / you cannot decide your own request",
        "OWN_LINK_REQUEST",
    )
    response = await client.post(
        f"/v1/link-requests/{LINK_REQUEST_ID}/decision",
        headers=bearer(token),
        json={"approve": True, "student_id": STUDENT_ID},
    )
    assert_problem(response, 403, "OWN_LINK_REQUEST")


# Consent


async def test_list_consent_purposes(client: GatewayClient, token: str) -> None:
    response = await client.get("/v1/consent-purposes", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "code": "student_records",
                "title": "Hồ sơ học sinh / Student records",
                "legal_basis": "law",
                "legal_reference": "Luật Giáo dục 2019",
                "child_consent_from_age_7": False,
            },
            {
                "code": "photos_in_school_media",
                "title": "Đăng ảnh học sinh / Photos in school media",
                "legal_basis": "consent",
                "legal_reference": None,
                "child_consent_from_age_7": True,
            },
        ]
    }


async def test_list_student_consents(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(f"/v1/students/{STUDENT_ID.upper()}/consents", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["purposes"] == [
        {
            "purpose": "photos_in_school_media",
            "legal_basis": "consent",
            "permitted": False,
            "missing": ["child"],
        }
    ]
    assert body["consents"][0]["state"] == "granted"
    assert body["consents"][0]["withdrawn_at"] is None
    assert identity_calls(fakes, "ListConsents") == [idn.ListConsentsRequest(student_id=STUDENT_ID)]


async def test_grant_and_withdraw_consent(client: GatewayClient, fakes: Fakes, token: str) -> None:
    granted = await client.post(
        f"/v1/students/{STUDENT_ID}/consents",
        headers={**bearer(token), "Idempotency-Key": "consent-1"},
        json={"purpose": "photos_in_school_media"},
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["state"] == "granted"
    withdrawn = await client.delete(
        f"/v1/students/{STUDENT_ID}/consents/photos_in_school_media", headers=bearer(token)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json() == {
        "id": withdrawn.json()["id"],
        "student_id": STUDENT_ID,
        "purpose": "photos_in_school_media",
        "given_by": "guardian",
        "state": "withdrawn",
        "granted_at": "2025-11-24T16:00:00Z",
        "withdrawn_at": "2025-11-24T16:10:00Z",
    }
    assert identity_calls(fakes, "GrantConsent") == [
        idn.GrantConsentRequest(
            student_id=STUDENT_ID, purpose="photos_in_school_media", request_id="consent-1"
        )
    ]
    assert identity_calls(fakes, "WithdrawConsent") == [
        idn.WithdrawConsentRequest(student_id=STUDENT_ID, purpose="photos_in_school_media")
    ]


@pytest.mark.parametrize(
    "body", [{"purpose": "Photos!"}, {"purpose": ""}, {"purpose": 3}, {}, {"purpose": "x", "y": 1}]
)
async def test_grant_consent_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any]
) -> None:
    response = await client.post(f"/v1/students/{STUDENT_ID}/consents", headers=bearer(token), json=body)
    assert_problem(response, 422, "INVALID_ARGUMENT")
    assert fakes.identity.recorder.calls == []


async def test_consent_paths_with_malformed_ids(client: GatewayClient, fakes: Fakes, token: str) -> None:
    assert_problem(
        await client.get("/v1/students/42/consents", headers=bearer(token)), 404, "STUDENT_NOT_FOUND"
    )
    assert_problem(
        await client.delete(f"/v1/students/{STUDENT_ID}/consents/Bad-Purpose", headers=bearer(token)),
        404,
        "PURPOSE_NOT_FOUND",
    )
    assert fakes.identity.recorder.calls == []


async def test_law_based_purpose_cannot_be_withdrawn(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fakes.identity.recorder.failures["WithdrawConsent"] = Failure(
        grpc.StatusCode.FAILED_PRECONDITION,
        "Mục đích này dựa trên luật, không rút lại được / this purpose rests on law",
        "CONSENT_NOT_WITHDRAWABLE",
    )
    response = await client.delete(
        f"/v1/students/{STUDENT_ID}/consents/student_records", headers=bearer(token)
    )
    assert_problem(response, 422, "CONSENT_NOT_WITHDRAWABLE")


# Audit


def ts(value: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(value)
    return stamp


async def test_list_audit_events(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(
        "/v1/audit-events",
        params=[
            ("action", "LOGIN"),
            ("action", "LOGIN_ERROR"),
            ("actor", "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f"),
            ("since", "2025-11-01T00:00:00+07:00"),
            ("until", "2025-12-01T00:00:00Z"),
            ("page_size", "2"),
        ],
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_page_token"] == "page-2"
    assert body["items"][0] == {
        "id": "0193a4c2-9988-7e91-8da2-000000000001",
        "occurred_at": "2025-11-24T16:00:01Z",
        "source": "keycloak",
        "action": "LOGIN",
        "actor": "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f",
        "target": "user:1",
        "outcome": "SUCCESS",
        "details": {"client_id": "school-console", "ghi_chú": "Đăng nhập từ Hà Nội"},
    }
    assert body["items"][1]["actor"] is None
    assert identity_calls(fakes, "ListAuditEvents") == [
        idn.ListAuditEventsRequest(
            actions=["LOGIN", "LOGIN_ERROR"],
            actor="6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f",
            since=ts("2025-10-31T17:00:00Z"),
            until=ts("2025-12-01T00:00:00Z"),
            page_size=2,
        )
    ]
    assert fakes.identity.recorder.methods()[0] == "GetAccessScope"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"action": "login"}, "action[0]"),
        ({"action": "LOGIN; DROP"}, "action[0]"),
        ({"since": "2025-11-01T00:00:00"}, "since"),  # no time zone
        ({"since": "2025-11-01"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2025-02-30T00:00:00Z"}, "until"),
        ({"since": "2025-12-01T00:00:00Z", "until": "2025-11-01T00:00:00Z"}, "until"),
        ({"actor": "has space"}, "actor"),
        ({"page_size": 1000}, "page_size"),
    ],
)
async def test_audit_bad_filters(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, Any], field: str
) -> None:
    for path in ("/v1/audit-events", "/v1/audit-events/export"):
        if path.endswith("export") and "page_size" in params:
            continue
        response = await client.get(path, params=params, headers=bearer(token))
        body = assert_problem(response, 422, "INVALID_ARGUMENT")
        assert [e["field"] for e in body["errors"]] == [field]
    assert "ListAuditEvents" not in fakes.identity.recorder.methods()


async def test_audit_export_streams_every_page_as_excel_friendly_csv(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.get(
        "/v1/audit-events/export", params={"since": "2025-11-01T00:00:00Z"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="audit-demo-{today}.csv"'
    assert response.headers["cache-control"] == "no-store"
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    assert b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["id", "occurred_at", "source", "action", "actor", "target", "outcome", "details"]
    assert [r[0][-1] for r in rows[1:]] == ["1", "2", "3", "4"]  # every page, in order
    assert rows[1] == [
        "0193a4c2-9988-7e91-8da2-000000000001",
        "2025-11-24T16:00:01Z",
        "keycloak",
        "LOGIN",
        "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f",
        "user:1",
        "SUCCESS",
        '{"client_id":"school-console","ghi_chú":"Đăng nhập từ Hà Nội"}',
    ]
    assert json.loads(rows[1][7])["ghi_chú"] == "Đăng nhập từ Hà Nội"
    assert rows[2][4] == ""  # a failed sign-in has no actor
    assert rows[4][5] == '\'=HYPERLINK("http://x")'  # never a formula in Excel
    requests = identity_calls(fakes, "ListAuditEvents")
    assert [r.page_token for r in requests] == ["", "page-2", "page-3"]
    assert {r.page_size for r in requests} == {200}
    assert all(r.since == ts("2025-11-01T00:00:00Z") for r in requests)


async def test_audit_export_failing_before_the_stream_is_a_problem(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fakes.identity.recorder.failures["ListAuditEvents"] = Failure(grpc.StatusCode.UNAVAILABLE, "down")
    response = await client.get("/v1/audit-events/export", headers=bearer(token))
    assert_problem(response, 503, "SERVICE_UNAVAILABLE")


async def test_audit_export_failing_midway_is_never_a_complete_looking_file(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    # At the ASGI level, as the server sees it: the body never ends (more_body=False is never sent) and
    # the app raises, so the server aborts the transfer and the client sees a broken download.
    fakes.identity.recorder.failures["ListAuditEvents@page-3"] = Failure(grpc.StatusCode.UNAVAILABLE, "down")
    sent: list[dict[str, Any]] = []

    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("gateway.test", 80),
        "client": ("127.0.0.1", 40000),
        "root_path": "",
        "path": "/v1/audit-events/export",
        "raw_path": b"/v1/audit-events/export",
        "query_string": b"",
        "headers": [(b"host", b"gateway.test"), (b"authorization", f"Bearer {token}".encode())],
    }
    with pytest.raises(Exception) as raised:  # noqa: PT011 — any exception aborts the transfer
        await asyncio.wait_for(client.app(scope, receive, send), timeout=10)
    assert type(raised.value).__name__ == "ExportAborted"
    assert (sent[0]["type"], sent[0]["status"]) == ("http.response.start", 200)
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert all(m.get("more_body", False) for m in bodies), "the body must not end as if complete"
    text = b"".join(m.get("body", b"") for m in bodies).decode("utf-8-sig")
    assert len(text.splitlines()) == 1 + 3  # header and the first two pages, then the abort
    assert [c.request.page_token for c in fakes.identity.recorder.calls if c.method != "GetAccessScope"] == [
        "",
        "page-2",
        "page-3",
    ]


@pytest.mark.parametrize("path", ["/v1/audit-events", "/v1/audit-events/export"])
async def test_audit_needs_tenant_administration(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken, path: str
) -> None:
    subject = "0193a4c2-0000-7000-8000-0000000000ad"
    fakes.identity.recorder.scopes[subject] = idn.GetAccessScopeResponse(
        subject=subject, schools=[idn.ScopedSchool(school_id=SCHOOL_ID, role="school_admin")]
    )
    response = await client.get(path, headers=bearer(make_token(subject=subject, roles=("school_admin",))))
    assert_problem(response, 403, "ADMIN_ROLE_REQUIRED")
    # the refusal by the cached scope is checked once against a fresh one; nothing is forwarded
    assert fakes.identity.recorder.methods() == ["GetAccessScope", "GetAccessScope"]

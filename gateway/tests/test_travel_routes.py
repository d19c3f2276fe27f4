"""REST ↔ student-record gRPC: transfers out of the tenant and into it — the departure (201, Idempotency-Key
forwarded as request_id, a `transfer_out` movement with its `counterpart`), the signed record package as an
XML attachment, the arrival with a package (a multipart upload: the body guard on a templated route, the XML
file checks, the `effective_on` form field, 201 `{student, movement}`), the received packages' metadata and
each one's download; shapes and the service's refusals passed through with their reasons, against the shared
fake student-record."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from school.student_record.v1 import student_record_pb2 as sr

from gateway.tests.support import (
    ARRIVED_STUDENT_ID,
    CLASS_ID,
    DESTINATION,
    MOVEMENT_ID,
    OTHER_RECEIVED_PACKAGE,
    OTHER_RECEIVED_RECORD_ID,
    OTHER_SCHOOL_ID,
    PRINCIPAL_SUBJECT,
    RECEIVED_PACKAGE,
    RECEIVED_RECORD_ID,
    RECORD_PACKAGE,
    SCHOOL_ID,
    STUDENT_ID,
    Failure,
    Fakes,
    GatewayClient,
    bearer,
)
from gateway.tests.test_routes import assert_problem

MIB = 1024 * 1024
DEPARTURES = f"/v1/students/{STUDENT_ID}/departures"
PACKAGE = f"/v1/students/{STUDENT_ID}/record-package"
ARRIVALS = f"/v1/classes/{CLASS_ID}/arrivals"
RECEIVED = f"/v1/students/{STUDENT_ID}/received-records"

DEPARTURE = {
    "destination": DESTINATION,
    "reason": "Gia đình chuyển vào TP. HCM",
    "effective_on": "2025-11-24",
}
XML = "application/xml"


def sr_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.student_record.recorder.calls if c.method == method]


def package_of_size(size: int) -> bytes:
    head, tail = b'<?xml version="1.0" encoding="UTF-8"?><HoSoChuyenTruong>', b"</HoSoChuyenTruong>"
    return head + b" " * (size - len(head) - len(tail)) + tail


def arrival_form(
    content: bytes = RECORD_PACKAGE, filename: str = "ho-so.xml", media_type: str | None = XML, **fields: Any
) -> dict[str, Any]:
    file = (filename, content, media_type) if media_type else (filename, content)
    return {"files": {"file": file}, "data": {"effective_on": "2025-11-24", **fields}}


# Departures


async def test_transfer_student_out(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        DEPARTURES, headers={**bearer(token), "Idempotency-Key": "leave-1"}, json=DEPARTURE
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": MOVEMENT_ID,
        "student_id": STUDENT_ID,
        "kind": "transfer_out",
        "state": "done",
        "school_year": "2025-2026",
        "from_school_id": SCHOOL_ID,
        "from_class_id": CLASS_ID,
        "to_school_id": None,
        "to_class_id": None,
        "counterpart": DESTINATION,
        "effective_on": "2025-11-24",
        "reason": DEPARTURE["reason"],
        "requested_by": PRINCIPAL_SUBJECT,
        "requested_at": "2025-11-24T16:00:00Z",
        "decided_by": PRINCIPAL_SUBJECT,
        "decided_at": "2025-11-24T16:00:00Z",
        "decision_note": None,
    }
    assert sr_calls(fakes, "TransferStudentOut") == [
        sr.TransferStudentOutRequest(
            request_id="leave-1",
            student_id=STUDENT_ID,
            destination=DESTINATION,
            reason=DEPARTURE["reason"],
            effective_on="2025-11-24",
        )
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"destination": ""}, "destination"),
        ({"destination": "x" * 301}, "destination"),
        ({"destination": None}, "destination"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"effective_on": "2025-02-30"}, "effective_on"),
        ({"effective_on": "24/11/2025"}, "effective_on"),
        ({"to_school_id": OTHER_SCHOOL_ID}, "to_school_id"),  # unknown field
    ],
)
async def test_departure_shapes(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post(DEPARTURES, headers=bearer(token), json={**DEPARTURE, **change})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert sr_calls(fakes, "TransferStudentOut") == []


async def test_departure_refusals_pass_through(client: GatewayClient, fakes: Fakes, token: str) -> None:
    recorder = fakes.student_record.recorder
    recorder.failures["TransferStudentOut"] = Failure(
        grpc.StatusCode.FAILED_PRECONDITION,
        "Học sinh đã rời trường / the student has already left the school",
        "STUDENT_NOT_ON_ROLL",
    )
    post = await client.post(DEPARTURES, headers=bearer(token), json=DEPARTURE)
    assert_problem(post, 422, "STUDENT_NOT_ON_ROLL")
    recorder.failures["TransferStudentOut"] = Failure(
        grpc.StatusCode.INVALID_ARGUMENT,
        "Ngày phải có dạng YYYY-MM-DD và không ở tương lai / a YYYY-MM-DD date, not in the future",
        "INVALID_DATE",
        {"field": "effective_on"},
    )
    future = await client.post(
        DEPARTURES, headers=bearer(token), json={**DEPARTURE, "effective_on": "2099-01-01"}
    )
    assert assert_problem(future, 422, "INVALID_DATE")["errors"][0]["field"] == "effective_on"
    recorder.failures["TransferStudentOut"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED, "Không được / not allowed", "NOT_YOUR_SCHOOL"
    )
    assert_problem(
        await client.post(DEPARTURES, headers=bearer(token), json=DEPARTURE), 403, "NOT_YOUR_SCHOOL"
    )
    malformed = await client.post("/v1/students/an/departures", headers=bearer(token), json=DEPARTURE)
    assert_problem(malformed, 404, "STUDENT_NOT_FOUND")
    assert_problem(await client.post(DEPARTURES, json=DEPARTURE), 401, "MISSING_TOKEN")
    bad_key = await client.post(
        DEPARTURES, headers={**bearer(token), "Idempotency-Key": "a b"}, json=DEPARTURE
    )
    assert_problem(bad_key, 422, "INVALID_IDEMPOTENCY_KEY")
    assert len(sr_calls(fakes, "TransferStudentOut")) == 3


# The signed package


async def test_record_package_is_an_xml_attachment(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(PACKAGE, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XML
    assert response.headers["content-disposition"] == (
        f'attachment; filename="ho-so-chuyen-truong-{STUDENT_ID}.xml"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.content == RECORD_PACKAGE
    assert sr_calls(fakes, "ExportStudentRecord") == [sr.ExportStudentRecordRequest(student_id=STUDENT_ID)]


async def test_record_package_refusals(client: GatewayClient, fakes: Fakes, token: str) -> None:
    recorder = fakes.student_record.recorder
    for code, reason, status in (
        (grpc.StatusCode.PERMISSION_DENIED, "ADMIN_ROLE_REQUIRED", 403),
        (grpc.StatusCode.NOT_FOUND, "STUDENT_NOT_FOUND", 404),
    ):
        recorder.failures["ExportStudentRecord"] = Failure(code, "Không được / not allowed", reason)
        assert_problem(await client.get(PACKAGE, headers=bearer(token)), status, reason)
    malformed = await client.get("/v1/students/42/record-package", headers=bearer(token))
    assert_problem(malformed, 404, "STUDENT_NOT_FOUND")
    assert len(sr_calls(fakes, "ExportStudentRecord")) == 2


# Arrivals


async def test_admit_with_a_record_package(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        ARRIVALS, headers={**bearer(token), "Idempotency-Key": "arrive-1"}, **arrival_form()
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["student"]["id"] == ARRIVED_STUDENT_ID
    assert body["student"]["full_name"] == "Phạm Minh Châu"
    movement = body["movement"]
    assert (movement["kind"], movement["state"], movement["student_id"]) == (
        "transfer_in",
        "done",
        ARRIVED_STUDENT_ID,
    )
    assert (movement["from_school_id"], movement["from_class_id"]) == (None, None)
    assert (movement["to_school_id"], movement["to_class_id"]) == (OTHER_SCHOOL_ID, CLASS_ID)
    assert movement["counterpart"] == DESTINATION
    assert sr_calls(fakes, "ImportStudentRecord") == [
        sr.ImportStudentRecordRequest(
            request_id="arrive-1", class_id=CLASS_ID, content=RECORD_PACKAGE, effective_on="2025-11-24"
        )
    ]


@pytest.mark.parametrize(
    ("filename", "media_type", "content"),
    [
        ("ho-so.xml", "text/xml", RECORD_PACKAGE),
        ("ho-so.xml", "application/octet-stream", RECORD_PACKAGE),  # judged by its name
        ("package", "application/vnd.hoso+xml", RECORD_PACKAGE),
        ("ho-so.xml", XML, b"\xef\xbb\xbf\r\n" + RECORD_PACKAGE),  # a BOM and a blank line first
    ],
)
async def test_admit_takes_xml_however_it_is_labelled(
    client: GatewayClient, fakes: Fakes, token: str, filename: str, media_type: str, content: bytes
) -> None:
    form = arrival_form(content, filename, media_type)
    response = await client.post(ARRIVALS, headers=bearer(token), **form)
    assert response.status_code == 201, response.text
    assert sr_calls(fakes, "ImportStudentRecord")[0].content == content


async def test_admit_takes_exactly_10_mib(client: GatewayClient, fakes: Fakes, token: str) -> None:
    content = package_of_size(10 * MIB)
    response = await client.post(ARRIVALS, headers=bearer(token), **arrival_form(content))
    assert response.status_code == 201, response.text
    assert sr_calls(fakes, "ImportStudentRecord")[0].content == content


async def test_admit_refuses_a_larger_file(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        ARRIVALS, headers=bearer(token), **arrival_form(package_of_size(10 * MIB + 1))
    )
    assert "10 MiB" in assert_problem(response, 413, "FILE_TOO_LARGE")["detail"]
    assert sr_calls(fakes, "ImportStudentRecord") == []


async def test_admit_refuses_a_huge_body_before_reading_it(client: GatewayClient, token: str) -> None:
    response = await client.post(
        ARRIVALS,
        headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=x"},
        content=b"-" * (11 * MIB),
    )
    assert "10 MiB" in assert_problem(response, 413, "FILE_TOO_LARGE")["detail"]


@pytest.mark.parametrize(
    ("filename", "media_type", "content"),
    [
        ("ho-so.pdf", "application/pdf", b"%PDF-1.7\n"),
        ("ho-so.xml", "application/pdf", RECORD_PACKAGE),  # a media type that is not XML
        ("ho-so.xlsx", "application/octet-stream", RECORD_PACKAGE),  # no XML by type nor by name
        ("ho-so.xml", "application/json", b'{"HoSoChuyenTruong": {}}'),
        ("ho-so.xml", XML, b"PK\x03\x04 a zip renamed"),  # does not begin like XML
    ],
)
async def test_admit_refuses_other_file_types(
    client: GatewayClient, fakes: Fakes, token: str, filename: str, media_type: str, content: bytes
) -> None:
    response = await client.post(
        ARRIVALS, headers=bearer(token), **arrival_form(content, filename, media_type)
    )
    body = assert_problem(response, 415, "UNSUPPORTED_FILE_TYPE")
    assert body["errors"][0]["field"] == "file"
    assert sr_calls(fakes, "ImportStudentRecord") == []


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"data": {}}, "effective_on"),  # missing
        ({"data": {"effective_on": "24/11/2025"}}, "effective_on"),
        ({"data": {"effective_on": "2025-02-30"}}, "effective_on"),
        ({"data": {"effective_on": "2025-11-24", "other": "x"}}, "other"),
        ({"files": {"file": ("ho-so.xml", b"", XML)}}, "file"),  # empty
        ({"files": {"other": ("ho-so.xml", RECORD_PACKAGE, XML)}}, "other"),
    ],
)
async def test_admit_form_shapes(
    client: GatewayClient, fakes: Fakes, token: str, form: dict[str, Any], field: str
) -> None:
    response = await client.post(ARRIVALS, headers=bearer(token), **{**arrival_form(), **form})
    body_json = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body_json["errors"]] == [field]
    assert sr_calls(fakes, "ImportStudentRecord") == []


FILE_PART = 'name="file"; filename="h.xml"\r\nContent-Type: application/xml\r\n\r\n<x/>'
DAY_PART = 'name="effective_on"\r\n\r\n2025-11-24'


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ((DAY_PART, 'name="file"\r\n\r\n<x/>'), "file"),  # the package as a text field, not a file
        (('name="effective_on"; filename="d.txt"\r\n\r\n2025-11-24', FILE_PART), "effective_on"),  # a file
        ((DAY_PART, DAY_PART, FILE_PART), "effective_on"),  # twice
        ((DAY_PART, 'name="effective_on"\r\n\r\n\xff', FILE_PART), "effective_on"),  # twice, not UTF-8
    ],
)
async def test_admit_form_parts(
    client: GatewayClient, fakes: Fakes, token: str, parts: tuple[str, ...], field: str
) -> None:
    body = "".join(f"--b0undary\r\nContent-Disposition: form-data; {part}\r\n" for part in parts)
    response = await client.post(
        ARRIVALS,
        headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=b0undary"},
        content=(body + "--b0undary--\r\n").encode(),
    )
    assert [e["field"] for e in assert_problem(response, 422, "INVALID_ARGUMENT")["errors"]] == [field]
    assert sr_calls(fakes, "ImportStudentRecord") == []


async def test_admit_needs_a_multipart_body(client: GatewayClient, fakes: Fakes, token: str) -> None:
    as_json = await client.post(ARRIVALS, headers=bearer(token), json={"file": "<x/>"})
    assert "multipart/form-data" in assert_problem(as_json, 415, "UNSUPPORTED_MEDIA_TYPE")["detail"]
    as_xml = await client.post(
        ARRIVALS, headers={**bearer(token), "Content-Type": XML}, content=RECORD_PACKAGE
    )
    assert_problem(as_xml, 415, "UNSUPPORTED_MEDIA_TYPE")
    malformed = await client.post("/v1/classes/6A1/arrivals", headers=bearer(token), **arrival_form())
    assert_problem(malformed, 404, "CLASS_NOT_FOUND")
    bad_key = await client.post(
        ARRIVALS, headers={**bearer(token), "Idempotency-Key": "a b"}, **arrival_form()
    )
    assert_problem(bad_key, 422, "INVALID_IDEMPOTENCY_KEY")
    assert_problem(await client.post(ARRIVALS, **arrival_form()), 401, "MISSING_TOKEN")
    assert sr_calls(fakes, "ImportStudentRecord") == []


@pytest.mark.parametrize(
    ("code", "reason", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, "RECORD_NOT_VERIFIED", 422),
        (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_RECORD_PACKAGE", 422),
        (grpc.StatusCode.FAILED_PRECONDITION, "STUDENT_CODE_TAKEN", 422),
        (grpc.StatusCode.INVALID_ARGUMENT, "FILE_TOO_LARGE", 422),
    ],
)
async def test_admit_refusals_name_the_file(
    client: GatewayClient, fakes: Fakes, token: str, code: grpc.StatusCode, reason: str, status: int
) -> None:
    fakes.student_record.recorder.failures["ImportStudentRecord"] = Failure(
        code, "Hồ sơ bị từ chối / the package is refused", reason, {"field": "content"}
    )
    response = await client.post(ARRIVALS, headers=bearer(token), **arrival_form())
    body = assert_problem(response, status, reason)
    assert body["errors"] == [{"field": "file", "message": body["detail"]}]


async def test_admit_other_refusals_pass_through(client: GatewayClient, fakes: Fakes, token: str) -> None:
    recorder = fakes.student_record.recorder
    for code, reason, status, field in (
        (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_DATE", 422, "effective_on"),
        (grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_SCHOOL", 403, None),
        (grpc.StatusCode.NOT_FOUND, "CLASS_NOT_FOUND", 404, None),
    ):
        recorder.failures["ImportStudentRecord"] = Failure(
            code, "Không được / not allowed", reason, {"field": field} if field else {}
        )
        body = assert_problem(
            await client.post(ARRIVALS, headers=bearer(token), **arrival_form()), status, reason
        )
        if field:
            assert body["errors"][0]["field"] == field


# Received packages


async def test_list_received_records_is_metadata_only(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.get(RECEIVED, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "id": RECEIVED_RECORD_ID,
                "student_id": STUDENT_ID,
                "from_school": DESTINATION,
                "verified": True,
                "received_at": "2025-11-24T16:15:00Z",
                "size_bytes": len(RECEIVED_PACKAGE),
            },
            {
                "id": OTHER_RECEIVED_RECORD_ID,
                "student_id": STUDENT_ID,
                "from_school": "Trường THCS Chu Văn An, Hà Nội",
                "verified": False,
                "received_at": "2025-11-24T16:16:40Z",
                "size_bytes": len(OTHER_RECEIVED_PACKAGE),
            },
        ]
    }
    assert sr_calls(fakes, "ListReceivedRecords") == [sr.ListReceivedRecordsRequest(student_id=STUDENT_ID)]


@pytest.mark.parametrize(
    ("record_id", "content"),
    [
        (RECEIVED_RECORD_ID, RECEIVED_PACKAGE),
        (OTHER_RECEIVED_RECORD_ID.upper(), OTHER_RECEIVED_PACKAGE),
    ],
)
async def test_get_received_record(
    client: GatewayClient, fakes: Fakes, token: str, record_id: str, content: bytes
) -> None:
    response = await client.get(f"{RECEIVED}/{record_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XML
    assert response.headers["content-disposition"] == (
        f'attachment; filename="ho-so-chuyen-den-{record_id.lower()}.xml"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.content == content
    # only the one package is asked for (the list carries metadata, never every document)
    assert sr_calls(fakes, "ListReceivedRecords") == [
        sr.ListReceivedRecordsRequest(student_id=STUDENT_ID, record_id=record_id.lower())
    ]


async def test_received_record_refusals(client: GatewayClient, fakes: Fakes, token: str) -> None:
    unknown = await client.get(f"{RECEIVED}/{MOVEMENT_ID}", headers=bearer(token))
    assert_problem(unknown, 404, "RECEIVED_RECORD_NOT_FOUND")
    malformed = await client.get(f"{RECEIVED}/record-1", headers=bearer(token))
    assert_problem(malformed, 404, "RECEIVED_RECORD_NOT_FOUND")
    assert len(sr_calls(fakes, "ListReceivedRecords")) == 1  # the malformed id never reached the service
    fakes.student_record.recorder.failures["ListReceivedRecords"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED, "Không được / not allowed", "NOT_YOUR_STUDENT"
    )
    assert_problem(await client.get(RECEIVED, headers=bearer(token)), 403, "NOT_YOUR_STUDENT")
    one = await client.get(f"{RECEIVED}/{RECEIVED_RECORD_ID}", headers=bearer(token))
    assert_problem(one, 403, "NOT_YOUR_STUDENT")
    assert_problem(
        await client.get("/v1/students/x/received-records", headers=bearer(token)), 404, "STUDENT_NOT_FOUND"
    )


def test_arrivals_are_an_upload_route() -> None:
    from gateway.middleware import BodyGuardMiddleware
    from gateway.routers import travel

    guard = BodyGuardMiddleware(app=None, max_bytes=1024, uploads=travel.UPLOAD_ROUTES)  # type: ignore[arg-type]
    assert guard.upload_limit(ARRIVALS) == 10 * MIB
    assert guard.upload_limit(f"{ARRIVALS}/x") is None
    assert guard.upload_limit(DEPARTURES) is None

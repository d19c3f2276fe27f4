"""REST ↔ gRPC through the whole app, against fake backends."""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from school.student_record.v1 import student_record_pb2 as sr
from school_common.logging import JsonFormatter

from gateway import mappers
from gateway.tests.conftest import MakeClient
from gateway.tests.support import (
    CLASS_ID,
    PERSON_ID,
    SCHOOL_ID,
    STUDENT_ID,
    Failure,
    Fakes,
    GatewayClient,
    MakeToken,
    bearer,
    gateway_settings,
)

SECURITY_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}
NEW_STUDENT: dict[str, Any] = {
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "2014-09-05",
    "sex": "male",
    "guardians": [{"full_name": "Trần Thị Mai", "relationship": "mother", "phone": "0912345678"}],
}


def assert_problem(response: Any, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["reason"] == reason
    assert body["type"] == "urn:school:problem:" + reason.lower().replace("_", "-")
    assert body["title"]
    assert " / " in body["detail"]
    assert body["instance"] == response.request.url.path
    return body


# Schools


async def test_create_school(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        "/v1/schools",
        headers={**bearer(token), "Idempotency-Key": "create-school-1"},
        json={
            "name": "Trường THCS Nguyễn Du",
            "code": "79000701",
            "levels": ["lower_secondary", "upper_secondary"],
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/schools/{SCHOOL_ID}"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.json() == {
        "id": SCHOOL_ID,
        "name": "Trường THCS Nguyễn Du",
        "code": "79000701",
        "levels": ["lower_secondary"],
        "created_at": "2025-11-24T16:00:00Z",
    }
    [call] = fakes.student_record.recorder.calls
    assert call.method == "CreateSchool"
    assert call.request == sr.CreateSchoolRequest(
        name="Trường THCS Nguyễn Du",
        code="79000701",
        request_id="create-school-1",
        levels=[sr.SCHOOL_LEVEL_LOWER_SECONDARY, sr.SCHOOL_LEVEL_UPPER_SECONDARY],
    )


async def test_post_without_idempotency_key_sends_an_empty_request_id(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(
        "/v1/schools", headers=bearer(token), json={"name": "A", "levels": ["primary"]}
    )
    assert response.status_code == 201
    assert fakes.student_record.recorder.calls[0].request.request_id == ""


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\there", "dấu"])
async def test_invalid_idempotency_key(client: GatewayClient, fakes: Fakes, token: str, key: str) -> None:
    response = await client.post(
        "/v1/schools",
        headers=[("Authorization", f"Bearer {token}"), ("Idempotency-Key", key.encode())],
        json={"name": "A", "levels": ["primary"]},
    )
    body = assert_problem(response, 422, "INVALID_IDEMPOTENCY_KEY")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert fakes.student_record.recorder.calls == []


async def test_longest_idempotency_key_is_accepted(client: GatewayClient, fakes: Fakes, token: str) -> None:
    key = "~" * 255
    response = await client.post(
        "/v1/schools",
        headers={**bearer(token), "Idempotency-Key": key},
        json={"name": "A", "levels": ["primary"]},
    )
    assert response.status_code == 201
    assert fakes.student_record.recorder.calls[0].request.request_id == key


async def test_idempotency_key_reused_with_another_body_is_422(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fakes.student_record.recorder.failures["CreateSchool"] = Failure(
        grpc.StatusCode.INVALID_ARGUMENT,
        "Khóa idempotency đã được dùng cho một yêu cầu khác / the idempotency key was already used",
        "IDEMPOTENCY_KEY_REUSED",
    )
    response = await client.post(
        "/v1/schools",
        headers={**bearer(token), "Idempotency-Key": "k1"},
        json={"name": "B", "levels": ["primary"]},
    )
    assert_problem(response, 422, "IDEMPOTENCY_KEY_REUSED")


async def test_concurrent_duplicate_is_409(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fakes.student_record.recorder.failures["CreateSchool"] = Failure(
        grpc.StatusCode.ABORTED,
        "Một yêu cầu với cùng khóa đang được xử lý / in progress",
        "REQUEST_IN_PROGRESS",
    )
    response = await client.post(
        "/v1/schools",
        headers={**bearer(token), "Idempotency-Key": "k1"},
        json={"name": "B", "levels": ["primary"]},
    )
    assert_problem(response, 409, "REQUEST_IN_PROGRESS")
    assert response.headers["retry-after"] == "1"


async def test_body_validation_is_problem_json_with_fields(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(
        "/v1/schools",
        headers=bearer(token),
        json={"name": "A", "levels": ["kindergarten"], "tenant": "other"},
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert body["detail"] == "Dữ liệu không hợp lệ / invalid request body"
    assert {e["field"] for e in body["errors"]} == {"levels[0]", "tenant"}
    assert "kindergarten" not in response.text
    assert fakes.student_record.recorder.calls == []


async def test_malformed_json(client: GatewayClient, token: str) -> None:
    response = await client.post(
        "/v1/schools", headers={**bearer(token), "Content-Type": "application/json"}, content=b'{"name": '
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert body["errors"][0]["message"] == "JSON không hợp lệ / malformed JSON"


async def test_json_array_instead_of_object(client: GatewayClient, token: str) -> None:
    response = await client.post("/v1/schools", headers=bearer(token), json=[{"name": "A"}])
    assert_problem(response, 422, "INVALID_ARGUMENT")


async def test_body_must_be_json(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        "/v1/schools", headers={**bearer(token), "Content-Type": "text/plain"}, content=b"name=A"
    )
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    response = await client.post("/v1/schools", headers=bearer(token), data={"name": "A"})
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_body_size_limit_by_content_length(client: GatewayClient, fakes: Fakes, token: str) -> None:
    big = json.dumps({"name": "A" * (1024 * 1024), "levels": ["primary"]})
    response = await client.post(
        "/v1/schools", headers={**bearer(token), "Content-Type": "application/json"}, content=big
    )
    assert_problem(response, 413, "CONTENT_TOO_LARGE")
    assert fakes.student_record.recorder.calls == []


async def test_body_size_limit_when_streamed(make_client: MakeClient, fakes: Fakes, token: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"A" * 1024
        yield b'", "levels": ["primary"]}'

    async with make_client(http={"max_body_bytes": 4096}) as client:
        response = await client.post(
            "/v1/schools", headers={**bearer(token), "Content-Type": "application/json"}, content=chunks()
        )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "CONTENT_TOO_LARGE")
    assert fakes.student_record.recorder.calls == []


async def test_list_schools_pages(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(
        "/v1/schools", params={"page_size": 10, "page_token": "abc"}, headers=bearer(token)
    )
    assert response.status_code == 200
    assert response.json()["next_page_token"] == "next-1"
    assert len(response.json()["items"]) == 1
    request = fakes.student_record.recorder.calls[0].request
    assert (request.page_size, request.page_token) == (10, "abc")


@pytest.mark.parametrize("params", [{"page_size": 0}, {"page_size": 201}, {"page_size": "ten"}])
async def test_list_schools_bad_page_size(client: GatewayClient, token: str, params: dict[str, Any]) -> None:
    body = assert_problem(
        await client.get("/v1/schools", params=params, headers=bearer(token)), 422, "INVALID_ARGUMENT"
    )
    assert body["errors"][0]["field"] == "page_size"


async def test_get_school(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(f"/v1/schools/{SCHOOL_ID.upper()}", headers=bearer(token))
    assert response.status_code == 200
    assert fakes.student_record.recorder.calls[0].request.school_id == SCHOOL_ID


@pytest.mark.parametrize(
    "bad_id",
    [
        "42",
        "not-a-uuid",
        "0193a4c21f007c4e9a1b2f0e4c3d5b6a",
        "{0193a4c2-1f00-7c4e-9a1b-2f0e4c3d5b6a}",
        "' OR 1=1 --",
    ],
)
async def test_malformed_path_ids_look_like_missing_ones(
    client: GatewayClient, fakes: Fakes, token: str, bad_id: str
) -> None:
    fakes.student_record.recorder.failures["GetSchool"] = Failure(
        grpc.StatusCode.NOT_FOUND, "Không tìm thấy trường / school not found", "SCHOOL_NOT_FOUND"
    )
    missing = await client.get("/v1/schools/0193a4c2-1f00-7c4e-9a1b-000000000000", headers=bearer(token))
    malformed = await client.get(f"/v1/schools/{bad_id}", headers=bearer(token))
    a, b = (
        assert_problem(missing, 404, "SCHOOL_NOT_FOUND"),
        assert_problem(malformed, 404, "SCHOOL_NOT_FOUND"),
    )
    per_request = ("instance", "trace_id")
    assert {k: v for k, v in a.items() if k not in per_request} == {
        k: v for k, v in b.items() if k not in per_request
    }
    assert len(fakes.student_record.recorder.calls) == 1  # the malformed one never reached the service


async def test_malformed_id_needs_a_token_first(client: GatewayClient) -> None:
    assert_problem(await client.get("/v1/schools/42"), 401, "MISSING_TOKEN")


# Classes and students


async def test_create_and_list_classes(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/schools/{SCHOOL_ID}/classes",
        headers={**bearer(token), "Idempotency-Key": "c1"},
        json={"name": "6A1", "grade": 6, "school_year": "2025-2026"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["id"] == CLASS_ID
    assert fakes.student_record.recorder.calls[0].request == sr.CreateClassRequest(
        school_id=SCHOOL_ID, name="6A1", grade=6, school_year="2025-2026", request_id="c1"
    )
    listed = await client.get(f"/v1/schools/{SCHOOL_ID}/classes", headers=bearer(token))
    assert listed.json() == {
        "items": [
            {
                "id": CLASS_ID,
                "school_id": SCHOOL_ID,
                "name": "6A1",
                "grade": 6,
                "school_year": "2025-2026",
                "created_at": "2025-11-24T16:00:00Z",
            }
        ],
        "next_page_token": None,
    }


async def test_class_grade_as_string_is_refused(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/schools/{SCHOOL_ID}/classes",
        headers=bearer(token),
        json={"name": "6A1", "grade": "6", "school_year": "2025-2026"},
    )
    assert assert_problem(response, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == "grade"
    assert fakes.student_record.recorder.calls == []


async def test_enrol_existing_student(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/classes/{CLASS_ID}/students", headers=bearer(token), json={"student_id": STUDENT_ID}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["enrolment"]["class_id"] == CLASS_ID
    assert body["student"]["guardians"] == [
        {"full_name": "Trần Thị Mai", "relationship": "mother", "phone": "0912345678", "person_id": PERSON_ID}
    ]
    request = fakes.student_record.recorder.calls[0].request
    assert request.WhichOneof("student") == "student_id"
    assert request.student_id == STUDENT_ID


async def test_enrol_new_student_passes_names_through(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    response = await client.post(
        f"/v1/classes/{CLASS_ID}/students",
        headers={**bearer(token), "Idempotency-Key": "e1"},
        json={"student": {**NEW_STUDENT, "full_name": nfd, "sex": "female"}},
    )
    assert response.status_code == 201, response.text
    request = fakes.student_record.recorder.calls[0].request
    assert request.WhichOneof("student") == "new_student"
    assert request.new_student.full_name == nfd
    assert request.new_student.sex == sr.SEX_FEMALE
    assert request.new_student.guardians[0] == sr.Guardian(
        full_name="Trần Thị Mai", relationship="mother", phone="0912345678"
    )
    assert request.request_id == "e1"


async def test_enrol_with_both_ways_is_refused(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/classes/{CLASS_ID}/students",
        headers=bearer(token),
        json={"student_id": STUDENT_ID, "student": NEW_STUDENT},
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert body["errors"][0]["field"] == "body"
    assert fakes.student_record.recorder.calls == []


async def test_service_field_errors_point_into_the_body(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fakes.student_record.recorder.failures["EnrolStudent"] = Failure(
        grpc.StatusCode.INVALID_ARGUMENT,
        "Ngày sinh không phù hợp với học sinh phổ thông / date of birth is not plausible for a K-12 student",
        "INVALID_ARGUMENT",
        {"field": "new_student.date_of_birth"},
    )
    response = await client.post(
        f"/v1/classes/{CLASS_ID}/students",
        headers=bearer(token),
        json={"student": {**NEW_STUDENT, "date_of_birth": "1950-01-01"}},
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert body["errors"] == [{"field": "student.date_of_birth", "message": body["detail"]}]


async def test_service_domain_errors(client: GatewayClient, fakes: Fakes, token: str) -> None:
    recorder = fakes.student_record.recorder
    recorder.failures["EnrolStudent"] = Failure(
        grpc.StatusCode.ALREADY_EXISTS,
        "Học sinh đã ở trong lớp này / already in this class",
        "ALREADY_ENROLLED",
    )
    response = await client.post(
        f"/v1/classes/{CLASS_ID}/students", headers=bearer(token), json={"student_id": STUDENT_ID}
    )
    assert_problem(response, 409, "ALREADY_ENROLLED")
    recorder.failures["ListClassStudents"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED, "Bạn không có quyền / not allowed", "ROLE_REQUIRED", {"roles": "x"}
    )
    assert_problem(
        await client.get(f"/v1/classes/{CLASS_ID}/students", headers=bearer(token)), 403, "ROLE_REQUIRED"
    )


async def test_list_class_students(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(f"/v1/classes/{CLASS_ID}/students", headers=bearer(token))
    assert response.status_code == 200
    [student] = response.json()["items"]
    assert student["id"] == STUDENT_ID
    assert student["sex"] == "male"
    assert student["student_code"] is None


# Students and guardians

GUARDIAN = {
    "full_name": "Lê Văn Bình",
    "relationship": "father",
    "phone": "0987654321",
    "personal_id": "001085000456",
    "date_of_birth": "1985-06-01",
}


async def test_get_student(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(f"/v1/students/{STUDENT_ID.upper()}", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": STUDENT_ID,
        "school_id": SCHOOL_ID,
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "2014-09-05",
        "sex": "male",
        "student_code": None,
        "guardians": [
            {
                "full_name": "Trần Thị Mai",
                "relationship": "mother",
                "phone": "0912345678",
                "person_id": PERSON_ID,
            }
        ],
        "person_id": None,
    }
    assert fakes.student_record.recorder.calls[0].request == sr.GetStudentRequest(student_id=STUDENT_ID)
    assert_problem(await client.get("/v1/students/an", headers=bearer(token)), 404, "STUDENT_NOT_FOUND")
    assert len(fakes.student_record.recorder.calls) == 1


async def test_add_guardian_never_returns_the_personal_id(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(
        f"/v1/students/{STUDENT_ID}/guardians",
        headers={**bearer(token), "Idempotency-Key": "g1"},
        json=GUARDIAN,
    )
    assert response.status_code == 201, response.text
    assert response.json()["guardians"][-1] == {
        "full_name": "Lê Văn Bình",
        "relationship": "father",
        "phone": "0987654321",
        "person_id": PERSON_ID,
    }
    # The (careless) fake echoed the number and the date of birth back; neither leaves the gateway.
    assert "001085000456" not in response.text
    assert "1985-06-01" not in response.text
    assert fakes.student_record.recorder.calls[0].request == sr.AddGuardianRequest(
        student_id=STUDENT_ID,
        guardian=sr.Guardian(
            full_name="Lê Văn Bình",
            relationship="father",
            phone="0987654321",
            personal_id="001085000456",
            date_of_birth="1985-06-01",
        ),
        request_id="g1",
    )


async def test_add_guardian_without_personal_id(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {"full_name": "Lê Văn Bình", "relationship": "grandparent"}
    response = await client.post(f"/v1/students/{STUDENT_ID}/guardians", headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    assert response.json()["guardians"][-1]["person_id"] is None
    request = fakes.student_record.recorder.calls[0].request
    assert (request.guardian.personal_id, request.guardian.date_of_birth) == ("", "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"personal_id": "00108500045"}, "personal_id"),
        ({"personal_id": "00108500045x"}, "personal_id"),
        ({"personal_id": 1085000456}, "personal_id"),
        ({"date_of_birth": "1985-06-31"}, "date_of_birth"),
        ({"date_of_birth": "01/06/1985"}, "date_of_birth"),
        ({"relationship": "uncle"}, "relationship"),
        ({"full_name": None}, "full_name"),
        ({"person_id": PERSON_ID}, "person_id"),  # output only
    ],
)
async def test_add_guardian_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post(
        f"/v1/students/{STUDENT_ID}/guardians", headers=bearer(token), json={**GUARDIAN, **change}
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert "00108500045" not in response.text
    assert fakes.student_record.recorder.calls == []


async def test_add_guardian_service_errors_name_the_body_field(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fakes.student_record.recorder.failures["AddGuardian"] = Failure(
        grpc.StatusCode.INVALID_ARGUMENT,
        "Số định danh không hợp lệ / invalid personal identification number",
        "INVALID_PERSONAL_ID",
        {"field": "guardian.personal_id"},
    )
    response = await client.post(f"/v1/students/{STUDENT_ID}/guardians", headers=bearer(token), json=GUARDIAN)
    body = assert_problem(response, 422, "INVALID_PERSONAL_ID")
    assert body["errors"] == [{"field": "personal_id", "message": body["detail"]}]


async def test_enrol_passes_guardian_personal_ids_to_the_service(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    student = {**NEW_STUDENT, "guardians": [GUARDIAN]}
    response = await client.post(
        f"/v1/classes/{CLASS_ID}/students", headers=bearer(token), json={"student": student}
    )
    assert response.status_code == 201, response.text
    guardian = fakes.student_record.recorder.calls[0].request.new_student.guardians[0]
    assert (guardian.personal_id, guardian.date_of_birth) == ("001085000456", "1985-06-01")
    bad = {**NEW_STUDENT, "guardians": [GUARDIAN, {**GUARDIAN, "personal_id": "1234"}]}
    response = await client.post(
        f"/v1/classes/{CLASS_ID}/students", headers=bearer(token), json={"student": bad}
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == ["student.guardians[1].personal_id"]
    assert len(fakes.student_record.recorder.calls) == 1


# Attendance


async def test_class_roster(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(f"/v1/attendance/classes/{CLASS_ID}/roster", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {
        "class_id": CLASS_ID,
        "school_id": SCHOOL_ID,
        "class_name": "6A1",
        "entries": [
            {"student_id": STUDENT_ID, "full_name": "Nguyễn Văn An", "enrolled_at": "2025-11-24T16:00:00Z"}
        ],
    }
    assert fakes.attendance.recorder.calls[0].metadata["authorization"] == f"Bearer {token}"
    assert_problem(
        await client.get("/v1/attendance/classes/x/roster", headers=bearer(token)), 404, "CLASS_NOT_FOUND"
    )


# Failures


async def test_backend_down_is_503(make_client: MakeClient, fakes: Fakes, token: str) -> None:
    settings = gateway_settings(fakes)
    settings.services.attendance = "127.0.0.1:1"  # nothing listens there
    async with make_client(settings) as client:
        response = await client.get(f"/v1/attendance/classes/{CLASS_ID}/roster", headers=bearer(token))
        body = assert_problem(response, 503, "SERVICE_UNAVAILABLE")
        assert response.headers["retry-after"] == "2"
        assert "127.0.0.1" not in response.text
        assert "failed" not in body["detail"].lower()
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "not_ready",
            "checks": {"identity": "serving", "student_record": "serving", "attendance": "failing"},
        }


async def test_backend_not_configured_is_503(make_client: MakeClient, fakes: Fakes, token: str) -> None:
    settings = gateway_settings(fakes)
    settings.services.attendance = ""
    async with make_client(settings) as client:
        response = await client.get(f"/v1/attendance/classes/{CLASS_ID}/roster", headers=bearer(token))
        assert_problem(response, 503, "SERVICE_NOT_CONFIGURED")


async def test_internal_error_does_not_leak(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fakes.student_record.recorder.failures["GetSchool"] = Failure(
        grpc.StatusCode.INTERNAL, "Traceback: KeyError 'Nguyễn Văn An' at db 10.1.2.3"
    )
    response = await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(token))
    assert_problem(response, 500, "INTERNAL")
    assert "10.1.2.3" not in response.text
    assert "Nguyễn" not in response.text


async def test_slow_backend_is_504(make_client: MakeClient, fakes: Fakes, token: str) -> None:
    fakes.student_record.recorder.delay_s = 1.0
    async with make_client(grpc={"deadline_s": 0.2}) as client:
        response = await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(token))
    assert_problem(response, 504, "UPSTREAM_TIMEOUT")


async def test_unexpected_gateway_error_is_a_500_problem(
    client: GatewayClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(mappers, "school", broken)
    response = await client.get(f"/v1/schools/{SCHOOL_ID}", headers=bearer(token))
    assert_problem(response, 500, "INTERNAL")
    assert "secret" not in response.text


async def test_unknown_route_and_method(client: GatewayClient, token: str) -> None:
    assert_problem(await client.get("/v1/nothing-here", headers=bearer(token)), 404, "NOT_FOUND")
    assert_problem(await client.get("/"), 404, "NOT_FOUND")
    response = await client.delete("/v1/schools", headers=bearer(token))
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


# Probes


async def test_readiness_follows_backend_health(client: GatewayClient, fakes: Fakes) -> None:
    response = await client.get("/readyz")
    assert response.json() == {
        "status": "ready",
        "checks": {"identity": "serving", "student_record": "serving", "attendance": "serving"},
    }
    await fakes.attendance.set_ready(False)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["attendance"] == "failing"


# Rate limits


async def test_rate_limit_per_caller(make_client: MakeClient, make_token: MakeToken) -> None:
    alice, bob = make_token(subject="alice"), make_token(subject="bob")
    limits = {
        "enabled": True,
        "requests_per_second": 0.01,
        "burst": 2,
        "ip_requests_per_second": 1000,
        "ip_burst": 1000,
    }
    async with make_client(rate_limit=limits) as client:
        assert [(await client.get("/v1/schools", headers=bearer(alice))).status_code for _ in range(2)] == [
            200,
            200,
        ]
        limited = await client.get("/v1/schools", headers=bearer(alice))
        assert_problem(limited, 429, "RATE_LIMITED")
        assert int(limited.headers["retry-after"]) >= 1
        assert (await client.get("/v1/schools", headers=bearer(bob))).status_code == 200


async def test_rate_limit_per_ip_before_authentication(make_client: MakeClient) -> None:
    limits = {"enabled": True, "ip_requests_per_second": 0.01, "ip_burst": 3}
    async with make_client(rate_limit=limits, client_ip="203.0.113.9") as client:
        statuses = [(await client.get("/v1/schools")).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        assert (await client.get("/healthz")).status_code == 200  # probes are never limited
        assert_problem(await client.get("/v1/schools"), 429, "RATE_LIMITED")


# Logs


async def test_access_log_has_no_personal_data(
    client: GatewayClient, fakes: Fakes, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await client.post(
        f"/v1/classes/{CLASS_ID}/students", headers=bearer(token), json={"student": NEW_STUDENT}
    )
    fakes.student_record.recorder.failures["GetSchool"] = Failure(
        grpc.StatusCode.INTERNAL, "Nguyễn Văn An crashed"
    )
    await client.get(f"/v1/schools/{SCHOOL_ID}?page_token=0912345678", headers=bearer(token))
    access = [r for r in caplog.records if r.name == "gateway.access"]
    assert [(r.method, r.route, r.status) for r in access] == [  # type: ignore[attr-defined]
        ("POST", "/v1/classes/{class_id}/students", 201),
        ("GET", "/v1/schools/{school_id}", 500),
    ]
    formatter = JsonFormatter("gateway")
    text = "\n".join(
        formatter.format(r) for r in caplog.records if r.name != "httpx"
    )  # the test's own client
    for secret in ("Nguyễn", "Trần", "0912345678", "2014-09-05", CLASS_ID, SCHOOL_ID, token):
        assert secret not in text

"""REST ↔ student-record gRPC: the register of upper-secondary diplomas — entering one, correcting and
revoking it (Idempotency-Key forwarded as request_id), a school's book (ADMIN on the school at the edge) and
a student's entries, the service's refusals with their reasons, and the public verification (no token, no
authorization metadata, JSON or escaped HTML, the same 404 for anything unknown, the public per-IP rate
limit shared with the transcript page), against the shared fake student-record."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from school.student_record.v1 import student_record_pb2 as sr

from gateway.settings import RateLimitSettings
from gateway.tests.conftest import MakeClient, MakeToken
from gateway.tests.support import (
    DIPLOMA_CODE,
    DIPLOMA_ID,
    NEW_DIPLOMA_ID,
    OTHER_SCHOOL_ID,
    PRINCIPAL_SUBJECT,
    SCHOOL_ID,
    SERIAL_NUMBER,
    STUDENT_ID,
    TEACHER,
    TENANT,
    TRANSCRIPT_ID,
    VERIFICATION_CODE,
    Failure,
    Fakes,
    GatewayClient,
    bearer,
    teacher_scope,
)
from gateway.tests.test_routes import assert_problem

ISSUE = f"/v1/students/{STUDENT_ID}/diplomas"
CORRECTIONS = f"/v1/diplomas/{DIPLOMA_ID}/corrections"
REVOCATION = f"/v1/diplomas/{DIPLOMA_ID}/revocation"
REGISTER = f"/v1/schools/{SCHOOL_ID}/diplomas"
PUBLIC = f"/v1/public/diplomas/{TENANT}/B%200012345"
JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

ENTRY: dict[str, Any] = {
    "register_number": "125/2026",
    "serial_number": "b 0012345",
    "issued_on": "2026-07-20",
    "signer_name": "Nguyễn Văn Hải",
    "signer_title": "Giám đốc Sở Giáo dục và Đào tạo",
}
DIPLOMA = {"kind": "upper_secondary_diploma", "graduation_year": 2026, **ENTRY}
ISSUED = {
    "id": DIPLOMA_ID,
    "student_id": STUDENT_ID,
    "school_id": SCHOOL_ID,
    "kind": "upper_secondary_diploma",
    "status": "valid",
    "graduation_year": 2026,
    "classification": "gioi",
    "register_number": "125/2026",
    "serial_number": SERIAL_NUMBER,
    "holder_name": "Nguyễn Văn An",
    "holder_date_of_birth": "2008-09-05",
    "issued_on": "2026-07-20",
    "signer_name": "Nguyễn Văn Hải",
    "signer_title": "Giám đốc Sở Giáo dục và Đào tạo",
    "verification_code": DIPLOMA_CODE,
    "supersedes_id": None,
    "correction_reason": None,
    "issued_by": PRINCIPAL_SUBJECT,
    "issued_at": "2026-07-14T03:33:20Z",
    "corrected_at": None,
    "revoked_by": None,
    "revoked_at": None,
    "revocation_reason": None,
}
VERIFIED = {
    "status": "valid",
    "kind": "upper_secondary_diploma",
    "school_name": "Trường THPT Chuyên Lê Hồng Phong",
    "graduation_year": 2026,
    "holder_name": "Nguyễn Văn An",
}


def sr_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.student_record.recorder.calls if c.method == method]


# The register


async def test_issue_diploma(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {**DIPLOMA, "classification": "gioi"}
    response = await client.post(ISSUE, headers={**bearer(token), "Idempotency-Key": "dip-1"}, json=body)
    assert response.status_code == 201, response.text
    assert response.json() == ISSUED
    assert sr_calls(fakes, "IssueDiploma") == [
        sr.IssueDiplomaRequest(
            request_id="dip-1",
            student_id=STUDENT_ID,
            kind=sr.DIPLOMA_KIND_UPPER_SECONDARY_DIPLOMA,
            graduation_year=2026,
            classification=sr.DIPLOMA_CLASSIFICATION_GIOI,
            **ENTRY,
        )
    ]


async def test_a_certificate_without_classification(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {**DIPLOMA, "kind": "upper_secondary_completion"}
    response = await client.post(ISSUE, headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["kind"], response.json()["classification"]) == (
        "upper_secondary_completion",
        None,
    )
    [call] = sr_calls(fakes, "IssueDiploma")
    assert call.kind == sr.DIPLOMA_KIND_UPPER_SECONDARY_COMPLETION
    assert call.classification == sr.DIPLOMA_CLASSIFICATION_UNSPECIFIED
    assert call.request_id == ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "lower_secondary_diploma"}, "kind"),  # abolished from 1/1/2026: not a kind at all
        ({"kind": "UPPER_SECONDARY_DIPLOMA"}, "kind"),
        ({"graduation_year": 1999}, "graduation_year"),
        ({"graduation_year": "2026"}, "graduation_year"),
        ({"classification": "xuat_sac"}, "classification"),
        ({"serial_number": ""}, "serial_number"),
        ({"register_number": "1" * 33}, "register_number"),
        ({"issued_on": "2026-02-30"}, "issued_on"),
        ({"signer_name": ""}, "signer_name"),
        ({"signer_title": None}, "signer_title"),
        ({"holder_name": "Nguyễn Văn An"}, "holder_name"),  # read from the record, never sent
    ],
)
async def test_issue_shapes(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post(ISSUE, headers=bearer(token), json={**DIPLOMA, **change})
    assert [e["field"] for e in assert_problem(response, 422, "INVALID_ARGUMENT")["errors"]] == [field]
    assert sr_calls(fakes, "IssueDiploma") == []


@pytest.mark.parametrize(
    ("code", "reason", "status", "field"),
    [
        (grpc.StatusCode.FAILED_PRECONDITION, "NOT_UPPER_SECONDARY", 422, None),
        (grpc.StatusCode.FAILED_PRECONDITION, "NOT_IN_FINAL_GRADE", 422, None),
        (grpc.StatusCode.ALREADY_EXISTS, "DIPLOMA_ALREADY_ISSUED", 409, None),
        (grpc.StatusCode.ALREADY_EXISTS, "SERIAL_NUMBER_TAKEN", 409, "serial_number"),
        (grpc.StatusCode.ALREADY_EXISTS, "REGISTER_NUMBER_TAKEN", 409, "register_number"),
        (grpc.StatusCode.INVALID_ARGUMENT, "ISSUED_BEFORE_GRADUATION_YEAR", 422, "issued_on"),
        (grpc.StatusCode.INVALID_ARGUMENT, "CLASSIFICATION_NOT_ALLOWED", 422, "classification"),
        (grpc.StatusCode.PERMISSION_DENIED, "ADMIN_ROLE_REQUIRED", 403, None),
    ],
)
async def test_issue_refusals_pass_through(
    client: GatewayClient,
    fakes: Fakes,
    token: str,
    code: grpc.StatusCode,
    reason: str,
    status: int,
    field: str | None,
) -> None:
    metadata = {"field": field} if field else {}
    fakes.student_record.recorder.failures["IssueDiploma"] = Failure(
        code, "Không được / refused", reason, metadata
    )
    body = assert_problem(await client.post(ISSUE, headers=bearer(token), json=DIPLOMA), status, reason)
    assert [e["field"] for e in body.get("errors") or []] == ([field] if field else [])


async def test_correct_diploma(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {**ENTRY, "serial_number": "B 0012346", "register_number": "126/2026", "reason": "Sai ngày sinh"}
    response = await client.post(
        CORRECTIONS, headers={**bearer(token), "Idempotency-Key": "fix-1"}, json=body
    )
    assert response.status_code == 201, response.text
    corrected = response.json()
    assert (corrected["id"], corrected["supersedes_id"], corrected["correction_reason"]) == (
        NEW_DIPLOMA_ID,
        DIPLOMA_ID,
        "Sai ngày sinh",
    )
    assert (corrected["serial_number"], corrected["status"], corrected["classification"]) == (
        "B 0012346",
        "valid",
        None,
    )
    assert sr_calls(fakes, "CorrectDiploma") == [
        sr.CorrectDiplomaRequest(request_id="fix-1", diploma_id=DIPLOMA_ID, **body)
    ]
    # Kind and year are the old entry's: they cannot be sent.
    kind = await client.post(
        CORRECTIONS, headers=bearer(token), json={**body, "kind": "upper_secondary_diploma"}
    )
    assert assert_problem(kind, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == "kind"
    no_reason = await client.post(CORRECTIONS, headers=bearer(token), json=ENTRY)
    assert assert_problem(no_reason, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == "reason"
    unknown = await client.post("/v1/diplomas/B0012345/corrections", headers=bearer(token), json=body)
    assert_problem(unknown, 404, "DIPLOMA_NOT_FOUND")
    fakes.student_record.recorder.failures["CorrectDiploma"] = Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "Văn bằng đã được đính chính / corrected", "DIPLOMA_CORRECTED"
    )
    again = await client.post(CORRECTIONS, headers=bearer(token), json=body)
    assert_problem(again, 422, "DIPLOMA_CORRECTED")
    assert len(sr_calls(fakes, "CorrectDiploma")) == 2


async def test_revoke_diploma(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {"reason": "Quyết định hủy kết quả thi của Sở"}
    response = await client.post(REVOCATION, headers={**bearer(token), "Idempotency-Key": "rev-1"}, json=body)
    assert response.status_code == 200, response.text
    revoked = response.json()
    assert (revoked["status"], revoked["revoked_by"], revoked["revocation_reason"]) == (
        "revoked",
        PRINCIPAL_SUBJECT,
        body["reason"],
    )
    assert revoked["revoked_at"] == "2026-07-14T03:43:20Z"
    assert sr_calls(fakes, "RevokeDiploma") == [
        sr.RevokeDiplomaRequest(request_id="rev-1", diploma_id=DIPLOMA_ID, reason=body["reason"])
    ]
    for bad in ({}, {"reason": ""}, {"reason": "x", "note": "y"}):
        refused = await client.post(REVOCATION, headers=bearer(token), json=bad)
        assert_problem(refused, 422, "INVALID_ARGUMENT")
    fakes.student_record.recorder.failures["RevokeDiploma"] = Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "Văn bằng đã bị thu hồi / revoked", "DIPLOMA_REVOKED"
    )
    assert_problem(await client.post(REVOCATION, headers=bearer(token), json=body), 422, "DIPLOMA_REVOKED")
    assert len(sr_calls(fakes, "RevokeDiploma")) == 2


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("?graduation_year=2026", sr.DIPLOMA_KIND_UNSPECIFIED),
        ("?graduation_year=2026&kind=upper_secondary_diploma", sr.DIPLOMA_KIND_UPPER_SECONDARY_DIPLOMA),
        ("?graduation_year=2026&kind=upper_secondary_completion", sr.DIPLOMA_KIND_UPPER_SECONDARY_COMPLETION),
    ],
)
async def test_school_register(
    client: GatewayClient, fakes: Fakes, token: str, query: str, kind: int
) -> None:
    response = await client.get(REGISTER + query, headers=bearer(token))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(d["id"], d["status"], d["supersedes_id"]) for d in items] == [
        (DIPLOMA_ID, "corrected", None),
        (NEW_DIPLOMA_ID, "valid", DIPLOMA_ID),
    ]
    assert items[0]["corrected_at"] == "2026-07-14T03:38:20Z"
    assert sr_calls(fakes, "ListSchoolDiplomas") == [
        sr.ListSchoolDiplomasRequest(school_id=SCHOOL_ID, graduation_year=2026, kind=kind)
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "graduation_year"),
        ("?graduation_year=1999", "graduation_year"),
        ("?graduation_year=năm", "graduation_year"),
        ("?graduation_year=2026&kind=lower_secondary_diploma", "kind"),
    ],
)
async def test_school_register_shapes(
    client: GatewayClient, fakes: Fakes, token: str, query: str, field: str
) -> None:
    response = await client.get(REGISTER + query, headers=bearer(token))
    assert assert_problem(response, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == field
    assert sr_calls(fakes, "ListSchoolDiplomas") == []


async def test_school_register_is_for_admins(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken
) -> None:
    fakes.identity.recorder.scopes[TEACHER] = teacher_scope(TEACHER)
    teacher = make_token(subject=TEACHER, roles=("teacher",))
    assert (await client.get(f"{REGISTER}?graduation_year=2026", headers=bearer(teacher))).status_code == 403
    other = await client.get(
        f"/v1/schools/{OTHER_SCHOOL_ID}/diplomas?graduation_year=2026", headers=bearer(teacher)
    )
    assert_problem(other, 403, "NOT_YOUR_SCHOOL")
    assert sr_calls(fakes, "ListSchoolDiplomas") == []


async def test_student_diplomas(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(ISSUE, headers=bearer(token))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(d["kind"], d["classification"], d["serial_number"]) for d in items] == [
        ("upper_secondary_completion", None, "GCN 000777"),
        ("upper_secondary_diploma", "kha", SERIAL_NUMBER),
    ]
    assert "personal_id" not in items[0]
    assert sr_calls(fakes, "ListStudentDiplomas") == [sr.ListStudentDiplomasRequest(student_id=STUDENT_ID)]
    assert_problem(
        await client.get("/v1/students/x/diplomas", headers=bearer(token)), 404, "STUDENT_NOT_FOUND"
    )
    assert_problem(await client.get(ISSUE), 401, "MISSING_TOKEN")


# The public verification


async def test_verification_as_json_sends_no_authorization(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    # The serial number in any case and spacing, the code in any case: as the service compares them.
    paths = (
        f"{PUBLIC}?code={DIPLOMA_CODE}",
        f"/v1/public/diplomas/{TENANT}/b%20%200012345%20?code={DIPLOMA_CODE.lower()}",
        f"{PUBLIC}?code=%20{DIPLOMA_CODE}%20",
    )
    for path, headers in zip(
        paths, (JSON, {**JSON, **bearer(token)}, {**JSON, "Authorization": "Bearer x"}), strict=True
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["vary"] == "Accept"
        assert response.json() == VERIFIED
    calls = fakes.student_record.recorder.calls
    assert [c.method for c in calls] == ["VerifyDiploma"] * 3
    for call in calls:
        assert "authorization" not in call.metadata
        assert call.request == sr.VerifyDiplomaRequest(
            tenant=TENANT, serial_number=SERIAL_NUMBER, verification_code=DIPLOMA_CODE
        )
    assert fakes.identity.recorder.calls == []  # no access scope asked for


async def test_a_serial_number_with_slashes(client: GatewayClient, fakes: Fakes) -> None:
    response = await client.get(
        f"/v1/public/diplomas/{TENANT}/12/QD-SGD/2026?code={DIPLOMA_CODE}", headers=JSON
    )
    assert_problem(response, 404, "DIPLOMA_NOT_FOUND")  # the fake knows one serial only
    [call] = [c.request for c in fakes.student_record.recorder.calls]
    assert call.serial_number == "12/QD-SGD/2026"


@pytest.mark.parametrize(
    ("status", "vi", "en"),
    [
        (sr.DIPLOMA_STATUS_VALID, "VĂN BẰNG HỢP LỆ", "VALID:"),
        (sr.DIPLOMA_STATUS_CORRECTED, "ĐÃ ĐƯỢC ĐÍNH CHÍNH", "CORRECTED:"),
        (sr.DIPLOMA_STATUS_REVOKED, "ĐÃ BỊ THU HỒI", "REVOKED:"),
        (sr.DIPLOMA_STATUS_UNSPECIFIED, "KHÔNG XÁC ĐỊNH", "STATUS UNKNOWN"),  # never "valid" by default
    ],
)
async def test_verification_page_for_browsers(
    client: GatewayClient, fakes: Fakes, status: int, vi: str, en: str
) -> None:
    fakes.student_record.recorder.diploma_status = status
    for headers in (BROWSER, {}, {"Accept": "*/*"}):
        response = await client.get(f"{PUBLIC}?code={DIPLOMA_CODE}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["vary"] == "Accept"
        page = response.text
        assert page.index(vi) < page.index(en)  # Vietnamese first
        for text in (
            "Xác thực văn bằng",
            "Bằng tốt nghiệp trung học phổ thông",
            "Nguyễn Văn An",
            "Trường THPT Chuyên Lê Hồng Phong",
            "2026",
        ):
            assert text in page
        assert "<script" not in page
        assert "<style" not in page
    as_json = await client.get(f"{PUBLIC}?code={DIPLOMA_CODE}", headers=JSON)
    assert as_json.json()["status"] == {0: None, 1: "valid", 2: "corrected", 3: "revoked"}[status]


async def test_verification_page_escapes_everything(client: GatewayClient, fakes: Fakes) -> None:
    fakes.student_record.recorder.student_name = '<script>alert("x")</script> & <b>An</b>'
    response = await client.get(f"{PUBLIC}?code={DIPLOMA_CODE}")
    assert response.status_code == 200, response.text
    assert "<script" not in response.text
    assert "<b>" not in response.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;An&lt;/b&gt;" in response.text
    as_json = await client.get(f"{PUBLIC}?code={DIPLOMA_CODE}", headers=JSON)
    assert as_json.json()["holder_name"] == '<script>alert("x")</script> & <b>An</b>'


@pytest.mark.parametrize(
    "path",
    [
        f"{PUBLIC}?code=ZZZZZZZZZZ",  # well formed, wrong: the service's NOT_FOUND
        f"/v1/public/diplomas/{TENANT}/B0012345?code={DIPLOMA_CODE}",  # an unknown serial number
        f"/v1/public/diplomas/other/B%200012345?code={DIPLOMA_CODE}",  # another tenant's register
    ],
)
async def test_wrong_code_or_unknown_serial_is_404(client: GatewayClient, fakes: Fakes, path: str) -> None:
    assert_problem(await client.get(path, headers=JSON), 404, "DIPLOMA_NOT_FOUND")
    page = await client.get(path, headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Không tìm thấy văn bằng" in page.text
    assert "Diploma not found" in page.text
    assert fakes.student_record.recorder.methods() == ["VerifyDiploma@unknown"] * 2


@pytest.mark.parametrize(
    "path",
    [
        PUBLIC,  # no code
        f"{PUBLIC}?code=",
        f"{PUBLIC}?code=Q4R7T2W9X",  # 9 characters
        f"{PUBLIC}?code=Q4R7T2W9XZZ",  # 11
        f"{PUBLIC}?code=Q4R7T2W9X0",  # 0 is not in the alphabet
        f"{PUBLIC}?code=Q4R7T2W9X%C3%9F",  # ß upper-cases to SS
        f"/v1/public/diplomas/{TENANT}/?code={DIPLOMA_CODE}",  # no serial number
        f"/v1/public/diplomas/{TENANT}/B_0012345?code={DIPLOMA_CODE}",
        f"/v1/public/diplomas/{TENANT}/-B0012345?code={DIPLOMA_CODE}",
        f"/v1/public/diplomas/{TENANT}/B%C3%9F12?code={DIPLOMA_CODE}",
        f"/v1/public/diplomas/{TENANT}/{'1' * 33}?code={DIPLOMA_CODE}",
        f"/v1/public/diplomas/Demo_Tenant/B%200012345?code={DIPLOMA_CODE}",
    ],
)
async def test_malformed_requests_are_the_same_404(client: GatewayClient, fakes: Fakes, path: str) -> None:
    assert_problem(await client.get(path, headers=JSON), 404, "DIPLOMA_NOT_FOUND")
    page = await client.get(path)
    assert page.status_code == 404
    assert "Không tìm thấy văn bằng" in page.text
    assert fakes.student_record.recorder.calls == []


async def test_public_rate_limit_is_shared_with_transcripts(make_client: MakeClient, fakes: Fakes) -> None:
    limits = RateLimitSettings(public_per_minute=1, public_burst=3)
    async with make_client(rate_limit=limits, client_ip="203.0.113.7") as client:
        transcript = f"/v1/public/transcripts/{TENANT}/{TRANSCRIPT_ID}?code={VERIFICATION_CODE}"
        assert (await client.get(transcript, headers=JSON)).status_code == 200
        assert (await client.get(f"{PUBLIC}?code={DIPLOMA_CODE}", headers=JSON)).status_code == 200
        # Malformed requests count as well: probing costs the same.
        assert (await client.get(f"{PUBLIC}?code=bad", headers=JSON)).status_code == 404
        limited = await client.get(f"{PUBLIC}?code={DIPLOMA_CODE}", headers=JSON)
        assert int(assert_problem(limited, 429, "RATE_LIMITED")["status"]) == 429
        assert int(limited.headers["retry-after"]) >= 1
        page = await client.get(f"{PUBLIC}?code={DIPLOMA_CODE}")
        assert page.status_code == 429
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "Quá nhiều yêu cầu" in page.text
        assert "Xác thực văn bằng" in page.text
    assert fakes.student_record.recorder.methods() == ["VerifyTranscript", "VerifyDiploma"]

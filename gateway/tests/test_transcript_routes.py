"""REST ↔ student-record gRPC: digital transcripts — issuing, corrections, the list, the signed documents,
and the public verification page (no token, no authorization metadata, JSON or escaped HTML, the same 404
for anything unknown, its own per-IP rate limit), against the shared fake student-record."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from school.student_record.v1 import student_record_pb2 as sr
from school_common.telemetry import configure_telemetry

from gateway.pages import prefers_json
from gateway.settings import RateLimitSettings
from gateway.tests.conftest import MakeClient
from gateway.tests.support import (
    CLASS_ID,
    NEW_TRANSCRIPT_ID,
    OTHER_STUDENT_ID,
    PRINCIPAL_SUBJECT,
    SCHOOL_ID,
    STUDENT_ID,
    TENANT,
    TRANSCRIPT_ID,
    TRANSCRIPT_PDF,
    TRANSCRIPT_XML,
    VERIFICATION_CODE,
    Fakes,
    GatewayClient,
    bearer,
)
from gateway.tests.test_routes import assert_problem

ISSUE = f"/v1/classes/{CLASS_ID}/transcripts"
CORRECTIONS = f"/v1/transcripts/{TRANSCRIPT_ID}/corrections"
DOCUMENT = f"/v1/transcripts/{TRANSCRIPT_ID}/document"
LIST = f"/v1/students/{STUDENT_ID}/transcripts"
PUBLIC = f"/v1/public/transcripts/{TENANT}/{TRANSCRIPT_ID}"
JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

SIGNERS: dict[str, Any] = {
    "homeroom_teacher_name": "Nguyễn Thị Hoa",
    "homeroom_teacher_subject": "0193a4c2-0000-7000-8000-00000000000a",
    "principal_name": "Trần Văn Bình",
    "principal_subject": PRINCIPAL_SUBJECT,
}
VERIFIED = {
    "valid": True,
    "pdf_valid": True,
    "xml_valid": True,
    "digest_matches": True,
    "version": 1,
    "superseded": False,
    "school_name": "Trường THCS Lê Quý Đôn",
    "school_year": "2025-2026",
    "issued_on": "2026-06-01",
    "student_name": "Nguyễn Văn An",
}


def sr_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.student_record.recorder.calls if c.method == method]


# Issuing, corrections, reading


async def test_issue_transcripts(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(ISSUE, headers={**bearer(token), "Idempotency-Key": "issue-1"}, json=SIGNERS)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "issued": 1,
        "students": [
            {
                "student_id": STUDENT_ID,
                "student_name": "Nguyễn Văn An",
                "outcome": "issued",
                "transcript_id": TRANSCRIPT_ID,
                "missing": [],
            },
            {
                "student_id": OTHER_STUDENT_ID,
                "student_name": "Lê Thị Bình",
                "outcome": "results_incomplete",
                "transcript_id": None,
                "missing": ["HK I: Toán", "Cả năm: Rèn luyện"],
            },
        ],
    }
    assert sr_calls(fakes, "IssueTranscripts") == [
        sr.IssueTranscriptsRequest(request_id="issue-1", class_id=CLASS_ID, **SIGNERS)
    ]
    # Signing a class takes longer than the usual deadline (2 s in these tests): it gets its own.
    [call] = [c for c in fakes.student_record.recorder.calls if c.method == "IssueTranscripts"]
    assert call.time_remaining is not None
    assert call.time_remaining > 30


@pytest.mark.parametrize("field", ["homeroom_teacher_subject", "principal_name"])
async def test_issue_needs_both_signers(client: GatewayClient, fakes: Fakes, token: str, field: str) -> None:
    body = {k: v for k, v in SIGNERS.items() if k != field}
    response = await client.post(ISSUE, headers=bearer(token), json=body)
    assert assert_problem(response, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == field
    assert sr_calls(fakes, "IssueTranscripts") == []


async def test_correct_transcript(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {**SIGNERS, "reason": "Sửa điểm Toán học kì II"}
    response = await client.post(
        CORRECTIONS, headers={**bearer(token), "Idempotency-Key": "fix-1"}, json=body
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": NEW_TRANSCRIPT_ID,
        "student_id": STUDENT_ID,
        "school_id": SCHOOL_ID,
        "class_id": CLASS_ID,
        "school_year": "2025-2026",
        "version": 2,
        "supersedes_id": TRANSCRIPT_ID,
        "digest": "ab" * 32,
        "verification_code": "P3W8N5ZT2H",
        "issued_by": PRINCIPAL_SUBJECT,
        "issued_at": "2026-05-28T20:26:40Z",
        "superseded_at": None,
        "correction_reason": "Sửa điểm Toán học kì II",
    }
    assert sr_calls(fakes, "CorrectTranscript") == [
        sr.CorrectTranscriptRequest(request_id="fix-1", transcript_id=TRANSCRIPT_ID, **body)
    ]
    no_reason = await client.post(CORRECTIONS, headers=bearer(token), json=SIGNERS)
    assert assert_problem(no_reason, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == "reason"
    unknown = await client.post("/v1/transcripts/not-an-id/corrections", headers=bearer(token), json=body)
    assert_problem(unknown, 404, "TRANSCRIPT_NOT_FOUND")
    assert len(sr_calls(fakes, "CorrectTranscript")) == 1


async def test_list_student_transcripts(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(LIST, headers=bearer(token))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(t["id"], t["version"], t["superseded_at"]) for t in items] == [
        (NEW_TRANSCRIPT_ID, 2, None),
        (TRANSCRIPT_ID, 1, "2026-05-28T20:35:00Z"),
    ]
    assert items[1]["supersedes_id"] is None
    assert items[1]["correction_reason"] is None
    assert sr_calls(fakes, "ListStudentTranscripts") == [
        sr.ListStudentTranscriptsRequest(student_id=STUDENT_ID)
    ]


@pytest.mark.parametrize(
    ("query", "pb_format", "media_type", "content"),
    [
        ("", sr.TRANSCRIPT_FORMAT_PDF, "application/pdf", TRANSCRIPT_PDF),
        ("?format=pdf", sr.TRANSCRIPT_FORMAT_PDF, "application/pdf", TRANSCRIPT_PDF),
        ("?format=xml", sr.TRANSCRIPT_FORMAT_XML, "application/xml", TRANSCRIPT_XML),
    ],
)
async def test_transcript_document(
    client: GatewayClient,
    fakes: Fakes,
    token: str,
    query: str,
    pb_format: int,
    media_type: str,
    content: bytes,
) -> None:
    response = await client.get(DOCUMENT + query, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    extension = media_type.rsplit("/", 1)[1]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="hoc-ba-2025-2026-v1-{TRANSCRIPT_ID}.{extension}"'
    )
    assert response.content == content
    assert sr_calls(fakes, "GetTranscriptDocument") == [
        sr.GetTranscriptDocumentRequest(transcript_id=TRANSCRIPT_ID, format=pb_format)
    ]


async def test_transcript_document_shapes(client: GatewayClient, fakes: Fakes, token: str) -> None:
    wrong = await client.get(f"{DOCUMENT}?format=docx", headers=bearer(token))
    assert assert_problem(wrong, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == "format"
    malformed = await client.get("/v1/transcripts/123/document", headers=bearer(token))
    assert_problem(malformed, 404, "TRANSCRIPT_NOT_FOUND")
    anonymous = await client.get(DOCUMENT)
    assert_problem(anonymous, 401, "MISSING_TOKEN")
    assert sr_calls(fakes, "GetTranscriptDocument") == []


# The public verification


async def test_verification_as_json_sends_no_authorization(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    # Even a visitor who sends a token: it is neither read nor forwarded.
    for headers in (JSON, {**JSON, **bearer(token)}, {**JSON, "Authorization": "Bearer garbage"}):
        response = await client.get(f"{PUBLIC}?code={VERIFICATION_CODE.lower()}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["vary"] == "Accept"
        assert response.json() == VERIFIED
    calls = fakes.student_record.recorder.calls
    assert [c.method for c in calls] == ["VerifyTranscript"] * 3
    for call in calls:
        assert "authorization" not in call.metadata
        assert call.request == sr.VerifyTranscriptRequest(
            tenant=TENANT, transcript_id=TRANSCRIPT_ID, verification_code=VERIFICATION_CODE
        )
    assert fakes.identity.recorder.calls == []  # no access scope asked for


async def test_verification_page_for_browsers(client: GatewayClient, fakes: Fakes) -> None:
    for headers in (BROWSER, {}, {"Accept": "*/*"}):
        response = await client.get(f"{PUBLIC}?code={VERIFICATION_CODE}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["referrer-policy"] == "no-referrer"
        page = response.text
        assert page.index("HỌC BẠ HỢP LỆ") < page.index("VALID TRANSCRIPT")  # Vietnamese first
        for text in (
            "Nguyễn Văn An",
            "Trường THCS Lê Quý Đôn",
            "2025-2026",
            "01/06/2026",
            "phiên bản hiện hành",
        ):
            assert text in page
        assert "<script" not in page
        assert "<style" not in page


async def test_verification_page_escapes_everything(client: GatewayClient, fakes: Fakes) -> None:
    fakes.student_record.recorder.student_name = '<script>alert("x")</script> & <b>An</b>'
    response = await client.get(f"{PUBLIC}?code={VERIFICATION_CODE}")
    assert response.status_code == 200, response.text
    assert "<script" not in response.text
    assert "<b>" not in response.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;An&lt;/b&gt;" in response.text
    as_json = await client.get(f"{PUBLIC}?code={VERIFICATION_CODE}", headers=JSON)
    assert as_json.json()["student_name"] == '<script>alert("x")</script> & <b>An</b>'


@pytest.mark.parametrize(
    "path",
    [
        f"{PUBLIC}?code=ZZZZZZZZZZ",  # well formed, wrong: the service's NOT_FOUND
        f"/v1/public/transcripts/{TENANT}/0193a4c2-0a1b-7c2d-8e3f-000000000009?code={VERIFICATION_CODE}",
    ],
)
async def test_wrong_code_or_unknown_transcript_is_404(
    client: GatewayClient, fakes: Fakes, path: str
) -> None:
    as_json = await client.get(path, headers=JSON)
    assert_problem(as_json, 404, "TRANSCRIPT_NOT_FOUND")
    page = await client.get(path, headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Không tìm thấy học bạ" in page.text
    assert "Transcript not found" in page.text
    assert fakes.student_record.recorder.methods() == ["VerifyTranscript@unknown"] * 2


@pytest.mark.parametrize(
    "path",
    [
        f"{PUBLIC}",  # no code
        f"{PUBLIC}?code=",
        f"{PUBLIC}?code=K7M2Q9XP4",  # 9 characters
        f"{PUBLIC}?code=K7M2Q9XP4RR",  # 11
        f"{PUBLIC}?code=K7M2Q9XP40",  # 0 is not in the alphabet
        f"{PUBLIC}?code=K7M2Q9XP4I",  # nor I
        f"{PUBLIC}?code=K7M2Q9XP4%C3%9F",  # ß upper-cases to SS
        f"/v1/public/transcripts/{TENANT}/not-a-uuid?code={VERIFICATION_CODE}",
        f"/v1/public/transcripts/Demo_Tenant/{TRANSCRIPT_ID}?code={VERIFICATION_CODE}",
    ],
)
async def test_malformed_requests_are_the_same_404(client: GatewayClient, fakes: Fakes, path: str) -> None:
    assert_problem(await client.get(path, headers=JSON), 404, "TRANSCRIPT_NOT_FOUND")
    page = await client.get(path)
    assert page.status_code == 404
    assert "Không tìm thấy học bạ" in page.text
    assert fakes.student_record.recorder.calls == []


async def test_public_rate_limit_per_client_ip(make_client: MakeClient, fakes: Fakes, token: str) -> None:
    limits = RateLimitSettings(public_per_minute=1, public_burst=3)
    async with make_client(rate_limit=limits, client_ip="203.0.113.7") as client:
        for _ in range(3):
            assert (await client.get(f"{PUBLIC}?code={VERIFICATION_CODE}", headers=JSON)).status_code == 200
        # Malformed requests count as well: probing costs the same.
        limited = await client.get(f"{PUBLIC}?code=bad", headers=JSON)
        body = assert_problem(limited, 429, "RATE_LIMITED")
        assert int(limited.headers["retry-after"]) >= 1
        assert body["instance"] == f"/v1/public/transcripts/{TENANT}/{TRANSCRIPT_ID}"
        page = await client.get(f"{PUBLIC}?code={VERIFICATION_CODE}")
        assert page.status_code == 429
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "retry-after" in page.headers
        assert "Quá nhiều yêu cầu" in page.text
        # The authenticated routes keep their own budget.
        assert (await client.get(LIST, headers=bearer(token))).status_code == 200
    assert fakes.student_record.recorder.methods().count("VerifyTranscript") == 3
    async with make_client(rate_limit=limits, client_ip="203.0.113.8") as other:
        assert (await other.get(f"{PUBLIC}?code={VERIFICATION_CODE}", headers=JSON)).status_code == 200


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("text/html", False),
        ("application/json", True),
        ("application/json, text/html;q=0.5", True),
        ("text/html, application/json", False),
        ("application/*", True),
        ("application/json;q=0", False),
        ("text/html;q=0.1, */*;q=0.5, application/json", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("application/json;q=abc", False),
    ],
)
def test_content_negotiation(accept: str | None, expected: bool) -> None:
    assert prefers_json(accept) is expected


async def test_the_verification_code_stays_out_of_traces(client: GatewayClient, fakes: Fakes) -> None:
    """The code is what lets anyone see the holder's name: the server span keeps the URL without it."""
    exporter = InMemorySpanExporter()
    configure_telemetry("gateway-test", [SimpleSpanProcessor(exporter)])
    response = await client.get(f"{PUBLIC}?code={VERIFICATION_CODE}", headers=JSON)
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.name.startswith("GET /v1/public/transcripts")]
    assert server, [s.name for s in spans]
    for span in spans:
        assert VERIFICATION_CODE not in repr(dict(span.attributes or {})), span.name
    assert any(str(s.attributes.get("http.url", s.attributes.get("url.full", ""))).endswith(TRANSCRIPT_ID)
               for s in server if s.attributes)  # fmt: skip

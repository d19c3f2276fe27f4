"""Digital transcripts through the gateway, on the demo tenant (THCS Lê Quý Đôn): the school admin enters a
whole grade-6 year for one student (every subject's regular, mid- and end-term assessments of both
semesters, and conduct), locks both semesters and issues the class's transcripts; the signed PDF validates
with pyHanko against the development CA's root; an anonymous visitor (no token) checks it on the public
verification page, as JSON and as HTML, and a wrong code is a 404; a correction supersedes version 1.

Repeatable on a persistent stack: each run makes its own class in a school year nobody has locked."""

from __future__ import annotations

import base64
import io
import json
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

pytestmark = pytest.mark.e2e

PRINCIPAL = "thcs.lequydon.admin"
HOMEROOM = "gv.nguyenthihoa"
STUDENT_NAME = "Đặng Thu Trang"
JSON = "application/json"


def lequydon(stack: dict[str, Any]) -> dict[str, Any]:
    return dict(next(s for s in stack["demo_data"]["demo"]["schools"] if "Lê Quý Đôn" in s["name"]))


def free_school_year(principal: httpx.Client, school_id: str) -> str:
    """A school year between 2030 and 2090 with no locked semester at the school."""
    years = principal.get(f"/v1/schools/{school_id}/school-years")
    assert years.status_code == 200, years.text
    locked = {y["name"] for y in years.json()["items"] if y["locked_semesters"]}
    while True:
        first = 2030 + secrets.randbelow(60)
        name = f"{first}-{first + 1}"
        if name not in locked:
            return name


def subject_of(token: str) -> str:
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def fill_year(principal: httpx.Client, class_id: str, student: str) -> None:
    """Every assessment of both semesters of grade 6: each scored subject's regular, mid- and end-term
    scores, each comment subject's the same as Đ, and conduct."""
    subjects = principal.get("/v1/curriculum/grades/6/subjects")
    assert subjects.status_code == 200, subjects.text
    for semester in (1, 2):
        for subject in subjects.json()["items"]:
            value = {"scored": "8", "comment": "Đ"}.get(subject["evaluation"])
            assert value is not None, subject
            entries = [
                {"student_id": student, "kind": "regular", "ordinal": i, "value": value}
                for i in range(1, subject["regular_assessments"] + 1)
            ]
            entries += [
                {"student_id": student, "kind": kind, "value": value} for kind in ("mid_term", "end_term")
            ]
            path = f"/v1/classes/{class_id}/gradebook/{subject['code']}/semesters/{semester}"
            entered = principal.put(path, json={"entries": entries})
            assert entered.status_code == 200, (subject["code"], entered.text)
        rated = principal.put(
            f"/v1/classes/{class_id}/ratings/semesters/{semester}",
            json={"entries": [{"student_id": student, "value": "Tốt"}]},
        )
        assert rated.status_code == 200, rated.text


def validate_pdf(pdf: bytes, root: Path) -> list[str]:
    """The PDF's signatures checked with pyHanko against the development CA's root (``make run`` creates
    it; ``stack.json`` says where): each intact, trusted and the last covering the whole file. Answers the
    signature fields' names."""
    der = root.read_bytes()
    if pem.detect(der):
        _, _, der = pem.unarmor(der)
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False, revocation_mode="soft-fail"
    )
    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures
    assert signatures
    for signature in signatures:
        status = validate_pdf_signature(signature, context)
        assert status.intact, signature.field_name
        assert status.valid, signature.field_name
        assert status.trusted, signature.field_name
    last = validate_pdf_signature(signatures[-1], context)
    assert last.coverage == SignatureCoverageLevel.ENTIRE_FILE
    return [s.field_name for s in signatures]


class Anonymous:
    """A visitor without a token. The public route has its own, strict, per-IP rate limit
    (``GATEWAY__RATE_LIMIT__PUBLIC_PER_MINUTE``) that the stack does not lift as it lifts the others, and
    every test run calls it from the same address: a 429 is waited out (``Retry-After``), not a failure."""

    def __init__(self) -> None:
        self.http = httpx.Client(timeout=60)

    def get(self, url: str, accept: str | None = None) -> httpx.Response:
        headers = {"Accept": accept} if accept else {}
        deadline = time.monotonic() + 90
        while True:
            response = self.http.get(url, headers=headers)
            assert "authorization" not in response.request.headers
            if response.status_code != 429 or time.monotonic() > deadline:
                return response
            time.sleep(int(response.headers.get("retry-after", "1")))

    def close(self) -> None:
        self.http.close()


def verification_url(gateway: str, tenant: str, transcript: dict[str, Any], code: str | None = None) -> str:
    """As student-record prints it in the QR code (TRANSCRIPTS__VERIFICATION_BASE_URL's default is this
    gateway's ``/v1/public/transcripts``)."""
    code = code or transcript["verification_code"]
    return f"{gateway}/v1/public/transcripts/{tenant}/{transcript['id']}?code={code}"


def test_a_year_of_results_becomes_a_signed_transcript_anyone_can_verify(
    stack, tokens, client_for, gateway
) -> None:
    school = lequydon(stack)
    principal_token = tokens.named("demo", PRINCIPAL)
    signers = {
        "homeroom_teacher_name": "Nguyễn Thị Hoa",
        "homeroom_teacher_subject": subject_of(tokens.named("demo", HOMEROOM)),
        "principal_name": "Lê Văn Minh",
        "principal_subject": subject_of(principal_token),
    }
    with client_for(principal_token) as principal:
        year = free_school_year(principal, school["id"])
        first = int(year[:4])
        created = principal.post(
            f"/v1/schools/{school['id']}/classes",
            json={"name": f"6H{uuid.uuid4().hex[:6]}", "grade": 6, "school_year": year},
        )
        assert created.status_code == 201, created.text
        class_id = created.json()["id"]
        defined = principal.put(
            f"/v1/schools/{school['id']}/school-years/{year}",
            json={
                "semester_1_start": f"{first}-09-05",
                "semester_1_end": f"{first + 1}-01-10",
                "semester_2_start": f"{first + 1}-01-12",
                "semester_2_end": f"{first + 1}-05-25",
            },
        )
        assert defined.status_code == 200, defined.text
        enrolled = principal.post(
            f"/v1/classes/{class_id}/students",
            json={"student": {"full_name": STUDENT_NAME, "date_of_birth": "2014-04-12", "sex": "female"}},
        )
        assert enrolled.status_code == 201, enrolled.text
        student = enrolled.json()["student"]["id"]

        # Not before semester II is locked.
        early = principal.post(f"/v1/classes/{class_id}/transcripts", json=signers)
        assert early.status_code == 422, early.text
        assert early.json()["reason"] == "SEMESTER_NOT_LOCKED"

        fill_year(principal, class_id, student)
        for semester in (1, 2):
            locked = principal.post(
                f"/v1/schools/{school['id']}/school-years/{year}/semesters/{semester}/lock"
            )
            assert locked.status_code == 200, locked.text

        key = {"Idempotency-Key": f"transcripts-{uuid.uuid4()}"}
        issued = principal.post(f"/v1/classes/{class_id}/transcripts", json=signers, headers=key, timeout=120)
        assert issued.status_code == 200, issued.text
        assert issued.json()["issued"] == 1, issued.json()
        [row] = issued.json()["students"]
        assert (row["student_id"], row["student_name"], row["outcome"]) == (student, STUDENT_NAME, "issued")
        replayed = principal.post(f"/v1/classes/{class_id}/transcripts", json=signers, headers=key)
        assert replayed.json() == issued.json()
        again = principal.post(f"/v1/classes/{class_id}/transcripts", json=signers)
        assert again.json()["students"][0]["outcome"] == "already_issued"

        listed = principal.get(f"/v1/students/{student}/transcripts")
        assert listed.status_code == 200, listed.text
        [transcript] = listed.json()["items"]
        assert transcript["id"] == row["transcript_id"]
        assert (transcript["version"], transcript["school_year"], transcript["superseded_at"]) == (
            1,
            year,
            None,
        )

        pdf = principal.get(f"/v1/transcripts/{transcript['id']}/document", timeout=60)
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("attachment; filename=")
        assert pdf.content.startswith(b"%PDF")
        fields = validate_pdf(pdf.content, Path(stack["dev_ca_root"]))
        assert fields == ["Sig1_HomeroomTeacher", "Sig2_Principal", "Sig3_Institution"]
        xml = principal.get(f"/v1/transcripts/{transcript['id']}/document?format=xml", timeout=60)
        assert xml.status_code == 200, xml.text
        assert xml.headers["content-type"].startswith("application/xml")
        assert b"urn:vn-school:hoc-ba:1" in xml.content

    # Anyone with the link, without a token.
    anonymous = Anonymous()
    try:
        answer = anonymous.get(verification_url(gateway, "demo", transcript), JSON)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "valid": True,
            "pdf_valid": True,
            "xml_valid": True,
            "digest_matches": True,
            "version": 1,
            "superseded": False,
            "school_name": school["name"],
            "school_year": year,
            "issued_on": answer.json()["issued_on"],
            "student_name": STUDENT_NAME,
        }
        # As a phone's browser opens the QR code (the code typed in lower case works too).
        page = anonymous.get(
            verification_url(gateway, "demo", transcript, transcript["verification_code"].lower())
        )
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert STUDENT_NAME in page.text
        assert "HỌC BẠ HỢP LỆ" in page.text
        assert "<script" not in page.text

        wrong_code = "".join("A" if c != "A" else "B" for c in transcript["verification_code"])
        wrong = anonymous.get(verification_url(gateway, "demo", transcript, wrong_code), JSON)
        assert wrong.status_code == 404, wrong.text
        assert wrong.json()["reason"] == "TRANSCRIPT_NOT_FOUND"
        wrong_page = anonymous.get(verification_url(gateway, "demo", transcript, wrong_code))
        assert wrong_page.status_code == 404, wrong_page.text
        assert "Không tìm thấy học bạ" in wrong_page.text
        other_tenant = anonymous.get(verification_url(gateway, "other", transcript), JSON)
        assert other_tenant.status_code == 404, other_tenant.text

        # A correction is version 2; version 1 still verifies, as superseded.
        with client_for(principal_token) as principal:
            corrected = principal.post(
                f"/v1/transcripts/{transcript['id']}/corrections",
                json={**signers, "reason": "Đính chính thử nghiệm"},
                timeout=120,
            )
            assert corrected.status_code == 201, corrected.text
            version_2 = corrected.json()
            assert (version_2["version"], version_2["supersedes_id"]) == (2, transcript["id"])
        old = anonymous.get(verification_url(gateway, "demo", transcript), JSON)
        assert old.status_code == 200, old.text
        assert (old.json()["valid"], old.json()["superseded"], old.json()["version"]) == (True, True, 1)
        new = anonymous.get(verification_url(gateway, "demo", version_2), JSON)
        assert (new.json()["valid"], new.json()["superseded"], new.json()["version"]) == (True, False, 2)
    finally:
        anonymous.close()

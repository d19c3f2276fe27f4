"""The register of upper-secondary diplomas through the gateway.

The seed's one upper-secondary school is THPT Chuyên Tỉnh Khác, in the "other" tenant: its authority admin
makes a grade-12 class in a past school year (a diploma's issue date is not in the future and not before the
graduation year), enrols a new student, enters a diploma (Idempotency-Key replayed), meets the refusals
(a second active diploma, a taken serial number, a classification on a certificate, dates before the
graduation year, a graduation year before the grade-12 year), reads the school's book and the student's
entries, corrects it and revokes the correction; an anonymous visitor (no token) verifies each entry by
serial number and code, as JSON and as HTML, and a wrong code or another tenant is the same 404. On the
demo tenant, Lê Quý Đôn (lower secondary) is refused with NOT_UPPER_SECONDARY: there is no lower-secondary
diploma.

Repeatable on a persistent stack: each run makes its own class and student, with random serial and
register numbers."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

pytestmark = pytest.mark.e2e

JSON = "application/json"
HOLDER = "Đoàn Ngọc Bảo Trâm"


def school_of(stack: dict[str, Any], slug: str, name: str) -> dict[str, Any]:
    return dict(next(s for s in stack["demo_data"][slug]["schools"] if name in s["name"]))


def number(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(5).upper()}"


class Anonymous:
    """A visitor without a token. The public routes share a strict per-IP rate limit the stack does not
    lift, and every run calls them from the same address: a 429 is waited out (``Retry-After``)."""

    def __init__(self, gateway: str) -> None:
        self.gateway = gateway
        self.http = httpx.Client(timeout=60)

    def verify(
        self, serial: str, code: str, tenant: str = "other", accept: str | None = JSON
    ) -> httpx.Response:
        url = f"{self.gateway}/v1/public/diplomas/{tenant}/{quote(serial, safe='/')}"
        headers = {"Accept": accept} if accept else {}
        deadline = time.monotonic() + 90
        while True:
            response = self.http.get(url, params={"code": code}, headers=headers)
            assert "authorization" not in response.request.headers
            if response.status_code != 429 or time.monotonic() > deadline:
                return response
            time.sleep(int(response.headers.get("retry-after", "1")))

    def close(self) -> None:
        self.http.close()


def assert_refused(response: httpx.Response, status: int, reason: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["reason"] == reason, body
    if field:
        assert [e["field"] for e in body["errors"]] == [field], body


def test_a_diploma_is_entered_verified_corrected_and_revoked(stack, tokens, client_for, gateway) -> None:
    school = school_of(stack, "other", "THPT")
    first = 2010 + secrets.randbelow(15)  # a grade-12 year 2010-2011 … 2024-2025
    graduation = first + 1
    serial, register = number("E2E"), f"{secrets.randbelow(10**6)}/{graduation}"
    entry = {
        "register_number": register,
        "serial_number": serial.lower(),  # stored upper-cased
        "issued_on": f"{graduation}-07-20",
        "signer_name": "Nguyễn Văn Hải",
        "signer_title": "Giám đốc Sở Giáo dục và Đào tạo",
    }
    diploma_body = {"kind": "upper_secondary_diploma", "graduation_year": graduation, **entry}
    with client_for(tokens("other", "authority_admin")) as admin:
        created = admin.post(
            f"/v1/schools/{school['id']}/classes",
            json={"name": f"12D{uuid.uuid4().hex[:6]}", "grade": 12, "school_year": f"{first}-{graduation}"},
        )
        assert created.status_code == 201, created.text
        enrolled = admin.post(
            f"/v1/classes/{created.json()['id']}/students",
            json={"student": {"full_name": HOLDER, "date_of_birth": "2007-10-02", "sex": "female"}},
        )
        assert enrolled.status_code == 201, enrolled.text
        student = enrolled.json()["student"]["id"]

        key = {"Idempotency-Key": f"diploma-{uuid.uuid4()}"}
        issued = admin.post(f"/v1/students/{student}/diplomas", json=diploma_body, headers=key)
        assert issued.status_code == 201, issued.text
        diploma = issued.json()
        assert (diploma["kind"], diploma["status"], diploma["classification"]) == (
            "upper_secondary_diploma",
            "valid",
            None,
        )
        assert (diploma["serial_number"], diploma["register_number"]) == (serial, register)
        assert (diploma["holder_name"], diploma["holder_date_of_birth"]) == (HOLDER, "2007-10-02")
        assert (diploma["school_id"], diploma["graduation_year"]) == (school["id"], graduation)
        assert len(diploma["verification_code"]) == 10
        replayed = admin.post(f"/v1/students/{student}/diplomas", json=diploma_body, headers=key)
        assert (replayed.status_code, replayed.json()) == (201, diploma)

        # The register's refusals.
        fresh = {**diploma_body, "serial_number": number("E2E"), "register_number": f"X{register}"}
        assert_refused(
            admin.post(f"/v1/students/{student}/diplomas", json=fresh), 409, "DIPLOMA_ALREADY_ISSUED"
        )
        certificate = {**fresh, "kind": "upper_secondary_completion"}
        taken = admin.post(f"/v1/students/{student}/diplomas", json={**certificate, "serial_number": serial})
        assert_refused(taken, 409, "SERIAL_NUMBER_TAKEN", "serial_number")
        graded = admin.post(f"/v1/students/{student}/diplomas", json={**certificate, "classification": "kha"})
        assert_refused(graded, 422, "CLASSIFICATION_NOT_ALLOWED", "classification")
        early = admin.post(
            f"/v1/students/{student}/diplomas", json={**certificate, "issued_on": f"{first}-12-01"}
        )
        assert_refused(early, 422, "ISSUED_BEFORE_GRADUATION_YEAR", "issued_on")
        before = admin.post(
            f"/v1/students/{student}/diplomas", json={**certificate, "graduation_year": first}
        )
        assert_refused(before, 422, "GRADUATION_BEFORE_FINAL_YEAR", "graduation_year")
        lower = admin.post(
            f"/v1/students/{student}/diplomas", json={**certificate, "kind": "lower_secondary_diploma"}
        )
        assert_refused(lower, 422, "INVALID_ARGUMENT", "kind")

        book = admin.get(f"/v1/schools/{school['id']}/diplomas", params={"graduation_year": graduation})
        assert book.status_code == 200, book.text
        assert diploma in book.json()["items"]
        only_certificates = admin.get(
            f"/v1/schools/{school['id']}/diplomas",
            params={"graduation_year": graduation, "kind": "upper_secondary_completion"},
        )
        assert diploma["id"] not in {d["id"] for d in only_certificates.json()["items"]}
        mine = admin.get(f"/v1/students/{student}/diplomas")
        assert (mine.status_code, mine.json()["items"]) == (200, [diploma])

    anonymous = Anonymous(gateway)
    try:
        verified = anonymous.verify(serial, diploma["verification_code"].lower())
        assert verified.status_code == 200, verified.text
        assert verified.json() == {
            "status": "valid",
            "kind": "upper_secondary_diploma",
            "school_name": school["name"],
            "graduation_year": graduation,
            "holder_name": HOLDER,
        }
        page = anonymous.verify(serial.lower(), diploma["verification_code"], accept=None)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "VĂN BẰNG HỢP LỆ" in page.text
        assert HOLDER in page.text
        assert "<script" not in page.text
        wrong_code = "".join("A" if c != "A" else "B" for c in diploma["verification_code"])
        wrong = anonymous.verify(serial, wrong_code)
        assert_refused(wrong, 404, "DIPLOMA_NOT_FOUND")
        wrong_page = anonymous.verify(serial, wrong_code, accept=None)
        assert wrong_page.status_code == 404
        assert "Không tìm thấy văn bằng" in wrong_page.text
        assert_refused(
            anonymous.verify(serial, diploma["verification_code"], tenant="demo"), 404, "DIPLOMA_NOT_FOUND"
        )

        # A correction is a new entry with new numbers; the old one verifies as corrected.
        with client_for(tokens("other", "authority_admin")) as admin:
            new_serial = number("E2E")
            correction = {
                **entry,
                "serial_number": new_serial,
                "register_number": f"C{register}",
                "classification": "kha",
                "reason": "Bổ sung xếp loại",
            }
            corrected = admin.post(
                f"/v1/diplomas/{diploma['id']}/corrections",
                json=correction,
                headers={"Idempotency-Key": f"fix-{uuid.uuid4()}"},
            )
            assert corrected.status_code == 201, corrected.text
            second = corrected.json()
            assert (second["supersedes_id"], second["correction_reason"], second["classification"]) == (
                diploma["id"],
                "Bổ sung xếp loại",
                "kha",
            )
            assert second["verification_code"] != diploma["verification_code"]
            stale = admin.post(f"/v1/diplomas/{diploma['id']}/corrections", json=correction)
            assert_refused(stale, 422, "DIPLOMA_CORRECTED")
            revoked = admin.post(
                f"/v1/diplomas/{second['id']}/revocation", json={"reason": "Thử nghiệm thu hồi"}
            )
            assert revoked.status_code == 200, revoked.text
            assert (revoked.json()["status"], revoked.json()["revocation_reason"]) == (
                "revoked",
                "Thử nghiệm thu hồi",
            )
            assert revoked.json()["revoked_at"] is not None
            twice = admin.post(f"/v1/diplomas/{second['id']}/revocation", json={"reason": "Lần nữa"})
            assert_refused(twice, 422, "DIPLOMA_REVOKED")
            statuses = {
                d["id"]: d["status"] for d in admin.get(f"/v1/students/{student}/diplomas").json()["items"]
            }
            assert statuses == {diploma["id"]: "corrected", second["id"]: "revoked"}

        old = anonymous.verify(serial, diploma["verification_code"])
        assert (old.status_code, old.json()["status"]) == (200, "corrected")
        new = anonymous.verify(new_serial, second["verification_code"])
        assert (new.status_code, new.json()["status"]) == (200, "revoked")
        revoked_page = anonymous.verify(new_serial, second["verification_code"], accept=None)
        assert "ĐÃ BỊ THU HỒI" in revoked_page.text
    finally:
        anonymous.close()


def test_a_lower_secondary_school_issues_no_diploma(stack, tokens, client_for) -> None:
    """Lê Quý Đôn teaches grades 6-9: no diploma or certificate (there is no lower-secondary diploma from
    1/1/2026; completing lower secondary is confirmed on the transcript)."""
    lequydon = school_of(stack, "demo", "Lê Quý Đôn")
    student = next(c for c in lequydon["classes"] if c["grade"] == 9)["students"][0]
    body = {
        "kind": "upper_secondary_completion",
        "graduation_year": 2026,
        "register_number": "1/2026",
        "serial_number": number("E2E"),
        "issued_on": "2026-07-20",
        "signer_name": "Bùi Đức Thắng",
        "signer_title": "Hiệu trưởng",
    }
    with client_for(tokens.named("demo", "thcs.lequydon.admin")) as admin:
        refused = admin.post(f"/v1/students/{student}/diplomas", json=body)
        assert_refused(refused, 422, "NOT_UPPER_SECONDARY")
        assert "THPT" in refused.json()["detail"]
        assert admin.get(f"/v1/students/{student}/diplomas").json()["items"] == []

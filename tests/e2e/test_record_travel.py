"""Transfers out of the tenant and into it through the gateway, on the demo tenant: the record travels as an
XML package the sending school signs.

Lê Quý Đôn's admin makes a grade-6 class in a school year nobody uses (2031–2099), enrols a new student and
records their departure to a school outside the tenant (Idempotency-Key replayed; a second departure is
`STUDENT_NOT_ON_ROLL`); the student leaves the class list; the admin downloads the signed package. The
receiving side is played inside the same tenant (as "another authority"): the authority admin makes a
lower-secondary school and a class for the run and admits the student with the package — a new student in
that class, a `transfer_in` movement naming Lê Quý Đôn — and finds the package listed as verified and
downloadable as it was sent. A package with one byte changed is refused `RECORD_NOT_VERIFIED`, a file that
is no package `INVALID_RECORD_PACKAGE`, and nothing is created either time.

Repeatable on a persistent stack: each run makes its own class, student, school and class in a random year
(a new student has no sector code, so their package can be imported again without `STUDENT_CODE_TAKEN`)."""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

LEQUYDON_ADMIN = "thcs.lequydon.admin"
XML = "application/xml"


def seeded_school(stack: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(next(s for s in stack["demo_data"]["demo"]["schools"] if name in s["name"]))


def random_year() -> str:
    first = 2031 + secrets.randbelow(68)  # 2031-2032 … 2098-2099
    return f"{first}-{first + 1}"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def new_class(admin: httpx.Client, school_id: str, year: str, grade: int = 6) -> str:
    created = admin.post(
        f"/v1/schools/{school_id}/classes",
        json={"name": f"{grade}T{uuid.uuid4().hex[:6]}", "grade": grade, "school_year": year},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def class_list(client: httpx.Client, class_id: str) -> dict[str, dict[str, Any]]:
    listed = client.get(f"/v1/classes/{class_id}/students", params={"page_size": 200})
    assert listed.status_code == 200, listed.text
    return {s["id"]: s for s in listed.json()["items"]}


def assert_refused(response: httpx.Response, status: int, reason: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["reason"] == reason, body
    if field:
        assert [e["field"] for e in body["errors"]] == [field], body


def admit(client: httpx.Client, class_id: str, package: bytes, key: str | None = None) -> httpx.Response:
    return client.post(
        f"/v1/classes/{class_id}/arrivals",
        files={"file": ("ho-so-chuyen-truong.xml", package, XML)},
        data={"effective_on": today()},
        headers={"Idempotency-Key": key} if key else {},
        timeout=60,
    )


def test_a_student_leaves_the_tenant_and_arrives_with_a_signed_record(stack, tokens, client_for) -> None:
    lequydon = seeded_school(stack, "Lê Quý Đôn")
    year = random_year()
    # Letters only (a name takes no digits); unique, so the package can be told from others by name.
    name = "Đoàn Thị Thu " + "".join(secrets.choice(string.ascii_lowercase) for _ in range(6)).capitalize()
    destination = "Trường THCS Nguyễn Du, TP. Hồ Chí Minh"

    with client_for(tokens.named("demo", LEQUYDON_ADMIN)) as sending:
        from_class = new_class(sending, lequydon["id"], year)
        enrolled = sending.post(
            f"/v1/classes/{from_class}/students",
            json={"student": {"full_name": name, "date_of_birth": "2014-03-08", "sex": "female"}},
        )
        assert enrolled.status_code == 201, enrolled.text
        student = enrolled.json()["student"]["id"]

        body = {"destination": destination, "reason": "Gia đình chuyển vào TP. HCM", "effective_on": today()}
        key = {"Idempotency-Key": f"leave-{uuid.uuid4()}"}
        left = sending.post(f"/v1/students/{student}/departures", json=body, headers=key)
        assert left.status_code == 201, left.text
        movement = left.json()
        assert (movement["kind"], movement["state"], movement["counterpart"]) == (
            "transfer_out",
            "done",
            destination,
        )
        assert (movement["from_school_id"], movement["from_class_id"]) == (lequydon["id"], from_class)
        assert (movement["to_school_id"], movement["to_class_id"]) == (None, None)
        replayed = sending.post(f"/v1/students/{student}/departures", json=body, headers=key)
        assert (replayed.status_code, replayed.json()) == (201, movement)
        again = sending.post(f"/v1/students/{student}/departures", json=body)
        assert_refused(again, 422, "STUDENT_NOT_ON_ROLL")
        assert student not in class_list(sending, from_class)
        listed = sending.get(f"/v1/schools/{lequydon['id']}/movements")
        assert listed.status_code == 200, listed.text
        assert movement in listed.json()["items"]

        downloaded = sending.get(f"/v1/students/{student}/record-package", timeout=60)
        assert downloaded.status_code == 200, downloaded.text
        assert downloaded.headers["content-type"] == XML
        assert downloaded.headers["content-disposition"].startswith("attachment; filename=")
        assert ".xml" in downloaded.headers["content-disposition"]
        package = downloaded.content
        assert package.startswith(b"<?xml")
        assert b"HoSoChuyenTruong" in package
        assert name.encode() in package

    with client_for(tokens("demo", "authority_admin")) as receiving:
        school = receiving.post(
            "/v1/schools",
            json={"name": f"Trường THCS Tiếp Nhận {uuid.uuid4().hex[:6]}", "levels": ["lower_secondary"]},
        )
        assert school.status_code == 201, school.text
        to_school = school.json()["id"]
        to_class = new_class(receiving, to_school, year)

        # One byte changed anywhere in the signed content: the signature no longer verifies.
        # (The name's last letter: ASCII, so the XML stays well-formed and only the signature tells.)
        at = package.index(name.encode()) + len(name.encode()) - 1
        tampered = package[:at] + (b"x" if package[at : at + 1] != b"x" else b"y") + package[at + 1 :]
        assert len(tampered) == len(package)
        assert tampered != package
        assert_refused(admit(receiving, to_class, tampered), 422, "RECORD_NOT_VERIFIED", "file")
        not_a_package = b'<?xml version="1.0"?><HocBa xmlns="urn:vn-school:hoc-ba:1"/>'
        assert_refused(admit(receiving, to_class, not_a_package), 422, "INVALID_RECORD_PACKAGE", "file")
        assert class_list(receiving, to_class) == {}

        arrival_key = f"arrive-{uuid.uuid4()}"
        arrived = admit(receiving, to_class, package, arrival_key)
        assert arrived.status_code == 201, arrived.text
        arrival = arrived.json()
        new_student = arrival["student"]
        assert (new_student["full_name"], new_student["school_id"]) == (name, to_school)
        assert new_student["id"] != student
        came = arrival["movement"]
        assert (came["kind"], came["state"], came["student_id"]) == ("transfer_in", "done", new_student["id"])
        assert (came["to_school_id"], came["to_class_id"]) == (to_school, to_class)
        assert (came["from_school_id"], came["from_class_id"]) == (None, None)
        assert came["counterpart"] == lequydon["name"]
        assert admit(receiving, to_class, package, arrival_key).json() == arrival  # replayed

        members = class_list(receiving, to_class)
        assert set(members) == {new_student["id"]}

        records = receiving.get(f"/v1/students/{new_student['id']}/received-records")
        assert records.status_code == 200, records.text
        [record] = records.json()["items"]
        assert (record["student_id"], record["from_school"], record["verified"]) == (
            new_student["id"],
            lequydon["name"],
            True,
        )
        assert record["size_bytes"] == len(package)
        copy = receiving.get(f"/v1/students/{new_student['id']}/received-records/{record['id']}")
        assert copy.status_code == 200, copy.text
        assert copy.headers["content-type"] == XML
        assert copy.content == package
        unknown = receiving.get(f"/v1/students/{new_student['id']}/received-records/{uuid.uuid4()}")
        assert_refused(unknown, 404, "RECEIVED_RECORD_NOT_FOUND")

    with client_for(tokens.named("demo", LEQUYDON_ADMIN)) as sending:
        # The arrival is another school's: Lê Quý Đôn's admin does not read the new student.
        assert sending.get(f"/v1/students/{new_student['id']}").status_code in (403, 404)

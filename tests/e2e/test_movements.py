"""Moves and transfers through the gateway, on the demo tenant.

A move: Lê Quý Đôn's admin makes two grade-6 classes in a school year nobody uses (2031–2099), enrols a
new student in the first, records a score, moves them (Idempotency-Key replayed), and both class lists
change while the score follows the student; the service's refusals (already in the class, a class of
another year, a day in the future, another school's admin) come back with their reasons.

A transfer: the seed has no pair of schools a grade-6 student can go between (Nguyễn Trãi is a primary
school: it has no grade-6 class), so Lê Quý Đôn asks Nguyễn Trãi to take a student and Nguyễn Trãi's admin
refuses, after the refusals on the way (the same school, a second pending request, the sending school
deciding, accepting without a class or into a class of another year, deciding again otherwise). The
acceptance runs against a lower-secondary school the authority admin makes for the run.

Repeatable on a persistent stack: each run makes its own classes, students (and school) in a random year."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

LEQUYDON_ADMIN = "thcs.lequydon.admin"
NGUYENTRAI_ADMIN = "th.nguyentrai.admin"


def seeded_school(stack: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(next(s for s in stack["demo_data"]["demo"]["schools"] if name in s["name"]))


def random_year() -> str:
    first = 2031 + secrets.randbelow(68)  # 2031-2032 … 2098-2099
    return f"{first}-{first + 1}"


def free_year(admin: httpx.Client, school_id: str) -> str:
    """A random year with no locked semester at the school (other tests lock the years they use)."""
    years = admin.get(f"/v1/schools/{school_id}/school-years")
    assert years.status_code == 200, years.text
    locked = {y["name"] for y in years.json()["items"] if y["locked_semesters"]}
    while (year := random_year()) in locked:
        pass
    return year


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def new_class(admin: httpx.Client, school_id: str, year: str, grade: int = 6) -> str:
    created = admin.post(
        f"/v1/schools/{school_id}/classes",
        json={"name": f"{grade}M{uuid.uuid4().hex[:6]}", "grade": grade, "school_year": year},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def enrol_new(admin: httpx.Client, class_id: str, name: str) -> str:
    enrolled = admin.post(
        f"/v1/classes/{class_id}/students",
        json={"student": {"full_name": name, "date_of_birth": "2014-03-08", "sex": "male"}},
    )
    assert enrolled.status_code == 201, enrolled.text
    return str(enrolled.json()["student"]["id"])


def class_list(client: httpx.Client, class_id: str) -> set[str]:
    listed = client.get(f"/v1/classes/{class_id}/students", params={"page_size": 200})
    assert listed.status_code == 200, listed.text
    return {s["id"] for s in listed.json()["items"]}


def assert_refused(response: httpx.Response, status: int, reason: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["reason"] == reason, body
    if field:
        assert [e["field"] for e in body["errors"]] == [field], body


def test_a_school_admin_moves_a_student_to_another_class(stack, tokens, client_for) -> None:
    school = seeded_school(stack, "Lê Quý Đôn")
    with client_for(tokens.named("demo", LEQUYDON_ADMIN)) as admin:
        year = free_year(admin, school["id"])
        first = int(year[:4])
        defined = admin.put(
            f"/v1/schools/{school['id']}/school-years/{year}",
            json={
                "semester_1_start": f"{first}-09-05",
                "semester_1_end": f"{first + 1}-01-10",
                "semester_2_start": f"{first + 1}-01-12",
                "semester_2_end": f"{first + 1}-05-25",
            },
        )
        assert defined.status_code == 200, defined.text
        from_class, to_class = new_class(admin, school["id"], year), new_class(admin, school["id"], year)
        student = enrol_new(admin, from_class, "Phan Minh Quân")
        scored = admin.put(
            f"/v1/classes/{from_class}/gradebook/TOAN/semesters/1",
            json={"entries": [{"student_id": student, "kind": "regular", "ordinal": 1, "value": "8,5"}]},
        )
        assert scored.status_code == 200, scored.text
        assert (student in class_list(admin, from_class), student in class_list(admin, to_class)) == (
            True,
            False,
        )

        body = {"to_class_id": to_class, "reason": "Theo nguyện vọng của gia đình", "effective_on": today()}
        key = {"Idempotency-Key": f"move-{uuid.uuid4()}"}
        moved = admin.post(f"/v1/students/{student}/moves", json=body, headers=key)
        assert moved.status_code == 201, moved.text
        movement = moved.json()
        assert (movement["kind"], movement["state"], movement["school_year"]) == ("class_move", "done", year)
        assert (movement["from_class_id"], movement["to_class_id"]) == (from_class, to_class)
        assert movement["from_school_id"] == movement["to_school_id"] == school["id"]
        assert movement["decided_at"] is not None
        replayed = admin.post(f"/v1/students/{student}/moves", json=body, headers=key)
        assert (replayed.status_code, replayed.json()) == (201, movement)

        # Both class lists changed, and the year's score went with the student.
        assert student not in class_list(admin, from_class)
        assert student in class_list(admin, to_class)
        gradebook = admin.get(f"/v1/classes/{to_class}/gradebook/TOAN/semesters/1")
        assert gradebook.status_code == 200, gradebook.text
        [row] = [r for r in gradebook.json()["rows"] if r["student_id"] == student]
        assert [(c["kind"], c["ordinal"], c["display"]) for c in row["cells"]] == [("regular", 1, "8,5")]
        old = admin.get(f"/v1/classes/{from_class}/gradebook/TOAN/semesters/1")
        assert student not in {r["student_id"] for r in old.json()["rows"]}

        listed = admin.get(f"/v1/schools/{school['id']}/movements", params={"state": "done"})
        assert listed.status_code == 200, listed.text
        assert movement in listed.json()["items"]

        # The refusals.
        again = admin.post(f"/v1/students/{student}/moves", json=body)
        assert_refused(again, 409, "ALREADY_IN_CLASS")
        other_year = next(c["id"] for c in school["classes"] if c["grade"] == 6)  # the seed's 2025-2026
        wrong_year = admin.post(f"/v1/students/{student}/moves", json={**body, "to_class_id": other_year})
        assert_refused(wrong_year, 422, "NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR", "to_class_id")
        tomorrow = (date.fromisoformat(today()) + timedelta(days=2)).isoformat()
        future = admin.post(
            f"/v1/students/{student}/moves",
            json={**body, "to_class_id": from_class, "effective_on": tomorrow},
        )
        assert_refused(future, 422, "INVALID_DATE", "effective_on")
        shapeless = admin.post(f"/v1/students/{student}/moves", json={**body, "to_class_id": "6A2"})
        assert_refused(shapeless, 422, "INVALID_ARGUMENT", "to_class_id")
    with client_for(tokens.named("demo", NGUYENTRAI_ADMIN)) as stranger:
        refused = stranger.post(f"/v1/students/{student}/moves", json={**body, "to_class_id": from_class})
        assert refused.status_code == 403, refused.text
        assert stranger.get(f"/v1/schools/{school['id']}/movements").status_code == 403


def test_a_transfer_is_requested_then_refused_by_the_receiving_school(stack, tokens, client_for) -> None:
    """A primary school cannot be asked to take a grade-6 student at all; a lower-secondary school made for
    the run (administered by the authority admin, who administers every school) is asked and refuses."""
    lequydon, nguyentrai = seeded_school(stack, "Lê Quý Đôn"), seeded_school(stack, "Nguyễn Trãi")
    year = random_year()
    with client_for(tokens("demo", "authority_admin")) as authority:
        created = authority.post(
            "/v1/schools",
            json={"name": f"Trường THCS Nhận {uuid.uuid4().hex[:6]}", "levels": ["lower_secondary"]},
        )
        assert created.status_code == 201, created.text
        receiving_school = created.json()
        other_year_class = new_class(authority, receiving_school["id"], random_year())
    with client_for(tokens.named("demo", LEQUYDON_ADMIN)) as sending:
        class_id = new_class(sending, lequydon["id"], year)
        student = enrol_new(sending, class_id, "Vũ Thị Hồng Nhung")
        body = {
            "to_school_id": receiving_school["id"],
            "reason": "Gia đình chuyển nơi ở",
            "effective_on": today(),
        }
        same = sending.post(
            f"/v1/students/{student}/transfers", json={**body, "to_school_id": lequydon["id"]}
        )
        assert_refused(same, 422, "SAME_SCHOOL", "to_school_id")
        primary = sending.post(
            f"/v1/students/{student}/transfers", json={**body, "to_school_id": nguyentrai["id"]}
        )
        assert_refused(primary, 422, "SCHOOL_LEVEL_MISMATCH", "to_school_id")
        requested = sending.post(f"/v1/students/{student}/transfers", json=body)
        assert requested.status_code == 201, requested.text
        movement = requested.json()
        assert (movement["kind"], movement["state"], movement["to_class_id"]) == (
            "school_transfer",
            "pending",
            None,
        )
        assert (movement["from_school_id"], movement["to_school_id"]) == (
            lequydon["id"],
            receiving_school["id"],
        )
        assert_refused(sending.post(f"/v1/students/{student}/transfers", json=body), 422, "TRANSFER_PENDING")
        # Only the receiving school decides.
        own = sending.post(
            f"/v1/movements/{movement['id']}/decision", json={"accept": False, "note": "Không"}
        )
        assert own.status_code == 403, own.text
    decision = f"/v1/movements/{movement['id']}/decision"
    with client_for(tokens("demo", "authority_admin")) as receiving:
        pending = receiving.get(
            f"/v1/schools/{receiving_school['id']}/movements", params={"state": "pending"}
        )
        assert pending.status_code == 200, pending.text
        assert movement["id"] in {m["id"] for m in pending.json()["items"]}
        assert_refused(
            receiving.post(decision, json={"accept": True}), 422, "INVALID_ARGUMENT", "to_class_id"
        )
        assert_refused(receiving.post(decision, json={"accept": False}), 422, "INVALID_ARGUMENT", "note")
        wrong = receiving.post(decision, json={"accept": True, "to_class_id": other_year_class})
        assert_refused(wrong, 422, "NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR", "to_class_id")
        note = "Trường đã đủ sĩ số"
        refused = receiving.post(decision, json={"accept": False, "note": note})
        assert refused.status_code == 200, refused.text
        decided = refused.json()
        assert (decided["state"], decided["decision_note"], decided["to_class_id"]) == ("refused", note, None)
        assert decided["decided_by"]
        assert decided["decided_at"]
        retry = receiving.post(decision, json={"accept": False, "note": note})
        assert (retry.status_code, retry.json()) == (200, decided)
        otherwise = receiving.post(decision, json={"accept": True, "to_class_id": other_year_class})
        assert_refused(otherwise, 422, "MOVEMENT_ALREADY_DECIDED")
    with client_for(tokens.named("demo", LEQUYDON_ADMIN)) as sending:
        assert student in class_list(sending, class_id)  # nothing moved
        listed = sending.get(f"/v1/schools/{lequydon['id']}/movements", params={"state": "refused"})
        assert decided in listed.json()["items"]
        # Refused, the student may be asked for again.
        again = sending.post(f"/v1/students/{student}/transfers", json=body)
        assert again.status_code == 201, again.text
    with client_for(tokens("demo", "authority_admin")) as receiving:
        closed = receiving.post(
            f"/v1/movements/{again.json()['id']}/decision", json={"accept": False, "note": note}
        )
        assert closed.status_code == 200, closed.text


def test_an_accepted_transfer_moves_the_record(stack, tokens, client_for) -> None:
    """Into a lower-secondary school made for the run by the authority admin (who administers every school
    of the tenant): the student leaves Lê Quý Đôn's class list for the new school's, and Lê Quý Đôn's
    admin no longer reads them."""
    lequydon = seeded_school(stack, "Lê Quý Đôn")
    year = random_year()
    with client_for(tokens("demo", "authority_admin")) as authority:
        school = authority.post(
            "/v1/schools",
            json={"name": f"Trường THCS Thử {uuid.uuid4().hex[:6]}", "levels": ["lower_secondary"]},
        )
        assert school.status_code == 201, school.text
        receiving_school = school.json()["id"]
        to_class = new_class(authority, receiving_school, year)
    with client_for(tokens.named("demo", LEQUYDON_ADMIN)) as sending:
        from_class = new_class(sending, lequydon["id"], year)
        student = enrol_new(sending, from_class, "Trịnh Gia Huy")
        requested = sending.post(
            f"/v1/students/{student}/transfers",
            json={
                "to_school_id": receiving_school,
                "reason": "Gia đình chuyển nơi ở",
                "effective_on": today(),
            },
            headers={"Idempotency-Key": f"transfer-{uuid.uuid4()}"},
        )
        assert requested.status_code == 201, requested.text
        movement = requested.json()
    with client_for(tokens("demo", "authority_admin")) as authority:
        accepted = authority.post(
            f"/v1/movements/{movement['id']}/decision", json={"accept": True, "to_class_id": to_class}
        )
        assert accepted.status_code == 200, accepted.text
        done = accepted.json()
        assert (done["state"], done["to_class_id"], done["from_class_id"]) == ("done", to_class, from_class)
        assert student in class_list(authority, to_class)
        assert student not in class_list(authority, from_class)
        assert authority.get(f"/v1/students/{student}").json()["school_id"] == receiving_school
    with client_for(tokens.named("demo", LEQUYDON_ADMIN)) as sending:
        assert sending.get(f"/v1/students/{student}").status_code in (403, 404)
        listed = sending.get(f"/v1/schools/{lequydon['id']}/movements")
        assert done in listed.json()["items"]  # the sending school keeps the trail

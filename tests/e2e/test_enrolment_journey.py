"""The first vertical slice, through the gateway with real Keycloak tokens."""

from __future__ import annotations

import time
import unicodedata
import uuid

import pytest

pytestmark = pytest.mark.e2e


def roster_names(api, class_id: str) -> list[str]:
    response = api.get(f"/v1/attendance/classes/{class_id}/roster")
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return [e["full_name"] for e in response.json()["entries"]]


def test_enrolled_student_appears_on_the_attendance_roster_within_5_seconds(admin, fresh_class, new_student):
    class_id = fresh_class["class"]["id"]
    response = admin.post(f"/v1/classes/{class_id}/students", json=new_student("Phan Thị Ngọc Ánh"))
    assert response.status_code == 201, response.text
    assert response.json()["enrolment"]["class_id"] == class_id
    listed = admin.get(f"/v1/classes/{class_id}/students").json()["items"]
    assert [s["full_name"] for s in listed] == ["Phan Thị Ngọc Ánh"]
    began = time.monotonic()
    while time.monotonic() - began < 5:
        if roster_names(admin, class_id) == ["Phan Thị Ngọc Ánh"]:
            break
        time.sleep(0.1)
    assert roster_names(admin, class_id) == ["Phan Thị Ngọc Ánh"], "not on the roster within 5 s"


def test_the_seeded_demo_tenant_is_there(admin, stack):
    names = {s["name"] for s in admin.get("/v1/schools", params={"page_size": 200}).json()["items"]}
    assert {"Trường Tiểu học Nguyễn Trãi", "Trường THCS Lê Quý Đôn"} <= names
    seeded_class = stack["demo_data"]["demo"]["schools"][0]["classes"][0]
    assert len(roster_names(admin, seeded_class["id"])) == 3


def test_another_tenant_sees_nothing_of_this_one(admin, other_admin, fresh_class, new_student):
    class_id, school_id = fresh_class["class"]["id"], fresh_class["school"]["id"]
    admin.post(f"/v1/classes/{class_id}/students", json=new_student())
    for path in (
        f"/v1/schools/{school_id}",
        f"/v1/schools/{school_id}/classes",
        f"/v1/classes/{class_id}/students",
        f"/v1/attendance/classes/{class_id}/roster",
    ):
        response = other_admin.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert school_id not in {s["id"] for s in other_admin.get("/v1/schools").json()["items"]}
    # Writing into another tenant's class is a 404 too, and changes nothing there.
    assert other_admin.post(f"/v1/classes/{class_id}/students", json=new_student()).status_code == 404
    assert len(admin.get(f"/v1/classes/{class_id}/students").json()["items"]) == 1


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer not-a-token",
        "Basic dXNlcjpwYXNz",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    ],
)
def test_missing_or_bad_tokens_get_401(client_for, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    with client_for() as api:
        response = api.get("/v1/schools", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


def test_tokens_from_outside_the_tenant_realms_or_for_another_audience_get_401(client_for, tokens, stack):
    demo = stack["keycloak"]["realms"]["demo"]
    user = tokens.user("demo", "authority_admin")
    # A real token of the tenant realm, but issued to a client without the school-api audience.
    wrong_audience = tokens.password_grant(demo["realm"], "admin-cli", user["username"], user["password"])
    # A real token of the national e-ID stand-in realm: not a tenant realm.
    citizen = stack["keycloak"]["vneid"]["citizens"][0]
    vneid = tokens.password_grant("vneid", "admin-cli", citizen["personal_id"], citizen["password"])
    for grant in (wrong_audience, vneid):
        assert grant.status_code == 200, grant.text  # both are real tokens Keycloak issued
        with client_for(grant.json()["access_token"]) as api:
            assert api.get("/v1/schools").status_code == 401


def test_a_tampered_token_gets_401(client_for, tokens):
    token = tokens("demo", "authority_admin")
    header, payload, signature = token.split(".")
    tampered = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    with client_for(tampered) as api:
        assert api.get("/v1/schools").status_code == 401


def test_roles_and_scopes_are_enforced(client_for, tokens, fresh_class):
    with client_for(tokens("demo", "teacher")) as teacher:
        refused = teacher.post("/v1/schools", json={"name": "Trường X", "levels": ["primary"]})
        assert refused.status_code == 403
        assert refused.json()["reason"] == "ADMIN_ROLE_REQUIRED"
        # a class made a moment ago is nobody's class yet: a teacher reads only the classes they teach
        response = teacher.get(f"/v1/classes/{fresh_class['class']['id']}/students")
        assert response.status_code == 403
        assert response.json()["reason"] == "NOT_YOUR_CLASS"
    with client_for(tokens("demo", "guardian")) as guardian:
        schools = guardian.get("/v1/schools")
        assert schools.status_code == 200
        assert fresh_class["school"]["id"] not in [s["id"] for s in schools.json()["items"]]


def count_students(api, class_id: str) -> int:
    return len(api.get(f"/v1/classes/{class_id}/students").json()["items"])


@pytest.mark.parametrize(
    "body",
    [
        {"student": {"full_name": "A", "date_of_birth": "2017-05-20", "sex": "male", "nickname": "x"}},
        {"student": {"full_name": 123, "date_of_birth": "2017-05-20", "sex": "male"}},
        {"student": {"full_name": "Nguyễn Văn B", "date_of_birth": "20/05/2017", "sex": "male"}},
        {"student": {"full_name": "Nguyễn Văn B", "date_of_birth": "2017-02-30", "sex": "male"}},
        {"student": {"full_name": "Nguyễn Văn B", "date_of_birth": "2017-05-20", "sex": "other"}},
        {"student": {"full_name": "Nguyễn Văn B", "date_of_birth": "1960-05-20", "sex": "male"}},
        {
            "student": {
                "full_name": "Nguyễn Văn B",
                "date_of_birth": "2017-05-20",
                "sex": "male",
                "guardians": [{"full_name": "Mẹ", "relationship": "mother", "phone": "123"}],
            }
        },
        {
            "student_id": str(uuid.uuid4()),
            "student": {"full_name": "C", "date_of_birth": "2017-05-20", "sex": "male"},
        },
        {},
        {"student_id": "not-a-uuid"},
        [],
    ],
    ids=[
        "unknown-field",
        "wrong-type",
        "date-format",
        "impossible-date",
        "bad-enum",
        "implausible-age",
        "bad-phone",
        "both-oneof",
        "empty",
        "bad-id",
        "not-an-object",
    ],
)
def test_bad_enrolment_bodies_get_422_and_change_nothing(admin, fresh_class, body):
    class_id = fresh_class["class"]["id"]
    before = count_students(admin, class_id)
    response = admin.post(f"/v1/classes/{class_id}/students", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["status"] == 422
    assert problem["title"]
    assert problem["detail"]
    assert count_students(admin, class_id) == before


def test_malformed_json_gets_422(admin, fresh_class):
    response = admin.post(
        f"/v1/classes/{fresh_class['class']['id']}/students",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422


def test_decomposed_vietnamese_names_are_stored_composed(admin, fresh_class, new_student):
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Thuỳ Dương")
    response = admin.post(f"/v1/classes/{fresh_class['class']['id']}/students", json=new_student(nfd))
    assert response.status_code == 201, response.text
    stored = response.json()["student"]["full_name"]
    assert stored == unicodedata.normalize("NFC", nfd)
    assert unicodedata.is_normalized("NFC", stored)


def test_enrolling_a_student_into_a_class_of_another_school_is_refused(admin, fresh_class, new_student):
    student = admin.post(f"/v1/classes/{fresh_class['class']['id']}/students", json=new_student()).json()[
        "student"
    ]
    other_school = admin.post(
        "/v1/schools", json={"name": f"Trường Khác {uuid.uuid4().hex[:6]}", "levels": ["primary"]}
    ).json()
    other_class = admin.post(
        f"/v1/schools/{other_school['id']}/classes",
        json={"name": "3B", "grade": 3, "school_year": "2025-2026"},
    ).json()
    response = admin.post(f"/v1/classes/{other_class['id']}/students", json={"student_id": student["id"]})
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "STUDENT_IN_OTHER_SCHOOL"
    assert count_students(admin, other_class["id"]) == 0


def test_a_repeated_request_with_the_same_idempotency_key_is_replayed(admin, fresh_class, new_student):
    class_id = fresh_class["class"]["id"]
    key = f"e2e-{uuid.uuid4()}"
    first = admin.post(
        f"/v1/classes/{class_id}/students",
        json=new_student("Vũ Hoàng Long"),
        headers={"Idempotency-Key": key},
    )
    second = admin.post(
        f"/v1/classes/{class_id}/students",
        json=new_student("Vũ Hoàng Long"),
        headers={"Idempotency-Key": key},
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert count_students(admin, class_id) == 1
    reused = admin.post(
        f"/v1/classes/{class_id}/students", json=new_student("Someone Else"), headers={"Idempotency-Key": key}
    )
    assert reused.status_code == 422
    assert reused.json()["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert count_students(admin, class_id) == 1
    bad_key = admin.post(
        f"/v1/classes/{class_id}/students", json=new_student(), headers={"Idempotency-Key": "has spaces"}
    )
    assert bad_key.status_code == 422
    assert count_students(admin, class_id) == 1


def test_unknown_ids_and_routes_are_404_problems(admin):
    for path in (
        f"/v1/classes/{uuid.uuid4()}/students",
        "/v1/classes/not-a-uuid/students",
        f"/v1/attendance/classes/{uuid.uuid4()}/roster",
        "/v1/nothing-here",
    ):
        response = admin.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")


def test_no_personal_data_reaches_the_logs(admin, fresh_class, stack):
    name, phone = "Quách Thị Diễm Kiều", "0987654321"
    body = {
        "student": {
            "full_name": name,
            "date_of_birth": "2017-05-20",
            "sex": "female",
            "guardians": [{"full_name": "Quách Văn Lực", "relationship": "father", "phone": phone}],
        }
    }
    assert admin.post(f"/v1/classes/{fresh_class['class']['id']}/students", json=body).status_code == 201
    # And one refused request, whose body must not be echoed into a log either.
    bad = {"student": {**body["student"], "date_of_birth": "1900-01-01"}}
    assert admin.post(f"/v1/classes/{fresh_class['class']['id']}/students", json=bad).status_code == 422
    time.sleep(1.5)  # let the consumer log whatever it logs
    from pathlib import Path

    logs = sorted(Path(stack["logs"]).glob("*.log"))
    assert logs
    for log in logs:
        if log.name.startswith("keycloak"):
            continue  # Keycloak logs its own events (no student data reaches it)
        text = log.read_text(errors="replace")
        for secret in (name, "Quách Văn Lực", phone):
            assert secret not in text, f"{secret!r} found in {log.name}"


def test_an_expired_keycloak_token_gets_401(client_for, tokens, stack):
    realm = stack["keycloak"]["realms"]["demo"]
    user = tokens.user("demo", "authority_admin")
    # A dev-only client whose access tokens live one second (deploy/keycloak/dev/tenant-overlay.json).
    grant = tokens.password_grant(
        realm["realm"], "school-dev-cli-expiring", user["username"], user["password"]
    )
    assert grant.status_code == 200, grant.text
    token = grant.json()["access_token"]
    with client_for(token) as api:
        assert api.get("/v1/schools").status_code == 200  # fresh (within the verifiers' 10 s leeway)
        time.sleep(12)
        response = api.get("/v1/schools")
    assert response.status_code == 401
    assert response.json()["reason"] == "TOKEN_EXPIRED"

"""Identity and access through the gateway, on the running stack: VNeID sign-in and automatic linking,
scoped access, tenants, citizen-ID verification, link requests, staff import, consent, audit."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
import time
import uuid
from typing import Any

import httpx
import nats
import pytest
from school_common.testing.oidc import vneid_sign_in

pytestmark = pytest.mark.e2e
PASSWORD = "Demo@2026"
MAI, HUNG, NAM = "079185001234", "001082004567", "048090012345"


@pytest.fixture(scope="module")
def kc(stack) -> dict[str, Any]:
    return dict(stack["keycloak"])


@pytest.fixture(scope="module")
def demo_data(stack) -> dict[str, Any]:
    return dict(stack["demo_data"]["demo"])


def school_by_name(demo_data: dict[str, Any], word: str) -> dict[str, Any]:
    return next(s for s in demo_data["schools"] if word in s["name"])


def class_of(school: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in school["classes"] if c["name"] == name)


def problem(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["reason"] == reason, body
    assert " / " in body["detail"]
    return body


async def sign_in(kc: dict[str, Any], personal_id: str) -> str:
    tokens = await vneid_sign_in(kc["realms"]["demo"], kc["vneid"]["issuer"], personal_id, PASSWORD)
    return str(tokens["access_token"])


def new_class(admin: httpx.Client, school_id: str, grade: int) -> str:
    """A class made for one test, so the seeded classes keep what the seed put in them."""
    name = f"{grade}T{uuid.uuid4().hex[:4].upper()}"
    made = admin.post(
        f"/v1/schools/{school_id}/classes", json={"name": name, "grade": grade, "school_year": "2025-2026"}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def eventually(check, timeout_s: float = 15.0, every_s: float = 0.3):
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every_s)


# ---------------------------------------------------------------- VNeID and automatic linking


async def test_a_parent_signing_in_with_vneid_sees_exactly_their_children_in_two_schools(
    kc, client_for, demo_data
) -> None:
    token = await sign_in(kc, MAI)
    families = {f["school"]: f["student_id"] for f in demo_data["families"]}
    with client_for(token) as api:
        me = api.get("/v1/me")
        assert me.status_code == 200, me.text
        body = me.json()
        assert body["link_state"] == "linked"
        assert body["roles"] == ["guardian"]
        assert body["verification"]["status"] == "verified"
        assert body["verification"]["identification_level"] == 2
        children = {c["student_id"]: c for c in body["children"]}
        assert set(children) == {families["79000701"], families["79000702"]}
        assert {c["school_name"] for c in children.values()} == {
            "Trường Tiểu học Nguyễn Trãi",
            "Trường THCS Lê Quý Đôn",
        }
        assert {c["full_name"] for c in children.values()} == {"Nguyễn Minh Khoa", "Lê Gia Bảo"}
        assert "personal_id" not in me.text
        assert MAI not in me.text
        # their child's record is readable; anyone else's is not
        own = api.get(f"/v1/students/{families['79000702']}")
        assert own.status_code == 200, own.text
        stranger = demo_data["schools"][0]["classes"][0]["students"][0]
        problem(api.get(f"/v1/students/{stranger}"), 403, "NOT_YOUR_CHILD")
        # a guardian reads no class list
        problem(
            api.get(f"/v1/classes/{class_of(school_by_name(demo_data, 'Lê Quý Đôn'), '8A1')['id']}/students"),
            403,
            "NOT_YOUR_CLASS",
        )


async def test_the_other_parent_sees_only_the_child_recorded_with_him(kc, client_for, demo_data) -> None:
    token = await sign_in(kc, HUNG)
    with client_for(token) as api:
        children = api.get("/v1/me").json()["children"]
    families = {f["school"]: f["student_id"] for f in demo_data["families"]}
    assert [c["student_id"] for c in children] == [families["79000701"]]
    assert children[0]["relationship"] == "father"


async def test_a_parent_with_no_child_recorded_asks_and_the_school_decides(
    kc, client_for, tokens, demo_data
) -> None:
    token = await sign_in(kc, NAM)  # a citizen no school recorded as a guardian
    school = school_by_name(demo_data, "Nguyễn Trãi")
    admin_of_school = admin_token_for(client_for, tokens, school["id"])
    other_school = school_by_name(demo_data, "Lê Quý Đôn")
    admin_of_other = admin_token_for(client_for, tokens, other_school["id"])
    # the child is at the school, recorded without this father
    with client_for(admin_of_school) as admin:
        enrolled = admin.post(
            f"/v1/classes/{new_class(admin, school['id'], 2)}/students",
            json={
                "student": {"full_name": "Phạm Khánh Linh", "date_of_birth": "2018-03-08", "sex": "female"}
            },
        )
        assert enrolled.status_code == 201, enrolled.text
        student_id = enrolled.json()["student"]["id"]
    with client_for(token) as parent:
        request_body = {
            "school_id": school["id"],
            "child_full_name": "phạm  khánh linh",  # as typed on a phone
            "child_date_of_birth": "2018-03-08",
            "relationship": "father",
            "note": "Con tôi học lớp 1A",
        }
        created = parent.post("/v1/link-requests", json=request_body)
        assert created.status_code == 201, created.text
        link_request = created.json()
        assert link_request["state"] == "pending"
        assert link_request["candidate_student_ids"] == []  # the requester is not shown the school's students
        decide = f"/v1/link-requests/{link_request['id']}/decision"
        # the requester cannot approve their own request
        problem(
            parent.post(decide, json={"approve": True, "student_id": student_id}),
            403,
            "CANNOT_DECIDE_OWN_REQUEST",
        )
        # nor can the admin of another school
        with client_for(admin_of_other) as other:
            problem(
                other.post(decide, json={"approve": True, "student_id": student_id}), 403, "NOT_YOUR_SCHOOL"
            )
            assert link_request["id"] not in [r["id"] for r in other.get("/v1/link-requests").json()["items"]]
        with client_for(admin_of_school) as deciding:

            def candidates() -> list[str]:
                pending = deciding.get("/v1/link-requests", params={"state": "pending"}).json()["items"]
                return list(
                    next(r for r in pending if r["id"] == link_request["id"])["candidate_student_ids"]
                )

            # matched on name and date of birth, once identity has heard of the enrolment (an event)
            assert eventually(lambda: student_id in candidates())
            mine = next(
                r
                for r in deciding.get("/v1/link-requests", params={"state": "pending"}).json()["items"]
                if r["id"] == link_request["id"]
            )
            assert mine["requester_name"] == "Phạm Văn Nam"
            # bad decisions change nothing
            refused = problem(deciding.post(decide, json={"approve": False}), 422, "INVALID_ARGUMENT")
            assert [e["field"] for e in refused["errors"]] == ["reason"]
            other_school_student = class_of(other_school, "6A1")["students"][0]
            problem(
                deciding.post(decide, json={"approve": True, "student_id": other_school_student}),
                422,
                "STUDENT_NOT_IN_SCHOOL",
            )
            approved = deciding.post(decide, json={"approve": True, "student_id": student_id})
            assert approved.status_code == 200, approved.text
            assert approved.json()["state"] == "approved"
            problem(
                deciding.post(decide, json={"approve": False, "reason": "x"}),
                422,
                "LINK_REQUEST_ALREADY_DECIDED",
            )
        me = parent.get("/v1/me").json()
        assert me["link_state"] == "linked"
        assert student_id in [c["student_id"] for c in me["children"]]
        assert parent.get(f"/v1/students/{student_id}").status_code == 200


def admin_token_for(client_for, tokens, school_id: str) -> str:
    """The demo school admin whose school this is (two demo schools, one admin each)."""
    for username in ("th.nguyentrai.admin", "thcs.lequydon.admin"):
        token = tokens.named("demo", username)
        with client_for(token) as api:
            if school_id in [s["school_id"] for s in api.get("/v1/me").json()["schools"]]:
                return token
    raise AssertionError("no demo admin of that school")


async def test_a_guardian_recorded_later_is_linked_when_the_event_arrives(
    kc, client_for, tokens, demo_data, new_student
) -> None:
    token = await sign_in(kc, NAM)
    school = school_by_name(demo_data, "Lê Quý Đôn")
    with client_for(admin_token_for(client_for, tokens, school["id"])) as admin:
        enrolled = admin.post(
            f"/v1/classes/{new_class(admin, school['id'], 9)}/students", json=new_student("Phạm Minh Châu")
        )
        assert enrolled.status_code == 201, enrolled.text
        student_id = enrolled.json()["student"]["id"]
        with client_for(token) as parent:
            assert student_id not in [c["student_id"] for c in parent.get("/v1/me").json()["children"]]
            added = admin.post(
                f"/v1/students/{student_id}/guardians",
                json={
                    "full_name": "Phạm Văn Nam",
                    "relationship": "father",
                    "personal_id": NAM,
                    "date_of_birth": "1990-07-25",
                },
            )
            assert added.status_code in (200, 201), added.text
            assert NAM not in added.text
            linked = eventually(
                lambda: student_id in [c["student_id"] for c in parent.get("/v1/me").json()["children"]]
            )
            assert linked
            assert parent.get(f"/v1/students/{student_id}").status_code == 200


# ---------------------------------------------------------------- scoped access


def test_a_teacher_reads_only_the_classes_they_teach(client_for, tokens, demo_data) -> None:
    school = school_by_name(demo_data, "Lê Quý Đôn")
    with client_for(tokens.named("demo", "gv.nguyenthihoa")) as teacher:
        me = teacher.get("/v1/me").json()
        assert {c["class_name"] for c in me["classes"]} == {"6A1", "8A1"}
        assert teacher.get(f"/v1/classes/{class_of(school, '6A1')['id']}/students").status_code == 200
        problem(teacher.get(f"/v1/classes/{class_of(school, '9A1')['id']}/students"), 403, "NOT_YOUR_CLASS")
        problem(
            teacher.get(f"/v1/attendance/classes/{class_of(school, '9A1')['id']}/roster"),
            403,
            "NOT_YOUR_CLASS",
        )
        other_school = school_by_name(demo_data, "Nguyễn Trãi")
        problem(teacher.get(f"/v1/schools/{other_school['id']}/classes"), 403, "NOT_YOUR_SCHOOL")
        listed = teacher.get(f"/v1/schools/{school['id']}/classes").json()
        assert {c["name"] for c in listed["items"]} == {"6A1", "8A1"}


def test_a_school_admin_reaches_only_their_school(client_for, tokens, demo_data) -> None:
    primary, secondary = school_by_name(demo_data, "Nguyễn Trãi"), school_by_name(demo_data, "Lê Quý Đôn")
    with client_for(tokens.named("demo", "th.nguyentrai.admin")) as admin:
        assert admin.get(f"/v1/classes/{class_of(primary, '1A')['id']}/students").status_code == 200
        problem(admin.get(f"/v1/classes/{class_of(secondary, '6A1')['id']}/students"), 403, "NOT_YOUR_CLASS")
        problem(
            admin.post(
                f"/v1/schools/{secondary['id']}/classes",
                json={"name": "7A9", "grade": 7, "school_year": "2025-2026"},
            ),
            403,
            "NOT_YOUR_SCHOOL",
        )
        schools = admin.get("/v1/schools").json()["items"]
        assert [s["id"] for s in schools] == [primary["id"]]


def test_a_token_of_one_tenant_is_refused_by_another(client_for, tokens, demo_data) -> None:
    with client_for(tokens("other", "authority_admin")) as other:
        school = school_by_name(demo_data, "Lê Quý Đôn")
        response = other.get(f"/v1/classes/{class_of(school, '6A1')['id']}/students")
        assert response.status_code == 404, response.text  # the class does not exist in tenant "other"
        problem(other.get("/v1/tenants/demo"), 403, "NOT_YOUR_TENANT")


# ---------------------------------------------------------------- tenants


def test_an_authority_admin_cannot_create_or_provision_tenants(client_for, tokens) -> None:
    with client_for(tokens("demo", "authority_admin")) as admin:
        problem(
            admin.post("/v1/tenants", json={"slug": "other", "display_name": "Sở khác"}),
            403,
            "PLATFORM_OPERATOR_REQUIRED",
        )
        problem(admin.get("/v1/tenants/other"), 403, "NOT_YOUR_TENANT")
        assert admin.get("/v1/tenants/demo").status_code in (200, 404)


def test_a_platform_operator_creates_a_tenant_whose_realm_is_complete_and_resumable(
    client_for, tokens, kc
) -> None:
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    operator = tokens.platform()
    with client_for(operator) as api:
        for bad in (
            {"slug": "Bad Slug", "display_name": "x"},
            {"slug": "platform", "display_name": "x"},
            {"slug": slug, "display_name": ""},
        ):
            assert api.post("/v1/tenants", json=bad).status_code == 422
        # provisioning a realm takes seconds, more on a busy Keycloak
        created = api.post(
            "/v1/tenants", json={"slug": slug, "display_name": "Sở GD&ĐT Thử nghiệm"}, timeout=90
        )
        assert created.status_code == 201, created.text
        tenant = created.json()
        assert tenant["state"] == "active", tenant
        assert tenant["realm"] == f"tenant-{slug}"
        realm = admin_get(kc, f"/{tenant['realm']}")
        assert realm["bruteForceProtected"] is True
        assert realm["eventsEnabled"] is True
        roles = {r["name"] for r in admin_get(kc, f"/{tenant['realm']}/roles")}
        assert {
            "authority_admin",
            "school_admin",
            "teacher",
            "homeroom_teacher",
            "nurse",
            "accountant",
            "guardian",
        } <= roles
        clients = {c["clientId"] for c in admin_get(kc, f"/{tenant['realm']}/clients")}
        assert {"school-api", "school-mobile", "school-console"} <= clients
        assert [i["alias"] for i in admin_get(kc, f"/{tenant['realm']}/identity-provider/instances")] == [
            "vneid"
        ]
        # a half-provisioned realm (here: a client removed) is completed by calling again, nothing doubled
        console = next(
            c for c in admin_get(kc, f"/{tenant['realm']}/clients") if c["clientId"] == "school-console"
        )
        assert admin_call(kc, "DELETE", f"/{tenant['realm']}/clients/{console['id']}").status_code == 204
        again = api.post(
            "/v1/tenants", json={"slug": slug, "display_name": "Sở GD&ĐT Thử nghiệm"}, timeout=90
        )
        assert again.status_code in (200, 201), again.text
        assert again.json()["state"] == "active"
        after = [c["clientId"] for c in admin_get(kc, f"/{tenant['realm']}/clients")]
        assert after.count("school-console") == 1
        problem(
            api.post("/v1/tenants", json={"slug": slug, "display_name": "Một tên khác"}), 422, "TENANT_EXISTS"
        )
        # the operator reaches no tenant data
        problem(api.get("/v1/schools"), 403, "TENANT_TOKEN_REQUIRED")


def admin_call(kc: dict[str, Any], method: str, path: str) -> httpx.Response:
    admin = kc["admin"]
    token = httpx.post(
        f"{kc['base_url']}/realms/{admin['realm']}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": admin["username"],
            "password": admin["password"],
        },
        timeout=30,
    ).json()["access_token"]
    return httpx.request(
        method,
        f"{kc['base_url']}/admin/realms{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def admin_get(kc: dict[str, Any], path: str) -> Any:
    response = admin_call(kc, "GET", path)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- citizen-ID verification


@pytest.mark.parametrize(
    ("personal_id", "born", "reason"),
    [
        ("07918500123", "1985-03-12", "INVALID_PERSONAL_ID_FORMAT"),
        ("07918500123X", "1985-03-12", "INVALID_PERSONAL_ID_FORMAT"),
        ("079285001234", "1985-03-12", "CENTURY_MISMATCH"),
        ("003185001234", "1985-03-12", "UNKNOWN_PROVINCE_CODE"),
    ],
)
def test_bad_citizen_ids_are_refused_with_a_clear_reason(admin, personal_id, born, reason) -> None:
    response = admin.post(
        "/v1/citizen-verifications",
        json={"personal_id": personal_id, "full_name": "Trần Thị Mai", "date_of_birth": born},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    # The shape (12 ASCII digits) is checked at the edge; the rules on the digits by identity.
    assert body["reason"] == ("INVALID_ARGUMENT" if reason == "INVALID_PERSONAL_ID_FORMAT" else reason), body
    assert [e["field"] for e in body["errors"]] == ["personal_id"]
    assert " / " in body["errors"][0]["message"]
    assert personal_id not in response.text


def test_a_registry_mismatch_is_reported_field_by_field(admin) -> None:
    response = admin.post(
        "/v1/citizen-verifications",
        json={"personal_id": MAI, "full_name": "Trần Thị Mai", "date_of_birth": "1985-03-13"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "mismatch"
    assert body["checks"] == {"full_name": True, "date_of_birth": False}
    assert MAI not in response.text


def set_registry(stack: dict[str, Any], **faults: Any) -> None:
    registry = stack["simulators"]["citizen_registry"]
    response = httpx.put(
        f"{registry['url']}/_simulator/faults",
        json=faults,
        headers={"X-Simulator-Control-Key": registry["control_key"]},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def unknown_number(born: str) -> str:
    """A well-formed number nobody has used yet (born in the 1900s, registered in Hồ Chí Minh)."""
    return f"0791{born[2:4]}{secrets.randbelow(10**6):06d}"


def test_the_registry_down_leaves_staff_pending_and_they_are_checked_on_recovery(stack, admin) -> None:
    # A number identity has never seen, so the only answer can come from the register, once it is back.
    number = unknown_number("1987-05-04")
    rows = [
        [
            "Trần Thu Hằng",
            "04/05/1987",
            "Nữ",
            number,
            f"tth.{secrets.token_hex(3)}@demo.school.local",
            "79000702",
            "Kế toán",
            "",
            "",
            "",
        ]
    ]
    set_registry(stack, down=True)
    try:
        report = admin.post("/v1/staff/imports", files={"file": ("staff.xlsx", workbook(rows), XLSX)})
        assert report.status_code == 200, report.text
        row = report.json()["rows"][0]
        assert row["outcome"] == "created", row
        assert row["verification_status"] == "pending"
        member = staff_member(admin, row["account_id"])
        assert member["verification"]["status"] == "pending"
        assert member["verification"]["verified_at"] is None
    finally:
        set_registry(stack)

    # Back up: the worker asks again (the stack retries after 1 s, then 2, 4, 5). This number is not in
    # the register, so the answer is NOT_FOUND; a number that is comes back VERIFIED (integration tests).
    checked = eventually(
        lambda: staff_member(admin, row["account_id"])["verification"]["status"] != "pending", timeout_s=30
    )
    assert checked
    member = staff_member(admin, row["account_id"])
    assert member["verification"]["status"] == "not_found"
    assert member["verification"]["verified_at"]
    assert number not in json.dumps(member)


def staff_member(admin, account_id: str) -> dict[str, Any]:
    token = None
    while True:
        page = admin.get(
            "/v1/staff", params={"page_size": 200, **({"page_token": token} if token else {})}
        ).json()
        for member in page["items"]:
            if member["account_id"] == account_id:
                return dict(member)
        token = page["next_page_token"]
        assert token, "staff member not listed"


# ---------------------------------------------------------------- staff import


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    from openpyxl import Workbook
    from school_stack.seed import STAFF_HEADER

    book = Workbook()
    sheet = book.active
    sheet.append(["Danh sách thử"])
    sheet.append(header or STAFF_HEADER)
    for n, row in enumerate(rows, 1):
        sheet.append([n, *row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_reimporting_the_seeded_staff_list_changes_nothing_and_bad_rows_say_why(admin) -> None:
    from school_stack.seed import STAFF

    again = admin.post("/v1/staff/imports", files={"file": ("staff.xlsx", workbook(STAFF["demo"]), XLSX)})
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["created"], body["updated"], body["refused"]) == (0, 0, 0), body
    assert body["unchanged"] == len(STAFF["demo"])
    # columns are found by their header text, in any order
    header = ["Email", "Vị trí việc làm", "Số CCCD", "Ngày sinh", "Họ tên", "Mã trường"]
    bad = admin.post(
        "/v1/staff/imports",
        files={
            "file": (
                "staff.xlsx",
                workbook(
                    [
                        [
                            "x@demo.school.local",
                            "Giáo viên",
                            "07918500123",
                            "01/01/1985",
                            "Người Thử",
                            "79000702",
                        ],
                        [
                            "y@demo.school.local",
                            "Bảo vệ",
                            "079185001234",
                            "12/03/1985",
                            "Người Thử Hai",
                            "79000702",
                        ],
                        [
                            "z@demo.school.local",
                            "Kế toán",
                            "079185001234",
                            "12/03/1985",
                            "Người Thử Ba",
                            "99999999",
                        ],
                    ],
                    header=["STT", *header],
                ),
                XLSX,
            )
        },
    )
    assert bad.status_code == 200, bad.text
    reasons = [[p["reason"] for p in r["problems"]] for r in bad.json()["rows"]]
    assert reasons == [["INVALID_PERSONAL_ID_FORMAT"], ["UNKNOWN_POSITION"], ["UNKNOWN_SCHOOL_CODE"]]
    assert bad.json()["refused"] == 3
    missing = admin.post(
        "/v1/staff/imports", files={"file": ("staff.xlsx", workbook([], header=["STT", "Họ tên"]), XLSX)}
    )
    problem(missing, 422, "MISSING_COLUMNS")
    problem(
        admin.post("/v1/staff/imports", files={"file": ("staff.xlsx", b"not a workbook", XLSX)}),
        415,
        "UNSUPPORTED_FILE_TYPE",
    )


# ---------------------------------------------------------------- consent


async def test_consent_is_granted_and_withdrawn_at_once_with_an_event(
    kc, client_for, stack, demo_data
) -> None:
    token = await sign_in(kc, MAI)
    child = next(f["student_id"] for f in demo_data["families"] if f["school"] == "79000701")
    nc = await nats.connect(stack["nats"]["url"])
    received: asyncio.Queue[Any] = asyncio.Queue()
    sub = await nc.subscribe("school.identity.consent.withdrawn.v1", cb=received.put)
    await nc.flush()  # the subscription is at the server before anything is withdrawn
    try:
        with client_for(token) as parent:
            purposes = parent.get("/v1/consent-purposes").json()["items"]
            assert {p["code"]: p["legal_basis"] for p in purposes}["student_records"] == "law"
            problem(
                parent.post(f"/v1/students/{child}/consents", json={"purpose": "student_records"}),
                422,
                "PURPOSE_RESTS_ON_LAW",
            )
            problem(
                parent.post(f"/v1/students/{child}/consents", json={"purpose": "no_such_purpose"}),
                422,
                "UNKNOWN_PURPOSE",
            )
            granted = parent.post(f"/v1/students/{child}/consents", json={"purpose": "messaging_channels"})
            assert granted.status_code in (200, 201), granted.text
            status = {
                p["purpose"]: p for p in parent.get(f"/v1/students/{child}/consents").json()["purposes"]
            }
            assert status["messaging_channels"]["permitted"] is True
            # photos need the child's own consent too (the child is 9): the guardian's alone is not enough
            parent.post(f"/v1/students/{child}/consents", json={"purpose": "photos"})
            status = {
                p["purpose"]: p for p in parent.get(f"/v1/students/{child}/consents").json()["purposes"]
            }
            assert status["photos"]["permitted"] is False
            assert status["photos"]["missing"] == ["child"]
            withdrawn = parent.delete(f"/v1/students/{child}/consents/messaging_channels")
            assert withdrawn.status_code == 200, withdrawn.text
            assert withdrawn.json()["state"] == "withdrawn"
            status = {
                p["purpose"]: p for p in parent.get(f"/v1/students/{child}/consents").json()["purposes"]
            }
            assert status["messaging_channels"]["permitted"] is False
        message = await asyncio.wait_for(received.get(), timeout=10)
        assert message.headers["ce-type"] == "school.identity.consent.withdrawn.v1"
        assert message.headers["ce-tenantid"] == "demo"
    finally:
        await sub.unsubscribe()
        await nc.close()


# ---------------------------------------------------------------- audit


def test_the_authority_admin_sees_and_exports_sign_ins_failures_and_reads(
    kc, client_for, tokens, admin
) -> None:
    httpx.post(
        f"{kc['realms']['demo']['issuer']}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "school-dev-cli",
            "username": "khong.ton.tai",
            "password": "wrong",
        },
        timeout=15,
    )
    with client_for(tokens.named("demo", "gv.nguyenthihoa")) as teacher:
        me = teacher.get("/v1/me").json()
        teacher.get(f"/v1/classes/{me['classes'][0]['class_id']}/students")

    def missing() -> set[str]:
        """The wanted actions with no entry yet (each looked up by the action filter, newest first)."""
        return {
            action
            for action in wanted
            if not admin.get("/v1/audit-events", params={"action": action, "page_size": 1}).json()["items"]
        }

    wanted = {
        "LOGIN",
        "LOGIN_ERROR",
        "PERSONAL_DATA_READ",
        "STAFF_IMPORTED",
        "SCHOOL_CREATED",
        "STUDENT_ENROLLED",
    }
    eventually(lambda: not missing(), timeout_s=20)
    assert missing() == set()
    # an administrator's changes in student-record come with who made them (by subject, never a name)
    enrolments = admin.get("/v1/audit-events", params={"action": "SCHOOL_CREATED", "page_size": 200}).json()[
        "items"
    ]
    assert admin.get("/v1/me").json()["subject"] in {e["actor"] for e in enrolments}
    assert {e["source"] for e in enrolments} == {"student-record"}
    export = admin.get("/v1/audit-events/export")
    assert export.status_code == 200, export.text[:300]
    assert export.headers["content-type"].startswith("text/csv")
    text = export.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"LOGIN", "PERSONAL_DATA_READ"} <= {r["action"] for r in rows}
    with client_for(tokens.named("demo", "gv.nguyenthihoa")) as teacher:
        problem(teacher.get("/v1/audit-events"), 403, "ADMIN_ROLE_REQUIRED")
    assert json.dumps(rows).count(MAI) == 0

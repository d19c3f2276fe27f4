"""Attendance through the gateway on the running stack: a class marked in one request, an absence counted
for promotion, a family's leave request approved into the register, a gate terminal with its own client
credentials checking a child in, and the kitchen's count frozen at its cut-off.

Repeatable on a persistent stack: each run makes its own school and class in the school year of today,
defined to span the whole year so any day of the year can be marked, and a calendar that runs every day.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from school_common.testing.oidc import vneid_sign_in

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# Huỳnh Văn Tài, a VNeID citizen kept for this journey: the other journeys count the demo guardians'
# children exactly, so a child of this test's school must not be theirs.
TAI = "079078036615"
TAI_GUARDIAN = {
    "full_name": "Huỳnh Văn Tài",
    "relationship": "father",
    "phone": "0909333444",
    "personal_id": TAI,
    "date_of_birth": "1978-12-01",
}


def today() -> date:
    return datetime.now(ZONE).date()


def school_year_of(day: date) -> str:
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def until(call: Callable[[], httpx.Response], done: Callable[[httpx.Response], bool], timeout_s: float = 20):
    deadline = time.monotonic() + timeout_s
    while True:
        response = call()
        if done(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.3)


@pytest.fixture(scope="module")
def school(gateway, tokens) -> dict[str, Any]:
    """A school with a class of three in today's school year; Huỳnh Văn Tài is the guardian of the first."""
    year = school_year_of(today())
    first = int(year[:4])
    suffix = uuid.uuid4().hex[:6]
    with httpx.Client(
        base_url=gateway, headers={"Authorization": f"Bearer {tokens('demo', 'authority_admin')}"}, timeout=15
    ) as admin:
        created = admin.post(
            "/v1/schools", json={"name": f"Trường THCS Điểm danh {suffix}", "levels": ["lower_secondary"]}
        )
        assert created.status_code == 201, created.text
        school_id = created.json()["id"]
        defined = admin.put(
            f"/v1/schools/{school_id}/school-years/{year}",
            json={
                "semester_1_start": f"{first}-08-01",
                "semester_1_end": f"{first + 1}-01-15",
                "semester_2_start": f"{first + 1}-01-16",
                "semester_2_end": f"{first + 1}-07-31",
            },
        )
        assert defined.status_code == 200, defined.text
        classes = []
        for name in ("7A1", "7A2"):
            klass = admin.post(
                f"/v1/schools/{school_id}/classes", json={"name": name, "grade": 7, "school_year": year}
            )
            assert klass.status_code == 201, klass.text
            classes.append(klass.json()["id"])
        students = []
        for n, full_name in enumerate(["Lê Gia Hân", "Phạm Quốc Bảo", "Võ Thảo Nhi"]):
            guardians = (
                [TAI_GUARDIAN]
                if n == 0
                else [{"full_name": "Nguyễn Thị Lan", "relationship": "mother", "phone": "0912345678"}]
            )
            enrolled = admin.post(
                f"/v1/classes/{classes[0]}/students",
                json={
                    "student": {
                        "full_name": full_name,
                        "date_of_birth": f"{first - 12}-0{n + 3}-1{n}",
                        "sex": "female" if n != 1 else "male",
                        "guardians": guardians,
                    }
                },
            )
            assert enrolled.status_code == 201, enrolled.text
            students.append(enrolled.json()["student"]["id"])
        other = admin.post(
            f"/v1/classes/{classes[1]}/students",
            json={
                "student": {
                    "full_name": "Đỗ Minh Trí",
                    "date_of_birth": f"{first - 12}-09-09",
                    "sex": "male",
                    "guardians": [
                        {"full_name": "Đỗ Văn Tâm", "relationship": "father", "phone": "0987654321"}
                    ],
                }
            },
        )
        assert other.status_code == 201, other.text
        calendar_body = {
            "sessions": ["morning", "afternoon"],
            "weekdays": [1, 2, 3, 4, 5, 6, 7],
            "main_session": "morning",
            "morning_cutoff": "10:00",
            "afternoon_cutoff": "16:00",
            "afternoon_starts": "12:00",
            "closed_dates": [],
            "absence_warning_at": 35,
        }
        # attendance learns of the school from its classes' events: 404 until they arrive
        calendar = until(
            lambda: admin.put(f"/v1/attendance/schools/{school_id}/calendar", json=calendar_body),
            lambda r: r.status_code != 404,
        )
        assert calendar.status_code == 200, calendar.text
        roster = until(
            lambda: admin.get(f"/v1/attendance/classes/{classes[0]}/roster"),
            lambda r: r.status_code == 200 and len(r.json()["entries"]) == 3,
        )
        assert roster.status_code == 200, roster.text
        until(
            lambda: admin.get(f"/v1/attendance/classes/{classes[1]}/roster"),
            lambda r: r.status_code == 200 and len(r.json()["entries"]) == 1,
        )
    return {
        "id": school_id,
        "year": year,
        "class": classes[0],
        "other_class": classes[1],
        "students": students,
        "other_student": other.json()["student"]["id"],
    }


@pytest.fixture(scope="module")
def admin(gateway, tokens):
    with httpx.Client(
        base_url=gateway, headers={"Authorization": f"Bearer {tokens('demo', 'authority_admin')}"}, timeout=15
    ) as c:
        yield c


@pytest.fixture(scope="module")
async def tai(stack) -> str:
    kc = stack["keycloak"]
    return str(
        (await vneid_sign_in(kc["realms"]["demo"], kc["vneid"]["issuer"], TAI, "Demo@2026"))["access_token"]
    )


def register_path(
    school: dict[str, Any], day: date, session: str = "morning", class_key: str = "class"
) -> str:
    return f"/v1/attendance/classes/{school[class_key]}/registers/{day.isoformat()}/{session}"


def test_a_class_is_marked_in_one_request_and_marking_again_changes_nothing(admin, school):
    han, bao, nhi = school["students"]
    body = {
        "entries": [
            {"student_id": han, "status": "absent_unexcused"},
            {"student_id": bao, "status": "present"},
            {"student_id": nhi, "status": "late", "note": "Xe buýt trễ"},
        ]
    }
    first = admin.put(register_path(school, today()), json=body)
    assert first.status_code == 200, first.text
    assert first.json()["changed"] == 3
    register = first.json()
    assert (register["present"], register["absent_unexcused"], register["late"]) == (1, 1, 1)
    again = admin.put(register_path(school, today()), json=body)
    assert again.status_code == 200, again.text
    assert again.json()["changed"] == 0
    read = admin.get(register_path(school, today()))
    assert read.status_code == 200, read.text
    assert {line["student_id"]: line["status"] for line in read.json()["lines"]} == {
        han: "absent_unexcused",
        bao: "present",
        nhi: "late",
    }


@pytest.mark.parametrize(
    ("case", "status", "reason", "field"),
    [
        ("a student of another class", 422, "STUDENT_NOT_IN_CLASS", "entries[0].student_id"),
        ("an unknown status", 422, None, "entries[0].status"),
        ("a date in another school year", 422, "DATE_OUTSIDE_SCHOOL_YEAR", "date"),
        ("tomorrow", 422, "DATE_IN_FUTURE", "date"),
    ],
)
def test_bad_marks_are_refused_with_a_reason_and_change_nothing(admin, school, case, status, reason, field):
    day, entry = today(), {"student_id": school["students"][1], "status": "absent_excused"}
    match case:
        case "a student of another class":
            entry = {"student_id": school["other_student"], "status": "present"}
        case "an unknown status":
            entry["status"] = "sick"
        case "a date in another school year":
            day = date(int(school["year"][:4]) - 1, 11, 20)
        case "tomorrow":
            day = today() + timedelta(days=1)
    before = admin.get(register_path(school, today())).json()
    refused = admin.put(register_path(school, day), json={"entries": [entry]})
    assert refused.status_code == status, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    if reason:
        assert problem["reason"] == reason
    assert field in str(problem)
    assert admin.get(register_path(school, today())).json() == before


def test_an_absence_is_counted_for_the_family_and_for_promotion(admin, school, client_for, tai):
    han = school["students"][0]
    with client_for(tai) as parent:
        summary = until(
            lambda: parent.get(
                f"/v1/attendance/students/{han}/absence-summary", params={"school_year": school["year"]}
            ),
            lambda r: r.status_code != 403,
        )
        assert summary.status_code == 200, summary.text
        assert summary.json()["absent_sessions"] >= 1
        assert summary.json()["limit"] == 45
        other = parent.get(
            f"/v1/attendance/students/{school['students'][1]}/absence-summary",
            params={"school_year": school["year"]},
        )
        assert other.status_code == 403
        assert other.json()["reason"] == "NOT_YOUR_CHILD"
    results = admin.get(f"/v1/students/{han}/results", params={"school_year": school["year"]})
    assert results.status_code == 200, results.text
    year = next(t for t in results.json()["terms"] if t["term"] == "year")
    assert year["absent_sessions"] == summary.json()["absent_sessions"]  # read from attendance


def test_a_leave_request_approved_marks_the_sessions_absent_excused(admin, school, client_for, tai):
    han, bao = school["students"][:2]
    with client_for(tai) as parent:
        refused = parent.post(
            "/v1/attendance/leave-requests",
            json={
                "student_id": bao,
                "from_date": today().isoformat(),
                "to_date": today().isoformat(),
                "reason": "Cháu bị sốt",
            },
        )
        assert refused.status_code == 403, refused.text  # not his child
        asked = parent.post(
            "/v1/attendance/leave-requests",
            json={
                "student_id": han,
                "from_date": today().isoformat(),
                "to_date": today().isoformat(),
                "reason": "Cháu bị sốt, gia đình cho nghỉ",
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert asked.status_code == 201, asked.text
        leave = asked.json()
        assert leave["status"] == "pending"
    decided = admin.post(f"/v1/attendance/leave-requests/{leave['id']}/decision", json={"approve": True})
    assert decided.status_code == 200, decided.text
    assert decided.json()["leave"]["status"] == "approved"
    line = next(
        x for x in admin.get(register_path(school, today())).json()["lines"] if x["student_id"] == han
    )
    assert line["status"] == "absent_excused"
    assert line["leave_request_id"] == leave["id"]


def test_a_gate_terminal_checks_children_in_with_its_own_credentials(admin, school, client_for, tokens):
    _han, bao, _ = school["students"]
    registered = admin.post(
        f"/v1/attendance/schools/{school['id']}/gate-devices",
        json={"name": "Cổng chính", "kind": "rfid"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert registered.status_code == 201, registered.text
    device = registered.json()
    card = f"E2E-{uuid.uuid4().hex[:10]}"
    assigned = admin.put(
        f"/v1/attendance/schools/{school['id']}/gate-credentials/{card}", json={"student_id": bao}
    )
    assert assigned.status_code == 200, assigned.text

    token = httpx.post(
        device["token_endpoint"],
        data={
            "grant_type": "client_credentials",
            "client_id": device["device"]["client_id"],
            "client_secret": device["client_secret"],
        },
        timeout=15,
    )
    assert token.status_code == 200, token.text
    now = datetime.now(UTC)
    taps = [  # an offline batch: out of order, with a repeat and a card nobody has
        {"tap_id": "t-2", "credential": card, "tapped_at": (now - timedelta(seconds=30)).isoformat()},
        {"tap_id": "t-1", "credential": card, "tapped_at": (now - timedelta(seconds=90)).isoformat()},
        {"tap_id": "t-1", "credential": card, "tapped_at": (now - timedelta(seconds=90)).isoformat()},
        {"tap_id": "t-3", "credential": "NOBODY-1234", "tapped_at": now.isoformat()},
    ]
    with client_for(token.json()["access_token"]) as terminal:
        sent = terminal.post("/v1/partner/gate/check-ins", json={"taps": taps})
        assert sent.status_code == 200, sent.text
        outcomes = [r["outcome"] for r in sent.json()["results"]]
        assert outcomes == ["merged", "checked_in", "merged", "unknown_credential"]
        # a terminal is no teacher: it reads nothing
        assert terminal.get(register_path(school, today())).status_code == 403
    with client_for(tokens("demo", "authority_admin")) as staff:
        local = (now - timedelta(seconds=90)).astimezone(ZONE)
        session = "afternoon" if local.hour >= 12 else "morning"
        marked = staff.put(
            register_path(school, local.date(), session),
            json={"entries": [{"student_id": bao, "status": "absent_unexcused"}], "reason": "Nhập nhầm"},
        )
        assert marked.status_code == 200, marked.text
        reconciled = staff.get(
            f"/v1/attendance/classes/{school['class']}/gate-reconciliation/{local.date().isoformat()}/{session}"
        )
        assert reconciled.status_code == 200, reconciled.text
        flagged = {x["student_id"]: x["flag"] for x in reconciled.json()["lines"]}
        assert flagged[bao] == "absent_in_class"
        assert reconciled.json()["flagged"] == 1
    # a teacher's token on the partner route is refused
    users = admin.post("/v1/partner/gate/check-ins", json={"taps": taps[:1]})
    assert users.status_code == 403


def test_the_kitchen_count_is_frozen_after_its_cut_off(admin, school, client_for, tai):
    configured = admin.put(
        f"/v1/boarding/schools/{school['id']}/settings",
        json={
            "meal_cutoff": "00:00",
            "lunch_price": 30000,
            "breakfast_price": 15000,
            "nap_care_monthly_fee": 280000,
            "meal_refund": "notified_before_cutoff",
            "care_refund": "pro_rata",
            "kitchens": [{"name": "Bếp chính", "class_ids": []}],
            "policy_text": "Hoàn tiền ăn những ngày nghỉ có báo trước giờ chốt.",
        },
    )
    assert configured.status_code == 200, configured.text
    with client_for(tai) as parent:
        terms = until(
            lambda: parent.get(f"/v1/boarding/schools/{school['id']}/settings"),
            lambda r: r.status_code != 403,
        )
        assert terms.status_code == 200, terms.text
        assert terms.json()["lunch_price"] == 30000
        following = (today().replace(day=1) + timedelta(days=32)).strftime("%Y-%m")
        registered = parent.put(
            f"/v1/boarding/students/{school['students'][0]}/registrations/{following}",
            json={"lunch": True, "breakfast": False, "nap_care": True},
        )
        assert registered.status_code == 200, registered.text
        assert (
            parent.get(f"/v1/boarding/schools/{school['id']}/meal-counts/{today().isoformat()}").status_code
            == 403
        )
    first = admin.get(f"/v1/boarding/schools/{school['id']}/meal-counts/{today().isoformat()}")
    assert first.status_code == 200, first.text
    assert first.json()["frozen"] is True  # the cut-off (00:00) has passed
    again = admin.get(f"/v1/boarding/schools/{school['id']}/meal-counts/{today().isoformat()}")
    assert again.json() == first.json()

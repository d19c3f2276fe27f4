"""REST ↔ attendance gRPC: semi-boarding — terms, registrations, meal counts, menus, who ate, the food-sample
log and the month's charges."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from school.attendance.v1 import attendance_pb2 as att
from school.identity.v1 import identity_pb2 as idn

from gateway.tests.support import (
    CLASS_ID,
    OTHER_SCHOOL_ID,
    OTHER_STUDENT_ID,
    SAMPLE_ID,
    SCHOOL_ID,
    STUDENT_ID,
    Failure,
    Fakes,
    GatewayClient,
    MakeToken,
    bearer,
    teacher_scope,
)
from gateway.tests.test_routes import assert_problem

SETTINGS = f"/v1/boarding/schools/{SCHOOL_ID}/settings"
REGISTRATION = f"/v1/boarding/students/{STUDENT_ID}/registrations/2025-12"
REGISTRATIONS = "/v1/boarding/registrations"
MEAL_COUNT = f"/v1/boarding/schools/{SCHOOL_ID}/meal-counts/2025-11-24"
MENU = f"/v1/boarding/schools/{SCHOOL_ID}/menus/2025-11-24"
MENUS = f"/v1/boarding/schools/{SCHOOL_ID}/menus"
MEAL_ATTENDANCE = f"/v1/boarding/classes/{CLASS_ID}/meal-attendance/2025-11-24/lunch"
SAMPLES = f"/v1/boarding/schools/{SCHOOL_ID}/food-samples"
DISCARD = f"/v1/boarding/food-samples/{SAMPLE_ID}/discard"
CHARGES = f"/v1/boarding/schools/{SCHOOL_ID}/charges/2025-11"
STUDENT_CHARGES = f"/v1/boarding/students/{STUDENT_ID}/charges"

TEACHER = "0193a4c2-0000-7000-8000-00000000000a"
SCHOOL_ADMIN = "0193a4c2-0000-7000-8000-00000000000b"
GUARDIAN = "0193a4c2-0000-7000-8000-00000000000c"
OTHER_TEACHER = "0193a4c2-0000-7000-8000-00000000000d"
ACCOUNTANT = "0193a4c2-0000-7000-8000-00000000000e"

SETTINGS_IN: dict[str, Any] = {
    "meal_cutoff": "09:00",
    "lunch_price": 30000,
    "breakfast_price": 15000,
    "nap_care_monthly_fee": 320000,
    "meal_refund": "notified_before_cutoff",
    "care_refund": "pro_rata",
    "kitchens": [{"name": "Bếp khu A", "class_ids": [CLASS_ID.upper()]}, {"name": "Bếp khu B"}],
    "policy_text": "Phụ huynh báo nghỉ trước 9 giờ được hoàn tiền ăn ngày đó.",
}
SAMPLE_IN: dict[str, Any] = {
    "date": "2025-11-24",
    "meal": "lunch",
    "dishes": ["Cá kho tộ", "Canh bí đỏ"],
    "sampled_at": "2025-11-24T10:45:00+07:00",
    "storage": "Tủ mẫu số 1, 2–8 °C",
}
CHARGE = {
    "student_id": STUDENT_ID,
    "full_name": "Nguyễn Văn An",
    "class_id": CLASS_ID,
    "month": "2025-11",
    "lines": [
        {
            "kind": "lunch",
            "quantity": 20,
            "unit_price": 30000,
            "gross_amount": 600000,
            "refunded_days": 2,
            "refund_amount": 60000,
            "amount": 540000,
        },
        {
            "kind": "nap_care",
            "quantity": 1,
            "unit_price": 320000,
            "gross_amount": 320000,
            "refunded_days": 0,
            "refund_amount": 0,
            "amount": 320000,
        },
    ],
    "total": 860000,
    "version": 1,
}


def att_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.attendance.recorder.calls if c.method == method]


def scope_calls(fakes: Fakes) -> int:
    return fakes.identity.recorder.methods().count("GetAccessScope")


def fail(
    fakes: Fakes, method: str, code: grpc.StatusCode, reason: str, message: str, **metadata: str
) -> None:
    fakes.attendance.recorder.failures[method] = Failure(code, message, reason, metadata)


def problem_fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


@pytest.fixture
def teacher(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[TEACHER] = teacher_scope(TEACHER)
    return make_token(subject=TEACHER, roles=("teacher",))


@pytest.fixture
def other_school_teacher(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[OTHER_TEACHER] = teacher_scope(OTHER_TEACHER, school_id=OTHER_SCHOOL_ID)
    return make_token(subject=OTHER_TEACHER, roles=("teacher",))


@pytest.fixture
def school_admin(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[SCHOOL_ADMIN] = idn.GetAccessScopeResponse(
        subject=SCHOOL_ADMIN, schools=[idn.ScopedSchool(school_id=SCHOOL_ID, role="school_admin")]
    )
    return make_token(subject=SCHOOL_ADMIN, roles=("school_admin",))


@pytest.fixture
def accountant(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[ACCOUNTANT] = idn.GetAccessScopeResponse(
        subject=ACCOUNTANT, schools=[idn.ScopedSchool(school_id=SCHOOL_ID, role="accountant")]
    )
    return make_token(subject=ACCOUNTANT, roles=("accountant",))


@pytest.fixture
def guardian(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[GUARDIAN] = idn.GetAccessScopeResponse(
        subject=GUARDIAN, children=[idn.ScopedChild(student_id=STUDENT_ID, school_id=SCHOOL_ID)]
    )
    return make_token(subject=GUARDIAN, roles=("guardian",))


# The school's terms


async def test_families_read_the_schools_terms(client: GatewayClient, fakes: Fakes, guardian: str) -> None:
    response = await client.get(SETTINGS, headers=bearer(guardian))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "school_id": SCHOOL_ID,
        "meal_cutoff": "09:00",
        "lunch_price": 0,
        "breakfast_price": 0,
        "nap_care_monthly_fee": 0,
        "meal_refund": "none",
        "care_refund": "none",
        "kitchens": [],
        "policy_text": "",
        "configured": False,
    }
    assert att_calls(fakes, "GetBoardingSettings") == [att.GetBoardingSettingsRequest(school_id=SCHOOL_ID)]
    assert scope_calls(fakes) == 1


async def test_terms_of_another_school(
    client: GatewayClient, fakes: Fakes, other_school_teacher: str
) -> None:
    assert_problem(await client.get(SETTINGS, headers=bearer(other_school_teacher)), 403, "NOT_YOUR_SCHOOL")
    assert fakes.attendance.recorder.calls == []


async def test_configure_boarding(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.put(SETTINGS, headers=bearer(school_admin), json=SETTINGS_IN)
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "ConfigureBoarding") == [
        att.ConfigureBoardingRequest(
            settings=att.BoardingSettings(
                school_id=SCHOOL_ID,
                meal_cutoff="09:00",
                lunch_price=30000,
                breakfast_price=15000,
                nap_care_monthly_fee=320000,
                meal_refund=att.MEAL_REFUND_POLICY_NOTIFIED_BEFORE_CUTOFF,
                care_refund=att.CARE_REFUND_POLICY_PRO_RATA,
                kitchens=[att.Kitchen(name="Bếp khu A", class_ids=[CLASS_ID]), att.Kitchen(name="Bếp khu B")],
                policy_text=SETTINGS_IN["policy_text"],
            )
        )
    ]
    assert response.json() == {
        **SETTINGS_IN,
        "school_id": SCHOOL_ID,
        "kitchens": [{"name": "Bếp khu A", "class_ids": [CLASS_ID]}, {"name": "Bếp khu B", "class_ids": []}],
        "configured": True,
    }


@pytest.mark.parametrize(
    ("meal_refund", "pb"),
    [
        ("none", att.MEAL_REFUND_POLICY_NONE),
        ("notified_before_cutoff", att.MEAL_REFUND_POLICY_NOTIFIED_BEFORE_CUTOFF),
        ("all_absent_days", att.MEAL_REFUND_POLICY_ALL_ABSENT_DAYS),
    ],
)
async def test_every_meal_refund_policy_maps_both_ways(
    client: GatewayClient, fakes: Fakes, token: str, meal_refund: str, pb: int
) -> None:
    response = await client.put(
        SETTINGS, headers=bearer(token), json={**SETTINGS_IN, "meal_refund": meal_refund}
    )
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "ConfigureBoarding")[0].settings.meal_refund == pb
    assert response.json()["meal_refund"] == meal_refund


async def test_configuring_boarding_is_the_school_admins(
    client: GatewayClient, fakes: Fakes, teacher: str
) -> None:
    assert_problem(
        await client.put(SETTINGS, headers=bearer(teacher), json=SETTINGS_IN), 403, "ADMIN_ROLE_REQUIRED"
    )
    assert fakes.attendance.recorder.calls == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"meal_cutoff": "9:00"}, "meal_cutoff"),
        ({"meal_cutoff": "24:00"}, "meal_cutoff"),
        ({"lunch_price": -1}, "lunch_price"),
        ({"lunch_price": 30000.5}, "lunch_price"),
        ({"lunch_price": "30000"}, "lunch_price"),
        ({"breakfast_price": 1_000_000_001}, "breakfast_price"),
        ({"nap_care_monthly_fee": None}, "nap_care_monthly_fee"),
        ({"meal_refund": "partial"}, "meal_refund"),
        ({"care_refund": "all_absent_days"}, "care_refund"),
        ({"kitchens": [{"name": ""}]}, "kitchens[0].name"),
        ({"kitchens": [{"name": "A", "class_ids": ["6A1"]}]}, "kitchens[0].class_ids[0]"),
        ({"kitchens": [{"name": f"Bếp {n}"} for n in range(21)]}, "kitchens"),
        ({"policy_text": "x" * 2001}, "policy_text"),
        ({"configured": True}, "configured"),
    ],
)
async def test_configure_boarding_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.put(SETTINGS, headers=bearer(token), json={**SETTINGS_IN, **change})
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == [field]
    assert fakes.attendance.recorder.calls == []


async def test_a_fee_over_the_cap_names_the_rest_field(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    message = "Phí vượt mức trần của tỉnh / above the province's cap"
    fail(
        fakes,
        "ConfigureBoarding",
        grpc.StatusCode.INVALID_ARGUMENT,
        "FEE_ABOVE_CAP",
        message,
        field="settings.nap_care_monthly_fee",
    )
    body = assert_problem(
        await client.put(SETTINGS, headers=bearer(token), json=SETTINGS_IN), 422, "FEE_ABOVE_CAP"
    )
    assert body["errors"] == [{"field": "nap_care_monthly_fee", "message": message}]


# Registrations


async def test_register_boarding(client: GatewayClient, fakes: Fakes, guardian: str) -> None:
    response = await client.put(
        REGISTRATION.replace(STUDENT_ID, STUDENT_ID.upper()),
        headers={**bearer(guardian), "Idempotency-Key": "boarding-2025-12"},
        json={"lunch": True, "breakfast": False, "nap_care": True},
    )
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "RegisterBoarding") == [
        att.RegisterBoardingRequest(
            request_id="boarding-2025-12", student_id=STUDENT_ID, month="2025-12", lunch=True, nap_care=True
        )
    ]
    assert response.json() == {
        "student_id": STUDENT_ID,
        "full_name": "Nguyễn Văn An",
        "class_id": CLASS_ID,
        "month": "2025-12",
        "lunch": True,
        "breakfast": False,
        "nap_care": True,
        "effective_date": "2025-12-01",
        "registered_by": GUARDIAN,
        "registered_at": "2025-11-24T16:00:00Z",
    }
    assert scope_calls(fakes) == 0  # attendance decides (the student's guardians, homeroom teacher, admins)


async def test_register_boarding_without_idempotency_key(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    body = {"lunch": False, "breakfast": False, "nap_care": False}
    response = await client.put(REGISTRATION, headers=bearer(token), json=body)
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "RegisterBoarding")[0].request_id == ""


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "12-2025", "2025-12-01", "２０２５-12"])
async def test_register_boarding_bad_month(
    client: GatewayClient, fakes: Fakes, token: str, month: str
) -> None:
    response = await client.put(
        f"/v1/boarding/students/{STUDENT_ID}/registrations/{month}",
        headers=bearer(token),
        json={"lunch": True, "breakfast": False, "nap_care": False},
    )
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == ["month"]
    assert fakes.attendance.recorder.calls == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"lunch": True}, ["breakfast", "nap_care"]),
        ({"lunch": "yes", "breakfast": False, "nap_care": False}, ["lunch"]),
        ({"lunch": 1, "breakfast": False, "nap_care": False}, ["lunch"]),
        ({"lunch": True, "breakfast": False, "nap_care": False, "dinner": True}, ["dinner"]),
    ],
)
async def test_register_boarding_bad_body(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], fields: list[str]
) -> None:
    response = await client.put(REGISTRATION, headers=bearer(token), json=body)
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == fields
    assert fakes.attendance.recorder.calls == []


async def test_register_boarding_malformed_student_id(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.put(
        "/v1/boarding/students/an/registrations/2025-12",
        headers=bearer(token),
        json={"lunch": True, "breakfast": False, "nap_care": False},
    )
    assert_problem(response, 404, "STUDENT_NOT_FOUND")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"class_id": CLASS_ID.upper()}, "class_id"),
        ({"school_id": SCHOOL_ID}, "school_id"),
        ({"student_id": STUDENT_ID}, "student_id"),
    ],
)
async def test_list_boarding_registrations(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, str], field: str
) -> None:
    response = await client.get(REGISTRATIONS, headers=bearer(token), params={**params, "month": "2025-12"})
    assert response.status_code == 200, response.text
    assert [r["month"] for r in response.json()["items"]] == ["2025-12"]
    assert att_calls(fakes, "ListBoardingRegistrations") == [
        att.ListBoardingRegistrationsRequest(month="2025-12", **{field: params[field].lower()})
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"class_id": CLASS_ID}, "month"),
        ({"class_id": CLASS_ID, "month": "2025-00"}, "month"),
        ({"month": "2025-12"}, "school_id"),
        ({"school_id": SCHOOL_ID, "class_id": CLASS_ID, "month": "2025-12"}, "school_id"),
        ({"class_id": "6A1", "month": "2025-12"}, "class_id"),
    ],
)
async def test_list_boarding_registrations_bad_query(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, str], field: str
) -> None:
    response = await client.get(REGISTRATIONS, headers=bearer(token), params=params)
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == [field]
    assert fakes.attendance.recorder.calls == []


# Meals


async def test_get_meal_count(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    response = await client.get(MEAL_COUNT, headers=bearer(teacher))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "school_id": SCHOOL_ID,
        "date": "2025-11-24",
        "frozen": True,
        "cutoff_at": "2025-11-24T02:00:00Z",
        "frozen_at": "2025-11-24T02:00:01Z",
        "kitchens": [
            {
                "kitchen": "Bếp khu A",
                "lunch": 412,
                "breakfast": 120,
                "lunch_absent": 9,
                "breakfast_absent": 2,
            },
            {"kitchen": "Bếp khu B", "lunch": 0, "breakfast": 0, "lunch_absent": 0, "breakfast_absent": 0},
        ],
    }
    assert att_calls(fakes, "GetMealCount") == [
        att.GetMealCountRequest(school_id=SCHOOL_ID, date="2025-11-24")
    ]
    assert scope_calls(fakes) == 1


async def test_meal_count_bad_date(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(
        f"/v1/boarding/schools/{SCHOOL_ID}/meal-counts/2025-11-31", headers=bearer(token)
    )
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == ["date"]
    assert fakes.attendance.recorder.calls == []


async def test_publish_menu(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    body = {
        "items": [
            {"meal": "breakfast", "dishes": ["Phở gà"]},
            {"meal": "lunch", "dishes": ["Cơm trắng", "Cá kho tộ", "Canh bí đỏ"]},
        ]
    }
    response = await client.put(MENU, headers=bearer(school_admin), json=body)
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "PublishMenu") == [
        att.PublishMenuRequest(
            school_id=SCHOOL_ID,
            date="2025-11-24",
            items=[
                att.MenuItem(meal=att.MEAL_BREAKFAST, dishes=["Phở gà"]),
                att.MenuItem(meal=att.MEAL_LUNCH, dishes=["Cơm trắng", "Cá kho tộ", "Canh bí đỏ"]),
            ],
        )
    ]
    assert response.json() == {
        "school_id": SCHOOL_ID,
        "date": "2025-11-24",
        "items": body["items"],
        "published_at": "2025-11-24T16:00:00Z",
    }


async def test_publishing_menus_is_the_school_admins(
    client: GatewayClient, fakes: Fakes, guardian: str
) -> None:
    body = {"items": [{"meal": "lunch", "dishes": ["Cơm"]}]}
    assert_problem(await client.put(MENU, headers=bearer(guardian), json=body), 403, "NOT_YOUR_SCHOOL")
    assert fakes.attendance.recorder.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [{"meal": "dinner", "dishes": ["Cơm"]}]}, "items[0].meal"),
        ({"items": [{"meal": "lunch", "dishes": []}]}, "items[0].dishes"),
        ({"items": [{"meal": "lunch", "dishes": [""]}]}, "items[0].dishes[0]"),
        ({"items": [{"meal": "lunch", "dishes": ["x" * 201]}]}, "items[0].dishes[0]"),
        ({"items": [{"meal": "lunch", "dishes": ["Cơm"] * 21}]}, "items[0].dishes"),
    ],
)
async def test_publish_menu_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], field: str
) -> None:
    response = await client.put(MENU, headers=bearer(token), json=body)
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == [field]
    assert fakes.attendance.recorder.calls == []


async def test_families_read_the_menus(client: GatewayClient, fakes: Fakes, guardian: str) -> None:
    response = await client.get(
        MENUS, headers=bearer(guardian), params={"from": "2025-11-24", "to": "2025-11-28"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "school_id": SCHOOL_ID,
                "date": "2025-11-24",
                "items": [{"meal": "lunch", "dishes": ["Cơm trắng", "Cá kho tộ"]}],
                "published_at": "2025-11-24T16:00:00Z",
            }
        ]
    }
    assert att_calls(fakes, "ListMenus") == [
        att.ListMenusRequest(school_id=SCHOOL_ID, from_date="2025-11-24", to_date="2025-11-28")
    ]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, ["from", "to"]),
        ({"from": "2025-11-28", "to": "2025-11-24"}, ["to"]),
        ({"from": "x", "to": "y"}, ["from", "to"]),
    ],
)
async def test_list_menus_bad_range(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, str], fields: list[str]
) -> None:
    response = await client.get(MENUS, headers=bearer(token), params=params)
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == fields
    assert fakes.attendance.recorder.calls == []


async def test_record_meal_attendance(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    body = {
        "entries": [
            {"student_id": STUDENT_ID.upper(), "ate": True},
            {"student_id": OTHER_STUDENT_ID, "ate": False},
        ]
    }
    response = await client.put(MEAL_ATTENDANCE, headers=bearer(teacher), json=body)
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "RecordMealAttendance") == [
        att.RecordMealAttendanceRequest(
            class_id=CLASS_ID,
            date="2025-11-24",
            meal=att.MEAL_LUNCH,
            entries=[
                att.MealAttendanceEntry(student_id=STUDENT_ID, ate=True),
                att.MealAttendanceEntry(student_id=OTHER_STUDENT_ID, ate=False),
            ],
        )
    ]
    assert response.json() == {
        "class_id": CLASS_ID,
        "date": "2025-11-24",
        "meal": "lunch",
        "entries": [
            {"student_id": STUDENT_ID, "full_name": "Nguyễn Văn An", "ate": True},
            {"student_id": OTHER_STUDENT_ID, "full_name": "Nguyễn Văn An", "ate": False},
        ],
    }
    assert scope_calls(fakes) == 0


async def test_get_meal_attendance(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(MEAL_ATTENDANCE.replace("lunch", "breakfast"), headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "class_id": CLASS_ID,
        "date": "2025-11-24",
        "meal": "breakfast",
        "entries": [
            {"student_id": STUDENT_ID, "full_name": "Nguyễn Văn An", "ate": True},
            {"student_id": OTHER_STUDENT_ID, "full_name": "Trần Thị Bình", "ate": False},
        ],
    }
    assert att_calls(fakes, "GetMealAttendance") == [
        att.GetMealAttendanceRequest(class_id=CLASS_ID, date="2025-11-24", meal=att.MEAL_BREAKFAST)
    ]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/v1/boarding/classes/{CLASS_ID}/meal-attendance/2025-11-24/dinner", "meal"),
        (f"/v1/boarding/classes/{CLASS_ID}/meal-attendance/24-11-2025/lunch", "date"),
    ],
)
async def test_meal_attendance_bad_path(
    client: GatewayClient, fakes: Fakes, token: str, path: str, field: str
) -> None:
    body = {"entries": [{"student_id": STUDENT_ID, "ate": True}]}
    for response in (
        await client.get(path, headers=bearer(token)),
        await client.put(path, headers=bearer(token), json=body),
    ):
        assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == [field]
    assert fakes.attendance.recorder.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entries": []}, "entries"),
        ({"entries": [{"student_id": STUDENT_ID, "ate": "yes"}]}, "entries[0].ate"),
        (
            {"entries": [{"student_id": STUDENT_ID, "ate": True}, {"student_id": STUDENT_ID, "ate": False}]},
            "entries",
        ),
    ],
)
async def test_record_meal_attendance_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], field: str
) -> None:
    response = await client.put(MEAL_ATTENDANCE, headers=bearer(token), json=body)
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == [field]
    assert fakes.attendance.recorder.calls == []


# The food-sample log


async def test_record_food_sample(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.post(
        SAMPLES,
        headers={**bearer(school_admin), "Idempotency-Key": "sample-2025-11-24-lunch"},
        json=SAMPLE_IN,
    )
    assert response.status_code == 201, response.text
    assert att_calls(fakes, "RecordFoodSample") == [
        att.RecordFoodSampleRequest(
            request_id="sample-2025-11-24-lunch",
            school_id=SCHOOL_ID,
            date="2025-11-24",
            meal=att.MEAL_LUNCH,
            dishes=["Cá kho tộ", "Canh bí đỏ"],
            sample_time=Timestamp(seconds=1_763_955_900),  # 10:45 in Hà Nội is 03:45 UTC
            storage="Tủ mẫu số 1, 2–8 °C",
        )
    ]
    assert response.json() == {
        "id": SAMPLE_ID,
        "school_id": SCHOOL_ID,
        "date": "2025-11-24",
        "meal": "lunch",
        "dishes": ["Cá kho tộ", "Canh bí đỏ"],
        "sampled_at": "2025-11-24T03:45:00Z",
        "keep_until": "2025-11-25T03:45:00Z",
        "discarded_at": None,
        "recorded_by": SCHOOL_ADMIN,
        "discarded_by": None,
        "storage": "Tủ mẫu số 1, 2–8 °C",
    }


async def test_the_food_sample_log_is_the_school_admins(
    client: GatewayClient, fakes: Fakes, teacher: str
) -> None:
    assert_problem(
        await client.post(SAMPLES, headers=bearer(teacher), json=SAMPLE_IN), 403, "ADMIN_ROLE_REQUIRED"
    )
    response = await client.get(
        SAMPLES, headers=bearer(teacher), params={"from": "2025-11-01", "to": "2025-11-30"}
    )
    assert_problem(response, 403, "ADMIN_ROLE_REQUIRED")
    assert fakes.attendance.recorder.calls == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date": "2025-11-31"}, "date"),
        ({"meal": "dinner"}, "meal"),
        ({"dishes": []}, "dishes"),
        ({"sampled_at": "2025-11-24T10:45:00"}, "sampled_at"),
        ({"sampled_at": 1763955900}, "sampled_at"),
        ({"storage": "x" * 201}, "storage"),
        ({"keep_until": "2025-11-25T10:45:00+07:00"}, "keep_until"),  # the service computes it
    ],
)
async def test_record_food_sample_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post(SAMPLES, headers=bearer(token), json={**SAMPLE_IN, **change})
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == [field]
    assert fakes.attendance.recorder.calls == []


async def test_a_sample_time_the_service_refuses_names_the_rest_field(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    message = "Thời điểm lấy mẫu ở tương lai / a sample time in the future"
    fail(
        fakes,
        "RecordFoodSample",
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        message,
        field="sample_time",
    )
    body = assert_problem(
        await client.post(SAMPLES, headers=bearer(token), json=SAMPLE_IN), 422, "INVALID_ARGUMENT"
    )
    assert body["errors"] == [{"field": "sampled_at", "message": message}]


async def test_discard_food_sample(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        DISCARD.replace(SAMPLE_ID, SAMPLE_ID.upper()),
        headers=bearer(token),
        json={"discarded_at": "2025-11-25T18:00:00+07:00"},
    )
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "DiscardFoodSample") == [
        att.DiscardFoodSampleRequest(sample_id=SAMPLE_ID, discard_time=Timestamp(seconds=1_764_068_400))
    ]
    assert response.json()["discarded_at"] == "2025-11-25T11:00:00Z"
    assert response.json()["discarded_by"] is not None


async def test_discard_food_sample_too_early(client: GatewayClient, fakes: Fakes, token: str) -> None:
    message = "Chưa hết thời hạn lưu mẫu / the sample must be kept 24 hours"
    fail(
        fakes,
        "DiscardFoodSample",
        grpc.StatusCode.FAILED_PRECONDITION,
        "SAMPLE_RETENTION_NOT_OVER",
        message,
        field="discard_time",
    )
    response = await client.post(
        DISCARD, headers=bearer(token), json={"discarded_at": "2025-11-24T12:00:00+07:00"}
    )
    body = assert_problem(response, 422, "SAMPLE_RETENTION_NOT_OVER")
    assert body["errors"] == [{"field": "discarded_at", "message": message}]


async def test_discard_food_sample_bad_inputs(client: GatewayClient, fakes: Fakes, token: str) -> None:
    assert_problem(
        await client.post(
            "/v1/boarding/food-samples/mau-1/discard", headers=bearer(token), json={"discarded_at": "x"}
        ),
        404,
        "SAMPLE_NOT_FOUND",
    )
    response = await client.post(DISCARD, headers=bearer(token), json={})
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == ["discarded_at"]
    assert fakes.attendance.recorder.calls == []


async def test_list_food_samples(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.get(
        SAMPLES, headers=bearer(school_admin), params={"from": "2025-11-01", "to": "2025-11-30"}
    )
    assert response.status_code == 200, response.text
    assert [s["id"] for s in response.json()["items"]] == [SAMPLE_ID]
    assert response.json()["items"][0]["storage"] is None
    assert att_calls(fakes, "ListFoodSamples") == [
        att.ListFoodSamplesRequest(school_id=SCHOOL_ID, from_date="2025-11-01", to_date="2025-11-30")
    ]


# Charges


async def test_compute_boarding_charges(client: GatewayClient, fakes: Fakes, accountant: str) -> None:
    response = await client.post(
        CHARGES, headers={**bearer(accountant), "Idempotency-Key": "charges-2025-11"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "school_id": SCHOOL_ID,
        "month": "2025-11",
        "version": 2,
        "changed": True,
        "total": 860000,
        "charges": [{**CHARGE, "version": 2}],
    }
    assert att_calls(fakes, "ComputeBoardingCharges") == [
        att.ComputeBoardingChargesRequest(request_id="charges-2025-11", school_id=SCHOOL_ID, month="2025-11")
    ]
    # Accountants pass the edge (READ on their school); attendance decides who computes.
    assert scope_calls(fakes) == 1
    remaining = fakes.attendance.recorder.calls[0].time_remaining
    assert remaining is not None
    assert remaining > 5


async def test_compute_charges_refused(
    client: GatewayClient, fakes: Fakes, other_school_teacher: str, teacher: str
) -> None:
    assert_problem(await client.post(CHARGES, headers=bearer(other_school_teacher)), 403, "NOT_YOUR_SCHOOL")
    assert fakes.attendance.recorder.calls == []
    fail(
        fakes,
        "ComputeBoardingCharges",
        grpc.StatusCode.PERMISSION_DENIED,
        "ACCOUNTANT_ROLE_REQUIRED",
        "Chỉ kế toán, quản trị viên trường / accountants and school admins only",
    )
    assert_problem(await client.post(CHARGES, headers=bearer(teacher)), 403, "ACCOUNTANT_ROLE_REQUIRED")


async def test_compute_charges_bad_month(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/boarding/schools/{SCHOOL_ID}/charges/2025-11-01", headers=bearer(token)
    )
    assert problem_fields(assert_problem(response, 422, "INVALID_ARGUMENT")) == ["month"]
    assert fakes.attendance.recorder.calls == []


async def test_list_school_boarding_charges(client: GatewayClient, fakes: Fakes, accountant: str) -> None:
    response = await client.get(CHARGES, headers=bearer(accountant))
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [CHARGE]}
    assert att_calls(fakes, "ListBoardingCharges") == [
        att.ListBoardingChargesRequest(school_id=SCHOOL_ID, month="2025-11")
    ]


async def test_list_student_boarding_charges(client: GatewayClient, fakes: Fakes, guardian: str) -> None:
    response = await client.get(
        STUDENT_CHARGES.replace(STUDENT_ID, STUDENT_ID.upper()), headers=bearer(guardian)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [CHARGE]}
    assert att_calls(fakes, "ListBoardingCharges") == [att.ListBoardingChargesRequest(student_id=STUDENT_ID)]
    assert scope_calls(fakes) == 0


async def test_boarding_routes_need_a_token(client: GatewayClient, fakes: Fakes) -> None:
    for method, path in [
        ("GET", SETTINGS),
        ("GET", f"{REGISTRATIONS}?class_id={CLASS_ID}&month=2025-12"),
        ("GET", MEAL_COUNT),
        ("GET", MEAL_ATTENDANCE),
        ("POST", CHARGES),
        ("GET", CHARGES),
        ("GET", STUDENT_CHARGES),
    ]:
        assert_problem(await client.request(method, path), 401, "MISSING_TOKEN")
    assert fakes.attendance.recorder.calls == []

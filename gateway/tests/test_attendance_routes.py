"""REST ↔ attendance gRPC: the calendar, registers, the 45-session counter, leave requests, gate devices and
cards, the reconciliation, and the partner API of gate terminals."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from school.attendance.v1 import attendance_pb2 as att
from school.identity.v1 import identity_pb2 as idn

from gateway.tests.support import (
    ADVISER_SUBJECT,
    CLASS_ID,
    DEVICE_ID,
    GATE_CLIENT_SECRET,
    LEAVE_ID,
    OTHER_DEVICE_ID,
    OTHER_SCHOOL_ID,
    OTHER_STUDENT_ID,
    SCHOOL_ID,
    STUDENT_ID,
    TOKEN_ENDPOINT,
    UNKNOWN_CARD,
    Failure,
    Fakes,
    GatewayClient,
    MakeToken,
    bearer,
    teacher_scope,
)
from gateway.tests.test_routes import assert_problem

CALENDAR = f"/v1/attendance/schools/{SCHOOL_ID}/calendar"
REGISTER = f"/v1/attendance/classes/{CLASS_ID}/registers/2025-11-24/morning"
CHANGES = f"/v1/attendance/classes/{CLASS_ID}/register-changes"
STUDENT_ATTENDANCE = f"/v1/attendance/students/{STUDENT_ID}/attendance"
SUMMARY = f"/v1/attendance/students/{STUDENT_ID}/absence-summary"
CLASS_SUMMARIES = f"/v1/attendance/classes/{CLASS_ID}/absence-summaries"
LEAVES = "/v1/attendance/leave-requests"
DECISION = f"/v1/attendance/leave-requests/{LEAVE_ID}/decision"
CANCELLATION = f"/v1/attendance/leave-requests/{LEAVE_ID}/cancellation"
DEVICES = f"/v1/attendance/schools/{SCHOOL_ID}/gate-devices"
DISABLE = f"/v1/attendance/gate-devices/{DEVICE_ID}/disable"
CARD = "04:A2:3B:1C:5D:80"
CREDENTIAL = f"/v1/attendance/schools/{SCHOOL_ID}/gate-credentials/{CARD}"
RECONCILIATION = f"/v1/attendance/classes/{CLASS_ID}/gate-reconciliation/2025-11-24/afternoon"
CHECK_INS = "/v1/partner/gate/check-ins"

TEACHER = "0193a4c2-0000-7000-8000-00000000000a"
SCHOOL_ADMIN = "0193a4c2-0000-7000-8000-00000000000b"
OTHER_TEACHER = "0193a4c2-0000-7000-8000-00000000000d"
DEVICE_SUBJECT = "0193a4c2-0000-7000-8000-0000000000de"

CALENDAR_IN: dict[str, Any] = {
    "sessions": ["morning", "afternoon"],
    "weekdays": [1, 2, 3, 4, 5, 6],
    "main_session": "morning",
    "morning_cutoff": "09:30",
    "afternoon_cutoff": "15:30",
    "afternoon_starts": "13:00",
    "closed_dates": ["2026-01-01", "2026-04-30"],
    "absence_warning_at": 30,
}
MARKS: dict[str, Any] = {
    "entries": [
        {"student_id": STUDENT_ID.upper(), "status": "present"},
        {"student_id": OTHER_STUDENT_ID, "status": "absent_excused", "note": "Ốm, gia đình đã báo"},
    ]
}
LEAVE: dict[str, Any] = {
    "student_id": STUDENT_ID,
    "from_date": "2025-11-24",
    "to_date": "2025-11-25",
    "sessions": ["morning"],
    "reason": "Cháu bị sốt, gia đình xin cho cháu nghỉ để đi khám",
}
PENDING_LEAVE = {
    "id": LEAVE_ID,
    "student_id": STUDENT_ID,
    "full_name": "Nguyễn Văn An",
    "class_id": CLASS_ID,
    "school_id": SCHOOL_ID,
    "from_date": "2025-11-24",
    "to_date": "2025-11-25",
    "sessions": ["morning", "afternoon"],
    "reason": "Cháu bị sốt",
    "status": "pending",
    "session_count": 4,
    "requested_by": ADVISER_SUBJECT,
    "requested_at": "2025-11-24T16:00:00Z",
    "decided_by": None,
    "decided_at": None,
    "decision_note": None,
}
DEVICE = {
    "id": DEVICE_ID,
    "school_id": SCHOOL_ID,
    "name": "Cổng chính - làn 1",
    "kind": "rfid",
    "client_id": f"gate-{DEVICE_ID}",
    "enabled": True,
    "registered_at": "2025-11-24T16:00:00Z",
    "last_seen_at": None,
}


def att_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.attendance.recorder.calls if c.method == method]


def scope_calls(fakes: Fakes) -> int:
    return fakes.identity.recorder.methods().count("GetAccessScope")


def fail(
    fakes: Fakes, method: str, code: grpc.StatusCode, reason: str, message: str, **metadata: str
) -> None:
    fakes.attendance.recorder.failures[method] = Failure(code, message, reason, metadata)


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
def device(fakes: Fakes, make_token: MakeToken) -> str:
    """A gate terminal's client-credentials token: a tenant token like any other (the service knows it)."""
    return make_token(subject=DEVICE_SUBJECT, roles=(), azp=f"gate-{DEVICE_ID}")


# The calendar (access decided at the edge)


async def test_get_school_calendar(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    response = await client.get(CALENDAR.replace(SCHOOL_ID, SCHOOL_ID.upper()), headers=bearer(teacher))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "school_id": SCHOOL_ID,
        "sessions": ["morning", "afternoon"],
        "weekdays": [1, 2, 3, 4, 5],
        "main_session": "morning",
        "morning_cutoff": "10:00",
        "afternoon_cutoff": "16:00",
        "afternoon_starts": "12:00",
        "closed_dates": [],
        "absence_warning_at": 35,
        "configured": False,
    }
    assert att_calls(fakes, "GetSchoolCalendar") == [att.GetSchoolCalendarRequest(school_id=SCHOOL_ID)]
    assert scope_calls(fakes) == 1  # READ on the school, at the edge


async def test_get_school_calendar_of_another_school(
    client: GatewayClient, fakes: Fakes, other_school_teacher: str
) -> None:
    response = await client.get(CALENDAR, headers=bearer(other_school_teacher))
    assert_problem(response, 403, "NOT_YOUR_SCHOOL")
    assert fakes.attendance.recorder.calls == []


async def test_configure_school_calendar(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.put(CALENDAR, headers=bearer(school_admin), json=CALENDAR_IN)
    assert response.status_code == 200, response.text
    assert response.json() == {"school_id": SCHOOL_ID, **CALENDAR_IN, "configured": True}
    assert att_calls(fakes, "ConfigureSchoolCalendar") == [
        att.ConfigureSchoolCalendarRequest(
            calendar=att.SchoolCalendar(
                school_id=SCHOOL_ID,
                sessions=[att.SESSION_MORNING, att.SESSION_AFTERNOON],
                weekdays=[1, 2, 3, 4, 5, 6],
                main_session=att.SESSION_MORNING,
                morning_cutoff="09:30",
                afternoon_cutoff="15:30",
                afternoon_starts="13:00",
                closed_dates=["2026-01-01", "2026-04-30"],
                absence_warning_at=30,
            )
        )
    ]


async def test_configure_school_calendar_defaults(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {
        k: CALENDAR_IN[k]
        for k in ("sessions", "weekdays", "main_session", "morning_cutoff", "afternoon_cutoff")
    }
    response = await client.put(CALENDAR, headers=bearer(token), json={**body, "sessions": ["afternoon"]})
    assert response.status_code == 200, response.text
    [request] = att_calls(fakes, "ConfigureSchoolCalendar")
    assert list(request.calendar.sessions) == [att.SESSION_AFTERNOON]
    assert (request.calendar.afternoon_starts, request.calendar.absence_warning_at) == ("12:00", 35)
    assert list(request.calendar.closed_dates) == []


async def test_configure_school_calendar_needs_the_school_admin(
    client: GatewayClient, fakes: Fakes, teacher: str
) -> None:
    response = await client.put(CALENDAR, headers=bearer(teacher), json=CALENDAR_IN)
    assert_problem(response, 403, "ADMIN_ROLE_REQUIRED")
    assert fakes.attendance.recorder.calls == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sessions": []}, "sessions"),
        ({"sessions": ["evening"]}, "sessions[0]"),
        ({"sessions": "morning"}, "sessions"),
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": [0]}, "weekdays[0]"),
        ({"weekdays": [1, 8]}, "weekdays[1]"),
        ({"weekdays": ["1"]}, "weekdays[0]"),
        ({"main_session": "MORNING"}, "main_session"),
        ({"morning_cutoff": "25:00"}, "morning_cutoff"),
        ({"morning_cutoff": "9:30"}, "morning_cutoff"),
        ({"afternoon_cutoff": "15h30"}, "afternoon_cutoff"),
        ({"afternoon_starts": ""}, "afternoon_starts"),
        ({"closed_dates": ["2026-02-30"]}, "closed_dates[0]"),
        ({"closed_dates": ["2026-01-01"] * 401}, "closed_dates"),
        ({"absence_warning_at": 0}, "absence_warning_at"),
        ({"absence_warning_at": 46}, "absence_warning_at"),
        ({"absence_warning_at": "35"}, "absence_warning_at"),
        ({"configured": True}, "configured"),  # output only
        ({"school_id": SCHOOL_ID}, "school_id"),  # the path names the school
    ],
)
async def test_configure_school_calendar_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.put(CALENDAR, headers=bearer(token), json={**CALENDAR_IN, **change})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.attendance.recorder.calls == []


async def test_configure_school_calendar_refusal_names_the_rest_field(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    message = (
        "Buổi tính chuyên cần phải là một buổi trường học / the main session must be one the school runs"
    )
    fail(
        fakes,
        "ConfigureSchoolCalendar",
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        message,
        field="calendar.main_session",
    )
    response = await client.put(CALENDAR, headers=bearer(token), json=CALENDAR_IN)
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert body["errors"] == [{"field": "main_session", "message": message}]


async def test_calendar_malformed_school_id(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get("/v1/attendance/schools/truong-1/calendar", headers=bearer(token))
    assert_problem(response, 404, "SCHOOL_NOT_FOUND")
    assert fakes.attendance.recorder.calls == []


# Registers


async def test_mark_attendance(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    response = await client.put(
        REGISTER.replace(CLASS_ID, CLASS_ID.upper()),
        headers={**bearer(teacher), "Idempotency-Key": "register-6a1-2025-11-24-am"},
        json={**MARKS, "reason": "Cập nhật theo giấy phép"},
    )
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "MarkAttendance") == [
        att.MarkAttendanceRequest(
            request_id="register-6a1-2025-11-24-am",
            class_id=CLASS_ID,
            date="2025-11-24",
            session=att.SESSION_MORNING,
            entries=[
                att.MarkEntry(student_id=STUDENT_ID, status=att.ATTENDANCE_STATUS_PRESENT),  # lower-cased
                att.MarkEntry(
                    student_id=OTHER_STUDENT_ID,
                    status=att.ATTENDANCE_STATUS_ABSENT_EXCUSED,
                    note="Ốm, gia đình đã báo",
                ),
            ],
            reason="Cập nhật theo giấy phép",
        )
    ]
    assert response.json() == {
        "class_id": CLASS_ID,
        "school_id": SCHOOL_ID,
        "class_name": "6A1",
        "date": "2025-11-24",
        "session": "morning",
        "school_year": "2025-2026",
        "lines": [
            {
                "student_id": STUDENT_ID,
                "full_name": "Nguyễn Văn An",
                "status": "present",
                "note": None,
                "leave_request_id": None,
                "checked_in_at": None,
                "marked_at": "2025-11-24T00:43:20Z",
                "marked_by": TEACHER,
            },
            {
                "student_id": OTHER_STUDENT_ID,
                "full_name": "Nguyễn Văn An",
                "status": "absent_excused",
                "note": "Ốm, gia đình đã báo",
                "leave_request_id": None,
                "checked_in_at": None,
                "marked_at": "2025-11-24T00:43:20Z",
                "marked_by": TEACHER,
            },
        ],
        "present": 1,
        "absent_excused": 0,
        "absent_unexcused": 0,
        "late": 0,
        "left_early": 0,
        "unmarked": 0,
        "cutoff_at": "2025-11-24T03:00:00Z",
        "changed": 2,
        "after_cutoff": True,
    }
    # attendance decides who may mark the class: nothing is asked of identity at the edge.
    assert scope_calls(fakes) == 0


@pytest.mark.parametrize(
    ("status", "pb_status"),
    [
        ("present", att.ATTENDANCE_STATUS_PRESENT),
        ("absent_excused", att.ATTENDANCE_STATUS_ABSENT_EXCUSED),
        ("absent_unexcused", att.ATTENDANCE_STATUS_ABSENT_UNEXCUSED),
        ("late", att.ATTENDANCE_STATUS_LATE),
        ("left_early", att.ATTENDANCE_STATUS_LEFT_EARLY),
    ],
)
async def test_every_status_maps_both_ways(
    client: GatewayClient, fakes: Fakes, token: str, status: str, pb_status: int
) -> None:
    url = REGISTER.replace("morning", "afternoon")
    response = await client.put(
        url, headers=bearer(token), json={"entries": [{"student_id": STUDENT_ID, "status": status}]}
    )
    assert response.status_code == 200, response.text
    [request] = att_calls(fakes, "MarkAttendance")
    assert (request.session, request.entries[0].status, request.request_id, request.reason) == (
        att.SESSION_AFTERNOON,
        pb_status,
        "",
        "",
    )
    assert response.json()["lines"][0]["status"] == status
    assert response.json()["session"] == "afternoon"
    assert response.json()["after_cutoff"] is False


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/v1/attendance/classes/{CLASS_ID}/registers/2025-02-30/morning", "date"),
        (f"/v1/attendance/classes/{CLASS_ID}/registers/24-11-2025/morning", "date"),
        (f"/v1/attendance/classes/{CLASS_ID}/registers/2025-11-24/evening", "session"),
        (f"/v1/attendance/classes/{CLASS_ID}/registers/2025-11-24/MORNING", "session"),
    ],
)
async def test_register_bad_path(
    client: GatewayClient, fakes: Fakes, token: str, path: str, field: str
) -> None:
    for response in (
        await client.put(path, headers=bearer(token), json=MARKS),
        await client.get(path, headers=bearer(token)),
    ):
        body = assert_problem(response, 422, "INVALID_ARGUMENT")
        assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.attendance.recorder.calls == []


async def test_register_malformed_class_id(client: GatewayClient, fakes: Fakes, token: str) -> None:
    path = "/v1/attendance/classes/6A1/registers/2025-11-24/morning"
    assert_problem(await client.put(path, headers=bearer(token), json=MARKS), 404, "CLASS_NOT_FOUND")
    assert_problem(await client.get(path, headers=bearer(token)), 404, "CLASS_NOT_FOUND")
    assert fakes.attendance.recorder.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entries": []}, "entries"),
        ({"entries": [{"student_id": STUDENT_ID, "status": "absent"}]}, "entries[0].status"),
        ({"entries": [{"student_id": STUDENT_ID, "status": "P"}]}, "entries[0].status"),
        ({"entries": [{"student_id": STUDENT_ID, "status": 1}]}, "entries[0].status"),
        ({"entries": [{"student_id": STUDENT_ID}]}, "entries[0].status"),
        ({"entries": [{"student_id": "an", "status": "present"}]}, "entries[0].student_id"),
        (
            {"entries": [{"student_id": STUDENT_ID, "status": "present", "note": "x" * 501}]},
            "entries[0].note",
        ),
        (
            {
                "entries": [
                    {"student_id": STUDENT_ID, "status": "present"},
                    {"student_id": STUDENT_ID.upper(), "status": "late"},
                ]
            },
            "entries",
        ),
        ({**MARKS, "reason": ""}, "reason"),
        ({**MARKS, "reason": "x" * 501}, "reason"),
        ({**MARKS, "date": "2025-11-24"}, "date"),  # in the path, not the body
    ],
)
async def test_mark_attendance_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], field: str
) -> None:
    response = await client.put(REGISTER, headers=bearer(token), json=body)
    problem = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.attendance.recorder.calls == []


async def test_mark_attendance_too_many_entries(client: GatewayClient, fakes: Fakes, token: str) -> None:
    entries = [{"student_id": f"0193a4c2-3d22-7e3b-9d4c-{n:012d}", "status": "present"} for n in range(201)]
    problem = assert_problem(
        await client.put(REGISTER, headers=bearer(token), json={"entries": entries}), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == ["entries"]


async def test_mark_attendance_invalid_idempotency_key(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.put(
        REGISTER, headers={**bearer(token), "Idempotency-Key": "two words"}, json=MARKS
    )
    assert_problem(response, 422, "INVALID_IDEMPOTENCY_KEY")
    assert fakes.attendance.recorder.calls == []


async def test_a_change_after_the_cut_off_needs_a_reason(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    message = "Sửa sau giờ chốt cần lý do / a change after the cut-off needs a reason"
    fail(
        fakes,
        "MarkAttendance",
        grpc.StatusCode.FAILED_PRECONDITION,
        "REASON_REQUIRED",
        message,
        field="reason",
    )
    body = assert_problem(
        await client.put(REGISTER, headers=bearer(token), json=MARKS), 422, "REASON_REQUIRED"
    )
    assert body["errors"] == [{"field": "reason", "message": message}]


@pytest.mark.parametrize(
    ("code", "reason", "status"),
    [
        (grpc.StatusCode.FAILED_PRECONDITION, "NOT_A_SCHOOL_DAY", 422),
        (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_NOT_RUN", 422),
        (grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_CLASS", 403),
        (grpc.StatusCode.NOT_FOUND, "CLASS_NOT_FOUND", 404),
        (grpc.StatusCode.ABORTED, "REQUEST_IN_PROGRESS", 409),
    ],
)
async def test_mark_attendance_refused_by_the_service(
    client: GatewayClient, fakes: Fakes, token: str, code: grpc.StatusCode, reason: str, status: int
) -> None:
    fail(fakes, "MarkAttendance", code, reason, "Bị từ chối / refused")
    body = assert_problem(await client.put(REGISTER, headers=bearer(token), json=MARKS), status, reason)
    assert body["detail"] == "Bị từ chối / refused"


async def test_a_busy_attendance_is_a_503_with_its_retry_delay(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fail(
        fakes,
        "MarkAttendance",
        grpc.StatusCode.UNAVAILABLE,
        "OVERLOADED",
        "Hệ thống đang bận / busy",
        retry_after_s="3",
    )
    response = await client.put(REGISTER, headers=bearer(token), json=MARKS)
    assert_problem(response, 503, "OVERLOADED")
    assert response.headers["Retry-After"] == "3"


async def test_get_register(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(REGISTER, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "GetRegister") == [
        att.GetRegisterRequest(class_id=CLASS_ID, date="2025-11-24", session=att.SESSION_MORNING)
    ]
    body = response.json()
    assert body["lines"] == [
        {
            "student_id": STUDENT_ID,
            "full_name": "Nguyễn Văn An",
            "status": "present",
            "note": None,
            "leave_request_id": None,
            "checked_in_at": "2025-11-24T00:00:00Z",
            "marked_at": "2025-11-24T00:43:20Z",
            "marked_by": ADVISER_SUBJECT,
        },
        {
            "student_id": OTHER_STUDENT_ID,
            "full_name": "Trần Thị Bình",
            "status": None,  # not marked yet
            "note": None,
            "leave_request_id": LEAVE_ID,
            "checked_in_at": None,
            "marked_at": None,
            "marked_by": None,
        },
    ]
    assert (body["present"], body["unmarked"], body["cutoff_at"]) == (1, 1, "2025-11-24T03:00:00Z")
    assert "changed" not in body


async def test_list_register_changes(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(
        CHANGES, headers=bearer(token), params={"from": "2025-11-01", "to": "2025-11-30"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "student_id": STUDENT_ID,
                "date": "2025-11-24",
                "session": "morning",
                "previous_status": "absent_unexcused",
                "status": "late",
                "reason": "Đến muộn có giấy của phòng y tế",
                "changed_by": ADVISER_SUBJECT,
                "changed_at": "2025-11-24T16:00:00Z",
            }
        ]
    }
    assert att_calls(fakes, "ListRegisterChanges") == [
        att.ListRegisterChangesRequest(class_id=CLASS_ID, from_date="2025-11-01", to_date="2025-11-30")
    ]


async def test_list_register_changes_without_a_range(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(CHANGES, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "ListRegisterChanges") == [att.ListRegisterChangesRequest(class_id=CLASS_ID)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-11-01"}, "to"),
        ({"to": "2025-11-30"}, "from"),
        ({"from": "2025-11-30", "to": "2025-11-01"}, "to"),
        ({"from": "2025-11-31", "to": "2025-12-01"}, "from"),
        ({"from": "2025-11-01", "to": "30/11/2025"}, "to"),
    ],
)
async def test_register_changes_bad_range(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, str], field: str
) -> None:
    problem = assert_problem(
        await client.get(CHANGES, headers=bearer(token), params=params), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.attendance.recorder.calls == []


async def test_list_student_attendance(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(
        STUDENT_ATTENDANCE.replace(STUDENT_ID, STUDENT_ID.upper()),
        headers=bearer(token),
        params={"from": "2025-11-24", "to": "2025-11-24"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {"date": "2025-11-24", "session": "morning", "status": "present", "note": None},
            {
                "date": "2025-11-24",
                "session": "afternoon",
                "status": "absent_excused",
                "note": "Nghỉ có phép",
            },
        ]
    }
    assert att_calls(fakes, "ListStudentAttendance") == [
        att.ListStudentAttendanceRequest(student_id=STUDENT_ID, from_date="2025-11-24", to_date="2025-11-24")
    ]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, ["from", "to"]),
        ({"from": "2025-11-01"}, ["to"]),
        ({"from": "2025-12-01", "to": "2025-11-01"}, ["to"]),
    ],
)
async def test_student_attendance_needs_a_range(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, str], fields: list[str]
) -> None:
    response = await client.get(STUDENT_ATTENDANCE, headers=bearer(token), params=params)
    problem = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in problem["errors"]] == fields
    assert fakes.attendance.recorder.calls == []


async def test_a_range_the_service_refuses_names_the_query_parameter(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    message = "Tối đa một năm học / at most a school year"
    fail(
        fakes,
        "ListStudentAttendance",
        grpc.StatusCode.INVALID_ARGUMENT,
        "RANGE_TOO_LONG",
        message,
        field="to_date",
    )
    response = await client.get(
        STUDENT_ATTENDANCE, headers=bearer(token), params={"from": "2020-01-01", "to": "2025-11-24"}
    )
    body = assert_problem(response, 422, "RANGE_TOO_LONG")
    assert body["errors"] == [{"field": "to", "message": message}]


async def test_list_student_attendance_not_your_child(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fail(
        fakes,
        "ListStudentAttendance",
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_YOUR_CHILD",
        "Đây không phải con em của bạn / this student is not linked to you",
    )
    response = await client.get(
        STUDENT_ATTENDANCE, headers=bearer(token), params={"from": "2025-11-01", "to": "2025-11-30"}
    )
    assert_problem(response, 403, "NOT_YOUR_CHILD")


# The 45-session counter


async def test_get_absence_summary(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(SUMMARY, headers=bearer(token), params={"school_year": "2025-2026"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "student_id": STUDENT_ID,
        "full_name": "Nguyễn Văn An",
        "school_year": "2025-2026",
        "absent_sessions": 36,
        "excused": 30,
        "unexcused": 6,
        "limit": 45,
        "warning_at": 35,
        "level": "approaching",
        "late": 2,
        "left_early": 1,
    }
    assert att_calls(fakes, "GetAbsenceSummary") == [
        att.GetAbsenceSummaryRequest(student_id=STUDENT_ID, school_year="2025-2026")
    ]


@pytest.mark.parametrize("params", [{}, {"school_year": "2025"}, {"school_year": "2025/2026"}])
async def test_absence_summary_needs_a_school_year(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, str]
) -> None:
    problem = assert_problem(
        await client.get(SUMMARY, headers=bearer(token), params=params), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == ["school_year"]
    assert fakes.attendance.recorder.calls == []


async def test_list_class_absence_summaries(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(CLASS_SUMMARIES, headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["school_year"] == "2025-2026"
    assert [(s["student_id"], s["absent_sessions"], s["level"]) for s in body["items"]] == [
        (STUDENT_ID, 36, "approaching"),
        (OTHER_STUDENT_ID, 46, "over"),
    ]
    assert att_calls(fakes, "ListClassAbsenceSummaries") == [
        att.ListClassAbsenceSummariesRequest(class_id=CLASS_ID)
    ]


# Leave requests


async def test_request_leave(client: GatewayClient, fakes: Fakes, make_token: MakeToken) -> None:
    guardian = make_token(subject="0193a4c2-0000-7000-8000-0000000000aa", roles=("guardian",))
    response = await client.post(
        LEAVES,
        headers={**bearer(guardian), "Idempotency-Key": "leave-1"},
        json={**LEAVE, "student_id": STUDENT_ID.upper()},
    )
    assert response.status_code == 201, response.text
    assert att_calls(fakes, "RequestLeave") == [
        att.RequestLeaveRequest(
            request_id="leave-1",
            student_id=STUDENT_ID,
            from_date="2025-11-24",
            to_date="2025-11-25",
            sessions=[att.SESSION_MORNING],
            reason=LEAVE["reason"],
        )
    ]
    assert response.json() == {
        **PENDING_LEAVE,
        "sessions": ["morning"],
        "reason": LEAVE["reason"],
        "requested_by": "0193a4c2-0000-7000-8000-0000000000aa",
    }


async def test_request_leave_for_every_session(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {k: v for k, v in LEAVE.items() if k != "sessions"}
    response = await client.post(LEAVES, headers=bearer(token), json={**body, "to_date": body["from_date"]})
    assert response.status_code == 201, response.text
    [request] = att_calls(fakes, "RequestLeave")
    assert (list(request.sessions), request.request_id) == ([], "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to_date": "2025-11-23"}, "to_date"),
        ({"from_date": "2025-11-31"}, "from_date"),
        ({"sessions": ["night"]}, "sessions[0]"),
        ({"sessions": ["morning", "afternoon", "morning"]}, "sessions"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"student_id": "an"}, "student_id"),
        ({"class_id": CLASS_ID}, "class_id"),  # the service knows the student's class
    ],
)
async def test_request_leave_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    problem = assert_problem(
        await client.post(LEAVES, headers=bearer(token), json={**LEAVE, **change}), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.attendance.recorder.calls == []


async def test_approve_leave(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    response = await client.post(DECISION, headers=bearer(teacher), json={"approve": True})
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "DecideLeave") == [att.DecideLeaveRequest(leave_id=LEAVE_ID, approve=True)]
    assert response.json() == {
        "leave": {
            **PENDING_LEAVE,
            "status": "approved",
            "decided_by": TEACHER,
            "decided_at": "2025-11-24T17:00:00Z",
        },
        "marked": 4,
    }


async def test_refuse_leave(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    response = await client.post(
        DECISION, headers=bearer(teacher), json={"approve": False, "note": "Cần giấy khám bệnh"}
    )
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "DecideLeave") == [
        att.DecideLeaveRequest(leave_id=LEAVE_ID, approve=False, note="Cần giấy khám bệnh")
    ]
    assert response.json()["leave"]["status"] == "refused"
    assert response.json()["leave"]["decision_note"] == "Cần giấy khám bệnh"
    assert response.json()["marked"] == 0


async def test_refusing_leave_needs_a_note(client: GatewayClient, fakes: Fakes, token: str) -> None:
    problem = assert_problem(
        await client.post(DECISION, headers=bearer(token), json={"approve": False}), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == ["note"]
    assert fakes.attendance.recorder.calls == []


async def test_decide_leave_not_the_homeroom_teacher(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fail(
        fakes,
        "DecideLeave",
        grpc.StatusCode.PERMISSION_DENIED,
        "HOMEROOM_TEACHER_ONLY",
        "Chỉ giáo viên chủ nhiệm / homeroom teacher only",
    )
    assert_problem(
        await client.post(DECISION, headers=bearer(token), json={"approve": True}),
        403,
        "HOMEROOM_TEACHER_ONLY",
    )


async def test_cancel_leave(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(CANCELLATION, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {**PENDING_LEAVE, "status": "cancelled"}
    assert att_calls(fakes, "CancelLeave") == [att.CancelLeaveRequest(leave_id=LEAVE_ID)]


async def test_cancel_leave_already_decided(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fail(
        fakes,
        "CancelLeave",
        grpc.StatusCode.FAILED_PRECONDITION,
        "LEAVE_NOT_PENDING",
        "Đơn đã được quyết định / the request was already decided",
    )
    assert_problem(await client.post(CANCELLATION, headers=bearer(token)), 422, "LEAVE_NOT_PENDING")


@pytest.mark.parametrize("path", ["decision", "cancellation"])
async def test_malformed_leave_id(client: GatewayClient, fakes: Fakes, token: str, path: str) -> None:
    response = await client.post(f"{LEAVES}/don-1/{path}", headers=bearer(token), json={"approve": True})
    assert_problem(response, 404, "LEAVE_NOT_FOUND")
    assert fakes.attendance.recorder.calls == []


async def test_list_leave_requests_of_a_class(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(
        LEAVES,
        headers=bearer(token),
        params={"class_id": CLASS_ID.upper(), "status": "pending", "page_size": 20, "page_token": "p2"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [PENDING_LEAVE], "next_page_token": "next-1"}
    assert att_calls(fakes, "ListLeaveRequests") == [
        att.ListLeaveRequestsRequest(
            class_id=CLASS_ID, status=att.LEAVE_STATUS_PENDING, page_size=20, page_token="p2"
        )
    ]


async def test_list_leave_requests_of_a_student(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(LEAVES, headers=bearer(token), params={"student_id": STUDENT_ID})
    assert response.status_code == 200, response.text
    assert att_calls(fakes, "ListLeaveRequests") == [att.ListLeaveRequestsRequest(student_id=STUDENT_ID)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "class_id"),
        ({"class_id": CLASS_ID, "student_id": STUDENT_ID}, "class_id"),
        ({"class_id": "6A1"}, "class_id"),
        ({"student_id": STUDENT_ID, "status": "open"}, "status"),
        ({"student_id": STUDENT_ID, "page_size": 0}, "page_size"),
        ({"student_id": STUDENT_ID, "page_size": 201}, "page_size"),
    ],
)
async def test_list_leave_requests_bad_query(
    client: GatewayClient, fakes: Fakes, token: str, params: dict[str, Any], field: str
) -> None:
    problem = assert_problem(
        await client.get(LEAVES, headers=bearer(token), params=params), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.attendance.recorder.calls == []


# Gate devices and cards


async def test_register_gate_device(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.post(
        DEVICES,
        headers={**bearer(school_admin), "Idempotency-Key": "device-lane-2"},
        json={"name": "Cổng chính - làn 2", "kind": "face"},
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "device": {**DEVICE, "name": "Cổng chính - làn 2", "kind": "face"},
        "client_secret": GATE_CLIENT_SECRET,
        "token_endpoint": TOKEN_ENDPOINT,
    }
    assert response.headers["cache-control"] == "no-store"  # the secret is never cached on the way
    assert att_calls(fakes, "RegisterGateDevice") == [
        att.RegisterGateDeviceRequest(
            request_id="device-lane-2",
            school_id=SCHOOL_ID,
            name="Cổng chính - làn 2",
            kind=att.GATE_DEVICE_KIND_FACE,
        )
    ]


async def test_gate_devices_are_the_school_admins(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    body = {"name": "Cổng chính", "kind": "rfid"}
    assert_problem(await client.post(DEVICES, headers=bearer(teacher), json=body), 403, "ADMIN_ROLE_REQUIRED")
    assert_problem(await client.get(DEVICES, headers=bearer(teacher)), 403, "ADMIN_ROLE_REQUIRED")
    assert_problem(
        await client.put(CREDENTIAL, headers=bearer(teacher), json={"student_id": STUDENT_ID}),
        403,
        "ADMIN_ROLE_REQUIRED",
    )
    assert_problem(await client.delete(CREDENTIAL, headers=bearer(teacher)), 403, "ADMIN_ROLE_REQUIRED")
    assert fakes.attendance.recorder.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "kind": "rfid"}, "name"),
        ({"name": "x" * 201, "kind": "rfid"}, "name"),
        ({"name": "Cổng", "kind": "qr"}, "kind"),
        ({"name": "Cổng"}, "kind"),
        ({"name": "Cổng", "kind": "rfid", "client_secret": "mine"}, "client_secret"),
    ],
)
async def test_register_gate_device_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(
        await client.post(DEVICES, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.attendance.recorder.calls == []


async def test_list_gate_devices(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.get(DEVICES, headers=bearer(school_admin))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {**DEVICE, "last_seen_at": "2025-11-24T17:00:00Z"},
            {
                **DEVICE,
                "id": OTHER_DEVICE_ID,
                "name": "Cổng sau",
                "kind": "face",
                "client_id": f"gate-{OTHER_DEVICE_ID}",
                "enabled": False,
            },
        ]
    }
    assert "client_secret" not in response.text
    assert att_calls(fakes, "ListGateDevices") == [att.ListGateDevicesRequest(school_id=SCHOOL_ID)]


async def test_disable_gate_device(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(DISABLE.replace(DEVICE_ID, DEVICE_ID.upper()), headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {**DEVICE, "enabled": False}
    assert att_calls(fakes, "DisableGateDevice") == [att.DisableGateDeviceRequest(device_id=DEVICE_ID)]
    assert scope_calls(fakes) == 0  # attendance knows the device's school


async def test_disable_malformed_device_id(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post("/v1/attendance/gate-devices/lane-1/disable", headers=bearer(token))
    assert_problem(response, 404, "DEVICE_NOT_FOUND")
    assert fakes.attendance.recorder.calls == []


async def test_assign_gate_credential(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.put(
        CREDENTIAL, headers=bearer(school_admin), json={"student_id": STUDENT_ID.upper()}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"credential": CARD, "student_id": STUDENT_ID}
    assert att_calls(fakes, "AssignGateCredential") == [
        att.AssignGateCredentialRequest(school_id=SCHOOL_ID, student_id=STUDENT_ID, credential=CARD)
    ]


async def test_assign_a_card_another_student_holds(client: GatewayClient, fakes: Fakes, token: str) -> None:
    message = "Thẻ đã gán cho học sinh khác / the card belongs to another student"
    fail(
        fakes,
        "AssignGateCredential",
        grpc.StatusCode.ALREADY_EXISTS,
        "CREDENTIAL_TAKEN",
        message,
        field="credential",
    )
    response = await client.put(CREDENTIAL, headers=bearer(token), json={"student_id": STUDENT_ID})
    body = assert_problem(response, 409, "CREDENTIAL_TAKEN")
    assert body["errors"] == [{"field": "credential", "message": message}]


@pytest.mark.parametrize("credential", ["abc", "x" * 65, "04%20A2%203B", "thẻ-1234", "04_A2_3B_1C"])
async def test_malformed_credential(client: GatewayClient, fakes: Fakes, token: str, credential: str) -> None:
    path = f"/v1/attendance/schools/{SCHOOL_ID}/gate-credentials/{credential}"
    for response in (
        await client.put(path, headers=bearer(token), json={"student_id": STUDENT_ID}),
        await client.delete(path, headers=bearer(token)),
    ):
        problem = assert_problem(response, 422, "INVALID_ARGUMENT")
        assert [e["field"] for e in problem["errors"]] == ["credential"]
    assert fakes.attendance.recorder.calls == []


async def test_remove_gate_credential(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.delete(CREDENTIAL, headers=bearer(school_admin))
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert att_calls(fakes, "RemoveGateCredential") == [
        att.RemoveGateCredentialRequest(school_id=SCHOOL_ID, credential=CARD)
    ]


async def test_remove_an_unknown_card(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fail(
        fakes,
        "RemoveGateCredential",
        grpc.StatusCode.NOT_FOUND,
        "CREDENTIAL_NOT_FOUND",
        "Không tìm thấy thẻ / card not found",
    )
    assert_problem(await client.delete(CREDENTIAL, headers=bearer(token)), 404, "CREDENTIAL_NOT_FOUND")


async def test_gate_reconciliation(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(RECONCILIATION, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "flagged": 1,
        "lines": [
            {
                "student_id": STUDENT_ID,
                "full_name": "Nguyễn Văn An",
                "status": "absent_unexcused",
                "checked_in_at": "2025-11-24T00:00:00Z",
                "flag": "absent_in_class",
            },
            {
                "student_id": OTHER_STUDENT_ID,
                "full_name": "Trần Thị Bình",
                "status": "present",
                "checked_in_at": None,
                "flag": None,
            },
        ],
    }
    assert att_calls(fakes, "GetGateReconciliation") == [
        att.GetGateReconciliationRequest(class_id=CLASS_ID, date="2025-11-24", session=att.SESSION_AFTERNOON)
    ]


# The partner API: a terminal's taps


def taps(count: int, long: bool = False) -> list[dict[str, str]]:
    pad = 50 if long else 0
    return [
        {
            "tap_id": f"lane1-{n:0{8 + pad}d}",
            "credential": f"CARD-{n % 700:0{4 + pad + 5}d}" if long else f"CARD-{n % 700:04d}",
            "tapped_at": "2025-11-24T06:52:13.123456+07:00",
        }
        for n in range(count)
    ]


async def test_record_check_ins(client: GatewayClient, fakes: Fakes, device: str) -> None:
    body = {
        "taps": [
            {"tap_id": "t-1", "credential": CARD, "tapped_at": "2025-11-24T06:52:13+07:00"},
            {"tap_id": "t-2", "credential": CARD, "tapped_at": "2025-11-23T23:53:00Z"},
            {"tap_id": "t-3", "credential": UNKNOWN_CARD, "tapped_at": "2025-11-24T06:54:00.5+07:00"},
        ]
    }
    response = await client.post(CHECK_INS, headers=bearer(device), json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "checked_in": 1,
        "merged": 1,
        "rejected": 1,
        "results": [
            {
                "tap_id": "t-1",
                "outcome": "checked_in",
                "student_id": STUDENT_ID,
                "date": "2025-11-24",
                "session": "morning",
            },
            {
                "tap_id": "t-2",
                "outcome": "merged",
                "student_id": STUDENT_ID,
                "date": "2025-11-24",
                "session": "morning",
            },
            {
                "tap_id": "t-3",
                "outcome": "unknown_credential",
                "student_id": None,
                "date": None,
                "session": None,
            },
        ],
    }
    [request] = att_calls(fakes, "RecordCheckIns")
    # Instants travel as UTC timestamps, whatever zone the device wrote.
    assert request == att.RecordCheckInsRequest(
        taps=[
            att.Tap(tap_id="t-1", credential=CARD, tap_time=Timestamp(seconds=1_763_941_933)),
            att.Tap(tap_id="t-2", credential=CARD, tap_time=Timestamp(seconds=1_763_941_980)),
            att.Tap(
                tap_id="t-3",
                credential=UNKNOWN_CARD,
                tap_time=Timestamp(seconds=1_763_942_040, nanos=500_000_000),
            ),
        ]
    )
    # The device's own token travels to attendance, which decides it is an enabled device; a longer deadline.
    call = fakes.attendance.recorder.calls[0]
    assert call.metadata["authorization"] == f"Bearer {device}"
    assert call.time_remaining is not None
    assert call.time_remaining > 5
    assert scope_calls(fakes) == 0


async def test_a_full_batch_over_the_usual_body_limit(
    client: GatewayClient, fakes: Fakes, device: str
) -> None:
    content = json.dumps({"taps": taps(5000, long=True)}).encode()
    assert len(content) > 1024 * 1024  # more than any other route takes
    response = await client.post(
        CHECK_INS, headers={**bearer(device), "Content-Type": "application/json"}, content=content
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 5000
    assert len(att_calls(fakes, "RecordCheckIns")[0].taps) == 5000


async def test_the_larger_limit_is_the_check_ins_routes_only(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    entries = [{"student_id": STUDENT_ID, "status": "present", "note": "x" * 500}] * 2500
    response = await client.put(REGISTER, headers=bearer(token), json={"entries": entries})
    assert_problem(response, 413, "CONTENT_TOO_LARGE")
    assert fakes.attendance.recorder.calls == []


async def test_a_batch_over_its_own_limit(client: GatewayClient, fakes: Fakes, device: str) -> None:
    tap = {"tap_id": "t" * 64, "credential": "C" * 64, "tapped_at": "2025-11-24T06:52:13+07:00"}
    content = json.dumps({"taps": [tap] * 5000}, indent=8).encode()
    content = content.replace(b"\n", b"\n" + b" " * 200)
    assert len(content) > 4 * 1024 * 1024
    response = await client.post(
        CHECK_INS, headers={**bearer(device), "Content-Type": "application/json"}, content=content
    )
    assert_problem(response, 413, "CONTENT_TOO_LARGE")
    assert fakes.attendance.recorder.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"taps": []}, "taps"),
        ({"taps": taps(5001)}, "taps"),
        ({"taps": [{"tap_id": "t-1", "credential": CARD}]}, "taps[0].tapped_at"),
        (
            {"taps": [{"tap_id": "t-1", "credential": CARD, "tapped_at": "2025-11-24T06:52:13"}]},
            "taps[0].tapped_at",
        ),
        ({"taps": [{"tap_id": "t-1", "credential": CARD, "tapped_at": 1763941933}]}, "taps[0].tapped_at"),
        ({"taps": [{"tap_id": "t-1", "credential": CARD, "tapped_at": "hôm nay"}]}, "taps[0].tapped_at"),
        (
            {"taps": [{"tap_id": "", "credential": CARD, "tapped_at": "2025-11-24T06:52:13Z"}]},
            "taps[0].tap_id",
        ),
        (
            {"taps": [{"tap_id": "t" * 65, "credential": CARD, "tapped_at": "2025-11-24T06:52:13Z"}]},
            "taps[0].tap_id",
        ),
        (
            {"taps": [{"tap_id": "t 1", "credential": CARD, "tapped_at": "2025-11-24T06:52:13Z"}]},
            "taps[0].tap_id",
        ),
        (
            {"taps": [{"tap_id": "t-1", "credential": "abc", "tapped_at": "2025-11-24T06:52:13Z"}]},
            "taps[0].credential",
        ),
        (
            {"taps": [{"tap_id": "t-1", "credential": "04 A2", "tapped_at": "2025-11-24T06:52:13Z"}]},
            "taps[0].credential",
        ),
        (
            {
                "taps": [
                    {"tap_id": "t-1", "credential": CARD, "tapped_at": "2025-11-24T06:52:13Z", "photo": "…"}
                ]
            },
            "taps[0].photo",
        ),
        ({"taps": taps(1), "device_id": DEVICE_ID}, "device_id"),  # the token says which device
    ],
)
async def test_record_check_ins_bad_inputs(
    client: GatewayClient, fakes: Fakes, device: str, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(
        await client.post(CHECK_INS, headers=bearer(device), json=body), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.attendance.recorder.calls == []


async def test_record_check_ins_field_named_as_sent(client: GatewayClient, fakes: Fakes, device: str) -> None:
    message = "Thời điểm ở tương lai / a tap in the future"
    fail(
        fakes,
        "RecordCheckIns",
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        message,
        field="taps[2].tap_time",
    )
    response = await client.post(CHECK_INS, headers=bearer(device), json={"taps": taps(3)})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert body["errors"] == [{"field": "taps[2].tapped_at", "message": message}]


@pytest.mark.parametrize("reason", ["DEVICE_REQUIRED", "DEVICE_DISABLED"])
async def test_only_an_enabled_device_records_check_ins(
    client: GatewayClient, fakes: Fakes, token: str, reason: str
) -> None:
    fail(fakes, "RecordCheckIns", grpc.StatusCode.PERMISSION_DENIED, reason, "Chỉ thiết bị / devices only")
    response = await client.post(CHECK_INS, headers=bearer(token), json={"taps": taps(1)})
    assert_problem(response, 403, reason)


async def test_check_ins_need_a_token_and_json(client: GatewayClient, fakes: Fakes, device: str) -> None:
    assert_problem(await client.post(CHECK_INS, json={"taps": taps(1)}), 401, "MISSING_TOKEN")
    response = await client.post(
        CHECK_INS, headers={**bearer(device), "Content-Type": "text/csv"}, content=b"t-1,04:A2,2025-11-24"
    )
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert fakes.attendance.recorder.calls == []


async def test_attendance_routes_need_a_token(client: GatewayClient, fakes: Fakes) -> None:
    for method, path in [
        ("GET", CALENDAR),
        ("GET", REGISTER),
        ("GET", f"{STUDENT_ATTENDANCE}?from=2025-11-01&to=2025-11-30"),
        ("GET", CLASS_SUMMARIES),
        ("GET", f"{LEAVES}?class_id={CLASS_ID}"),
        ("POST", CANCELLATION),
        ("GET", DEVICES),
        ("POST", DISABLE),
        ("DELETE", CREDENTIAL),
        ("GET", RECONCILIATION),
    ]:
        assert_problem(await client.request(method, path), 401, "MISSING_TOKEN")
    assert fakes.attendance.recorder.calls == []

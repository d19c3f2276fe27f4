"""REST ↔ student-record gRPC: school clubs, membership requests and decisions, sessions."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from school.identity.v1 import identity_pb2 as idn
from school.student_record.v1 import student_record_pb2 as sr

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.tests.support import (
    ADVISER_SUBJECT,
    CLUB_ID,
    MEMBERSHIP_ID,
    OTHER_CLUB_ID,
    OTHER_MEMBERSHIP_ID,
    OTHER_SCHOOL_ID,
    OTHER_STUDENT_ID,
    SCHOOL_ID,
    SESSION_ID,
    STUDENT_ID,
    Failure,
    Fakes,
    GatewayClient,
    MakeToken,
    bearer,
    platform_token,
    teacher_scope,
)
from gateway.tests.test_routes import assert_problem

CLUBS = f"/v1/schools/{SCHOOL_ID}/clubs"
MEMBERSHIPS = f"/v1/clubs/{CLUB_ID}/memberships"
DECISION = f"/v1/club-memberships/{MEMBERSHIP_ID}/decision"
MEMBERS = f"/v1/clubs/{CLUB_ID}/members"
SESSIONS = f"/v1/clubs/{CLUB_ID}/sessions"
STUDENT_CLUBS = f"/v1/students/{STUDENT_ID}/clubs"

TEACHER = "0193a4c2-0000-7000-8000-00000000000a"
SCHOOL_ADMIN = "0193a4c2-0000-7000-8000-00000000000b"
OTHER_TEACHER = "0193a4c2-0000-7000-8000-00000000000d"

CLUB: dict[str, Any] = {
    "name": "CLB Robotics",
    "description": "Lắp ráp và lập trình robot, thi đấu cấp quận",
    "adviser_subject": ADVISER_SUBJECT,
    "capacity": 30,
}
SESSION: dict[str, Any] = {
    "held_on": "2025-11-22",
    "topic": "Lập trình cảm biến siêu âm",
    "present_student_ids": [STUDENT_ID, OTHER_STUDENT_ID],
}

ROBOTICS = {
    "id": CLUB_ID,
    "school_id": SCHOOL_ID,
    "name": "CLB Robotics",
    "description": "Lắp ráp và lập trình robot",
    "adviser_subject": ADVISER_SUBJECT,
    "capacity": 30,
    "member_count": 12,
}
CHESS = {
    "id": OTHER_CLUB_ID,
    "school_id": SCHOOL_ID,
    "name": "CLB Cờ vua",
    "description": "",
    "adviser_subject": ADVISER_SUBJECT,
    "capacity": 0,
    "member_count": 0,
}
APPROVED_MEMBER = {
    "id": MEMBERSHIP_ID,
    "club_id": CLUB_ID,
    "student_id": STUDENT_ID,
    "student_name": "Nguyễn Văn An",
    "state": "approved",
    "decision_reason": None,
    "sessions_attended": 3,
    "requested_at": "2025-11-24T16:00:00Z",
}


def sr_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.student_record.recorder.calls if c.method == method]


def scope_calls(fakes: Fakes) -> int:
    return fakes.identity.recorder.methods().count("GetAccessScope")


@pytest.fixture
def other_school_teacher(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[OTHER_TEACHER] = teacher_scope(OTHER_TEACHER, school_id=OTHER_SCHOOL_ID)
    return make_token(subject=OTHER_TEACHER, roles=("teacher",))


@pytest.fixture
def teacher(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[TEACHER] = teacher_scope(TEACHER)
    return make_token(subject=TEACHER, roles=("teacher",))


@pytest.fixture
def school_admin(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[SCHOOL_ADMIN] = idn.GetAccessScopeResponse(
        subject=SCHOOL_ADMIN, schools=[idn.ScopedSchool(school_id=SCHOOL_ID, role="school_admin")]
    )
    return make_token(subject=SCHOOL_ADMIN, roles=("school_admin",))


# Creating and listing clubs (access decided at the edge)


async def test_create_club(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/schools/{SCHOOL_ID.upper()}/clubs",
        headers={**bearer(token), "Idempotency-Key": "club-1"},
        json={**CLUB, "adviser_subject": ADVISER_SUBJECT.upper()},
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": CLUB_ID,
        "school_id": SCHOOL_ID,
        "name": "CLB Robotics",
        "description": "Lắp ráp và lập trình robot, thi đấu cấp quận",
        "adviser_subject": ADVISER_SUBJECT,
        "capacity": 30,
        "member_count": 0,
    }
    assert sr_calls(fakes, "CreateClub") == [
        sr.CreateClubRequest(
            school_id=SCHOOL_ID,  # lower-cased
            name="CLB Robotics",
            description="Lắp ráp và lập trình robot, thi đấu cấp quận",
            adviser_subject=ADVISER_SUBJECT,  # lower-cased
            capacity=30,
            request_id="club-1",
        )
    ]
    assert scope_calls(fakes) == 1  # decided at the edge


async def test_create_club_defaults(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {"name": "CLB Cờ vua", "adviser_subject": ADVISER_SUBJECT}
    response = await client.post(CLUBS, headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["description"], response.json()["capacity"]) == ("", 0)
    assert sr_calls(fakes, "CreateClub") == [
        sr.CreateClubRequest(school_id=SCHOOL_ID, name="CLB Cờ vua", adviser_subject=ADVISER_SUBJECT)
    ]


async def test_create_club_longest_values_are_accepted(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    body = {**CLUB, "name": "n" * 200, "description": "d" * 1000, "capacity": 500}
    response = await client.post(CLUBS, headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    [request] = sr_calls(fakes, "CreateClub")
    assert (request.name, request.description, request.capacity) == ("n" * 200, "d" * 1000, 500)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"description": "d" * 1001}, "description"),
        ({"description": None}, "description"),
        ({"adviser_subject": "lan.nguyen"}, "adviser_subject"),
        ({"adviser_subject": ""}, "adviser_subject"),
        ({"adviser_subject": ADVISER_SUBJECT + "0"}, "adviser_subject"),
        ({"adviser_subject": None}, "adviser_subject"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 501}, "capacity"),
        ({"capacity": "30"}, "capacity"),
        ({"capacity": 30.5}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": None}, "capacity"),
        ({"school_id": SCHOOL_ID}, "school_id"),  # unknown field: the school is in the path
        ({"member_count": 3}, "member_count"),  # output only
    ],
)
async def test_create_club_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post(CLUBS, headers=bearer(token), json={**CLUB, **change})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize("field", ["name", "adviser_subject"])
async def test_create_club_required_fields(
    client: GatewayClient, fakes: Fakes, token: str, field: str
) -> None:
    body = {k: v for k, v in CLUB.items() if k != field}
    problem = assert_problem(
        await client.post(CLUBS, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


async def test_create_club_invalid_idempotency_key(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(CLUBS, headers={**bearer(token), "Idempotency-Key": "two words"}, json=CLUB)
    assert_problem(response, 422, "INVALID_IDEMPOTENCY_KEY")
    assert fakes.student_record.recorder.calls == []


async def test_create_club_malformed_school_id(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post("/v1/schools/nguyen-du/clubs", headers=bearer(token), json=CLUB)
    assert_problem(response, 404, "SCHOOL_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


async def test_teacher_of_another_school_cannot_create_a_club(
    client: GatewayClient, fakes: Fakes, other_school_teacher: str
) -> None:
    response = await client.post(
        CLUBS, headers={**bearer(other_school_teacher), "Idempotency-Key": "club-1"}, json=CLUB
    )
    body = assert_problem(response, 403, "NOT_YOUR_SCHOOL")
    assert body["detail"] == "Bạn không làm việc tại trường này / you have no assignment at this school"
    assert fakes.student_record.recorder.calls == []  # refused at the edge


async def test_only_the_schools_admin_creates_clubs(
    client: GatewayClient, fakes: Fakes, teacher: str, school_admin: str
) -> None:
    assert_problem(await client.post(CLUBS, headers=bearer(teacher), json=CLUB), 403, "ADMIN_ROLE_REQUIRED")
    created = await client.post(CLUBS, headers=bearer(school_admin), json=CLUB)
    assert created.status_code == 201, created.text
    other = await client.post(f"/v1/schools/{OTHER_SCHOOL_ID}/clubs", headers=bearer(school_admin), json=CLUB)
    assert_problem(other, 403, "NOT_YOUR_SCHOOL")
    assert fakes.student_record.recorder.methods() == ["CreateClub"]


async def test_create_club_refused_by_the_service(client: GatewayClient, fakes: Fakes, token: str) -> None:
    message = "Người phụ trách phải là cán bộ của trường / the adviser must be staff of the school"
    fakes.student_record.recorder.failures["CreateClub"] = Failure(
        grpc.StatusCode.FAILED_PRECONDITION, message, "ADVISER_NOT_SCHOOL_STAFF", {"field": "adviser_subject"}
    )
    response = await client.post(CLUBS, headers={**bearer(token), "Idempotency-Key": "club-2"}, json=CLUB)
    body = assert_problem(response, 422, "ADVISER_NOT_SCHOOL_STAFF")
    assert body["detail"] == message
    assert body["errors"] == [{"field": "adviser_subject", "message": message}]
    assert sr_calls(fakes, "CreateClub")[0].request_id == "club-2"


async def test_list_clubs(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(f"/v1/schools/{SCHOOL_ID.upper()}/clubs", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [ROBOTICS, CHESS]}
    assert sr_calls(fakes, "ListClubs") == [sr.ListClubsRequest(school_id=SCHOOL_ID)]
    assert scope_calls(fakes) == 1


async def test_list_clubs_is_read_access_to_the_school(
    client: GatewayClient, fakes: Fakes, teacher: str, other_school_teacher: str
) -> None:
    assert_problem(await client.get(CLUBS, headers=bearer(other_school_teacher)), 403, "NOT_YOUR_SCHOOL")
    assert fakes.student_record.recorder.calls == []
    response = await client.get(CLUBS, headers=bearer(teacher))
    assert response.status_code == 200, response.text
    assert fakes.student_record.recorder.methods() == ["ListClubs"]


async def test_list_clubs_malformed_school_id(client: GatewayClient, fakes: Fakes, token: str) -> None:
    assert_problem(await client.get("/v1/schools/1/clubs", headers=bearer(token)), 404, "SCHOOL_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


# Membership requests and decisions (the service decides)


async def test_request_club_membership(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/clubs/{CLUB_ID.upper()}/memberships",
        headers={**bearer(token), "Idempotency-Key": "join-1"},
        json={"student_id": STUDENT_ID.upper()},
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": MEMBERSHIP_ID,
        "club_id": CLUB_ID,
        "student_id": STUDENT_ID,
        "student_name": "Nguyễn Văn An",
        "state": "pending",
        "decision_reason": None,
        "sessions_attended": 0,
        "requested_at": "2025-11-24T16:02:00Z",
    }
    assert sr_calls(fakes, "RequestClubMembership") == [
        sr.RequestClubMembershipRequest(club_id=CLUB_ID, student_id=STUDENT_ID, request_id="join-1")
    ]
    assert fakes.identity.recorder.calls == []  # student-record decides


async def test_request_club_membership_without_idempotency_key(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(MEMBERSHIPS, headers=bearer(token), json={"student_id": STUDENT_ID})
    assert response.status_code == 201, response.text
    assert sr_calls(fakes, "RequestClubMembership")[0].request_id == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"student_id": "an"}, "student_id"),
        ({"student_id": ""}, "student_id"),
        ({"student_id": STUDENT_ID[:-1]}, "student_id"),
        ({"student_id": None}, "student_id"),
        ({"student_id": 7}, "student_id"),
        ({}, "student_id"),
        ({"student_id": STUDENT_ID, "club_id": CLUB_ID}, "club_id"),
        ({"student_id": STUDENT_ID, "state": "approved"}, "state"),
    ],
)
async def test_request_club_membership_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(MEMBERSHIPS, headers=bearer(token), json=body)
    problem = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


async def test_full_club_is_the_services_answer(client: GatewayClient, fakes: Fakes, token: str) -> None:
    message = "Câu lạc bộ đã đủ thành viên / the club is full"
    fakes.student_record.recorder.failures["RequestClubMembership"] = Failure(
        grpc.StatusCode.FAILED_PRECONDITION, message, "CLUB_FULL"
    )
    response = await client.post(
        MEMBERSHIPS, headers={**bearer(token), "Idempotency-Key": "join-2"}, json={"student_id": STUDENT_ID}
    )
    body = assert_problem(response, 422, "CLUB_FULL")
    assert body["detail"] == message
    assert sr_calls(fakes, "RequestClubMembership")[0].request_id == "join-2"


async def test_request_club_membership_malformed_club_id(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(
        "/v1/clubs/robotics/memberships", headers=bearer(token), json={"student_id": STUDENT_ID}
    )
    assert_problem(response, 404, "CLUB_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


async def test_approve_and_refuse_a_membership(client: GatewayClient, fakes: Fakes, token: str) -> None:
    approved = await client.post(
        f"/v1/club-memberships/{MEMBERSHIP_ID.upper()}/decision",
        headers=bearer(token),
        json={"approve": True},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json() == {**APPROVED_MEMBER, "sessions_attended": 0}
    refused = await client.post(
        DECISION, headers=bearer(token), json={"approve": False, "reason": "Trùng lịch học thêm"}
    )
    assert refused.status_code == 200, refused.text
    assert refused.json() == {
        **APPROVED_MEMBER,
        "state": "refused",
        "decision_reason": "Trùng lịch học thêm",
        "sessions_attended": 0,
    }
    assert sr_calls(fakes, "DecideClubMembership") == [
        sr.DecideClubMembershipRequest(membership_id=MEMBERSHIP_ID, approve=True),
        sr.DecideClubMembershipRequest(
            membership_id=MEMBERSHIP_ID, approve=False, reason="Trùng lịch học thêm"
        ),
    ]
    assert fakes.identity.recorder.calls == []


async def test_refusing_needs_a_reason(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(DECISION, headers=bearer(token), json={"approve": False})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert body["errors"] == [{"field": "reason", "message": "Thiếu trường bắt buộc / field required"}]
    assert fakes.student_record.recorder.calls == []


async def test_longest_refusal_reason_is_accepted(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        DECISION, headers=bearer(token), json={"approve": False, "reason": "r" * 500}
    )
    assert response.status_code == 200, response.text
    assert sr_calls(fakes, "DecideClubMembership")[0].reason == "r" * 500


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"approve": False, "reason": None}, "reason"),
        ({"approve": False, "reason": ""}, "reason"),
        ({"approve": False, "reason": "r" * 501}, "reason"),
        ({"approve": True, "reason": 5}, "reason"),
        ({"approve": "no", "reason": "Trùng lịch"}, "approve"),
        ({"approve": 0, "reason": "Trùng lịch"}, "approve"),
        ({"approve": None}, "approve"),
        ({"reason": "Trùng lịch"}, "approve"),
        ({"approve": True, "student_id": STUDENT_ID}, "student_id"),
    ],
)
async def test_decision_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(DECISION, headers=bearer(token), json=body)
    problem = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


async def test_decision_on_a_malformed_id_is_not_found(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(
        "/v1/club-memberships/7/decision", headers=bearer(token), json={"approve": True}
    )
    assert_problem(response, 404, "MEMBERSHIP_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (grpc.StatusCode.PERMISSION_DENIED, 403, "NOT_CLUB_ADVISER"),
        (grpc.StatusCode.FAILED_PRECONDITION, 422, "CLUB_FULL"),
        (grpc.StatusCode.FAILED_PRECONDITION, 422, "MEMBERSHIP_ALREADY_DECIDED"),
        (grpc.StatusCode.NOT_FOUND, 404, "MEMBERSHIP_NOT_FOUND"),
    ],
)
async def test_decision_service_errors(
    client: GatewayClient, fakes: Fakes, token: str, code: grpc.StatusCode, status: int, reason: str
) -> None:
    fakes.student_record.recorder.failures["DecideClubMembership"] = Failure(
        code, "Không được / refused", reason
    )
    body = assert_problem(
        await client.post(DECISION, headers=bearer(token), json={"approve": True}), status, reason
    )
    assert body["detail"] == "Không được / refused"


# Members and sessions


async def test_list_club_members(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(f"/v1/clubs/{CLUB_ID.upper()}/members", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "club": ROBOTICS,
        "items": [
            APPROVED_MEMBER,
            {
                "id": OTHER_MEMBERSHIP_ID,
                "club_id": CLUB_ID,
                "student_id": OTHER_STUDENT_ID,
                "student_name": "Lê Thị Hoa",
                "state": "pending",
                "decision_reason": None,
                "sessions_attended": 0,
                "requested_at": "2025-11-24T16:01:00Z",
            },
        ],
    }
    assert sr_calls(fakes, "ListClubMembers") == [sr.ListClubMembersRequest(club_id=CLUB_ID)]
    assert fakes.identity.recorder.calls == []


async def test_list_club_members_not_the_adviser(client: GatewayClient, fakes: Fakes, token: str) -> None:
    message = "Bạn không phụ trách câu lạc bộ này / you are not this club's adviser"
    fakes.student_record.recorder.failures["ListClubMembers"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED, message, "NOT_CLUB_ADVISER"
    )
    body = assert_problem(await client.get(MEMBERS, headers=bearer(token)), 403, "NOT_CLUB_ADVISER")
    assert body["detail"] == message


async def test_list_club_members_malformed_club_id(client: GatewayClient, fakes: Fakes, token: str) -> None:
    assert_problem(await client.get("/v1/clubs/x/members", headers=bearer(token)), 404, "CLUB_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


async def test_record_club_session(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/clubs/{CLUB_ID.upper()}/sessions",
        headers={**bearer(token), "Idempotency-Key": "session-1"},
        json={**SESSION, "present_student_ids": [STUDENT_ID.upper(), OTHER_STUDENT_ID]},
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": SESSION_ID,
        "club_id": CLUB_ID,
        "held_on": "2025-11-22",
        "topic": "Lập trình cảm biến siêu âm",
        "present_student_ids": [STUDENT_ID, OTHER_STUDENT_ID],
    }
    assert sr_calls(fakes, "RecordClubSession") == [
        sr.RecordClubSessionRequest(
            club_id=CLUB_ID,
            held_on="2025-11-22",
            topic="Lập trình cảm biến siêu âm",
            present_student_ids=[STUDENT_ID, OTHER_STUDENT_ID],  # lower-cased, in order
            request_id="session-1",
        )
    ]
    assert fakes.identity.recorder.calls == []


async def test_record_club_session_limits_are_accepted(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    ids = [f"0193a4c2-0000-7000-8000-{n:012d}" for n in range(200)]
    body = {"held_on": "2024-02-29", "topic": "t" * 300, "present_student_ids": ids}
    response = await client.post(SESSIONS, headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    nobody = await client.post(SESSIONS, headers=bearer(token), json={**SESSION, "present_student_ids": []})
    assert nobody.status_code == 201, nobody.text
    assert [list(r.present_student_ids) for r in sr_calls(fakes, "RecordClubSession")] == [ids, []]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"held_on": "2025-02-29"}, "held_on"),  # 2025 is not a leap year
        ({"held_on": "2025-13-01"}, "held_on"),
        ({"held_on": "22/11/2025"}, "held_on"),
        ({"held_on": "2025-11-22T08:00:00+07:00"}, "held_on"),
        ({"held_on": ""}, "held_on"),
        ({"held_on": 20251122}, "held_on"),
        ({"held_on": None}, "held_on"),
        ({"topic": ""}, "topic"),
        ({"topic": "t" * 301}, "topic"),
        ({"topic": None}, "topic"),
        ({"present_student_ids": [STUDENT_ID, "an"]}, "present_student_ids[1]"),
        ({"present_student_ids": [""]}, "present_student_ids[0]"),
        ({"present_student_ids": [7]}, "present_student_ids[0]"),
        ({"present_student_ids": [STUDENT_ID, STUDENT_ID]}, "present_student_ids"),
        ({"present_student_ids": [STUDENT_ID, OTHER_STUDENT_ID, STUDENT_ID.upper()]}, "present_student_ids"),
        (
            {"present_student_ids": [f"0193a4c2-0000-7000-8000-{n:012d}" for n in range(201)]},
            "present_student_ids",
        ),
        ({"present_student_ids": STUDENT_ID}, "present_student_ids"),
        ({"present_student_ids": None}, "present_student_ids"),
        ({"club_id": CLUB_ID}, "club_id"),
        ({"absent_student_ids": []}, "absent_student_ids"),
    ],
)
async def test_record_club_session_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post(SESSIONS, headers=bearer(token), json={**SESSION, **change})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


async def test_duplicate_present_ids_say_so(client: GatewayClient, token: str) -> None:
    body = {**SESSION, "present_student_ids": [STUDENT_ID, STUDENT_ID]}
    problem = assert_problem(
        await client.post(SESSIONS, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
    )
    assert problem["errors"] == [
        {"field": "present_student_ids", "message": "Mã học sinh bị lặp / a student id is listed twice"}
    ]


@pytest.mark.parametrize("field", ["held_on", "topic", "present_student_ids"])
async def test_record_club_session_required_fields(
    client: GatewayClient, fakes: Fakes, token: str, field: str
) -> None:
    body = {k: v for k, v in SESSION.items() if k != field}
    problem = assert_problem(
        await client.post(SESSIONS, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


async def test_record_club_session_refused_by_the_service(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    message = "Học sinh không phải thành viên của câu lạc bộ / the student is not a member of the club"
    fakes.student_record.recorder.failures["RecordClubSession"] = Failure(
        grpc.StatusCode.FAILED_PRECONDITION, message, "NOT_A_CLUB_MEMBER", {"field": "present_student_ids[1]"}
    )
    response = await client.post(
        SESSIONS, headers={**bearer(token), "Idempotency-Key": "session-2"}, json=SESSION
    )
    body = assert_problem(response, 422, "NOT_A_CLUB_MEMBER")
    assert body["errors"] == [{"field": "present_student_ids[1]", "message": message}]
    assert sr_calls(fakes, "RecordClubSession")[0].request_id == "session-2"


async def test_record_club_session_not_the_adviser(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fakes.student_record.recorder.failures["RecordClubSession"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED,
        "Bạn không phụ trách câu lạc bộ này / you are not this club's adviser",
        "NOT_CLUB_ADVISER",
    )
    assert_problem(await client.post(SESSIONS, headers=bearer(token), json=SESSION), 403, "NOT_CLUB_ADVISER")


# A student's clubs


async def test_list_student_clubs(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(f"/v1/students/{STUDENT_ID.upper()}/clubs", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {"club": ROBOTICS, "membership": APPROVED_MEMBER},
            {
                "club": CHESS,
                "membership": {
                    "id": OTHER_MEMBERSHIP_ID,
                    "club_id": OTHER_CLUB_ID,
                    "student_id": STUDENT_ID,
                    "student_name": "Nguyễn Văn An",
                    "state": "refused",
                    "decision_reason": "Trùng lịch học thêm",
                    "sessions_attended": 0,
                    "requested_at": "2025-11-24T16:00:00Z",
                },
            },
        ]
    }
    assert sr_calls(fakes, "ListStudentClubs") == [sr.ListStudentClubsRequest(student_id=STUDENT_ID)]
    assert fakes.identity.recorder.calls == []


async def test_list_student_clubs_not_your_child(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fakes.student_record.recorder.failures["ListStudentClubs"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED,
        "Đây không phải con em của bạn / this student is not linked to you",
        "NOT_YOUR_CHILD",
    )
    assert_problem(await client.get(STUDENT_CLUBS, headers=bearer(token)), 403, "NOT_YOUR_CHILD")


async def test_list_student_clubs_malformed_student_id(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    assert_problem(await client.get("/v1/students/an/clubs", headers=bearer(token)), 404, "STUDENT_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


# Every route

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", CLUBS, CLUB),
    ("GET", CLUBS, None),
    ("POST", MEMBERSHIPS, {"student_id": STUDENT_ID}),
    ("POST", DECISION, {"approve": True}),
    ("GET", MEMBERS, None),
    ("POST", SESSIONS, SESSION),
    ("GET", STUDENT_CLUBS, None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_club_routes_need_a_tenant_token(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken, method: str, path: str, body: Any
) -> None:
    assert_problem(await client.request(method, path, json=body), 401, "MISSING_TOKEN")
    response = await client.request(method, path, headers=bearer(platform_token(make_token)), json=body)
    assert_problem(response, 403, "TENANT_TOKEN_REQUIRED")
    for backend in fakes.all():
        assert backend.recorder.calls == []


def test_documented_clubs() -> None:
    document = json.loads(json.dumps(create_app(GatewaySettings.model_construct()).openapi()))
    schemas = document["components"]["schemas"]
    for name in ("ClubCreate", "ClubMembershipCreate", "ClubMembershipDecision", "ClubSessionCreate"):
        assert schemas[name]["additionalProperties"] is False, name
    capacity = schemas["ClubCreate"]["properties"]["capacity"]
    assert (capacity["minimum"], capacity["maximum"], capacity["default"]) == (0, 500, 0)
    present = schemas["ClubSessionCreate"]["properties"]["present_student_ids"]
    assert (present["maxItems"], present["uniqueItems"]) == (200, True)
    assert schemas["ClubMembership"]["properties"]["state"]["anyOf"][0]["enum"] == [
        "pending",
        "approved",
        "refused",
    ]
    operations = {
        op["operationId"]: op
        for path, item in document["paths"].items()
        for op in item.values()
        if "clubs" in op["tags"]
    }
    assert set(operations) == {
        "createClub",
        "listClubs",
        "requestClubMembership",
        "decideClubMembership",
        "listClubMembers",
        "recordClubSession",
        "listStudentClubs",
    }
    for name in ("createClub", "requestClubMembership", "recordClubSession"):
        assert "201" in operations[name]["responses"], name
        assert "Idempotency-Key" in [p["name"] for p in operations[name]["parameters"]], name
    assert "Idempotency-Key" not in [p["name"] for p in operations["decideClubMembership"]["parameters"]]
    assert "200" in operations["decideClubMembership"]["responses"]
    assert "clubs" in [t["name"] for t in document["tags"]]

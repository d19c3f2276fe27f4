"""REST ↔ student-record gRPC: moves between classes and transfers between schools — the two requests (201,
Idempotency-Key forwarded as request_id), the receiving school's decision (the class only with an
acceptance, a note to refuse), a school's list (ADMIN on the school at the edge, the state filter), shapes
and the service's refusals passed through with their reasons, against the shared fake student-record."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from school.student_record.v1 import student_record_pb2 as sr

from gateway.tests.conftest import MakeToken
from gateway.tests.support import (
    ADVISER_SUBJECT,
    ARRIVED_STUDENT_ID,
    CLASS_ID,
    DESTINATION,
    MOVEMENT_ID,
    OTHER_CLASS_ID,
    OTHER_SCHOOL_ID,
    OTHER_STUDENT_ID,
    PRINCIPAL_SUBJECT,
    SCHOOL_ID,
    STUDENT_ID,
    TEACHER,
    Failure,
    Fakes,
    GatewayClient,
    bearer,
    teacher_scope,
)
from gateway.tests.test_routes import assert_problem

MOVES = f"/v1/students/{STUDENT_ID}/moves"
TRANSFERS = f"/v1/students/{STUDENT_ID}/transfers"
DECISION = f"/v1/movements/{MOVEMENT_ID}/decision"
LIST = f"/v1/schools/{SCHOOL_ID}/movements"

MOVE = {
    "to_class_id": OTHER_CLASS_ID,
    "reason": "Theo nguyện vọng của gia đình",
    "effective_on": "2025-11-24",
}
TRANSFER = {"to_school_id": OTHER_SCHOOL_ID, "reason": "Gia đình chuyển nơi ở", "effective_on": "2025-11-24"}


def sr_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.student_record.recorder.calls if c.method == method]


async def test_move_student(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {**MOVE, "to_class_id": OTHER_CLASS_ID.upper()}
    response = await client.post(MOVES, headers={**bearer(token), "Idempotency-Key": "move-1"}, json=body)
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": MOVEMENT_ID,
        "student_id": STUDENT_ID,
        "kind": "class_move",
        "state": "done",
        "school_year": "2025-2026",
        "from_school_id": SCHOOL_ID,
        "from_class_id": CLASS_ID,
        "to_school_id": SCHOOL_ID,
        "to_class_id": OTHER_CLASS_ID,
        "effective_on": "2025-11-24",
        "reason": "Theo nguyện vọng của gia đình",
        "requested_by": PRINCIPAL_SUBJECT,
        "requested_at": "2025-11-24T16:00:00Z",
        "decided_by": PRINCIPAL_SUBJECT,
        "decided_at": "2025-11-24T16:00:00Z",
        "decision_note": None,
        "counterpart": None,
    }
    assert sr_calls(fakes, "MoveStudent") == [
        sr.MoveStudentRequest(
            request_id="move-1",
            student_id=STUDENT_ID,
            to_class_id=OTHER_CLASS_ID,
            reason=MOVE["reason"],
            effective_on="2025-11-24",
        )
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to_class_id": "6A2"}, "to_class_id"),
        ({"effective_on": "2025-02-30"}, "effective_on"),
        ({"effective_on": "24/11/2025"}, "effective_on"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": None}, "reason"),
        ({"to_school_id": OTHER_SCHOOL_ID}, "to_school_id"),  # unknown field
    ],
)
async def test_move_shapes(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post(MOVES, headers=bearer(token), json={**MOVE, **change})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert sr_calls(fakes, "MoveStudent") == []


async def test_move_refusals_pass_through(client: GatewayClient, fakes: Fakes, token: str) -> None:
    recorder = fakes.student_record.recorder
    recorder.failures["MoveStudent"] = Failure(
        grpc.StatusCode.FAILED_PRECONDITION,
        "Chỉ chuyển sang lớp cùng trường, cùng năm học / a move is to a class of the same school and year",
        "NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR",
        {"field": "to_class_id"},
    )
    body = assert_problem(
        await client.post(MOVES, headers=bearer(token), json=MOVE), 422, "NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR"
    )
    assert body["errors"][0]["field"] == "to_class_id"
    recorder.failures["MoveStudent"] = Failure(
        grpc.StatusCode.ALREADY_EXISTS, "Học sinh đã ở lớp này / already in this class", "ALREADY_IN_CLASS"
    )
    assert_problem(await client.post(MOVES, headers=bearer(token), json=MOVE), 409, "ALREADY_IN_CLASS")
    recorder.failures["MoveStudent"] = Failure(
        grpc.StatusCode.INVALID_ARGUMENT,
        "Ngày phải có dạng YYYY-MM-DD và không ở tương lai / a YYYY-MM-DD date, not in the future",
        "INVALID_DATE",
        {"field": "effective_on"},
    )
    future = await client.post(MOVES, headers=bearer(token), json={**MOVE, "effective_on": "2099-01-01"})
    assert assert_problem(future, 422, "INVALID_DATE")["errors"][0]["field"] == "effective_on"
    malformed = await client.post("/v1/students/an/moves", headers=bearer(token), json=MOVE)
    assert_problem(malformed, 404, "STUDENT_NOT_FOUND")
    anonymous = await client.post(MOVES, json=MOVE)
    assert_problem(anonymous, 401, "MISSING_TOKEN")
    assert len(sr_calls(fakes, "MoveStudent")) == 3


async def test_request_transfer(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        TRANSFERS, headers={**bearer(token), "Idempotency-Key": "transfer-1"}, json=TRANSFER
    )
    assert response.status_code == 201, response.text
    movement = response.json()
    assert (movement["kind"], movement["state"]) == ("school_transfer", "pending")
    assert movement["to_school_id"] == OTHER_SCHOOL_ID
    assert (movement["to_class_id"], movement["decided_by"], movement["decided_at"]) == (None, None, None)
    assert sr_calls(fakes, "RequestTransfer") == [
        sr.RequestTransferRequest(
            request_id="transfer-1",
            student_id=STUDENT_ID,
            to_school_id=OTHER_SCHOOL_ID,
            reason=TRANSFER["reason"],
            effective_on="2025-11-24",
        )
    ]
    fakes.student_record.recorder.failures["RequestTransfer"] = Failure(
        grpc.StatusCode.FAILED_PRECONDITION,
        "Học sinh đang có một yêu cầu chuyển trường chờ duyệt / a transfer is waiting for a decision",
        "TRANSFER_PENDING",
    )
    assert_problem(
        await client.post(TRANSFERS, headers=bearer(token), json=TRANSFER), 422, "TRANSFER_PENDING"
    )
    no_school = await client.post(
        TRANSFERS, headers=bearer(token), json={k: v for k, v in TRANSFER.items() if k != "to_school_id"}
    )
    assert assert_problem(no_school, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == "to_school_id"


async def test_accept_a_transfer(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        DECISION, headers=bearer(token), json={"accept": True, "to_class_id": OTHER_CLASS_ID.upper()}
    )
    assert response.status_code == 200, response.text
    movement = response.json()
    assert (movement["state"], movement["to_class_id"], movement["decided_by"]) == (
        "done",
        OTHER_CLASS_ID,
        ADVISER_SUBJECT,
    )
    assert movement["decision_note"] is None
    assert sr_calls(fakes, "DecideTransfer") == [
        sr.DecideTransferRequest(movement_id=MOVEMENT_ID, accept=True, to_class_id=OTHER_CLASS_ID)
    ]


async def test_refuse_a_transfer(client: GatewayClient, fakes: Fakes, token: str) -> None:
    # A class sent with a refusal places nobody: it is not forwarded.
    body = {"accept": False, "note": "Trường đã đủ sĩ số khối 6", "to_class_id": OTHER_CLASS_ID}
    response = await client.post(DECISION, headers=bearer(token), json=body)
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["decision_note"]) == ("refused", body["note"])
    assert sr_calls(fakes, "DecideTransfer") == [
        sr.DecideTransferRequest(movement_id=MOVEMENT_ID, accept=False, note=body["note"])
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"accept": True}, "to_class_id"),
        ({"accept": True, "note": "Đồng ý"}, "to_class_id"),
        ({"accept": False}, "note"),
        ({"accept": False, "note": ""}, "note"),
        ({"accept": "yes", "to_class_id": OTHER_CLASS_ID}, "accept"),
        ({"accept": True, "to_class_id": "6A1"}, "to_class_id"),
    ],
)
async def test_decision_needs_a_class_to_accept_and_a_note_to_refuse(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(DECISION, headers=bearer(token), json=body)
    assert [e["field"] for e in assert_problem(response, 422, "INVALID_ARGUMENT")["errors"]] == [field]
    assert sr_calls(fakes, "DecideTransfer") == []


async def test_decision_refusals(client: GatewayClient, fakes: Fakes, token: str) -> None:
    recorder = fakes.student_record.recorder
    accept = {"accept": True, "to_class_id": OTHER_CLASS_ID}
    for code, reason, status in (
        (grpc.StatusCode.FAILED_PRECONDITION, "MOVEMENT_ALREADY_DECIDED", 422),
        (grpc.StatusCode.FAILED_PRECONDITION, "STUDENT_MOVED_SINCE_REQUEST", 422),
        (grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_SCHOOL", 403),
        (grpc.StatusCode.NOT_FOUND, "MOVEMENT_NOT_FOUND", 404),
    ):
        recorder.failures["DecideTransfer"] = Failure(code, "Không được / not allowed", reason)
        assert_problem(await client.post(DECISION, headers=bearer(token), json=accept), status, reason)
    malformed = await client.post("/v1/movements/42/decision", headers=bearer(token), json=accept)
    assert_problem(malformed, 404, "MOVEMENT_NOT_FOUND")
    assert len(sr_calls(fakes, "DecideTransfer")) == 4


@pytest.mark.parametrize(
    ("query", "state"),
    [
        ("", sr.MOVEMENT_STATE_UNSPECIFIED),
        ("?state=pending", sr.MOVEMENT_STATE_PENDING),
        ("?state=done", sr.MOVEMENT_STATE_DONE),
        ("?state=refused", sr.MOVEMENT_STATE_REFUSED),
    ],
)
async def test_list_movements(
    client: GatewayClient, fakes: Fakes, token: str, query: str, state: int
) -> None:
    response = await client.get(LIST + query, headers=bearer(token))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(m["id"], m["kind"], m["state"], m["to_school_id"], m["to_class_id"]) for m in items] == [
        (MOVEMENT_ID, "school_transfer", "pending", OTHER_SCHOOL_ID, None),
        (OTHER_STUDENT_ID, None, "done", SCHOOL_ID, OTHER_CLASS_ID),  # a kind this gateway does not know
        (ARRIVED_STUDENT_ID, "transfer_out", "done", None, None),  # out of the tenant
    ]
    assert [m["counterpart"] for m in items] == [None, None, DESTINATION]
    assert sr_calls(fakes, "ListMovements") == [sr.ListMovementsRequest(school_id=SCHOOL_ID, state=state)]


async def test_list_movements_is_for_the_school_admin(
    client: GatewayClient, fakes: Fakes, token: str, make_token: MakeToken
) -> None:
    fakes.identity.recorder.scopes[TEACHER] = teacher_scope(TEACHER)
    teacher = make_token(subject=TEACHER, roles=("teacher",))
    assert (await client.get(LIST, headers=bearer(teacher))).status_code == 403
    other = await client.get(f"/v1/schools/{OTHER_SCHOOL_ID}/movements", headers=bearer(teacher))
    assert_problem(other, 403, "NOT_YOUR_SCHOOL")
    wrong_state = await client.get(f"{LIST}?state=PENDING", headers=bearer(token))
    assert assert_problem(wrong_state, 422, "INVALID_ARGUMENT")["errors"][0]["field"] == "state"
    assert_problem(
        await client.get("/v1/schools/x/movements", headers=bearer(token)), 404, "SCHOOL_NOT_FOUND"
    )
    assert sr_calls(fakes, "ListMovements") == []

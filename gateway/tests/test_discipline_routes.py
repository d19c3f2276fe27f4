"""REST ↔ student-record gRPC: violations, educational measures and rewards (Circular 19/2025)."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from school.student_record.v1 import student_record_pb2 as sr

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.tests.support import (
    OTHER_REWARD_ID,
    OTHER_VIOLATION_ID,
    REWARD_ID,
    SCHOOL_ID,
    STUDENT_ID,
    VIOLATION_ID,
    Failure,
    Fakes,
    GatewayClient,
    bearer,
)
from gateway.tests.test_routes import assert_problem

VIOLATIONS = f"/v1/students/{STUDENT_ID}/violations"
REWARDS = f"/v1/students/{STUDENT_ID}/rewards"
CONFIRM = f"/v1/violations/{VIOLATION_ID}/self-review-confirmation"

VIOLATION: dict[str, Any] = {
    "occurred_on": "2025-11-20",
    "description": "Nói chuyện riêng trong giờ Toán",
    "severity": "class",
    "measure": "criticism",
}
REWARD: dict[str, Any] = {
    "kind": "praise_school",
    "reason": "Đạt giải Nhất Olympic Toán cấp quận",
    "awarded_on": "2025-11-21",
}


def sr_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.student_record.recorder.calls if c.method == method]


# Violations


async def test_record_violation(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/students/{STUDENT_ID.upper()}/violations",
        headers={**bearer(token), "Idempotency-Key": "violation-1"},
        json=VIOLATION,
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": VIOLATION_ID,
        "student_id": STUDENT_ID,
        "school_id": SCHOOL_ID,
        "occurred_on": "2025-11-20",
        "description": "Nói chuyện riêng trong giờ Toán",
        "severity": "class",
        "measure": "criticism",
        "family_confirmed_at": None,
        "recorded_at": "2025-11-24T16:02:00Z",
    }
    assert sr_calls(fakes, "RecordViolation") == [
        sr.RecordViolationRequest(
            student_id=STUDENT_ID,  # lower-cased
            occurred_on="2025-11-20",
            description="Nói chuyện riêng trong giờ Toán",
            severity=sr.VIOLATION_SEVERITY_CLASS,
            measure=sr.DISCIPLINE_MEASURE_CRITICISM,
            request_id="violation-1",
        )
    ]
    # student-record decides who may record: no access check at the edge.
    assert fakes.identity.recorder.calls == []


@pytest.mark.parametrize(
    ("severity", "pb_severity"),
    [
        ("self", sr.VIOLATION_SEVERITY_SELF),
        ("class", sr.VIOLATION_SEVERITY_CLASS),
        ("school", sr.VIOLATION_SEVERITY_SCHOOL),
    ],
)
@pytest.mark.parametrize(
    ("measure", "pb_measure"),
    [
        ("reminder", sr.DISCIPLINE_MEASURE_REMINDER),
        ("apology", sr.DISCIPLINE_MEASURE_APOLOGY),
        ("criticism", sr.DISCIPLINE_MEASURE_CRITICISM),
        ("self_review", sr.DISCIPLINE_MEASURE_SELF_REVIEW),
    ],
)
async def test_every_severity_and_measure_maps_both_ways(
    client: GatewayClient,
    fakes: Fakes,
    token: str,
    severity: str,
    pb_severity: int,
    measure: str,
    pb_measure: int,
) -> None:
    body = {**VIOLATION, "severity": severity, "measure": measure}
    response = await client.post(VIOLATIONS, headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    [request] = sr_calls(fakes, "RecordViolation")
    assert (request.severity, request.measure) == (pb_severity, pb_measure)
    # The fake echoes the enums back: they come out as they went in.
    assert (response.json()["severity"], response.json()["measure"]) == (severity, measure)


async def test_record_violation_without_idempotency_key(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(VIOLATIONS, headers=bearer(token), json=VIOLATION)
    assert response.status_code == 201, response.text
    assert sr_calls(fakes, "RecordViolation")[0].request_id == ""


async def test_record_violation_invalid_idempotency_key(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(
        VIOLATIONS, headers={**bearer(token), "Idempotency-Key": "two words"}, json=VIOLATION
    )
    assert_problem(response, 422, "INVALID_IDEMPOTENCY_KEY")
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize(
    "measure",
    [
        "suspension",
        "expulsion",
        "Suspension",
        "EXPULSION",
        "REMINDER",
        "đình chỉ học",
        "buộc thôi học",
        "warning",
        "",
        1,
        None,
        True,
        ["reminder"],
        {"measure": "reminder"},
    ],
)
async def test_measures_circular_19_abolished_or_never_had_are_refused(
    client: GatewayClient, fakes: Fakes, token: str, measure: Any
) -> None:
    response = await client.post(
        VIOLATIONS,
        headers={**bearer(token), "Idempotency-Key": "violation-1"},
        json={**VIOLATION, "measure": measure},
    )
    body = assert_problem(response, 422, "MEASURE_NOT_ALLOWED")
    assert body["type"] == "urn:school:problem:measure-not-allowed"
    vietnamese, english = body["detail"].split(" / ", 1)
    assert "19/2025" in vietnamese
    assert "đình chỉ học" in vietnamese
    assert "buộc thôi học" in vietnamese
    assert "Circular 19/2025 abolished suspension and expulsion" in english
    for allowed in ("reminder", "apology", "criticism", "self_review"):
        assert allowed in english
    assert body["errors"] == [{"field": "measure", "message": body["detail"]}]
    assert fakes.student_record.recorder.calls == []


async def test_measure_refusal_names_the_problem_among_other_errors(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    body = {**VIOLATION, "measure": "expulsion", "description": "", "occurred_on": "2025-02-30"}
    problem = assert_problem(
        await client.post(VIOLATIONS, headers=bearer(token), json=body), 422, "MEASURE_NOT_ALLOWED"
    )
    assert {e["field"] for e in problem["errors"]} == {"measure", "description", "occurred_on"}
    assert fakes.student_record.recorder.calls == []


async def test_missing_measure_is_an_ordinary_missing_field(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    body = {k: v for k, v in VIOLATION.items() if k != "measure"}
    problem = assert_problem(
        await client.post(VIOLATIONS, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == ["measure"]
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_on": "2025-02-30"}, "occurred_on"),
        ({"occurred_on": "2025-13-01"}, "occurred_on"),
        ({"occurred_on": "20/11/2025"}, "occurred_on"),
        ({"occurred_on": "2025-11-20T08:00:00+07:00"}, "occurred_on"),
        ({"occurred_on": "２０２５-11-20"}, "occurred_on"),  # full-width digits
        ({"occurred_on": ""}, "occurred_on"),
        ({"occurred_on": 20251120}, "occurred_on"),
        ({"occurred_on": None}, "occurred_on"),
        ({"description": ""}, "description"),
        ({"description": "x" * 1001}, "description"),
        ({"description": None}, "description"),
        ({"description": 5}, "description"),
        ({"severity": "minor"}, "severity"),
        ({"severity": "SELF"}, "severity"),
        ({"severity": ""}, "severity"),
        ({"severity": 1}, "severity"),
        ({"severity": None}, "severity"),
        ({"school_id": SCHOOL_ID}, "school_id"),  # unknown field: the service knows the student's school
        ({"family_confirmed_at": "2025-11-21T08:00:00Z"}, "family_confirmed_at"),  # output only
    ],
)
async def test_record_violation_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post(VIOLATIONS, headers=bearer(token), json={**VIOLATION, **change})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize("field", ["occurred_on", "description", "severity"])
async def test_record_violation_required_fields(
    client: GatewayClient, fakes: Fakes, token: str, field: str
) -> None:
    body = {k: v for k, v in VIOLATION.items() if k != field}
    problem = assert_problem(
        await client.post(VIOLATIONS, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


async def test_longest_description_is_accepted(client: GatewayClient, fakes: Fakes, token: str) -> None:
    description = "Vi phạm " + "x" * 992
    assert len(description) == 1000
    response = await client.post(
        VIOLATIONS, headers=bearer(token), json={**VIOLATION, "description": description}
    )
    assert response.status_code == 201, response.text
    assert sr_calls(fakes, "RecordViolation")[0].description == description


async def test_measure_not_used_at_the_school_level_is_the_services_answer(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    message = "Tiểu học không áp dụng phê bình / criticism is not a measure of primary schools"
    fakes.student_record.recorder.failures["RecordViolation"] = Failure(
        grpc.StatusCode.INVALID_ARGUMENT, message, "MEASURE_NOT_ALLOWED_AT_LEVEL", {"field": "measure"}
    )
    response = await client.post(VIOLATIONS, headers=bearer(token), json=VIOLATION)
    body = assert_problem(response, 422, "MEASURE_NOT_ALLOWED_AT_LEVEL")
    assert body["detail"] == message
    assert body["errors"] == [{"field": "measure", "message": message}]
    assert len(sr_calls(fakes, "RecordViolation")) == 1


async def test_record_violation_refused_by_the_service(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fakes.student_record.recorder.failures["RecordViolation"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED,
        "Chỉ giáo viên chủ nhiệm của lớp / homeroom teacher of the class only",
        "HOMEROOM_TEACHER_REQUIRED",
    )
    response = await client.post(VIOLATIONS, headers=bearer(token), json=VIOLATION)
    body = assert_problem(response, 403, "HOMEROOM_TEACHER_REQUIRED")
    assert body["detail"] == "Chỉ giáo viên chủ nhiệm của lớp / homeroom teacher of the class only"


async def test_record_violation_malformed_student_id(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post("/v1/students/an/violations", headers=bearer(token), json=VIOLATION)
    assert_problem(response, 404, "STUDENT_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


async def test_discipline_routes_need_a_token(client: GatewayClient, fakes: Fakes) -> None:
    assert_problem(await client.post(VIOLATIONS, json=VIOLATION), 401, "MISSING_TOKEN")
    assert_problem(await client.get(VIOLATIONS), 401, "MISSING_TOKEN")
    assert_problem(await client.post(CONFIRM), 401, "MISSING_TOKEN")
    assert_problem(await client.post(REWARDS, json=REWARD), 401, "MISSING_TOKEN")
    assert_problem(await client.get(REWARDS), 401, "MISSING_TOKEN")
    assert fakes.student_record.recorder.calls == []


async def test_list_student_violations(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(f"/v1/students/{STUDENT_ID.upper()}/violations", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "id": VIOLATION_ID,
                "student_id": STUDENT_ID,
                "school_id": SCHOOL_ID,
                "occurred_on": "2025-11-20",
                "description": "Sử dụng điện thoại trong giờ học",
                "severity": "self",
                "measure": "self_review",
                "family_confirmed_at": "2025-11-25T16:00:00Z",
                "recorded_at": "2025-11-24T16:00:00Z",
            },
            {
                "id": OTHER_VIOLATION_ID,
                "student_id": STUDENT_ID,
                "school_id": SCHOOL_ID,
                "occurred_on": "2025-11-21",
                "description": "Nói chuyện riêng",
                "severity": "class",
                "measure": "criticism",
                "family_confirmed_at": None,
                "recorded_at": "2025-11-24T16:00:00Z",
            },
        ]
    }
    assert sr_calls(fakes, "ListStudentViolations") == [
        sr.ListStudentViolationsRequest(student_id=STUDENT_ID)
    ]
    assert fakes.identity.recorder.calls == []


async def test_list_student_violations_not_your_child(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fakes.student_record.recorder.failures["ListStudentViolations"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED,
        "Đây không phải con em của bạn / this student is not linked to you",
        "NOT_YOUR_CHILD",
    )
    body = assert_problem(await client.get(VIOLATIONS, headers=bearer(token)), 403, "NOT_YOUR_CHILD")
    assert body["detail"] == "Đây không phải con em của bạn / this student is not linked to you"


async def test_list_student_violations_malformed_student_id(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.get("/v1/students/1/violations", headers=bearer(token))
    assert_problem(response, 404, "STUDENT_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


# Self-review confirmation


async def test_confirm_self_review(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/violations/{VIOLATION_ID.upper()}/self-review-confirmation", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": VIOLATION_ID,
        "student_id": STUDENT_ID,
        "school_id": SCHOOL_ID,
        "occurred_on": "2025-11-20",
        "description": "Sử dụng điện thoại trong giờ học",
        "severity": "self",
        "measure": "self_review",
        "family_confirmed_at": "2025-11-25T16:00:00Z",
        "recorded_at": "2025-11-24T16:00:00Z",
    }
    assert sr_calls(fakes, "ConfirmSelfReview") == [sr.ConfirmSelfReviewRequest(violation_id=VIOLATION_ID)]
    assert fakes.identity.recorder.calls == []


async def test_confirm_self_review_malformed_violation_id(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post("/v1/violations/v-1/self-review-confirmation", headers=bearer(token))
    assert_problem(response, 404, "VIOLATION_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        (grpc.StatusCode.PERMISSION_DENIED, 403, "NOT_YOUR_CHILD"),
        (grpc.StatusCode.NOT_FOUND, 404, "VIOLATION_NOT_FOUND"),
        (grpc.StatusCode.FAILED_PRECONDITION, 422, "NOT_A_SELF_REVIEW"),
    ],
)
async def test_confirm_self_review_service_errors(
    client: GatewayClient, fakes: Fakes, token: str, code: grpc.StatusCode, status: int, reason: str
) -> None:
    fakes.student_record.recorder.failures["ConfirmSelfReview"] = Failure(
        code, "Không được / refused", reason
    )
    body = assert_problem(await client.post(CONFIRM, headers=bearer(token)), status, reason)
    assert body["detail"] == "Không được / refused"


# Rewards


async def test_record_reward(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(
        f"/v1/students/{STUDENT_ID.upper()}/rewards",
        headers={**bearer(token), "Idempotency-Key": "reward-1"},
        json=REWARD,
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": REWARD_ID,
        "student_id": STUDENT_ID,
        "school_id": SCHOOL_ID,
        "kind": "praise_school",
        "reason": "Đạt giải Nhất Olympic Toán cấp quận",
        "awarded_on": "2025-11-21",
        "recorded_at": "2025-11-24T16:02:00Z",
    }
    assert sr_calls(fakes, "RecordReward") == [
        sr.RecordRewardRequest(
            student_id=STUDENT_ID,
            kind=sr.REWARD_KIND_PRAISE_SCHOOL,
            reason="Đạt giải Nhất Olympic Toán cấp quận",
            awarded_on="2025-11-21",
            request_id="reward-1",
        )
    ]
    assert fakes.identity.recorder.calls == []


@pytest.mark.parametrize(
    ("kind", "pb_kind"),
    [
        ("praise_class", sr.REWARD_KIND_PRAISE_CLASS),
        ("praise_school", sr.REWARD_KIND_PRAISE_SCHOOL),
        ("principal_certificate", sr.REWARD_KIND_PRINCIPAL_CERTIFICATE),
        ("commendation_letter", sr.REWARD_KIND_COMMENDATION_LETTER),
    ],
)
async def test_every_reward_kind_maps_both_ways(
    client: GatewayClient, fakes: Fakes, token: str, kind: str, pb_kind: int
) -> None:
    response = await client.post(REWARDS, headers=bearer(token), json={**REWARD, "kind": kind})
    assert response.status_code == 201, response.text
    assert sr_calls(fakes, "RecordReward")[0].kind == pb_kind
    assert response.json()["kind"] == kind


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "medal"}, "kind"),
        ({"kind": "PRAISE_CLASS"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"kind": 1}, "kind"),
        ({"kind": None}, "kind"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": None}, "reason"),
        ({"awarded_on": "2025-02-29"}, "awarded_on"),  # 2025 is not a leap year
        ({"awarded_on": "21/11/2025"}, "awarded_on"),
        ({"awarded_on": ""}, "awarded_on"),
        ({"awarded_on": 20251121}, "awarded_on"),
        ({"school_id": SCHOOL_ID}, "school_id"),
    ],
)
async def test_record_reward_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    response = await client.post(REWARDS, headers=bearer(token), json={**REWARD, **change})
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


async def test_longest_reward_reason_is_accepted(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.post(REWARDS, headers=bearer(token), json={**REWARD, "reason": "x" * 500})
    assert response.status_code == 201, response.text
    assert sr_calls(fakes, "RecordReward")[0].reason == "x" * 500


async def test_record_reward_refused_by_the_service(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fakes.student_record.recorder.failures["RecordReward"] = Failure(
        grpc.StatusCode.PERMISSION_DENIED,
        "Đây không phải con em của bạn / this student is not linked to you",
        "NOT_YOUR_CHILD",
    )
    response = await client.post(
        REWARDS, headers={**bearer(token), "Idempotency-Key": "reward-2"}, json=REWARD
    )
    assert_problem(response, 403, "NOT_YOUR_CHILD")
    assert sr_calls(fakes, "RecordReward")[0].request_id == "reward-2"


async def test_list_student_rewards(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(REWARDS, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "id": REWARD_ID,
                "student_id": STUDENT_ID,
                "school_id": SCHOOL_ID,
                "kind": "principal_certificate",
                "reason": "Đạt giải Nhất Olympic Toán cấp quận",
                "awarded_on": "2025-11-20",
                "recorded_at": "2025-11-24T16:00:00Z",
            },
            {
                "id": OTHER_REWARD_ID,
                "student_id": STUDENT_ID,
                "school_id": SCHOOL_ID,
                "kind": None,  # unspecified
                "reason": "Giúp đỡ bạn",
                "awarded_on": "2025-11-20",
                "recorded_at": "2025-11-24T16:00:00Z",
            },
        ]
    }
    assert sr_calls(fakes, "ListStudentRewards") == [sr.ListStudentRewardsRequest(student_id=STUDENT_ID)]


async def test_list_student_rewards_service_error(client: GatewayClient, fakes: Fakes, token: str) -> None:
    fakes.student_record.recorder.failures["ListStudentRewards"] = Failure(
        grpc.StatusCode.NOT_FOUND, "Không tìm thấy học sinh / student not found", "STUDENT_NOT_FOUND"
    )
    assert_problem(await client.get(REWARDS, headers=bearer(token)), 404, "STUDENT_NOT_FOUND")


# The document


def test_documented_measures_are_circular_19s() -> None:
    document = json.loads(json.dumps(create_app(GatewaySettings.model_construct()).openapi()))
    schemas = document["components"]["schemas"]
    assert schemas["ViolationCreate"]["properties"]["measure"]["enum"] == [
        "reminder",
        "apology",
        "criticism",
        "self_review",
    ]
    assert schemas["ViolationCreate"]["additionalProperties"] is False
    assert schemas["RewardCreate"]["properties"]["kind"]["enum"] == [
        "praise_class",
        "praise_school",
        "principal_certificate",
        "commendation_letter",
    ]
    record = document["paths"]["/v1/students/{student_id}/violations"]["post"]
    assert record["tags"] == ["discipline"]
    assert "MEASURE_NOT_ALLOWED" in record["description"]
    assert "Idempotency-Key" in [p["name"] for p in record["parameters"]]
    confirm = document["paths"]["/v1/violations/{violation_id}/self-review-confirmation"]["post"]
    assert "requestBody" not in confirm
    assert "200" in confirm["responses"]

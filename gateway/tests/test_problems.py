from __future__ import annotations

import grpc
import pytest
from school_common.errors import InvalidArgument, Unauthenticated, Unavailable
from school_common.grpc.status import STATUS_DETAILS_KEY, status_details

from gateway.problems import GRPC_TO_HTTP, from_domain_error, from_rpc_error, problem_body, type_of
from gateway.routers.schools import enrolment_field


def rpc_error(
    code: grpc.StatusCode, message: str = "", reason: str = "", metadata: dict[str, str] | None = None
) -> grpc.aio.AioRpcError:
    trailing = grpc.aio.Metadata()
    if reason:
        trailing.add(
            STATUS_DETAILS_KEY, status_details(code, reason, message, "student-record.school", metadata)
        )
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details=message)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 422),
        (grpc.StatusCode.FAILED_PRECONDITION, 422),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.ABORTED, 409),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 500),
        (grpc.StatusCode.UNKNOWN, 500),
        (grpc.StatusCode.UNIMPLEMENTED, 500),
        (grpc.StatusCode.DATA_LOSS, 500),
    ],
)
def test_grpc_status_to_http(code: grpc.StatusCode, status: int) -> None:
    problem = from_rpc_error(rpc_error(code, "Thông điệp / message", "SOME_REASON"), "/x.Y/Z")
    assert problem.status == status
    assert GRPC_TO_HTTP.get(code, 500) == status


def test_a_message_over_grpcs_size_limit_is_413_not_a_rate_limit_to_retry() -> None:
    error = grpc.aio.AioRpcError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(),
        details="Received message larger than max (11534336 vs. 4194304)",
    )
    problem = from_rpc_error(error, "/x.Y/Z")
    assert (problem.status, problem.reason) == (413, "CONTENT_TOO_LARGE")
    assert "Retry-After" not in problem.headers


def test_domain_errors_keep_reason_and_message() -> None:
    problem = from_rpc_error(
        rpc_error(
            grpc.StatusCode.FAILED_PRECONDITION,
            "Học sinh thuộc trường khác / other school",
            "STUDENT_IN_OTHER_SCHOOL",
        ),
        "m",
    )
    assert (problem.status, problem.reason, problem.detail) == (
        422,
        "STUDENT_IN_OTHER_SCHOOL",
        "Học sinh thuộc trường khác / other school",
    )
    assert type_of(problem.reason) == "urn:school:problem:student-in-other-school"


def test_internal_errors_never_leak() -> None:
    leaky = "asyncpg: password authentication failed for user app at 10.0.3.7:5432"
    for reason in ("", "DB_EXPLODED"):
        problem = from_rpc_error(rpc_error(grpc.StatusCode.INTERNAL, leaky, reason), "m")
        assert problem.status == 500
        assert problem.reason == "INTERNAL"
        assert "10.0.3.7" not in problem.detail
        assert "asyncpg" not in problem.detail


def test_transport_failures_get_generic_messages() -> None:
    unavailable = from_rpc_error(
        rpc_error(
            grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; last error: 127.0.0.1:50062"
        ),
        "m",
    )
    assert (unavailable.status, unavailable.reason) == (503, "SERVICE_UNAVAILABLE")
    assert "127.0.0.1" not in unavailable.detail
    assert unavailable.headers["Retry-After"] == "2"
    timeout = from_rpc_error(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), "m")
    assert (timeout.status, timeout.reason) == (504, "UPSTREAM_TIMEOUT")


def test_dependency_down_inside_a_service_is_503_with_its_message() -> None:
    problem = from_rpc_error(
        rpc_error(grpc.StatusCode.UNAVAILABLE, "Hệ thống tạm thời... / retry", "DEPENDENCY_UNAVAILABLE"), "m"
    )
    assert (problem.status, problem.reason) == (503, "DEPENDENCY_UNAVAILABLE")
    assert "Retry-After" in problem.headers


def test_idempotency_outcomes() -> None:
    reused = from_rpc_error(
        rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "đã dùng / already used", "IDEMPOTENCY_KEY_REUSED"), "m"
    )
    assert (reused.status, reused.reason) == (422, "IDEMPOTENCY_KEY_REUSED")
    in_progress = from_rpc_error(
        rpc_error(grpc.StatusCode.ABORTED, "đang xử lý / in progress", "REQUEST_IN_PROGRESS"), "m"
    )
    assert (in_progress.status, in_progress.reason) == (409, "REQUEST_IN_PROGRESS")
    assert in_progress.headers == {"Retry-After": "1"}


def test_rate_limited_by_a_service_keeps_its_retry_after() -> None:
    problem = from_rpc_error(
        rpc_error(
            grpc.StatusCode.RESOURCE_EXHAUSTED, "chậm lại / slow down", "QUOTA", {"retry_after_s": "2.5"}
        ),
        "m",
    )
    assert (problem.status, problem.headers["Retry-After"]) == (429, "3")


def test_unauthenticated_from_a_service_challenges() -> None:
    problem = from_rpc_error(
        rpc_error(grpc.StatusCode.UNAUTHENTICATED, "hết hạn / expired", "TOKEN_EXPIRED"), "m"
    )
    assert problem.status == 401
    assert problem.headers["WWW-Authenticate"].startswith("Bearer ")


def test_invalid_field_becomes_an_error_entry_with_the_rest_name() -> None:
    problem = from_rpc_error(
        rpc_error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "Họ tên… / name…",
            "INVALID_ARGUMENT",
            {"field": "new_student.full_name"},
        ),
        "m",
        enrolment_field,
    )
    assert problem.errors == [{"field": "student.full_name", "message": "Họ tên… / name…"}]
    assert enrolment_field("new_student.guardians[1].personal_id") == "student.guardians[1].personal_id"
    assert enrolment_field("new_student.personal_id") == "student.personal_id"
    assert enrolment_field("student_id") == "student_id"


def test_gateway_domain_errors() -> None:
    assert from_domain_error(Unauthenticated("TOKEN_EXPIRED", "x")).status == 401
    assert from_domain_error(Unavailable("IDENTITY_PROVIDER_UNAVAILABLE", "x")).status == 503
    assert from_domain_error(InvalidArgument("INVALID_IDEMPOTENCY_KEY", "x")).status == 422


def test_problem_body_shape() -> None:
    body = problem_body(
        404, "CLASS_NOT_FOUND", "Không tìm thấy lớp / class not found", "/v1/classes/x/students"
    )
    assert body == {
        "type": "urn:school:problem:class-not-found",
        "title": "Không tìm thấy / Not found",
        "status": 404,
        "detail": "Không tìm thấy lớp / class not found",
        "instance": "/v1/classes/x/students",
        "reason": "CLASS_NOT_FOUND",
    }

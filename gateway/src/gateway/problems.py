"""RFC 9457 problem details: every error the gateway answers is ``application/problem+json``.

A problem carries ``type`` (a stable URN derived from ``reason``), ``title`` (by HTTP status), ``status``,
``detail`` (Vietnamese first, then English), ``instance`` (the request path), ``reason`` (the
``google.rpc.ErrorInfo`` reason of the service, or the gateway's own), ``trace_id`` and, for invalid
input, ``errors: [{field, message}]``.

gRPC errors are mapped once, here. A service's message is shown only when it came with an ErrorInfo
(a domain error written for people); anything else gets a generic message so internals never leak.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry import trace
from pydantic import BaseModel, Field
from pydantic_core import PydanticCustomError
from school_common.errors import DomainError, bilingual
from school_common.grpc.status import RpcError, parse_rpc_error
from starlette.responses import JSONResponse
from starlette.types import Scope

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:school:problem:"

TITLES: dict[int, str] = {
    400: bilingual("Yêu cầu không hợp lệ", "Bad request"),
    401: bilingual("Chưa xác thực", "Unauthenticated"),
    403: bilingual("Không có quyền", "Forbidden"),
    404: bilingual("Không tìm thấy", "Not found"),
    405: bilingual("Phương thức không được hỗ trợ", "Method not allowed"),
    406: bilingual("Không đáp ứng được định dạng yêu cầu", "Not acceptable"),
    409: bilingual("Xung đột", "Conflict"),
    413: bilingual("Nội dung quá lớn", "Content too large"),
    415: bilingual("Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
    422: bilingual("Dữ liệu không hợp lệ", "Unprocessable content"),
    429: bilingual("Quá nhiều yêu cầu", "Too many requests"),
    500: bilingual("Lỗi hệ thống", "Internal error"),
    503: bilingual("Dịch vụ tạm thời không khả dụng", "Service unavailable"),
    504: bilingual("Hết thời gian chờ", "Gateway timeout"),
}

# Reason and message of a status when nobody said better.
GENERIC: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", bilingual("Yêu cầu không hợp lệ", "bad request")),
    401: ("UNAUTHENTICATED", bilingual("Cần đăng nhập", "authentication required")),
    403: (
        "PERMISSION_DENIED",
        bilingual("Bạn không có quyền thực hiện thao tác này", "you are not allowed to do this"),
    ),
    404: ("NOT_FOUND", bilingual("Không tìm thấy", "not found")),
    405: ("METHOD_NOT_ALLOWED", bilingual("Phương thức không được hỗ trợ", "method not allowed")),
    406: ("NOT_ACCEPTABLE", bilingual("Không đáp ứng được định dạng yêu cầu", "not acceptable")),
    409: ("CONFLICT", bilingual("Xung đột với trạng thái hiện tại", "conflict with the current state")),
    413: ("CONTENT_TOO_LARGE", bilingual("Nội dung yêu cầu quá lớn", "request body too large")),
    415: (
        "UNSUPPORTED_MEDIA_TYPE",
        bilingual("Nội dung phải là application/json", "the request body must be application/json"),
    ),
    422: ("INVALID_ARGUMENT", bilingual("Dữ liệu không hợp lệ", "invalid request body")),
    429: (
        "RATE_LIMITED",
        bilingual("Quá nhiều yêu cầu, vui lòng thử lại sau", "too many requests, retry later"),
    ),
    500: ("INTERNAL", bilingual("Lỗi hệ thống, vui lòng thử lại sau", "internal error, please retry later")),
    503: (
        "SERVICE_UNAVAILABLE",
        bilingual(
            "Dịch vụ tạm thời không khả dụng, vui lòng thử lại",
            "service temporarily unavailable, please retry",
        ),
    ),
    504: (
        "UPSTREAM_TIMEOUT",
        bilingual(
            "Hệ thống phản hồi quá chậm, vui lòng thử lại", "the service did not answer in time, please retry"
        ),
    ),
}

GRPC_TO_HTTP: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.FAILED_PRECONDITION: 422,
    grpc.StatusCode.OUT_OF_RANGE: 422,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}

RETRY_AFTER_S: dict[int, int] = {503: 2, 429: 1}
WWW_AUTHENTICATE_REALM = "school-api"


class FieldError(BaseModel):
    """Một lỗi của một trường dữ liệu / One invalid field."""

    field: str = Field(
        description="Đường dẫn tới trường, ví dụ `student.guardians[0].phone` / path of the field",
        examples=["student.date_of_birth"],
    )
    message: str = Field(
        description="Lý do (tiếng Việt / English) / why it is invalid",
        examples=["Ngày sinh có dạng YYYY-MM-DD / date of birth must be YYYY-MM-DD"],
    )


class Problem(BaseModel):
    """Chi tiết lỗi theo RFC 9457 / RFC 9457 problem details."""

    type: str = Field(
        description="URI định danh loại lỗi / URI identifying the problem type",
        examples=["urn:school:problem:class-not-found"],
    )
    title: str = Field(
        description="Tóm tắt loại lỗi / short summary of the problem type", examples=[TITLES[404]]
    )
    status: int = Field(description="Mã trạng thái HTTP / HTTP status code", examples=[404])
    detail: str = Field(
        description="Giải thích cho lần lỗi này (tiếng Việt / English) / explanation",
        examples=["Không tìm thấy lớp / class not found"],
    )
    instance: str = Field(
        description="Đường dẫn của yêu cầu / the request path",
        examples=["/v1/classes/0193a4c2-7a57-7c4e-9a1b-2f0e4c3d5b6a/students"],
    )
    reason: str = Field(
        description="Mã lý do ổn định, máy đọc được / stable machine-readable reason",
        examples=["CLASS_NOT_FOUND"],
    )
    trace_id: str | None = Field(default=None, description="Mã vết để tra cứu / trace id for support")
    errors: list[FieldError] | None = Field(
        default=None, description="Các trường không hợp lệ / the invalid fields"
    )


@dataclass
class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem."""

    status: int
    reason: str
    detail: str
    errors: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.reason)


def type_of(reason: str) -> str:
    return TYPE_PREFIX + reason.lower().replace("_", "-")


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def problem_body(
    status: int, reason: str, detail: str, instance: str, errors: Sequence[Mapping[str, str]] = ()
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type_of(reason),
        "title": TITLES.get(status) or GENERIC.get(status, GENERIC[500])[1],
        "status": status,
        "detail": detail,
        "instance": instance,
        "reason": reason,
    }
    trace_id = current_trace_id()
    if trace_id:
        body["trace_id"] = trace_id
    if errors:
        body["errors"] = [{"field": e["field"], "message": e["message"]} for e in errors]
    return body


def problem_response(
    scope: Scope,
    status: int,
    reason: str | None = None,
    detail: str | None = None,
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    generic_reason, generic_detail = GENERIC.get(status, GENERIC[500])
    body = problem_body(
        status, reason or generic_reason, detail or generic_detail, scope.get("path", ""), errors
    )
    all_headers = dict(headers or {})
    if status in RETRY_AFTER_S:
        all_headers.setdefault("Retry-After", str(RETRY_AFTER_S[status]))
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", f'Bearer realm="{WWW_AUTHENTICATE_REALM}"')
    return JSONResponse(body, status_code=status, headers=all_headers, media_type=PROBLEM_MEDIA_TYPE)


def from_problem_error(scope: Scope, error: ProblemError) -> JSONResponse:
    return problem_response(scope, error.status, error.reason, error.detail, error.errors, error.headers)


def unauthenticated(reason: str, detail: str) -> ProblemError:
    challenge = f'Bearer realm="{WWW_AUTHENTICATE_REALM}"'
    if reason != "MISSING_TOKEN":
        challenge += ', error="invalid_token"'
    return ProblemError(401, reason, detail, headers={"WWW-Authenticate": challenge})


def missing_field(name: str) -> ProblemError:
    """422 ``INVALID_ARGUMENT`` for a field a request needs in its situation only (``reason`` to refuse)."""
    message = bilingual("Thiếu trường bắt buộc", "field required")
    return ProblemError(422, "INVALID_ARGUMENT", message, errors=[{"field": name, "message": message}])


def from_domain_error(error: DomainError) -> ProblemError:
    """A DomainError raised inside the gateway (token verification, header validation)."""
    status = GRPC_TO_HTTP.get(error.code, 500)
    if status == 401:
        return unauthenticated(error.reason, error.message)
    if status >= 500 and status not in (503, 504):
        return ProblemError(500, *GENERIC[500])
    return ProblemError(status, error.reason, error.message)


def _retry_after(info: RpcError, status: int) -> dict[str, str]:
    raw = info.metadata.get("retry_after_s", "")
    try:
        seconds = max(1, math.ceil(float(raw)))
    except ValueError:
        seconds = RETRY_AFTER_S.get(status, 1)
    return {"Retry-After": str(seconds)}


FieldNames = Callable[[str], str]


def from_rpc_error(
    error: grpc.aio.AioRpcError | grpc.RpcError, method: str, field_names: FieldNames | None = None
) -> ProblemError:
    """Maps a failed backend call. ``field_names`` renames the service's field names to the REST body's."""
    info = parse_rpc_error(error)
    status = GRPC_TO_HTTP.get(info.code, 500)
    if info.code == grpc.StatusCode.RESOURCE_EXHAUSTED and not info.reason:
        # Without ErrorInfo it is gRPC's own message-size limit, not a rate limit: retrying cannot help.
        status = 413
    if status >= 500 or status == 429:
        log.warning(
            "backend call failed",
            extra={"rpc": method, "grpc_code": info.code.name, "error_reason": info.reason or "-"},
        )
    if status == 500:
        return ProblemError(500, *GENERIC[500])
    # Only domain errors (with ErrorInfo) carry a message written for people; 504s never do.
    trusted = bool(info.reason) and status != 504
    reason, detail = (info.reason, info.message) if trusted else GENERIC[status]
    if status == 401:
        return unauthenticated(reason, detail)
    headers: dict[str, str] = {}
    if status in (429, 503):
        headers = _retry_after(info, status)
    elif info.code == grpc.StatusCode.ABORTED:
        headers = {"Retry-After": "1"}  # a concurrent duplicate: retrying shortly gets the stored answer
    errors: list[dict[str, str]] = []
    # 422: an invalid field; 409: a field whose value is taken (a diploma's serial or register number).
    if status in (409, 422) and trusted and info.metadata.get("field"):
        name = info.metadata["field"]
        errors.append({"field": field_names(name) if field_names else name, "message": detail})
    return ProblemError(status, reason, detail, errors, headers)


_VALIDATION_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("Thiếu trường bắt buộc", "field required"),
    "extra_forbidden": ("Trường không được chấp nhận", "unknown field"),
    "string_type": ("Phải là chuỗi ký tự", "must be a string"),
    "int_type": ("Phải là số nguyên", "must be an integer"),
    "int_parsing": ("Phải là số nguyên", "must be an integer"),
    "int_from_float": ("Phải là số nguyên", "must be an integer"),
    "bool_type": ("Phải là true hoặc false", "must be a boolean"),
    "list_type": ("Phải là một danh sách", "must be a list"),
    "dict_type": ("Phải là một đối tượng JSON", "must be a JSON object"),
    "model_type": ("Phải là một đối tượng JSON", "must be a JSON object"),
    "model_attributes_type": ("Phải là một đối tượng JSON", "must be a JSON object"),
    "literal_error": ("Giá trị không hợp lệ, chỉ nhận {expected}", "must be one of {expected}"),
    "enum": ("Giá trị không hợp lệ, chỉ nhận {expected}", "must be one of {expected}"),
    "string_too_short": ("Cần ít nhất {min_length} ký tự", "must have at least {min_length} characters"),
    "string_too_long": ("Tối đa {max_length} ký tự", "must have at most {max_length} characters"),
    "too_short": ("Cần ít nhất {min_length} phần tử", "must have at least {min_length} items"),
    "too_long": ("Tối đa {max_length} phần tử", "must have at most {max_length} items"),
    "greater_than_equal": ("Phải lớn hơn hoặc bằng {ge}", "must be greater than or equal to {ge}"),
    "less_than_equal": ("Phải nhỏ hơn hoặc bằng {le}", "must be less than or equal to {le}"),
    "string_pattern_mismatch": ("Sai định dạng", "wrong format"),
    "bool_parsing": ("Phải là true hoặc false", "must be a boolean"),
    "timezone_aware": (
        "Thời điểm cần có múi giờ, ví dụ 2025-11-24T00:00:00+07:00",
        "must include a time zone, e.g. 2025-11-24T00:00:00+07:00",
    ),
    "datetime_parsing": ("Thời điểm theo RFC 3339", "must be an RFC 3339 date-time"),
    "datetime_from_date_parsing": ("Thời điểm theo RFC 3339", "must be an RFC 3339 date-time"),
    "datetime_type": ("Thời điểm theo RFC 3339", "must be an RFC 3339 date-time"),
    "json_invalid": ("JSON không hợp lệ", "malformed JSON"),
    "json_type": ("JSON không hợp lệ", "malformed JSON"),
}

_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def _field_path(loc: Sequence[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        where = parts.pop(0)
        if not parts or not isinstance(parts[0], str):
            return str(where)
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


#: The pydantic error type of :func:`refusal`.
REFUSAL = "refusal"


def refusal(reason: str, message: str) -> PydanticCustomError:
    """Raise from a validator to refuse a field with a reason of its own: the 422 problem then carries
    ``reason`` and the bilingual ``message`` as its detail instead of the generic ``INVALID_ARGUMENT``
    (``MEASURE_NOT_ALLOWED`` for a measure Circular 19/2025 does not know). The field is still listed in
    ``errors``, with ``message``."""
    return PydanticCustomError(REFUSAL, "{message}", {"reason": reason, "message": message})


def validation_reason(raw: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """The reason and detail of the first :func:`refusal` among pydantic errors, if any: it names the
    problem even when other fields are invalid too."""
    for error in raw:
        if error.get("type") == REFUSAL:
            ctx = error.get("ctx") or {}
            return str(ctx["reason"]), str(ctx["message"])
    return None


def validation_errors(raw: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors as ``[{field, message}]``; the invalid input is never echoed back."""
    out: list[dict[str, str]] = []
    for error in raw:
        kind = str(error.get("type", ""))
        ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
        if kind == REFUSAL:
            message = ctx["message"]  # bilingual, written for people
        elif kind == "value_error" and "error" in ctx:
            message = ctx["error"]  # our validators' messages are already bilingual
        elif kind in _VALIDATION_MESSAGES:
            vi, en = _VALIDATION_MESSAGES[kind]
            try:
                message = bilingual(vi.format(**ctx), en.format(**ctx))
            except (KeyError, IndexError):
                message = bilingual(vi.split(",")[0], en)
        else:
            message = bilingual("Giá trị không hợp lệ", str(error.get("msg", "invalid value")))
        out.append({"field": _field_path(error.get("loc", ())), "message": message})
    return out


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_docs(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses, as problem+json."""
    return {
        status: {"description": TITLES[status], "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}}
        for status in statuses
    }

"""HTTP stand-in for the national population database's citizen verification API (CSDLQG về dân cư).

Server-to-server: the caller sends what it already holds (number, name, date of birth) and learns only
whether each field matches the register. Nothing the caller did not send ever comes back (data
minimisation), and nothing personal is logged. The contract is documented in ``simulators/README.md``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulators.citizen_registry import ids
from simulators.citizen_registry.faults import MAX_LATENCY_MS, Faults, FaultSwitches
from simulators.citizen_registry.ratelimit import RateLimiter
from simulators.citizen_registry.registry import Registry, Result, load_citizens, name_key

access_log = logging.getLogger("simulators.citizen_registry.access")
log = logging.getLogger("simulators.citizen_registry")

VERIFY_PATH = "/api/v1/citizens/verify"
HEALTH_PATH = "/healthz"
FAULTS_PATH = "/_simulator/faults"
API_KEY_HEADER = "X-Api-Key"
REQUEST_ID_HEADER = "X-Request-Id"
CONTROL_KEY_HEADER = "X-Simulator-Control-Key"
DEFAULT_API_KEY = "dev-only-population-key"
DEFAULT_CONTROL_KEY = "dev-only-simulator-control"
DOWN_RETRY_AFTER_SECONDS = 30
DEFAULT_RATE_LIMIT_PER_MINUTE = 120
PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:population-sim:problem:"
MAX_NAME_LENGTH = 150

# The caller's transaction id, kept for the audit trail on both sides: a UUID is recommended.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

INVALID_DATE_OF_BIRTH = "INVALID_DATE_OF_BIRTH"
INVALID_FULL_NAME = "INVALID_FULL_NAME"


def _bilingual(vi: str, en: str) -> str:
    return f"{vi} / {en}"


TITLES: dict[int, str] = {
    400: _bilingual("Yêu cầu không hợp lệ", "Bad request"),
    401: _bilingual("Chưa xác thực", "Unauthenticated"),
    404: _bilingual("Không tìm thấy", "Not found"),
    405: _bilingual("Phương thức không được hỗ trợ", "Method not allowed"),
    415: _bilingual("Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
    422: _bilingual("Dữ liệu không hợp lệ", "Unprocessable content"),
    429: _bilingual("Quá nhiều yêu cầu", "Too many requests"),
    500: _bilingual("Lỗi hệ thống", "Internal error"),
    503: _bilingual("Dịch vụ tạm thời không khả dụng", "Service unavailable"),
}

FIELD_MESSAGES: dict[str, str] = {
    ids.INVALID_PERSONAL_ID_FORMAT: _bilingual(
        "Số định danh cá nhân phải gồm 12 chữ số theo Thông tư 07/2016/TT-BCA",
        "personal_id must be 12 digits as defined by Circular 07/2016/TT-BCA",
    ),
    ids.UNKNOWN_PROVINCE_CODE: _bilingual(
        "Mã tỉnh nơi đăng ký khai sinh (3 chữ số đầu) không tồn tại",
        "the province code (first 3 digits) does not exist",
    ),
    ids.CENTURY_MISMATCH: _bilingual(
        "Mã thế kỷ và giới tính (chữ số thứ 4) không khớp với năm sinh",
        "the century/gender digit (4th digit) does not match the year of birth",
    ),
    ids.BIRTH_YEAR_MISMATCH: _bilingual(
        "Chữ số thứ 5 và 6 không khớp với năm sinh",
        "digits 5-6 do not match the last two digits of the year of birth",
    ),
    INVALID_DATE_OF_BIRTH: _bilingual(
        "Ngày sinh phải có dạng YYYY-MM-DD và không ở tương lai",
        "date_of_birth must be a YYYY-MM-DD date, not in the future",
    ),
    INVALID_FULL_NAME: _bilingual(
        f"Họ và tên không được để trống, tối đa {MAX_NAME_LENGTH} ký tự",
        f"full_name must be non-empty text of at most {MAX_NAME_LENGTH} characters",
    ),
}


# ---------------------------------------------------------------- schemas


class VerifyRequest(BaseModel):
    """Thông tin cần đối chiếu / what the caller already holds and wants checked."""

    # Strict: a number sent as a JSON number has already lost its leading zero. Extra fields are refused:
    # the register receives nothing it does not need.
    model_config = ConfigDict(strict=True, extra="forbid")

    personal_id: str = Field(description="Số định danh cá nhân, 12 chữ số", examples=["079185001234"])
    full_name: str = Field(description="Họ và tên, có dấu", examples=["Trần Thị Mai"])
    date_of_birth: str = Field(description="Ngày sinh, YYYY-MM-DD", examples=["1985-03-12"])


class Checks(BaseModel):
    full_name: bool = Field(description="Họ và tên khớp (không phân biệt hoa thường, khoảng trắng, NFC/NFD)")
    date_of_birth: bool = Field(description="Ngày sinh khớp")


class VerifyResponse(BaseModel):
    result: Result = Field(
        description="MATCH: every field matches; MISMATCH: the number exists, some field differs; "
        "NOT_FOUND: no citizen holds this number"
    )
    checks: Checks
    request_id: str = Field(description="The caller's X-Request-Id, echoed")
    checked_at: str = Field(
        description="When the register was consulted (RFC 3339, UTC)",
        json_schema_extra={"format": "date-time"},
        examples=["2026-01-05T08:30:12.345Z"],
    )


class FieldError(BaseModel):
    field: str = Field(examples=["personal_id"])
    reason: str = Field(examples=[ids.BIRTH_YEAR_MISMATCH])
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, ``application/problem+json``."""

    type: str = Field(examples=["urn:population-sim:problem:birth-year-mismatch"])
    title: str
    status: int
    detail: str
    instance: str = Field(examples=[VERIFY_PATH])
    reason: str = Field(description="Stable machine-readable reason", examples=[ids.BIRTH_YEAR_MISMATCH])
    request_id: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(request: Request, error: ProblemError) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + error.reason.lower().replace("_", "-"),
        "title": TITLES.get(error.status, TITLES[500]),
        "status": error.status,
        "detail": error.detail,
        "instance": request.url.path,
        "reason": error.reason,
    }
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    if error.errors:
        body["errors"] = error.errors
    request.scope.setdefault("state", {})["outcome"] = error.reason
    return JSONResponse(body, status_code=error.status, headers=error.headers, media_type=PROBLEM_MEDIA_TYPE)


def _problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": Problem,
            "description": TITLES[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


# ---------------------------------------------------------------- request checks


def _authenticate(presented: str | None, keys: tuple[str, ...]) -> str:
    if not presented:
        raise ProblemError(
            401, "MISSING_API_KEY", _bilingual("Thiếu khóa API", f"the {API_KEY_HEADER} header is required")
        )
    # Compare with every key, in constant time, so timing tells nothing about which key is close.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented.encode(), key.encode())
    if not matched:
        raise ProblemError(401, "INVALID_API_KEY", _bilingual("Khóa API không hợp lệ", "invalid API key"))
    return presented


def _authenticate_control(presented: str | None, control_key: str) -> None:
    """The control endpoint has its own key: a caller of the verify API cannot switch faults."""
    if not presented:
        raise ProblemError(
            401,
            "MISSING_CONTROL_KEY",
            _bilingual("Thiếu khóa điều khiển", f"the {CONTROL_KEY_HEADER} header is required"),
        )
    if not hmac.compare_digest(presented.encode(), control_key.encode()):
        raise ProblemError(
            401, "INVALID_CONTROL_KEY", _bilingual("Khóa điều khiển không hợp lệ", "invalid control key")
        )


def _request_id(request: Request) -> str:
    value = request.headers.get(REQUEST_ID_HEADER, "")
    if not _REQUEST_ID.fullmatch(value):
        raise ProblemError(
            400,
            "INVALID_REQUEST_ID",
            _bilingual(
                f"Thiếu hoặc sai định dạng {REQUEST_ID_HEADER}",
                f"{REQUEST_ID_HEADER} is required: 1-64 characters of A-Z a-z 0-9 . _ : - (a UUID is best)",
            ),
        )
    return value


_Model = TypeVar("_Model", bound=BaseModel)


async def _read_json(request: Request, model: type[_Model], expected: str) -> _Model:
    """The body as ``model``: 415 when it is not JSON by media type, 400 when it does not parse, 422 with
    every problem (``expected`` as the detail) when it does not fit. Input values are never echoed."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ProblemError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            _bilingual("Nội dung phải là application/json", "the request body must be application/json"),
        )
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise ProblemError(
                400,
                "MALFORMED_JSON",
                _bilingual("Nội dung không phải JSON hợp lệ", "the body is not valid JSON"),
            ) from None
        # Only locations and pydantic's messages: the input values are never echoed.
        errors = [
            {
                "field": ".".join(str(part) for part in err["loc"]) or "body",
                "reason": err["type"].upper(),
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        raise ProblemError(422, "INVALID_REQUEST_BODY", expected, errors=errors) from None


async def _read_body(request: Request) -> VerifyRequest:
    return await _read_json(
        request,
        VerifyRequest,
        _bilingual(
            "Cần đúng các trường personal_id, full_name, date_of_birth dạng chuỗi",
            "exactly the string fields personal_id, full_name and date_of_birth are expected",
        ),
    )


async def _read_switches(request: Request) -> FaultSwitches:
    return await _read_json(
        request,
        FaultSwitches,
        _bilingual(
            f"Chỉ nhận latency_ms (số nguyên 0..{MAX_LATENCY_MS}), error_rate (0..1), down (true/false)",
            f"only latency_ms (integer 0..{MAX_LATENCY_MS}), error_rate (0..1) and down (boolean) "
            "are accepted",
        ),
    )


async def _apply_faults(faults: Faults, sleep: Callable[[float], Awaitable[None]]) -> None:
    """The register step's switches, in order: latency, downtime, errors. Runs before the body is read, so
    a faulted answer cannot carry anything the caller sent."""
    switches = faults.switches
    if switches.latency_ms:
        await sleep(switches.latency_ms / 1000)
    if switches.down:
        raise ProblemError(
            503,
            "REGISTRY_UNAVAILABLE",
            _bilingual(
                "Cơ sở dữ liệu dân cư đang tạm ngừng, vui lòng thử lại sau",
                f"the register is unavailable, retry in {DOWN_RETRY_AFTER_SECONDS} s",
            ),
            headers={"Retry-After": str(DOWN_RETRY_AFTER_SECONDS)},
        )
    if faults.next_call_fails():
        raise ProblemError(
            503,
            "REGISTRY_ERROR",
            _bilingual("Lỗi khi tra cứu cơ sở dữ liệu dân cư, vui lòng thử lại", "register error, retry"),
        )


def _parse_date(value: str) -> date | None:
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed <= datetime.now(UTC).date() else None


def _check_fields(body: VerifyRequest) -> date:
    """The date of birth when every field is acceptable, else a 422 listing every problem."""
    errors: list[dict[str, str]] = []
    dob = _parse_date(body.date_of_birth)
    for reason in ids.validate_personal_id(body.personal_id, dob):
        errors.append({"field": "personal_id", "reason": reason, "message": FIELD_MESSAGES[reason]})
    if dob is None:
        errors.append(
            {
                "field": "date_of_birth",
                "reason": INVALID_DATE_OF_BIRTH,
                "message": FIELD_MESSAGES[INVALID_DATE_OF_BIRTH],
            }
        )
    key = name_key(body.full_name)
    if not key or len(key) > MAX_NAME_LENGTH or any(unicodedata.category(c).startswith("C") for c in key):
        errors.append(
            {"field": "full_name", "reason": INVALID_FULL_NAME, "message": FIELD_MESSAGES[INVALID_FULL_NAME]}
        )
    if errors:
        detail = (
            errors[0]["message"]
            if len(errors) == 1
            else _bilingual(
                f"{len(errors)} lỗi dữ liệu, xem errors", f"{len(errors)} invalid fields, see errors"
            )
        )
        raise ProblemError(422, errors[0]["reason"], detail, errors=errors)
    assert dob is not None
    return dob


# ---------------------------------------------------------------- access log


class AccessLogMiddleware:
    """One JSON line a request: request id, route, status, outcome, latency. Never a body, a name, a
    number or a client address. Also echoes ``X-Request-Id`` on every response that has a valid one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                request_id = state.get("request_id")
                if request_id:
                    message.setdefault("headers", [])
                    message["headers"] = [
                        *message["headers"],
                        (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                    ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = scope["path"]
            if path != HEALTH_PATH:
                access_log.info(
                    "request",
                    extra={
                        "request_id": state.get("request_id"),
                        "method": scope["method"],
                        # A path may carry anything a caller typed, so only known routes are logged.
                        "route": path if path in (VERIFY_PATH, FAULTS_PATH) else "other",
                        "status": status,
                        "outcome": state.get("outcome"),
                        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )


# ---------------------------------------------------------------- the app


def create_app(
    citizens_file: Path | None = None,
    api_keys: Iterable[str] | None = None,
    *,
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT_PER_MINUTE,
    clock: Callable[[], float] = time.monotonic,
    latency_ms: int = 0,
    error_rate: float = 0.0,
    down: bool = False,
    control_key: str = DEFAULT_CONTROL_KEY,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> FastAPI:
    """The simulator. ``citizens_file`` defaults to the bundled seed, ``api_keys`` to the development key;
    ``clock`` (monotonic seconds) drives the per-key rate limit. ``latency_ms``, ``error_rate`` and
    ``down`` are the starting fault switches (``ValueError`` when out of range), ``control_key`` guards
    ``/_simulator/faults``, ``sleep`` is how the latency is waited out."""
    registry = Registry(load_citizens(citizens_file))
    keys = tuple(api_keys) if api_keys is not None else (DEFAULT_API_KEY,)
    if not keys or not all(keys):
        raise ValueError("at least one non-empty API key is required")
    if not control_key:
        raise ValueError("a non-empty control key is required")
    limiter = RateLimiter(rate_limit_per_minute, clock)
    # pydantic's ValidationError is a ValueError: a bad starting switch stops start-up.
    faults = Faults(FaultSwitches(latency_ms=latency_ms, error_rate=error_rate, down=down))

    app = FastAPI(
        title="Cơ sở dữ liệu quốc gia về dân cư — xác thực thông tin công dân (MÔ PHỎNG)",
        summary="Population database verification API — SIMULATOR, development and tests only",
        version="1.0.0",
        description="Answers match / no match per field and never returns data the caller did not send. "
        f"Authenticate with `{API_KEY_HEADER}`; send a `{REQUEST_ID_HEADER}` with every request.",
    )
    app.add_middleware(AccessLogMiddleware)

    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reasons = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
        reason = reasons.get(exc.status_code, "HTTP_ERROR")
        title = TITLES.get(exc.status_code, str(exc.detail))
        return problem_response(
            request, ProblemError(exc.status_code, reason, title, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        access_log.error("unhandled error", extra={"error_type": type(exc).__name__})
        return problem_response(
            request,
            ProblemError(
                500, "INTERNAL", _bilingual("Lỗi hệ thống, vui lòng thử lại", "internal error, retry")
            ),
        )

    @app.get(HEALTH_PATH, tags=["ops"])
    async def healthz() -> dict[str, str]:
        # The process is up even when the register is switched down: liveness stays 200.
        return {"status": "ok", "register": "down" if faults.switches.down else "up"}

    control_responses = _problem_responses(401)
    control_parameters = [
        {"name": CONTROL_KEY_HEADER, "in": "header", "required": True, "schema": {"type": "string"}}
    ]

    @app.get(
        FAULTS_PATH,
        tags=["simulator"],
        response_model=FaultSwitches,
        summary="Công tắc lỗi hiện tại / the current fault switches (simulator only)",
        responses=control_responses,
        openapi_extra={"parameters": control_parameters},
    )
    async def get_faults(request: Request) -> JSONResponse:
        _authenticate_control(request.headers.get(CONTROL_KEY_HEADER), control_key)
        request.scope.setdefault("state", {})["outcome"] = "FAULTS_READ"
        return JSONResponse(faults.switches.model_dump(), headers={"Cache-Control": "no-store"})

    @app.put(
        FAULTS_PATH,
        tags=["simulator"],
        response_model=FaultSwitches,
        summary="Thay công tắc lỗi / replace the fault switches (simulator only); a field left out is off",
        responses={**control_responses, **_problem_responses(400, 415, 422)},
        openapi_extra={
            "parameters": control_parameters,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": FaultSwitches.model_json_schema()}},
            },
        },
    )
    async def put_faults(request: Request) -> JSONResponse:
        _authenticate_control(request.headers.get(CONTROL_KEY_HEADER), control_key)
        switches = await _read_switches(request)
        faults.replace(switches)
        request.scope.setdefault("state", {})["outcome"] = "FAULTS_REPLACED"
        log.info("fault switches replaced", extra=switches.model_dump())
        return JSONResponse(switches.model_dump(), headers={"Cache-Control": "no-store"})

    @app.post(
        VERIFY_PATH,
        tags=["citizens"],
        response_model=VerifyResponse,
        summary="Đối chiếu số định danh cá nhân với họ tên và ngày sinh / verify a citizen",
        responses=_problem_responses(400, 401, 415, 422, 429, 503),
        openapi_extra={
            "parameters": [
                {"name": API_KEY_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
                {
                    "name": REQUEST_ID_HEADER,
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "pattern": _REQUEST_ID.pattern, "maxLength": 64},
                },
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": VerifyRequest.model_json_schema()}},
            },
        },
    )
    async def verify(request: Request) -> JSONResponse:
        # Checked in this order on purpose: who is calling, then which transaction, then how often, then
        # the fault switches (the register step), and only then what was sent.
        api_key = _authenticate(request.headers.get(API_KEY_HEADER), keys)
        request.scope.setdefault("state", {})["request_id"] = request_id = _request_id(request)
        wait = limiter.acquire(api_key)
        if wait:
            raise ProblemError(
                429,
                "RATE_LIMITED",
                _bilingual(
                    "Quá nhiều yêu cầu, vui lòng thử lại sau", f"rate limit exceeded, retry in {wait} s"
                ),
                headers={"Retry-After": str(wait)},
            )
        await _apply_faults(faults, sleep)
        body = await _read_body(request)
        dob = _check_fields(body)
        outcome = registry.verify(body.personal_id, body.full_name, dob)
        request.scope["state"]["outcome"] = outcome.result.value
        answer = VerifyResponse(
            result=outcome.result,
            checks=Checks(full_name=outcome.full_name, date_of_birth=outcome.date_of_birth),
            request_id=request_id,
            checked_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        )
        return JSONResponse(answer.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

    return app

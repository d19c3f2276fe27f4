"""ASGI middleware at the edge, outermost first: access log, security headers, per-IP rate limit,
request body guard (size and media type).

The access log has no personal data: method, route template (never the path or the query), status and
duration; the JSON formatter adds the trace id.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping

from school_common.errors import bilingual
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.problems import ProblemError, from_problem_error, problem_response
from gateway.ratelimit import TokenBucketLimiter, retry_after
from gateway.uploads import MULTIPART_OVERHEAD_BYTES, file_too_large, is_multipart

log = logging.getLogger("gateway.access")

UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})
API_SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            if scope.get("path") not in UNLIMITED_PATHS or status >= 400:
                log.info(
                    "request",
                    extra={
                        "method": scope.get("method", ""),
                        "route": route_template(scope),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )


def add_security_headers(headers: MutableHeaders, path: str) -> None:
    for name, value in API_SECURITY_HEADERS:
        headers[name] = value
    if path not in DOCS_PATHS:
        headers["content-security-policy"] = API_CSP


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), scope.get("path", ""))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class IpRateLimitMiddleware:
    """Before anything else (including token verification), so floods cost little."""

    def __init__(self, app: ASGIApp, limiter: TokenBucketLimiter | None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.limiter is not None and scope.get("path") not in UNLIMITED_PATHS:
            wait = self.limiter.acquire(("ip", client_ip(scope)))
            if wait > 0:
                response = problem_response(scope, 429, headers={"Retry-After": retry_after(wait)})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ContentTooLarge(HTTPException):
    """Raised while the body is read (an HTTPException, so FastAPI's body parsing lets it through);
    ``problem`` is the answer when it is not the generic 413."""

    def __init__(self, problem: ProblemError | None = None) -> None:
        super().__init__(status_code=413)
        self.problem = problem


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_PARAMETER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _template_re(template: str) -> re.Pattern[str]:
    """A route template as a regular expression: each ``{parameter}`` is one non-empty path segment."""
    parts = _PARAMETER.split(template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class BodyGuardMiddleware:
    """Refuses bodies over ``max_bytes`` (413, counted as they arrive, whatever Content-Length says) and
    API bodies that are not JSON (415).

    ``uploads`` maps the paths of upload routes to the largest file they take: there the body must be
    ``multipart/form-data`` and may be as large as the file plus the multipart framing; a larger one is
    413 ``FILE_TOO_LARGE``. A path may be a route template (``/v1/schools/{school_id}/student-lists/
    {school_year}``): each ``{parameter}`` matches one path segment, since this runs before routing.

    ``large_json`` maps the paths of the few JSON routes whose bodies may exceed ``max_bytes`` (a gate
    terminal's batch of up to 5,000 taps) to their own limit; ``max_bytes`` still applies when it is larger.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        uploads: Mapping[str, int] | None = None,
        large_json: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = {path: limit for path, limit in (uploads or {}).items() if "{" not in path}
        self.upload_templates = [
            (_template_re(path), limit) for path, limit in (uploads or {}).items() if "{" in path
        ]
        self.large_json = {path: max(limit, max_bytes) for path, limit in (large_json or {}).items()}

    def upload_limit(self, path: str) -> int | None:
        """The largest file the upload route at ``path`` takes; None when it is not an upload route."""
        found = self.uploads.get(path)
        if found is None:
            found = next((limit for pattern, limit in self.upload_templates if pattern.fullmatch(path)), None)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        upload_limit = self.upload_limit(path)
        too_large: ProblemError | None = None
        max_bytes = self.large_json.get(path, self.max_bytes)
        if upload_limit is not None:
            too_large = file_too_large(upload_limit)
            max_bytes = upload_limit + MULTIPART_OVERHEAD_BYTES
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await problem_response(
                    scope,
                    400,
                    "INVALID_CONTENT_LENGTH",
                    "Content-Length không hợp lệ / invalid Content-Length",
                )(scope, receive, send)
                return
            if length > max_bytes:
                response = from_problem_error(scope, too_large) if too_large else problem_response(scope, 413)
                await response(scope, receive, send)
                return
        has_body = (declared is not None and declared != "0") or "transfer-encoding" in headers
        content_type = headers.get("content-type", "")
        if has_body and path.startswith("/v1/"):
            if upload_limit is not None and not is_multipart(content_type):
                await problem_response(
                    scope,
                    415,
                    detail=bilingual(
                        "Nội dung phải là multipart/form-data", "the request body must be multipart/form-data"
                    ),
                )(scope, receive, send)
                return
            if upload_limit is None and not _is_json(content_type):
                await problem_response(scope, 415)(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise ContentTooLarge(too_large)
            return message

        await self.app(scope, limited_receive, send)

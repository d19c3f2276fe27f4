"""ASGI middleware at the edge, outermost first: access log, security headers, per-IP rate limit,
request body guard (size and media type).

The access log has no personal data: method, route template (never the path or the query), status and
duration; the JSON formatter adds the trace id.
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.problems import problem_response
from gateway.ratelimit import TokenBucketLimiter, retry_after

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
    def __init__(self) -> None:
        super().__init__(status_code=413)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class BodyGuardMiddleware:
    """Refuses bodies over ``max_bytes`` (413, counted as they arrive, whatever Content-Length says) and
    API bodies that are not JSON (415)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
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
            if length > self.max_bytes:
                await problem_response(scope, 413)(scope, receive, send)
                return
        has_body = (declared is not None and declared != "0") or "transfer-encoding" in headers
        if (
            has_body
            and str(scope.get("path", "")).startswith("/v1/")
            and not _is_json(headers.get("content-type", ""))
        ):
            await problem_response(scope, 415)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise ContentTooLarge
            return message

        await self.app(scope, limited_receive, send)

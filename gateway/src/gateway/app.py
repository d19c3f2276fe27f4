"""The FastAPI application: routes, problem+json for every error, edge middleware, OpenTelemetry."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from school_common.auth import TokenVerifier
from school_common.errors import DomainError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gateway import openapi
from gateway.access import EdgeAccess
from gateway.clients import Backends
from gateway.middleware import (
    AccessLogMiddleware,
    BodyGuardMiddleware,
    ContentTooLarge,
    IpRateLimitMiddleware,
    SecurityHeadersMiddleware,
    add_security_headers,
)
from gateway.problems import (
    GENERIC,
    ProblemError,
    from_domain_error,
    from_problem_error,
    problem_response,
    validation_errors,
    validation_reason,
)
from gateway.ratelimit import TokenBucketLimiter
from gateway.routers import (
    accounts,
    attendance,
    audit,
    boarding,
    clubs,
    consents,
    diplomas,
    discipline,
    gradebook,
    health,
    links,
    movements,
    partner_gate,
    schools,
    student_lists,
    tenants,
    transcripts,
    travel,
)
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


def create_app(settings: GatewaySettings | None = None, verifier: TokenVerifier | None = None) -> FastAPI:
    """The gateway. Backend channels (and the token verifier, unless given) live as long as the lifespan."""
    settings = settings if settings is not None else GatewaySettings.load()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_verifier = verifier is None
        app.state.verifier = verifier if verifier is not None else TokenVerifier(settings.auth)
        app.state.backends = Backends(settings)
        app.state.access = EdgeAccess(app.state.backends, settings.access)
        log.info("gateway started", extra={"backends": sorted(app.state.backends.channels)})
        try:
            yield
        finally:
            await app.state.backends.close(grace_s=1.0)
            if own_verifier:
                await app.state.verifier.aclose()
            log.info("gateway stopped")

    app = FastAPI(
        title=openapi.TITLE,
        description=openapi.DESCRIPTION,
        version=openapi.API_VERSION,
        openapi_tags=openapi.TAGS,
        lifespan=lifespan,
        docs_url="/docs" if settings.http.docs_enabled else None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    limits = settings.rate_limit
    app.state.caller_limiter = (
        TokenBucketLimiter(limits.requests_per_second, limits.burst, limits.max_tracked_keys)
        if limits.enabled
        else None
    )
    ip_limiter = (
        TokenBucketLimiter(limits.ip_requests_per_second, limits.ip_burst, limits.max_tracked_keys)
        if limits.enabled
        else None
    )
    # The public routes (no token) also take from a stricter bucket of their own per client IP.
    app.state.public_limiter = (
        TokenBucketLimiter(limits.public_per_minute / 60, limits.public_burst, limits.max_tracked_keys)
        if limits.enabled
        else None
    )

    _add_exception_handlers(app)
    # Added innermost first: AccessLog → SecurityHeaders → IpRateLimit → BodyGuard → routes.
    app.add_middleware(
        BodyGuardMiddleware,
        max_bytes=settings.http.max_body_bytes,
        uploads=accounts.UPLOAD_ROUTES | student_lists.UPLOAD_ROUTES | travel.UPLOAD_ROUTES,
        large_json=partner_gate.LARGE_JSON_ROUTES,
    )
    app.add_middleware(IpRateLimitMiddleware, limiter=ip_limiter)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(AccessLogMiddleware)

    app.include_router(health.router)
    app.include_router(tenants.router)
    app.include_router(accounts.router)
    app.include_router(schools.router)
    app.include_router(discipline.router)
    app.include_router(clubs.router)
    app.include_router(gradebook.router)
    app.include_router(student_lists.router)
    app.include_router(transcripts.router)
    app.include_router(movements.router)
    app.include_router(travel.router)
    app.include_router(diplomas.router)
    app.include_router(attendance.router)
    app.include_router(boarding.router)
    app.include_router(partner_gate.router)
    app.include_router(links.router)
    app.include_router(consents.router)
    app.include_router(audit.router)

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.build(app)
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]

    # The server span wraps everything above, so gRPC client spans are its children and the
    # error handlers and access log see its trace id.
    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls="/healthz,/readyz",
        exclude_spans=["receive", "send"],
        server_request_hook=_without_query,
    )
    return app


def _without_query(span: Any, scope: dict[str, Any]) -> None:
    """Query strings stay out of traces: a verification code is a credential, and a filter may hold
    personal data. The instrumentation records the full URL; the server span keeps it without them."""
    if span is None or not span.is_recording() or not scope.get("query_string"):
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in ("http.url", "url.full"):
        if key in attributes:
            span.set_attribute(key, str(attributes[key]).split("?", 1)[0])
    if "url.query" in attributes:
        span.set_attribute("url.query", "[redacted]")


def _allowed_methods(request: Request) -> set[str]:
    """Starlette names only the first route matching the path; Allow must list every method."""
    allowed: set[str] = set()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            allowed.add(method)
    return allowed


def _add_exception_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return from_problem_error(request.scope, exc)

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return from_problem_error(request.scope, from_domain_error(exc))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        raw = exc.errors()
        # A field refused with a reason of its own (problems.refusal) names the problem;
        # otherwise INVALID_ARGUMENT.
        reason, detail = validation_reason(raw) or (None, None)
        return problem_response(request.scope, 422, reason, detail, errors=validation_errors(raw))

    async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, ContentTooLarge) and exc.problem is not None:
            return from_problem_error(request.scope, exc.problem)
        status = exc.status_code if exc.status_code in GENERIC else (500 if exc.status_code >= 500 else 400)
        headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in ("allow", "retry-after")}
        if status == 405:
            headers = {"Allow": ", ".join(sorted(_allowed_methods(request)))}
        return problem_response(request.scope, status, headers=headers)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Outside the edge middleware: add its headers here. The exception itself is logged by the server.
        log.error("unhandled error", extra={"error": type(exc).__name__})
        response = problem_response(request.scope, 500)
        add_security_headers(response.headers, request.scope.get("path", ""))
        return response

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(Exception, on_unexpected)

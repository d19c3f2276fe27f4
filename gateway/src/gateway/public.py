"""What the public verification routes (no token) share: the transcript's and the diploma's.

Each route never reads the ``Authorization`` header and calls the one RPC of student-record declared public
for it (``ServiceDefinition.public_methods``) with no authorization metadata (``Backends.call_public``); the
tenant travels in the path. :func:`answer` takes a token from the public routes' own per-IP bucket
(``GATEWAY__RATE_LIMIT__PUBLIC_PER_MINUTE``) before anything else is looked at, then runs the route's
``verify`` — which refuses anything malformed with the very 404 the service answers for a wrong code or an
unknown document, so probing learns nothing — and answers JSON to ``Accept: application/json`` and a small
escaped HTML page (:mod:`gateway.pages`) to anyone else, errors included, with ``Vary: Accept``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from gateway import pages
from gateway.deps import limit_public
from gateway.problems import PROBLEM_MEDIA_TYPE, PROBLEM_REF, ProblemError

#: As student-record draws verification codes: no 0/O, no 1/I (read aloud and typed by hand).
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
CODE_EXAMPLE = "K7M2Q9XP4R"

#: OpenAPI: no security requirement at all (the document's other operations need ``bearerAuth``).
OPENAPI_EXTRA: dict[str, Any] = {"security": []}

M = TypeVar("M", bound=BaseModel)


def verification_code(code: str | None) -> str | None:
    """The code as the service compares it (trimmed, upper-cased), or None when it cannot be one."""
    value = (code or "").strip()
    if not value.isascii():  # "ß".upper() is "SS": only ASCII is upper-cased into the alphabet
        return None
    value = value.upper()
    return value if CODE_RE.fullmatch(value) else None


def code_description(where_vi: str, where_en: str) -> str:
    return (
        f"Mã xác thực {where_vi}: {CODE_LENGTH} ký tự `{CODE_ALPHABET}`, không phân biệt hoa thường; thiếu "
        f"hoặc sai: 404 / the verification code {where_en}: {CODE_LENGTH} characters of `{CODE_ALPHABET}`, "
        "case-insensitive; missing or wrong: 404"
    )


def responses() -> dict[int | str, dict[str, Any]]:
    """The documented answers: the model as JSON or an HTML page, and the one 404 (problem+json or HTML;
    ``gateway.openapi`` adds the common ones, without 401)."""
    return {
        200: {
            "description": "Kết quả xác thực / the verification",
            "content": {pages.HTML_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        404: {
            "description": "Không tìm thấy / not found",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
        },
    }


async def answer(
    request: Request,
    document: pages.Document,
    verify: Callable[[], Awaitable[M]],
    page: Callable[[M, dict[str, str]], HTMLResponse],
) -> Response:
    """Rate limit, then ``verify`` (shape checks and the public call), then JSON or the page."""
    wants_json = pages.prefers_json(request.headers.get("accept"))
    headers = {"Vary": "Accept"}
    try:
        limit_public(request)
        result = await verify()
    except ProblemError as problem:
        if wants_json:
            problem.headers = {**headers, **problem.headers}
            raise
        return pages.error_page(problem, headers, document)
    if wants_json:
        return JSONResponse(result.model_dump(mode="json"), headers=headers)
    return page(result, headers)

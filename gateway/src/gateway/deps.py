"""Request dependencies, in the order a route declares them: the caller (token verified, rate limited),
path ids, the idempotency key, the backends."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from school_common.auth import TokenVerifier
from school_common.context import Principal
from school_common.errors import DomainError, bilingual

from gateway.clients import Backends
from gateway.problems import ProblemError, from_domain_error
from gateway.ratelimit import TokenBucketLimiter, retry_after
from gateway.schemas import EXAMPLE_CLASS_ID, EXAMPLE_SCHOOL_ID, UUID_RE

BEARER_DESCRIPTION = (
    "Mã truy cập OpenID Connect (JWT) do realm Keycloak của đơn vị cấp: "
    "`<issuer>/realms/tenant-<đơn vị>`; đơn vị (tenant) của yêu cầu là realm đã cấp mã. / "
    "OpenID Connect access token (JWT) issued by the tenant's Keycloak realm "
    "`<issuer>/realms/tenant-<tenant>`, audience `school-api`; the tenant of a request is the realm "
    "that issued its token."
)

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="bearerAuth", bearerFormat="JWT", description=BEARER_DESCRIPTION
)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify(credentials.credentials if credentials else "")
    except DomainError as error:
        raise from_domain_error(error) from None
    limiter: TokenBucketLimiter | None = request.app.state.caller_limiter
    if limiter is not None:
        wait = limiter.acquire((principal.tenant, principal.subject))
        if wait > 0:
            raise ProblemError(
                429,
                "RATE_LIMITED",
                bilingual("Quá nhiều yêu cầu, vui lòng thử lại sau", "too many requests, retry later"),
                headers={"Retry-After": retry_after(wait)},
            )
    return principal


Caller = Annotated[Principal, Depends(authenticate)]


def _backends(request: Request) -> Backends:
    backends: Backends = request.app.state.backends
    return backends


BackendsDep = Annotated[Backends, Depends(_backends)]


def _path_id(value: str, reason: str, vi: str, en: str) -> str:
    # A malformed id answers exactly like an id that does not exist, so probing learns nothing.
    if not UUID_RE.match(value):
        raise ProblemError(404, reason, bilingual(vi, en))
    return value.lower()


def _school_id(
    school_id: Annotated[
        str,
        Path(
            description="Mã trường (UUID) / school id",
            examples=[EXAMPLE_SCHOOL_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    return _path_id(school_id, "SCHOOL_NOT_FOUND", "Không tìm thấy trường", "school not found")


def _class_id(
    class_id: Annotated[
        str,
        Path(
            description="Mã lớp (UUID) / class id",
            examples=[EXAMPLE_CLASS_ID],
            json_schema_extra={"format": "uuid"},
        ),
    ],
) -> str:
    return _path_id(class_id, "CLASS_NOT_FOUND", "Không tìm thấy lớp", "class not found")


SchoolId = Annotated[str, Depends(_school_id)]
ClassId = Annotated[str, Depends(_class_id)]

# As school_common.idempotency (not imported: it pulls in the database stack); services check again.
IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")

IDEMPOTENCY_DESCRIPTION = (
    "Khóa idempotency (1–255 ký tự ASCII in được). Gửi lại cùng khóa với cùng nội dung nhận lại đúng "
    "kết quả lần đầu; cùng khóa với nội dung khác bị từ chối (422); yêu cầu trùng đang xử lý nhận 409. / "
    "Idempotency key (1-255 printable ASCII characters). Retrying with the same key and body returns the "
    "first response; the same key with a different body is refused (422); a concurrent duplicate gets 409."
)


def _idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description=IDEMPOTENCY_DESCRIPTION,
            examples=["3f1c9a52-6a0e-4d8b-9c77-0b1d2e3f4a5b"],
        ),
    ] = None,
) -> str:
    if idempotency_key is None:
        return ""
    if not IDEMPOTENCY_KEY_RE.fullmatch(idempotency_key):
        message = bilingual(
            "Khóa idempotency phải gồm 1–255 ký tự ASCII in được",
            "idempotency key must be 1-255 printable ASCII characters",
        )
        raise ProblemError(
            422, "INVALID_IDEMPOTENCY_KEY", message, errors=[{"field": "Idempotency-Key", "message": message}]
        )
    return idempotency_key


IdempotencyKey = Annotated[str, Depends(_idempotency_key)]

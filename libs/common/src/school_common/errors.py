"""Domain errors: raised by use cases, mapped once to gRPC status + google.rpc.ErrorInfo.

A use case raises ``NotFound("CLASS_NOT_FOUND", "...")``; the server interceptor turns it into
``NOT_FOUND`` with ``ErrorInfo{reason: CLASS_NOT_FOUND, domain: <service>}``; the gateway turns that into
problem+json with the matching HTTP status. Messages are Vietnamese first, English second.
"""

from __future__ import annotations

import grpc


class DomainError(Exception):
    code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, reason: str, message: str, metadata: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})


class InvalidArgument(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(DomainError):
    """A concurrent request holds the same resource (e.g. the same idempotency key); retry later."""

    code = grpc.StatusCode.ABORTED


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED


class Internal(DomainError):
    """A bug: the caller learns nothing more than that it was ours."""

    code = grpc.StatusCode.INTERNAL


class Unavailable(DomainError):
    """A dependency (database, broker) is down: nothing was written; the caller may retry."""

    code = grpc.StatusCode.UNAVAILABLE


def bilingual(vi: str, en: str) -> str:
    return f"{vi} / {en}"


def missing_token() -> Unauthenticated:
    return Unauthenticated("MISSING_TOKEN", bilingual("Thiếu mã truy cập", "missing bearer token"))

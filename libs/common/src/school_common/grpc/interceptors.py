"""Server interceptors: deadlines, authentication and tenant, domain errors → status.

grpc.aio interceptors cannot set context variables for the handler, so each interceptor wraps the
handler's behaviour instead; the wrapped behaviour runs in the handler's own task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from school_common.auth import TokenVerifier, bearer_token
from school_common.context import set_principal
from school_common.errors import DomainError, Unavailable, bilingual
from school_common.grpc.status import abort_with_domain_error

log = logging.getLogger(__name__)

Behaviour = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]

# Methods callable without a token: probes and reflection.
PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _wrap(handler: grpc.RpcMethodHandler | None, wrap: Callable[[Behaviour], Behaviour]) -> Any:
    if handler is None or not handler.unary_unary:
        return handler  # only unary RPCs exist in our contracts; streams pass through untouched
    return grpc.unary_unary_rpc_method_handler(
        wrap(handler.unary_unary),
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _metadata(details: grpc.HandlerCallDetails) -> dict[str, str]:
    return {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError | ConnectionError | OSError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class ServerInterceptor(grpc.aio.ServerInterceptor):
    """One interceptor doing, in order: deadline, authentication, error mapping."""

    def __init__(
        self, verifier: TokenVerifier | None, domain: str, default_deadline_s: float, max_deadline_s: float
    ):
        self.verifier = verifier
        self.domain = domain
        self.default_deadline_s = default_deadline_s
        self.max_deadline_s = max_deadline_s

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if method.startswith(PUBLIC_PREFIXES):
            return handler
        metadata = _metadata(handler_call_details)

        def wrap(behaviour: Behaviour) -> Behaviour:
            async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
                remaining = context.time_remaining()
                if remaining is not None and remaining <= 0:
                    await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline already exceeded")
                budget = min(
                    remaining if remaining is not None else self.default_deadline_s, self.max_deadline_s
                )
                try:
                    async with asyncio.timeout(budget):
                        if self.verifier is not None:
                            principal = await self.verifier.verify(
                                bearer_token(metadata.get("authorization"))
                            )
                            set_principal(principal)
                        return await behaviour(request, context)
                except DomainError as error:
                    await abort_with_domain_error(context, error, self.domain)
                except TimeoutError:
                    await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
                except Exception as exc:
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    if _is_unavailable(exc):
                        log.warning(
                            "dependency unavailable", extra={"method": method, "error": type(exc).__name__}
                        )
                        await abort_with_domain_error(
                            context,
                            Unavailable(
                                "DEPENDENCY_UNAVAILABLE",
                                bilingual(
                                    "Hệ thống tạm thời không phục vụ được, vui lòng thử lại",
                                    "service temporarily unavailable, please retry",
                                ),
                            ),
                            self.domain,
                        )
                    raise
                finally:
                    set_principal(None)

            return wrapped

        return _wrap(handler, wrap)

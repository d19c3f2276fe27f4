"""Server interceptors: deadlines, authentication and tenant, domain errors → status.

grpc.aio interceptors cannot set context variables for the handler, so each interceptor wraps the
handler's behaviour instead; the wrapped behaviour runs in the handler's own task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc

from school_common.auth import TokenVerifier, bearer_token
from school_common.context import set_principal
from school_common.errors import DomainError, Internal, bilingual
from school_common.failures import classify
from school_common.grpc.status import abort_with_domain_error

log = logging.getLogger(__name__)

Behaviour = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]

# Methods callable without a token: probes and reflection.
PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _wrap(handler: grpc.RpcMethodHandler | None, wrap: Callable[[Behaviour], Behaviour]) -> Any:
    if handler is None or not handler.unary_unary:
        # Only unary RPCs exist in our contracts. A streaming one would escape authentication here, so it
        # is refused (UNIMPLEMENTED) until this interceptor learns to wrap it: fail closed.
        return None
    return grpc.unary_unary_rpc_method_handler(
        wrap(handler.unary_unary),
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _metadata(details: grpc.HandlerCallDetails) -> dict[str, str]:
    return {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}


class ServerInterceptor(grpc.aio.ServerInterceptor):
    """One interceptor doing, in order: deadline, authentication, error mapping."""

    def __init__(
        self,
        verifier: TokenVerifier | None,
        domain: str,
        default_deadline_s: float,
        max_deadline_s: float,
        public_methods: Iterable[str] = (),
    ):
        self.verifier = verifier
        #: Full method names ("/package.Service/Method") a service declares public: deadline and error
        #: mapping apply, the token is not asked for and no principal is set.
        self.public_methods = frozenset(public_methods)
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
        verifier = None if method in self.public_methods else self.verifier

        def wrap(behaviour: Behaviour) -> Behaviour:
            async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
                remaining = context.time_remaining()
                if remaining is not None and remaining <= 0:
                    await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline already exceeded")
                budget = min(
                    remaining if remaining is not None else self.default_deadline_s, self.max_deadline_s
                )
                deadline = asyncio.timeout(budget)
                try:
                    async with deadline:
                        if verifier is not None:
                            principal = await verifier.verify(bearer_token(metadata.get("authorization")))
                            set_principal(principal)
                        return await behaviour(request, context)
                except grpc.aio.AbortError:
                    raise
                except DomainError as error:
                    await abort_with_domain_error(context, error, self.domain)
                except TimeoutError as exc:
                    if deadline.expired():
                        await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
                    await self._abort_for(context, exc, method)
                except Exception as exc:
                    await self._abort_for(context, exc, method)
                finally:
                    set_principal(None)

            return wrapped

        return _wrap(handler, wrap)

    async def _abort_for(self, context: grpc.aio.ServicerContext, exc: BaseException, method: str) -> None:
        """Infrastructure failures get their status; anything else is INTERNAL with a generic message.
        Only the exception's type is logged: its text may hold SQL parameters, i.e. personal data."""
        mapped = classify(exc)
        if mapped is not None:
            log.warning(
                "request failed",
                extra={"method": method, "error": type(exc).__name__, "reason": mapped.reason},
            )
            await abort_with_domain_error(context, mapped, self.domain)
        log.error("unexpected error", extra={"method": method, "error": type(exc).__name__})
        await abort_with_domain_error(
            context,
            Internal(
                "INTERNAL",
                bilingual("Lỗi hệ thống, vui lòng thử lại sau", "internal error, please retry later"),
            ),
            self.domain,
        )

"""The gateway's share of the platform's one access decision (``school_common.access``).

For routes whose resource the gateway can name from the path alone (a school, the tenant), it fetches the
caller's scope from identity (``GetAccessScope`` with the caller's own token, cached briefly by
:class:`~school_common.access.ScopeResolver`) and calls :func:`~school_common.access.authorize` before
forwarding: a refused caller never reaches the service. Routes on a class or a student forward and let
the owning service decide, since only it knows which school the class or the student belongs to.
"""

from __future__ import annotations

import logging

import grpc
from school.identity.v1 import identity_pb2_grpc
from school_common.access import (
    Action,
    Resource,
    Scope,
    ScopeResolver,
    decide,
    denial,
    identity_scope_fetcher,
)
from school_common.context import Principal
from school_common.errors import DomainError, Unavailable, bilingual

from gateway.clients import Backends
from gateway.problems import ProblemError, from_domain_error, from_rpc_error
from gateway.settings import AccessSettings

log = logging.getLogger(__name__)

GET_ACCESS_SCOPE = "/school.identity.v1.IdentityService/GetAccessScope"

# identity not answering (down, or too slow): the decision cannot be made, so nothing is forwarded.
_UNAVAILABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


def identity_unavailable() -> ProblemError:
    return ProblemError(
        503,
        "IDENTITY_UNAVAILABLE",
        bilingual(
            "Chưa kiểm tra được quyền truy cập lúc này, vui lòng thử lại",
            "cannot check access right now, please retry",
        ),
        headers={"Retry-After": "2"},
    )


class EdgeAccess:
    def __init__(self, backends: Backends, settings: AccessSettings) -> None:
        channel = backends.channels.get("identity")
        self._resolver = (
            ScopeResolver(
                identity_scope_fetcher(identity_pb2_grpc.IdentityServiceStub(channel), backends.deadline_s),
                ttl_s=settings.scope_cache_s,
                max_entries=settings.scope_cache_max_entries,
            )
            if channel is not None
            else None
        )

    async def scope(self, principal: Principal) -> Scope:
        return await self._fetch(principal, fresh=False)

    async def _fetch(self, principal: Principal, *, fresh: bool) -> Scope:
        if self._resolver is None:
            raise ProblemError(
                503,
                "SERVICE_NOT_CONFIGURED",
                bilingual("Dịch vụ chưa được cấu hình", "service not configured"),
            )
        try:
            if fresh:
                refreshed = await self._resolver.refreshed(principal)
                return refreshed if refreshed is not None else await self._resolver.scope(principal)
            return await self._resolver.scope(principal)
        except Unavailable:  # identity_scope_fetcher's reading of an outage or a timeout
            log.warning("access scope unavailable")
            raise identity_unavailable() from None
        except DomainError as refused:  # identity refused the caller (their token)
            raise from_domain_error(refused) from None
        except grpc.aio.AioRpcError as error:
            if error.code() in _UNAVAILABLE:
                log.warning("access scope unavailable", extra={"grpc_code": error.code().name})
                raise identity_unavailable() from None
            raise from_rpc_error(error, GET_ACCESS_SCOPE) from None

    async def authorize(self, principal: Principal, action: Action, resource: Resource) -> None:
        """403 problem with the decision's reason (``NOT_YOUR_SCHOOL``…) unless the caller may. A refusal
        by a cached scope is checked once more against a fresh one (an assignment made seconds ago)."""
        decision = decide(await self.scope(principal), action, resource)
        if not decision:
            decision = decide(await self._fetch(principal, fresh=True), action, resource)
        if not decision:
            raise from_domain_error(denial(decision))

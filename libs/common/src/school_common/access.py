"""The one access decision of the platform: who may read, write or administer which resource.

A token says who the caller is and which roles they hold in their tenant; what those roles reach is held
by identity as assignments (teacher → class and subject, homeroom teacher → class, school admin / nurse /
accountant → school, authority admin → tenant, guardian → linked children, a verified person → their own
student record). Identity answers ``GetAccessScope`` with them; :class:`ScopeResolver` fetches and caches
that answer, and :func:`decide` is the pure rule that the gateway and every service apply to the resource
in hand. Handlers never test roles themselves: they describe the resource and call :func:`authorize`.

The decision is the same everywhere because it is this function; tests of it are the specification
(``libs/common/tests/unit/test_access.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from school_common.context import Principal
from school_common.errors import DomainError, PermissionDenied, Unauthenticated, Unavailable, bilingual

AUTHORITY_ADMIN = "authority_admin"
SCHOOL_ADMIN = "school_admin"
NURSE = "nurse"
ACCOUNTANT = "accountant"
TEACHER = "teacher"
HOMEROOM_TEACHER = "homeroom_teacher"
GUARDIAN = "guardian"
STUDENT = "student"
PARTNER = "partner"
PLATFORM_OPERATOR = "platform_operator"

#: Roles held at a school as a whole.
SCHOOL_ROLES = frozenset({SCHOOL_ADMIN, NURSE, ACCOUNTANT})
#: Roles held for a class.
CLASS_ROLES = frozenset({TEACHER, HOMEROOM_TEACHER})
STAFF_ROLES = SCHOOL_ROLES | CLASS_ROLES | {AUTHORITY_ADMIN}


class Action(StrEnum):
    #: See the resource and what it contains (a class list, a student's record).
    READ = "read"
    #: Record day-to-day facts on it (attendance, marks, a note).
    WRITE = "write"
    #: Change its shape: create classes, enrol students, assign staff, decide link requests.
    ADMIN = "admin"


ResourceKind = Literal["tenant", "school", "class", "student"]


@dataclass(frozen=True)
class Resource:
    """What a request touches, described by the service that owns it (it knows the school of a class)."""

    kind: ResourceKind
    id: str = ""
    school_id: str = ""
    #: For a student: the classes they are enrolled in.
    class_ids: frozenset[str] = frozenset()

    @staticmethod
    def tenant() -> Resource:
        return Resource("tenant")

    @staticmethod
    def school(school_id: str) -> Resource:
        return Resource("school", school_id, school_id)

    @staticmethod
    def klass(class_id: str, school_id: str) -> Resource:
        return Resource("class", class_id, school_id, frozenset({class_id}))

    @staticmethod
    def student(student_id: str, school_id: str, class_ids: Iterable[str] = ()) -> Resource:
        return Resource("student", student_id, school_id, frozenset(class_ids))


@dataclass(frozen=True)
class ClassGrant:
    school_id: str
    roles: frozenset[str]
    subjects: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Scope:
    """What one caller reaches in their tenant, as identity holds it."""

    subject: str
    roles: frozenset[str] = frozenset()
    tenant_wide: bool = False
    #: school id → school-level roles held there.
    schools: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: class id → the grant for that class.
    classes: Mapping[str, ClassGrant] = field(default_factory=dict)
    #: linked child's student id → their school id.
    children: Mapping[str, str] = field(default_factory=dict)
    #: the caller's own student records (their verified person is the student) → school id.
    own: Mapping[str, str] = field(default_factory=dict)

    def school_roles(self, school_id: str) -> frozenset[str]:
        return self.schools.get(school_id, frozenset())

    def teaches_in(self, school_id: str) -> bool:
        return any(grant.school_id == school_id for grant in self.classes.values())

    def visible_schools(self) -> frozenset[str] | None:
        """Schools the caller may see; ``None`` means every school of the tenant."""
        if self.tenant_wide:
            return None
        return (
            frozenset(self.schools)
            | {g.school_id for g in self.classes.values()}
            | set(self.children.values())
            | set(self.own.values())
        )

    def visible_classes(self, school_id: str) -> frozenset[str] | None:
        """Classes of a school the caller may see; ``None`` means all of them."""
        if self.tenant_wide or self.school_roles(school_id):
            return None
        return frozenset(cid for cid, g in self.classes.items() if g.school_id == school_id)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: Stable reason for a refusal (ErrorInfo.reason / problem+json reason); empty when allowed.
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)

_MESSAGES: dict[str, tuple[str, str]] = {
    "NOT_YOUR_SCHOOL": ("Bạn không làm việc tại trường này", "you have no assignment at this school"),
    "NOT_YOUR_CLASS": ("Bạn không phụ trách lớp này", "you do not teach this class"),
    "NOT_YOUR_CHILD": ("Đây không phải con em của bạn", "this student is not linked to you"),
    "NOT_YOUR_STUDENT": ("Bạn không phụ trách học sinh này", "this student is not in a class you teach"),
    "ADMIN_ROLE_REQUIRED": (
        "Chỉ quản trị viên mới được thực hiện thao tác này",
        "only an administrator may do this",
    ),
    "WRITE_NOT_ALLOWED": ("Bạn chỉ được xem, không được sửa", "you may read this but not change it"),
}


def decide(scope: Scope, action: Action, resource: Resource) -> Decision:
    """Whether ``scope`` may do ``action`` on ``resource``. Pure; the specification of access."""
    if scope.tenant_wide:
        return ALLOW
    if resource.kind == "tenant":
        # Tenant-wide administration (schools, staff of every school, the audit trail) is the authority's.
        return ALLOW if action is Action.READ else Decision(False, "ADMIN_ROLE_REQUIRED")

    school_roles = scope.school_roles(resource.school_id)
    if resource.kind == "school":
        if SCHOOL_ADMIN in school_roles:
            return ALLOW
        works_there = bool(school_roles) or scope.teaches_in(resource.school_id)
        family = resource.school_id in scope.children.values() or resource.school_id in scope.own.values()
        if action is Action.READ and (works_there or family):
            return ALLOW
        return Decision(False, "ADMIN_ROLE_REQUIRED" if works_there else "NOT_YOUR_SCHOOL")

    if SCHOOL_ADMIN in school_roles:
        return ALLOW
    grants = [scope.classes[c] for c in resource.class_ids if c in scope.classes]
    grants = [g for g in grants if g.school_id == resource.school_id]
    if resource.kind == "class":
        if action is Action.READ and school_roles:  # nurse, accountant: the classes of their school
            return ALLOW
        if not grants:
            return Decision(False, "NOT_YOUR_CLASS")
        if action is Action.ADMIN:
            return Decision(False, "ADMIN_ROLE_REQUIRED")
        return ALLOW

    # student
    # A linked child's record, or one's own (a student, or a former student, for life): read only.
    if resource.school_id in (scope.children.get(resource.id), scope.own.get(resource.id)):
        return ALLOW if action is Action.READ else Decision(False, "WRITE_NOT_ALLOWED")
    if action is Action.READ and school_roles:
        return ALLOW
    if grants:
        if action is Action.READ:
            return ALLOW
        if action is Action.WRITE and any(HOMEROOM_TEACHER in g.roles for g in grants):
            return ALLOW
        return Decision(False, "ADMIN_ROLE_REQUIRED" if action is Action.ADMIN else "WRITE_NOT_ALLOWED")
    if GUARDIAN in scope.roles and not (school_roles or scope.classes):
        return Decision(False, "NOT_YOUR_CHILD")
    return Decision(False, "NOT_YOUR_STUDENT")


def denial(decision: Decision) -> PermissionDenied:
    vi, en = _MESSAGES.get(decision.reason, ("Bạn không có quyền truy cập", "access denied"))
    return PermissionDenied(decision.reason or "ACCESS_DENIED", bilingual(vi, en))


def authorize(scope: Scope, action: Action, resource: Resource) -> None:
    """Raise PERMISSION_DENIED with the decision's reason unless ``scope`` may do ``action``."""
    decision = decide(scope, action, resource)
    if not decision:
        raise denial(decision)


# ---------------------------------------------------------------- fetching scopes from identity


def scope_from_response(response: Any, roles: frozenset[str]) -> Scope:
    """Build a :class:`Scope` from identity's ``GetAccessScopeResponse``."""
    schools: dict[str, set[str]] = {}
    for s in response.schools:
        schools.setdefault(s.school_id, set()).add(s.role)
    classes: dict[str, tuple[str, set[str], set[str]]] = {}
    for c in response.classes:
        _, class_roles, subjects = classes.setdefault(c.class_id, (c.school_id, set(), set()))
        class_roles.add(c.role)
        if c.subject:
            subjects.add(c.subject)
    return Scope(
        subject=response.subject,
        roles=roles,
        tenant_wide=response.tenant_wide,
        schools={k: frozenset(v) for k, v in schools.items()},
        classes={
            k: ClassGrant(school_id, frozenset(r), frozenset(subj))
            for k, (school_id, r, subj) in classes.items()
        },
        children={c.student_id: c.school_id for c in response.children},
        own={c.student_id: c.school_id for c in response.own_records},
    )


class ScopeResolver:
    """Fetches a caller's scope from identity with their own token, and caches it briefly.

    ``fetch(principal)`` returns identity's response (a ``GetAccessScopeResponse``). Entries live
    ``ttl_s`` seconds (a changed assignment reaches every service within that time) and at most
    ``max_entries`` are kept. Concurrent misses for one caller share a single call.
    """

    def __init__(
        self,
        fetch: Callable[[Principal], Awaitable[Any]],
        *,
        ttl_s: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str, frozenset[str]], tuple[float, Scope]] = OrderedDict()
        self._inflight: dict[tuple[str, str, frozenset[str]], asyncio.Future[Scope]] = {}
        self._refreshed_at: dict[tuple[str, str, frozenset[str]], float] = {}

    async def scope(self, principal: Principal) -> Scope:
        key = (principal.tenant, principal.subject, principal.roles)
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            self._entries.move_to_end(key)
            return hit[1]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Scope] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            scope = scope_from_response(await self._fetch(principal), principal.roles)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waits
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(scope)
        self._entries[key] = (now, scope)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return scope

    def forget(self, principal: Principal) -> None:
        self._entries.pop((principal.tenant, principal.subject, principal.roles), None)

    async def refreshed(self, principal: Principal, every_s: float = 1.0) -> Scope | None:
        """A fresh scope, when a cached one refused: a link or an assignment made seconds ago must not
        wait for the cache to expire. At most one such refresh per caller every ``every_s`` (``None``
        meanwhile), so a caller knocking on doors that stay shut does not hammer identity."""
        key = (principal.tenant, principal.subject, principal.roles)
        now = self._clock()
        last = self._refreshed_at.get(key)
        if last is not None and now - last < every_s:
            return None
        self._refreshed_at[key] = now
        while len(self._refreshed_at) > self._max:
            self._refreshed_at.pop(next(iter(self._refreshed_at)))
        self.forget(principal)
        return await self.scope(principal)


IDENTITY_UNAVAILABLE = "IDENTITY_UNAVAILABLE"


def tenant_token_required() -> PermissionDenied:
    """A platform operator's token reaches no tenant data."""
    return PermissionDenied(
        "TENANT_TOKEN_REQUIRED",
        bilingual(
            "Thao tác này cần tài khoản của một đơn vị (Sở/Phòng GD&ĐT)",
            "this needs an account of a tenant, not a platform operator",
        ),
    )


def identity_unavailable() -> Unavailable:
    return Unavailable(
        IDENTITY_UNAVAILABLE,
        bilingual(
            "Dịch vụ định danh tạm thời không phản hồi, vui lòng thử lại",
            "the identity service is not answering, please retry",
        ),
    )


def caller_refusal(code: Any, reason: str, message: str) -> DomainError | None:
    """identity's refusal of the caller themselves (a bad token, no access), to be passed on as it is."""
    import grpc

    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied(reason or "ACCESS_DENIED", message)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated(reason or "INVALID_TOKEN", message)
    return None


def scope_error(error: Any) -> DomainError:
    """What a failed ``GetAccessScope`` means to the caller: identity's refusal, or identity unavailable."""
    from school_common.grpc.status import parse_rpc_error

    parsed = parse_rpc_error(error)
    return caller_refusal(parsed.code, parsed.reason, parsed.message) or identity_unavailable()


def identity_scope_fetcher(stub: Any, timeout_s: float = 5.0) -> Callable[[Principal], Awaitable[Any]]:
    """A ``fetch`` for :class:`ScopeResolver`: ``IdentityService.GetAccessScope`` on ``stub`` with the
    caller's token; failures become domain errors (:func:`scope_error`)."""
    import grpc
    from school.identity.v1 import identity_pb2

    from school_common.grpc.client import auth_metadata

    async def fetch(principal: Principal) -> Any:
        try:
            return await stub.GetAccessScope(
                identity_pb2.GetAccessScopeRequest(),
                metadata=auth_metadata(principal.token),
                timeout=timeout_s,
            )
        except grpc.RpcError as exc:
            raise scope_error(exc) from None

    return fetch


@dataclass
class Caller:
    """The verified caller of this request and what they reach."""

    principal: Principal
    scope: Scope
    resolver: ScopeResolver | None = None

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    async def authorize(self, action: Action, resource: Resource) -> None:
        """PERMISSION_DENIED unless the caller may. A refusal by a cached scope is checked once more
        against a fresh one, so access granted seconds ago (a link approved) works at once."""
        decision = decide(self.scope, action, resource)
        if not decision and self.resolver is not None:
            fresh = await self.resolver.refreshed(self.principal)
            if fresh is not None:
                self.scope = fresh
                decision = decide(fresh, action, resource)
        if not decision:
            raise denial(decision)


class Callers:
    """The current caller and their scope, for a service's use cases (``await callers.current()``)."""

    def __init__(self, resolver: ScopeResolver) -> None:
        self.resolver = resolver

    async def current(self) -> Caller:
        from school_common.context import current_principal
        from school_common.errors import missing_token

        principal = current_principal()
        if principal is None:
            raise missing_token()
        if principal.is_platform:
            raise tenant_token_required()
        return Caller(principal, await self.resolver.scope(principal), self.resolver)

"""The access decision is the specification of who may do what: one row per rule."""

from __future__ import annotations

import pytest
from school.identity.v1 import identity_pb2 as pb
from school_common.access import (
    Action,
    ClassGrant,
    Resource,
    Scope,
    ScopeResolver,
    authorize,
    decide,
    scope_from_response,
)
from school_common.context import Principal
from school_common.errors import PermissionDenied

SCHOOL_A, SCHOOL_B = "school-a", "school-b"
CLASS_A1, CLASS_A2, CLASS_B1 = "class-a1", "class-a2", "class-b1"
CHILD, OTHER_CHILD = "student-1", "student-2"

AUTHORITY = Scope("u-auth", frozenset({"authority_admin"}), tenant_wide=True)
SCHOOL_ADMIN_A = Scope("u-sa", frozenset({"school_admin"}), schools={SCHOOL_A: frozenset({"school_admin"})})
NURSE_A = Scope("u-nurse", frozenset({"nurse"}), schools={SCHOOL_A: frozenset({"nurse"})})
MATHS_A1 = ClassGrant(SCHOOL_A, frozenset({"teacher"}), frozenset({"Toán"}))
TEACHER_A1 = Scope("u-t", frozenset({"teacher"}), classes={CLASS_A1: MATHS_A1})
HOMEROOM_A1 = Scope(
    "u-h",
    frozenset({"teacher", "homeroom_teacher"}),
    classes={CLASS_A1: ClassGrant(SCHOOL_A, frozenset({"homeroom_teacher"}))},
)
GUARDIAN = Scope("u-g", frozenset({"guardian"}), children={CHILD: SCHOOL_A})
NOBODY = Scope("u-x", frozenset({"teacher"}))
# A (former) student signed in with their verified identity: their own record, whatever their token's role.
FORMER_STUDENT = Scope("u-s", frozenset({"guardian"}), own={CHILD: SCHOOL_A})


@pytest.mark.parametrize(
    ("scope", "action", "resource", "reason"),
    [
        # authority admin: everything in the tenant
        (AUTHORITY, Action.ADMIN, Resource.tenant(), ""),
        (AUTHORITY, Action.ADMIN, Resource.school(SCHOOL_B), ""),
        (AUTHORITY, Action.READ, Resource.klass(CLASS_B1, SCHOOL_B), ""),
        # school admin: their school only
        (SCHOOL_ADMIN_A, Action.ADMIN, Resource.school(SCHOOL_A), ""),
        (SCHOOL_ADMIN_A, Action.ADMIN, Resource.klass(CLASS_A2, SCHOOL_A), ""),
        (SCHOOL_ADMIN_A, Action.READ, Resource.school(SCHOOL_B), "NOT_YOUR_SCHOOL"),
        (SCHOOL_ADMIN_A, Action.READ, Resource.klass(CLASS_B1, SCHOOL_B), "NOT_YOUR_CLASS"),
        (SCHOOL_ADMIN_A, Action.ADMIN, Resource.tenant(), "ADMIN_ROLE_REQUIRED"),
        # nurse: reads the school's classes and students, changes nothing there
        (NURSE_A, Action.READ, Resource.klass(CLASS_A2, SCHOOL_A), ""),
        (NURSE_A, Action.READ, Resource.student(CHILD, SCHOOL_A, [CLASS_A2]), ""),
        (NURSE_A, Action.ADMIN, Resource.school(SCHOOL_A), "ADMIN_ROLE_REQUIRED"),
        (NURSE_A, Action.READ, Resource.klass(CLASS_B1, SCHOOL_B), "NOT_YOUR_CLASS"),
        # teacher: their classes only
        (TEACHER_A1, Action.READ, Resource.klass(CLASS_A1, SCHOOL_A), ""),
        (TEACHER_A1, Action.WRITE, Resource.klass(CLASS_A1, SCHOOL_A), ""),
        (TEACHER_A1, Action.READ, Resource.klass(CLASS_A2, SCHOOL_A), "NOT_YOUR_CLASS"),
        (TEACHER_A1, Action.ADMIN, Resource.klass(CLASS_A1, SCHOOL_A), "ADMIN_ROLE_REQUIRED"),
        (TEACHER_A1, Action.READ, Resource.school(SCHOOL_A), ""),
        (TEACHER_A1, Action.ADMIN, Resource.school(SCHOOL_A), "ADMIN_ROLE_REQUIRED"),
        (TEACHER_A1, Action.READ, Resource.school(SCHOOL_B), "NOT_YOUR_SCHOOL"),
        (TEACHER_A1, Action.READ, Resource.student(CHILD, SCHOOL_A, [CLASS_A1]), ""),
        (TEACHER_A1, Action.WRITE, Resource.student(CHILD, SCHOOL_A, [CLASS_A1]), "WRITE_NOT_ALLOWED"),
        (TEACHER_A1, Action.READ, Resource.student(CHILD, SCHOOL_A, [CLASS_A2]), "NOT_YOUR_STUDENT"),
        # a class id that names another school's class is not theirs (forged resource)
        (TEACHER_A1, Action.READ, Resource.klass(CLASS_A1, SCHOOL_B), "NOT_YOUR_CLASS"),
        # homeroom teacher: writes their students' records
        (HOMEROOM_A1, Action.WRITE, Resource.student(CHILD, SCHOOL_A, [CLASS_A1]), ""),
        # guardian: reads their own children, nothing else
        (GUARDIAN, Action.READ, Resource.student(CHILD, SCHOOL_A, [CLASS_A1]), ""),
        (GUARDIAN, Action.WRITE, Resource.student(CHILD, SCHOOL_A, [CLASS_A1]), "WRITE_NOT_ALLOWED"),
        (GUARDIAN, Action.READ, Resource.student(OTHER_CHILD, SCHOOL_A, [CLASS_A1]), "NOT_YOUR_CHILD"),
        (GUARDIAN, Action.READ, Resource.klass(CLASS_A1, SCHOOL_A), "NOT_YOUR_CLASS"),
        (GUARDIAN, Action.READ, Resource.school(SCHOOL_A), ""),
        (GUARDIAN, Action.READ, Resource.school(SCHOOL_B), "NOT_YOUR_SCHOOL"),
        # one's own record: read for life, never written; another student's is not theirs
        (FORMER_STUDENT, Action.READ, Resource.student(CHILD, SCHOOL_A, []), ""),
        (FORMER_STUDENT, Action.WRITE, Resource.student(CHILD, SCHOOL_A, []), "WRITE_NOT_ALLOWED"),
        (FORMER_STUDENT, Action.READ, Resource.student(CHILD, SCHOOL_B, []), "NOT_YOUR_CHILD"),
        (FORMER_STUDENT, Action.READ, Resource.student(OTHER_CHILD, SCHOOL_A, []), "NOT_YOUR_CHILD"),
        (FORMER_STUDENT, Action.READ, Resource.school(SCHOOL_A), ""),
        # a role without assignments reaches nothing
        (NOBODY, Action.READ, Resource.klass(CLASS_A1, SCHOOL_A), "NOT_YOUR_CLASS"),
        (NOBODY, Action.READ, Resource.tenant(), ""),
    ],
)
def test_decision(scope: Scope, action: Action, resource: Resource, reason: str) -> None:
    decision = decide(scope, action, resource)
    assert decision.allowed is (reason == "")
    assert decision.reason == reason


def test_authorize_raises_permission_denied_with_the_reason_in_both_languages() -> None:
    with pytest.raises(PermissionDenied) as caught:
        authorize(TEACHER_A1, Action.READ, Resource.klass(CLASS_A2, SCHOOL_A))
    assert caught.value.reason == "NOT_YOUR_CLASS"
    assert " / " in caught.value.message


def test_visible_schools_and_classes() -> None:
    assert AUTHORITY.visible_schools() is None
    assert TEACHER_A1.visible_schools() == {SCHOOL_A}
    assert GUARDIAN.visible_schools() == {SCHOOL_A}
    assert FORMER_STUDENT.visible_schools() == {SCHOOL_A}
    assert SCHOOL_ADMIN_A.visible_classes(SCHOOL_A) is None
    assert TEACHER_A1.visible_classes(SCHOOL_A) == {CLASS_A1}
    assert TEACHER_A1.visible_classes(SCHOOL_B) == frozenset()


def test_scope_from_identity_answer() -> None:
    response = pb.GetAccessScopeResponse(
        subject="u",
        schools=[pb.ScopedSchool(school_id=SCHOOL_A, role="nurse")],
        classes=[
            pb.ScopedClass(class_id=CLASS_A1, school_id=SCHOOL_A, role="teacher", subject="Toán"),
            pb.ScopedClass(class_id=CLASS_A1, school_id=SCHOOL_A, role="homeroom_teacher"),
        ],
        children=[pb.ScopedChild(student_id=CHILD, school_id=SCHOOL_B)],
        own_records=[pb.ScopedChild(student_id=OTHER_CHILD, school_id=SCHOOL_A)],
    )
    scope = scope_from_response(response, frozenset({"teacher"}))
    assert scope.own == {OTHER_CHILD: SCHOOL_A}
    assert scope.schools == {SCHOOL_A: {"nurse"}}
    both = frozenset({"teacher", "homeroom_teacher"})
    assert scope.classes[CLASS_A1] == ClassGrant(SCHOOL_A, both, frozenset({"Toán"}))
    assert scope.children == {CHILD: SCHOOL_B}


async def test_resolver_caches_per_caller_and_shares_concurrent_misses() -> None:
    import asyncio

    calls: list[str] = []
    now = [0.0]

    async def fetch(principal: Principal) -> pb.GetAccessScopeResponse:
        calls.append(principal.subject)
        await asyncio.sleep(0.01)
        return pb.GetAccessScopeResponse(subject=principal.subject, tenant_wide=principal.subject == "a")

    resolver = ScopeResolver(fetch, ttl_s=30, max_entries=2, clock=lambda: now[0])
    a = Principal(tenant="t", subject="a", roles=frozenset({"authority_admin"}))
    b = Principal(tenant="t", subject="b")
    first, second = await asyncio.gather(resolver.scope(a), resolver.scope(a))
    assert first.tenant_wide
    assert second.tenant_wide
    assert calls == ["a"]
    await resolver.scope(b)
    assert calls == ["a", "b"]
    now[0] = 31.0  # expired
    await resolver.scope(a)
    assert calls == ["a", "b", "a"]
    # bounded: a third caller evicts the least recently used
    await resolver.scope(Principal(tenant="t", subject="c"))
    await resolver.scope(b)
    assert calls[-1] == "b"


async def test_resolver_does_not_cache_failures() -> None:
    attempts = 0

    async def fetch(principal: Principal) -> pb.GetAccessScopeResponse:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("identity down")
        return pb.GetAccessScopeResponse(subject=principal.subject)

    resolver = ScopeResolver(fetch)
    p = Principal(tenant="t", subject="s")
    with pytest.raises(RuntimeError):
        await resolver.scope(p)
    assert (await resolver.scope(p)).subject == "s"
    assert attempts == 2


async def test_a_refusal_by_a_cached_scope_is_checked_against_a_fresh_one() -> None:
    from school_common.access import Callers
    from school_common.context import set_principal

    now = [0.0]
    linked: list[str] = []

    async def fetch(principal: Principal) -> pb.GetAccessScopeResponse:
        return pb.GetAccessScopeResponse(
            subject=principal.subject,
            children=[pb.ScopedChild(student_id=s, school_id=SCHOOL_A) for s in linked],
        )

    callers = Callers(ScopeResolver(fetch, ttl_s=30, clock=lambda: now[0]))
    set_principal(Principal(tenant="t", subject="parent", roles=frozenset({"guardian"})))
    try:
        caller = await callers.current()
        child = Resource.student(CHILD, SCHOOL_A, [CLASS_A1])
        with pytest.raises(PermissionDenied):  # refused, and refused again by a fresh scope
            await caller.authorize(Action.READ, child)
        linked.append(CHILD)  # the school approves the link
        with pytest.raises(PermissionDenied):  # a refusal was re-checked a moment ago: not asked again
            await caller.authorize(Action.READ, child)
        now[0] = 2.0  # well within the cache's 30 s, yet the new link counts
        await caller.authorize(Action.READ, child)
        await (await callers.current()).authorize(Action.READ, child)  # and the cache holds it now
    finally:
        set_principal(None)


async def test_a_young_cache_entry_still_gets_a_fresh_look_on_a_refusal() -> None:
    from school_common.access import Callers
    from school_common.context import set_principal

    linked: list[str] = []
    fetches = 0

    async def fetch(principal: Principal) -> pb.GetAccessScopeResponse:
        nonlocal fetches
        fetches += 1
        return pb.GetAccessScopeResponse(
            subject=principal.subject,
            children=[pb.ScopedChild(student_id=s, school_id=SCHOOL_A) for s in linked],
        )

    callers = Callers(ScopeResolver(fetch, ttl_s=30, clock=lambda: 0.0))
    set_principal(Principal(tenant="t", subject="parent", roles=frozenset({"guardian"})))
    try:
        caller = await callers.current()  # cached just now
        linked.append(CHILD)
        await caller.authorize(Action.READ, Resource.student(CHILD, SCHOOL_A))
        assert fetches == 2
    finally:
        set_principal(None)

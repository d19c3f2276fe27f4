"""Who may do what in student-record: the caller's scope from identity and the platform's one decision.

Use cases load the resource they act on, describe it (``Resource.klass(id, school_id)``) and call
``await caller.authorize(action, resource)`` (``school_common.access.Caller``); they never test roles.
What a caller reaches is identity's answer to ``GetAccessScope`` (cached briefly), so a school admin
reaches their school, a teacher their classes and a guardian their children. What is left here are the
rules of this service's data: who sees guardians' contacts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from school_common.access import HOMEROOM_TEACHER, Scope
from school_common.ids import parse_uuid


def sees_guardian_contacts(scope: Scope, school_id: str, class_ids: Iterable[str]) -> bool:
    """Minimal data: guardians' phones and person ids go to the school's staff (school admin, nurse,
    accountant), the authority and the homeroom teachers of the student's class; everyone else who may
    read the student (a subject teacher, a guardian) sees the guardians' names and relationships only."""
    if scope.tenant_wide or scope.school_roles(school_id):
        return True
    grants = (scope.classes.get(class_id) for class_id in class_ids)
    return any(g is not None and g.school_id == school_id and HOMEROOM_TEACHER in g.roles for g in grants)


def sees_unpublished_results(scope: Scope, school_id: str, class_id: str) -> bool:
    """A term's overall results (learning, conduct, promotion, award) reach a family once the school has
    published them; the school's staff, the authority and the class's teachers see them as they are."""
    if scope.tenant_wide or scope.school_roles(school_id):
        return True
    grant = scope.classes.get(class_id)
    return grant is not None and grant.school_id == school_id


def as_uuids(ids: Iterable[str] | None) -> set[uuid.UUID] | None:
    """Visible ids from a scope as UUIDs (``None``, i.e. everything, stays ``None``)."""
    if ids is None:
        return None
    return {u for u in (parse_uuid(i) for i in ids) if u is not None}

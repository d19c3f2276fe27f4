"""Who may do what in student-record (role level; school-scoped roles arrive with the identity issue)."""

from __future__ import annotations

from school_common.context import Principal, require_role

MANAGE_SCHOOLS = frozenset({"authority_admin"})
MANAGE_CLASSES = frozenset({"authority_admin", "school_admin"})
READ_RECORDS = frozenset({"authority_admin", "school_admin", "teacher", "homeroom_teacher"})


def require(roles: frozenset[str]) -> Principal:
    return require_role(roles)

"""Who may do what in student-record (role level; school-scoped roles arrive with the identity issue)."""

from __future__ import annotations

from school_common.context import Principal, current_principal
from school_common.errors import PermissionDenied, Unauthenticated, bilingual

MANAGE_SCHOOLS = frozenset({"authority_admin"})
MANAGE_CLASSES = frozenset({"authority_admin", "school_admin"})
READ_RECORDS = frozenset({"authority_admin", "school_admin", "teacher", "homeroom_teacher"})


def require(roles: frozenset[str]) -> Principal:
    principal = current_principal()
    if principal is None:
        raise Unauthenticated("MISSING_TOKEN", bilingual("Thiếu mã truy cập", "missing bearer token"))
    if not principal.has_any(*roles):
        raise PermissionDenied(
            "ROLE_REQUIRED",
            bilingual("Bạn không có quyền thực hiện thao tác này", "you are not allowed to do this"),
            {"roles": ",".join(sorted(roles))},
        )
    return principal

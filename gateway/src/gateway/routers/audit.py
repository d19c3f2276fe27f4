"""The tenant's audit trail (identity service): a page at a time as JSON, or all of it as CSV.

Administering the tenant (authority admin) is checked at the edge before anything is fetched.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, Field
from school.identity.v1 import identity_pb2 as idn
from school_common.access import Action, Resource
from school_common.context import Principal
from school_common.errors import bilingual
from starlette.responses import StreamingResponse

from gateway import mappers, schemas
from gateway.clients import Backends
from gateway.deps import AccessDep, BackendsDep, Caller, PageSize, PageToken
from gateway.problems import ProblemError, problem_docs

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/audit-events", tags=["audit"])

ActionName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
#: Excel reads a UTF-8 CSV as UTF-8 (Vietnamese intact) only when it starts with a byte order mark.
BOM = "\ufeff".encode()
CSV_COLUMNS = ("id", "occurred_at", "source", "action", "actor", "target", "outcome", "details")
EXPORT_PAGE_SIZE = 200
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): it is exported as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportAborted(Exception):
    """A page failed after the CSV started: the transfer is aborted, never ended as if complete."""


@dataclass(frozen=True)
class AuditFilter:
    actions: list[str]
    actor: str
    since: datetime | None
    until: datetime | None


def _filter(
    action: Annotated[
        list[ActionName] | None,
        Query(
            max_length=20,
            description="Chỉ các hành động này (lặp lại để chọn nhiều) / only these actions (repeat it for "
            "more)",
            examples=[["LOGIN", "LOGIN_ERROR"]],
        ),
    ] = None,
    actor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Chỉ tài khoản này (subject Keycloak) / only this account (Keycloak subject)",
            examples=[schemas.EXAMPLE_SUBJECT],
        ),
    ] = None,
    since: Annotated[
        AwareDatetime | None,
        Query(
            description="Từ thời điểm này (RFC 3339, có múi giờ) / from this instant (RFC 3339, with a time "
            "zone)",
            examples=["2025-11-01T00:00:00+07:00"],
        ),
    ] = None,
    until: Annotated[
        AwareDatetime | None,
        Query(
            description="Trước thời điểm này (RFC 3339, có múi giờ) / before this instant (RFC 3339, with a "
            "time zone)",
            examples=["2025-12-01T00:00:00+07:00"],
        ),
    ] = None,
) -> AuditFilter:
    if since is not None and until is not None and until < since:
        message = bilingual("`until` phải sau `since`", "`until` must not be before `since`")
        raise ProblemError(422, "INVALID_ARGUMENT", message, errors=[{"field": "until", "message": message}])
    return AuditFilter(actions=list(action or []), actor=actor or "", since=since, until=until)


Filter = Annotated[AuditFilter, Depends(_filter)]


def _request(f: AuditFilter, page_size: int | None, page_token: str | None) -> idn.ListAuditEventsRequest:
    return mappers.list_audit_events(f.actions, f.actor, f.since, f.until, page_size, page_token)


@router.get(
    "",
    operation_id="listAuditEvents",
    summary="Nhật ký truy cập và thao tác / Audit trail",
    description="Nhật ký của đơn vị: đăng nhập, đăng nhập lỗi, thao tác quản trị, việc xem dữ liệu cá nhân; "
    "người được nêu bằng mã tài khoản, không bằng dữ liệu cá nhân. Cần quyền quản trị đơn vị. / The tenant's "
    "audit trail: sign-ins, failed sign-ins, admin actions, reads of personal data; people are named by "
    "account id, never by personal data. Needs the tenant's administration (authority admin).",
    responses=problem_docs(403, 422),
)
async def list_audit_events(
    caller: Caller,
    audit_filter: Filter,
    access: AccessDep,
    backends: BackendsDep,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> schemas.AuditEventPage:
    await access.authorize(caller, Action.ADMIN, Resource.tenant())
    result: idn.ListAuditEventsResponse = await backends.call(
        backends.identity.ListAuditEvents, _request(audit_filter, page_size, page_token), caller
    )
    return schemas.AuditEventPage(
        items=[mappers.audit_event(e) for e in result.events], next_page_token=result.next_page_token or None
    )


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_line(values: Iterable[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_cell(v) for v in values])
    return buffer.getvalue().encode("utf-8")


def csv_row(event: idn.AuditEvent) -> bytes:
    details = json.dumps(dict(sorted(event.details.items())), ensure_ascii=False, separators=(",", ":"))
    occurred = event.occur_time.ToJsonString() if event.HasField("occur_time") else ""
    return csv_line(
        (event.id, occurred, event.source, event.action, event.actor, event.target, event.outcome, details)
    )


async def _csv(
    first: idn.ListAuditEventsResponse, f: AuditFilter, caller: Principal, backends: Backends
) -> AsyncIterator[bytes]:
    yield BOM + csv_line(CSV_COLUMNS)
    page, seen = first, set[str]()
    while True:
        for event in page.events:
            yield csv_row(event)
        token = page.next_page_token
        if not token:
            return
        if token in seen:  # a service bug would otherwise stream forever
            log.warning("audit export aborted", extra={"error_reason": "REPEATED_PAGE_TOKEN"})
            raise ExportAborted("repeated page token")
        seen.add(token)
        # The response has started: a failure now can only abort it (the client sees a broken transfer,
        # never a file that looks complete).
        try:
            page = await backends.call(
                backends.identity.ListAuditEvents, _request(f, EXPORT_PAGE_SIZE, token), caller
            )
        except ProblemError as problem:
            log.warning("audit export aborted", extra={"error_reason": problem.reason})
            raise ExportAborted(problem.reason) from None


@router.get(
    "/export",
    operation_id="exportAuditEvents",
    summary="Xuất nhật ký ra CSV / Export the audit trail as CSV",
    description="Toàn bộ nhật ký thỏa bộ lọc, dạng CSV UTF-8 có BOM (Excel hiển thị đúng tiếng Việt), tải về "
    "dưới tên `audit-<đơn vị>-<ngày>.csv`. Cột: `id, occurred_at, source, action, actor, target, outcome, "
    "details` (details là một đối tượng JSON). Cần quyền quản trị đơn vị. / Every audit event matching the "
    "filters, as UTF-8 CSV with a byte order mark (so Excel shows Vietnamese correctly), downloaded as "
    "`audit-<tenant>-<date>.csv`. Columns as above; `details` is a JSON object. Needs the tenant's "
    "administration (authority admin).",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Tệp CSV / the CSV file",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
            "headers": {
                "Content-Disposition": {
                    "description": 'attachment; filename="audit-<tenant>-<YYYY-MM-DD>.csv"',
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_docs(403, 422),
    },
)
async def export_audit_events(
    caller: Caller, audit_filter: Filter, access: AccessDep, backends: BackendsDep
) -> StreamingResponse:
    await access.authorize(caller, Action.ADMIN, Resource.tenant())
    # The first page before the response starts, so that a refusal or an outage is still a problem.
    first: idn.ListAuditEventsResponse = await backends.call(
        backends.identity.ListAuditEvents, _request(audit_filter, EXPORT_PAGE_SIZE, None), caller
    )
    filename = f"audit-{caller.tenant}-{datetime.now(UTC).date().isoformat()}.csv"
    return StreamingResponse(
        _csv(first, audit_filter, caller, backends),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

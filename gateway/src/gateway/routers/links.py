"""Guardian–child link requests (identity service): a guardian asks, the school decides.

identity holds the requests and the schools' assignments, so it decides who may see and decide them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from school.identity.v1 import identity_pb2 as idn

from gateway import mappers, schemas
from gateway.deps import BackendsDep, Caller, IdempotencyKey, LinkRequestId, PageSize, PageToken
from gateway.problems import missing_field, problem_docs

router = APIRouter(prefix="/v1/link-requests", tags=["link-requests"])


@router.post(
    "",
    status_code=201,
    operation_id="createLinkRequest",
    summary="Đề nghị liên kết với con / Ask to be linked to a child",
    description="Phụ huynh chưa được tự động liên kết với con (theo số định danh đã xác thực) gửi đề nghị để "
    "nhà trường xem xét. / A guardian the automatic matching (by verified personal identification number) "
    "did not link to their child asks the school to do it.",
    responses=problem_docs(403, 404, 409, 413, 415, 422),
)
async def create_link_request(
    caller: Caller, key: IdempotencyKey, body: schemas.LinkRequestCreate, backends: BackendsDep
) -> schemas.LinkRequest:
    result: idn.CreateLinkRequestResponse = await backends.call(
        backends.identity.CreateLinkRequest, mappers.create_link_request(body, key), caller
    )
    return mappers.link_request(result.link_request)


@router.get(
    "",
    operation_id="listLinkRequests",
    summary="Danh sách đề nghị liên kết / List link requests",
    description="Phụ huynh thấy đề nghị của mình; quản trị viên trường thấy đề nghị gửi tới trường mình. / A "
    "guardian sees their own requests; a school admin those sent to their school.",
    responses=problem_docs(403, 422),
)
async def list_link_requests(
    caller: Caller,
    backends: BackendsDep,
    state: Annotated[
        schemas.LinkRequestState | None,
        Query(description="Chỉ các đề nghị ở trạng thái này / only requests in this state"),
    ] = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> schemas.LinkRequestPage:
    result: idn.ListLinkRequestsResponse = await backends.call(
        backends.identity.ListLinkRequests,
        idn.ListLinkRequestsRequest(
            state=mappers.LINK_REQUEST_STATE_TO_PB[state] if state else idn.LINK_REQUEST_STATE_UNSPECIFIED,
            page_size=page_size or 0,
            page_token=page_token or "",
        ),
        caller,
    )
    return schemas.LinkRequestPage(
        items=[mappers.link_request(r) for r in result.link_requests],
        next_page_token=result.next_page_token or None,
    )


@router.post(
    "/{link_request_id}/decision",
    operation_id="decideLinkRequest",
    summary="Duyệt hoặc từ chối đề nghị liên kết / Decide a link request",
    description="Nhà trường duyệt (cần `student_id` của học sinh thuộc trường) hoặc từ chối (cần `reason`, "
    "phụ huynh sẽ thấy). Người gửi đề nghị không bao giờ tự quyết được đề nghị của mình. Một đề nghị chỉ "
    "được quyết một lần, nên không cần `Idempotency-Key`. / The school approves (with the `student_id` of a "
    "student of the school) or refuses (with a `reason`, shown to the guardian). The requester can never "
    "decide their own request. A request is decided once, so it takes no `Idempotency-Key`.",
    responses=problem_docs(403, 404, 409, 413, 415, 422),
)
async def decide_link_request(
    caller: Caller, link_request_id: LinkRequestId, body: schemas.LinkRequestDecision, backends: BackendsDep
) -> schemas.LinkRequest:
    if body.approve and body.student_id is None:
        raise missing_field("student_id")
    if not body.approve and body.reason is None:
        raise missing_field("reason")
    result: idn.DecideLinkRequestResponse = await backends.call(
        backends.identity.DecideLinkRequest, mappers.decide_link_request(link_request_id, body), caller
    )
    return mappers.link_request(result.link_request)

"""Link requests: a guardian the automatic matching did not find asks; the child's school decides."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime

from school.identity.v1 import identity_pb2 as pb
from school_common import access
from school_common.access import Action, Resource, authorize
from school_common.db import Database
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, bilingual
from school_common.ids import parse_uuid
from sqlalchemy import or_, select

from identity.access.service import AccessService, tenant_principal, ts
from identity.audit.record import record
from identity.domain import citizen_id
from identity.models import Account, LinkRequest, School, Student

RELATIONSHIPS = ("mother", "father", "guardian", "grandparent", "other")
STATES = {
    pb.LINK_REQUEST_STATE_PENDING: "PENDING",
    pb.LINK_REQUEST_STATE_APPROVED: "APPROVED",
    pb.LINK_REQUEST_STATE_REFUSED: "REFUSED",
}


def _bad(reason: str, field: str, vi: str, en: str) -> InvalidArgument:
    return InvalidArgument(reason, bilingual(vi, en), {"field": field})


def name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def to_proto(r: LinkRequest, requester_name: str = "", candidates: list[str] | None = None) -> pb.LinkRequest:
    return pb.LinkRequest(
        id=str(r.id),
        school_id=str(r.school_id),
        student_id=str(r.student_id or ""),
        child_full_name=r.child_full_name,
        child_date_of_birth=r.child_date_of_birth.isoformat(),
        relationship=r.relationship,
        note=r.note,
        state=pb.LinkRequestState.Value(f"LINK_REQUEST_STATE_{r.state}"),
        decision_reason=r.decision_reason or "",
        create_time=ts(r.created_at),
        decide_time=ts(r.decided_at),
        requester_name=requester_name,
        candidate_student_ids=candidates or [],
    )


class LinkService:
    def __init__(self, db: Database, accounts: AccessService) -> None:
        self.db = db
        self.accounts = accounts

    async def create(self, request: pb.CreateLinkRequestRequest) -> pb.CreateLinkRequestResponse:
        principal = tenant_principal()
        if not principal.has_any(access.GUARDIAN):
            raise PermissionDenied(
                "GUARDIAN_ROLE_REQUIRED",
                bilingual(
                    "Chỉ phụ huynh mới gửi được yêu cầu liên kết", "only a guardian can ask to be linked"
                ),
            )
        school_id = parse_uuid(request.school_id)
        if school_id is None:
            raise _bad(
                "INVALID_SCHOOL_ID", "school_id", "Mã trường không hợp lệ", "school_id is not a valid id"
            )
        name = " ".join(request.child_full_name.split())
        if not citizen_id.valid_full_name(name):
            raise _bad(
                "INVALID_FULL_NAME",
                "child_full_name",
                "Họ và tên của con không hợp lệ",
                "child_full_name: 1-150 characters",
            )
        born = citizen_id.parse_date_of_birth(request.child_date_of_birth, datetime.now(UTC).date())
        if born is None:
            raise _bad(
                "INVALID_DATE_OF_BIRTH",
                "child_date_of_birth",
                "Ngày sinh phải có dạng YYYY-MM-DD",
                "child_date_of_birth must be YYYY-MM-DD",
            )
        if request.relationship not in RELATIONSHIPS:
            raise _bad(
                "INVALID_RELATIONSHIP",
                "relationship",
                "Quan hệ không hợp lệ",
                "relationship must be one of " + ", ".join(RELATIONSHIPS),
            )
        if len(request.note) > 500:
            raise _bad("NOTE_TOO_LONG", "note", "Ghi chú tối đa 500 ký tự", "note: at most 500 characters")
        account = await self.accounts.account(principal)
        async with self.db.unit_of_work(principal.tenant) as uow:
            if await uow.session.get(School, school_id) is None:
                raise NotFound(
                    "SCHOOL_NOT_FOUND",
                    bilingual("Không tìm thấy trường", "school not found"),
                    {"field": "school_id"},
                )
            duplicate = await uow.session.scalar(
                select(LinkRequest).where(
                    LinkRequest.requester_account_id == account.id,
                    LinkRequest.school_id == school_id,
                    LinkRequest.child_full_name == name,
                    LinkRequest.child_date_of_birth == born,
                    LinkRequest.state == "PENDING",
                )
            )
            if duplicate is not None:
                return pb.CreateLinkRequestResponse(link_request=to_proto(duplicate, account.display_name))
            link_request = LinkRequest(
                tenant_id=principal.tenant,
                requester_account_id=account.id,
                school_id=school_id,
                child_full_name=name,
                child_date_of_birth=born,
                relationship=request.relationship,
                note=request.note.strip(),
                state="PENDING",
            )
            uow.session.add(link_request)
            await uow.session.flush()
            record(
                uow,
                "LINK_REQUESTED",
                f"link_request:{link_request.id}",
                details={"school_id": str(school_id)},
            )
            await uow.commit()
        return pb.CreateLinkRequestResponse(link_request=to_proto(link_request, account.display_name))

    async def list(self, request: pb.ListLinkRequestsRequest) -> pb.ListLinkRequestsResponse:
        principal = tenant_principal()
        if request.state and request.state not in STATES:
            raise _bad("INVALID_STATE", "state", "Trạng thái không hợp lệ", "unknown state")
        page_size = request.page_size or 50
        if not 1 <= page_size <= 200:
            raise _bad("INVALID_PAGE_SIZE", "page_size", "page_size từ 1 đến 200", "page_size must be 1-200")
        after = parse_uuid(request.page_token) if request.page_token else None
        if request.page_token and after is None:
            raise _bad(
                "INVALID_PAGE_TOKEN", "page_token", "page_token không hợp lệ", "page_token is not valid"
            )
        account = await self.accounts.account(principal)
        scope = await self.accounts.scope_of(principal, account)
        admin_schools = [uuid.UUID(s) for s, roles in scope.schools.items() if access.SCHOOL_ADMIN in roles]
        query = select(LinkRequest, Account.display_name).join(
            Account, Account.id == LinkRequest.requester_account_id
        )
        if not scope.tenant_wide:
            query = query.where(
                or_(LinkRequest.requester_account_id == account.id, LinkRequest.school_id.in_(admin_schools))
            )
        if request.state:
            query = query.where(LinkRequest.state == STATES[request.state])
        if after is not None:
            query = query.where(LinkRequest.id > after)
        async with self.db.unit_of_work(principal.tenant) as uow:
            rows = (await uow.session.execute(query.order_by(LinkRequest.id).limit(page_size + 1))).all()
            candidates: dict[uuid.UUID, list[str]] = {}
            for r, _ in rows[:page_size]:
                if r.state == "PENDING" and r.requester_account_id != account.id:
                    students = (
                        await uow.session.scalars(
                            select(Student).where(
                                Student.school_id == r.school_id,
                                Student.date_of_birth == r.child_date_of_birth,
                            )
                        )
                    ).all()
                    wanted = name_key(r.child_full_name)
                    candidates[r.id] = [str(x.id) for x in students if name_key(x.full_name) == wanted]
            others = sum(1 for r, _ in rows if r.requester_account_id != account.id)
            if others:  # requests of other people (names, children's details): a read to audit
                record(
                    uow,
                    "PERSONAL_DATA_READ",
                    "link_requests",
                    details={"operation": "ListLinkRequests", "subjects": others},
                )
                await uow.commit()
        more = len(rows) > page_size
        rows = rows[:page_size]
        return pb.ListLinkRequestsResponse(
            link_requests=[to_proto(r, name, candidates.get(r.id)) for r, name in rows],
            next_page_token=str(rows[-1][0].id) if more else "",
        )

    async def decide(self, request: pb.DecideLinkRequestRequest) -> pb.DecideLinkRequestResponse:
        principal = tenant_principal()
        request_id = parse_uuid(request.link_request_id)
        not_found = NotFound(
            "LINK_REQUEST_NOT_FOUND", bilingual("Không tìm thấy yêu cầu liên kết", "link request not found")
        )
        if request_id is None:
            raise not_found
        scope = await self.accounts.scope_of(principal)
        async with self.db.unit_of_work(principal.tenant) as uow:
            link_request = await uow.session.scalar(
                select(LinkRequest).where(LinkRequest.id == request_id).with_for_update()
            )
            if link_request is None:
                raise not_found
            requester = await uow.session.get(Account, link_request.requester_account_id)
            assert requester is not None
            if requester.subject == principal.subject:
                raise PermissionDenied(
                    "CANNOT_DECIDE_OWN_REQUEST",
                    bilingual(
                        "Không thể tự duyệt yêu cầu của chính mình", "you cannot decide your own link request"
                    ),
                )
            authorize(scope, Action.ADMIN, Resource.school(str(link_request.school_id)))
            if link_request.state != "PENDING":
                raise FailedPrecondition(
                    "LINK_REQUEST_ALREADY_DECIDED",
                    bilingual("Yêu cầu này đã được xử lý", "this link request was already decided"),
                )
            if request.approve:
                student_id = parse_uuid(request.student_id)
                if student_id is None:
                    raise _bad(
                        "STUDENT_REQUIRED",
                        "student_id",
                        "Cần chọn học sinh để duyệt",
                        "student_id is required to approve",
                    )
                student = await uow.session.get(Student, student_id)
                if student is None or student.school_id != link_request.school_id:
                    raise _bad(
                        "STUDENT_NOT_IN_SCHOOL",
                        "student_id",
                        "Học sinh không thuộc trường của yêu cầu",
                        "the student is not in the request's school",
                    )
                await self.accounts.link(uow, requester, student_id, link_request.relationship, "REQUEST")
                link_request.state, link_request.student_id = "APPROVED", student_id
            else:
                reason = request.reason.strip()
                if not 0 < len(reason) <= 500:
                    raise _bad(
                        "REASON_REQUIRED",
                        "reason",
                        "Cần nêu lý do từ chối",
                        "a reason (1-500 characters) is required to refuse",
                    )
                link_request.state, link_request.decision_reason = "REFUSED", reason
            link_request.decided_by, link_request.decided_at = principal.subject, datetime.now(UTC)
            record(uow, f"LINK_REQUEST_{link_request.state}", f"link_request:{link_request.id}")
            await uow.commit()
        return pb.DecideLinkRequestResponse(link_request=to_proto(link_request, requester.display_name))

"""Use cases for school clubs: clubs and their advisers, membership requests and decisions, sessions and
participation.

A school admin creates a club and names its adviser (a staff account). A student's guardian, or the
school's staff who may write the student, asks for a membership; the adviser or the school admin
decides; the adviser records sessions and who took part.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from school.student_record.v1 import student_record_pb2 as pb
from school_common import idempotency
from school_common.access import Action, Caller, Callers, Resource, decide
from school_common.db import Database, UnitOfWork
from school_common.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from student_record.domain.rules import check_day, check_text, invalid
from student_record.enrolments.service import student_for, student_not_found
from student_record.events import publish
from student_record.mappers import timestamp
from student_record.models import Club, ClubAttendance, ClubMembership, ClubSession, Student

MAX_CAPACITY = 500
MAX_PRESENT = 200


def club_not_found() -> NotFound:
    return NotFound("CLUB_NOT_FOUND", bilingual("Không tìm thấy câu lạc bộ", "club not found"))


def club_proto(row: Club, members: int) -> pb.Club:
    return pb.Club(
        id=str(row.id),
        school_id=str(row.school_id),
        name=row.name,
        description=row.description,
        adviser_subject=row.adviser_subject,
        capacity=row.capacity,
        member_count=members,
    )


def membership_proto(row: ClubMembership, student_name: str = "", attended: int = 0) -> pb.ClubMembership:
    return pb.ClubMembership(
        id=str(row.id),
        club_id=str(row.club_id),
        student_id=str(row.student_id),
        student_name=student_name,
        state=pb.MembershipState.Value(f"MEMBERSHIP_STATE_{row.state}"),
        decision_reason=row.decision_reason or "",
        sessions_attended=attended,
        request_time=timestamp(row.created_at),
    )


async def _members(uow: UnitOfWork, club_id: uuid.UUID) -> int:
    return int(
        await uow.session.scalar(
            select(func.count())
            .select_from(ClubMembership)
            .where(ClubMembership.club_id == club_id, ClubMembership.state == "APPROVED")
        )
        or 0
    )


async def _attended(
    uow: UnitOfWork, club_id: uuid.UUID, student_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    rows = await uow.session.execute(
        select(ClubAttendance.student_id, func.count())
        .join(ClubSession, ClubSession.id == ClubAttendance.session_id)
        .where(ClubSession.club_id == club_id, ClubAttendance.student_id.in_(student_ids))
        .group_by(ClubAttendance.student_id)
    )
    return {student_id: int(count) for student_id, count in rows.all()}


class ClubService:
    def __init__(self, db: Database, outbox: Outbox, access: Callers) -> None:
        self.db = db
        self.outbox = outbox
        self.access = access

    async def _club(self, uow: UnitOfWork, club_id: str, *, lock: bool = False) -> Club:
        parsed = parse_uuid(club_id)
        if parsed is None:
            raise club_not_found()
        query = select(Club).where(Club.id == parsed)
        club = await uow.session.scalar(query.with_for_update() if lock else query)
        if club is None:
            raise club_not_found()
        return club

    @staticmethod
    async def _manage(caller: Caller, club: Club) -> None:
        """The club's adviser, or an administrator of its school."""
        if caller.principal.subject == club.adviser_subject:
            return
        if decide(caller.scope, Action.ADMIN, Resource.school(str(club.school_id))):
            return
        await caller.authorize(
            Action.READ, Resource.school(str(club.school_id))
        )  # outsiders: NOT_YOUR_SCHOOL
        raise PermissionDenied(
            "NOT_CLUB_ADVISER",
            bilingual(
                "Chỉ giáo viên phụ trách câu lạc bộ hoặc quản trị nhà trường",
                "only the club's adviser or the school's administrator",
            ),
        )

    async def create_club(self, request: pb.CreateClubRequest) -> pb.CreateClubResponse:
        caller = await self.access.current()
        school_id = parse_uuid(request.school_id)
        if school_id is None:
            raise invalid("school_id", "Mã trường không hợp lệ", "school_id is not a valid id")
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        name = check_text(request.name, "name", 200)
        description = " ".join(request.description.split())
        if len(description) > 1000:
            raise invalid("description", "Mô tả tối đa 1000 ký tự", "description: at most 1000 characters")
        adviser = request.adviser_subject.strip()
        if not 0 < len(adviser) <= 64:
            raise invalid("adviser_subject", "Cần chọn giáo viên phụ trách", "adviser_subject is required")
        if not 0 <= request.capacity <= MAX_CAPACITY:
            raise invalid("capacity", f"Sĩ số từ 0 đến {MAX_CAPACITY}", f"capacity: 0 to {MAX_CAPACITY}")
        async with self.db.unit_of_work(caller.tenant) as uow:
            replayed = await idempotency.replay(
                uow, request.request_id, "CreateClub", request, pb.CreateClubResponse
            )
            if replayed:
                return replayed
            row = Club(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                school_id=school_id,
                name=name,
                description=description,
                adviser_subject=adviser,
                capacity=request.capacity,
            )
            uow.session.add(row)
            try:
                await uow.session.flush()
            except IntegrityError as exc:
                raise AlreadyExists(
                    "CLUB_NAME_TAKEN",
                    bilingual(
                        "Trường đã có câu lạc bộ mang tên này", "the school already has a club of this name"
                    ),
                    {"field": "name"},
                ) from exc
            response = pb.CreateClubResponse(club=club_proto(row, 0))
            await idempotency.remember(uow, request.request_id, "CreateClub", request, response)
            await uow.commit()
        return response

    async def list_clubs(self, request: pb.ListClubsRequest) -> pb.ListClubsResponse:
        caller = await self.access.current()
        school_id = parse_uuid(request.school_id)
        if school_id is None:
            raise invalid("school_id", "Mã trường không hợp lệ", "school_id is not a valid id")
        await caller.authorize(Action.READ, Resource.school(str(school_id)))
        async with self.db.unit_of_work(caller.tenant) as uow:
            clubs = (
                await uow.session.scalars(select(Club).where(Club.school_id == school_id).order_by(Club.name))
            ).all()
            counts = dict(
                (
                    await uow.session.execute(
                        select(ClubMembership.club_id, func.count())
                        .where(
                            ClubMembership.club_id.in_([c.id for c in clubs]),
                            ClubMembership.state == "APPROVED",
                        )
                        .group_by(ClubMembership.club_id)
                    )
                ).all()
            )
        return pb.ListClubsResponse(clubs=[club_proto(c, int(counts.get(c.id, 0))) for c in clubs])

    async def request_membership(
        self, request: pb.RequestClubMembershipRequest
    ) -> pb.RequestClubMembershipResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            club = await self._club(uow, request.club_id)
            # A guardian asks for their own child (READ suffices); staff need WRITE on the student.
            action = Action.READ if str(student_id) in caller.scope.children else Action.WRITE
            student, _ = await student_for(uow.session, caller, student_id, action)
            if student.school_id != club.school_id:
                raise invalid(
                    "student_id",
                    "Học sinh không học ở trường của câu lạc bộ",
                    "the student is not at the club's school",
                )
            replayed = await idempotency.replay(
                uow, request.request_id, "RequestClubMembership", request, pb.RequestClubMembershipResponse
            )
            if replayed:
                return replayed
            row = await uow.session.scalar(
                select(ClubMembership)
                .where(ClubMembership.club_id == club.id, ClubMembership.student_id == student.id)
                .with_for_update()
            )
            if row is None:
                row = ClubMembership(
                    id=uuid.uuid4(),
                    tenant_id=caller.tenant,
                    club_id=club.id,
                    student_id=student.id,
                    state="PENDING",
                    requested_by=caller.principal.subject,
                )
                uow.session.add(row)
            elif row.state == "REFUSED":  # asking again after a refusal
                row.state, row.decided_by, row.decision_reason = "PENDING", None, None
                row.requested_by = caller.principal.subject
            await uow.session.flush()
            response = pb.RequestClubMembershipResponse(membership=membership_proto(row, student.full_name))
            await idempotency.remember(uow, request.request_id, "RequestClubMembership", request, response)
            await uow.commit()
        return response

    async def decide_membership(
        self, request: pb.DecideClubMembershipRequest
    ) -> pb.DecideClubMembershipResponse:
        caller = await self.access.current()
        membership_id = parse_uuid(request.membership_id)
        not_found = NotFound(
            "MEMBERSHIP_NOT_FOUND", bilingual("Không tìm thấy yêu cầu", "membership not found")
        )
        if membership_id is None:
            raise not_found
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await uow.session.scalar(
                select(ClubMembership).where(ClubMembership.id == membership_id).with_for_update()
            )
            if row is None:
                raise not_found
            club = await self._club(uow, str(row.club_id), lock=True)  # serialises approvals against capacity
            await self._manage(caller, club)
            if row.state != "PENDING":
                raise FailedPrecondition(
                    "MEMBERSHIP_ALREADY_DECIDED",
                    bilingual("Yêu cầu này đã được xử lý", "this request was already decided"),
                )
            if request.approve:
                if club.capacity and await _members(uow, club.id) >= club.capacity:
                    raise FailedPrecondition(
                        "CLUB_FULL", bilingual("Câu lạc bộ đã đủ thành viên", "the club is full")
                    )
                row.state = "APPROVED"
            else:
                reason = " ".join(request.reason.split())
                if not 0 < len(reason) <= 500:
                    raise invalid(
                        "reason", "Cần nêu lý do từ chối", "a reason (1-500 characters) is required to refuse"
                    )
                row.state, row.decision_reason = "REFUSED", reason
            row.decided_by = caller.principal.subject
            student = await uow.session.get(Student, row.student_id)
            await uow.session.flush()
            response = pb.DecideClubMembershipResponse(
                membership=membership_proto(row, student.full_name if student else "")
            )
            await uow.commit()
        return response

    async def list_members(self, request: pb.ListClubMembersRequest) -> pb.ListClubMembersResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            club = await self._club(uow, request.club_id)
            await self._manage(caller, club)
            rows = (
                await uow.session.execute(
                    select(ClubMembership, Student.full_name)
                    .join(Student, Student.id == ClubMembership.student_id)
                    .where(ClubMembership.club_id == club.id)
                    .order_by(Student.full_name, ClubMembership.id)
                )
            ).all()
            attended = await _attended(uow, club.id, [m.student_id for m, _ in rows])
            members = sum(1 for m, _ in rows if m.state == "APPROVED")
            await publish.personal_data_accessed(
                self.outbox,
                uow,
                actor=caller.principal.subject,
                target=f"club:{club.id}/members",
                subjects=len(rows),
                operation="ListClubMembers",
            )
            await uow.commit()
        return pb.ListClubMembersResponse(
            club=club_proto(club, members),
            memberships=[membership_proto(m, name, attended.get(m.student_id, 0)) for m, name in rows],
        )

    async def record_session(self, request: pb.RecordClubSessionRequest) -> pb.RecordClubSessionResponse:
        caller = await self.access.current()
        held_on = check_day(request.held_on, "held_on", datetime.now(UTC).date())
        topic = check_text(request.topic, "topic", 300)
        present: list[uuid.UUID] = []
        for index, value in enumerate(request.present_student_ids):
            parsed = parse_uuid(value)
            if parsed is None or parsed in present:
                raise invalid(
                    f"present_student_ids[{index}]",
                    "Mã học sinh không hợp lệ hoặc bị lặp",
                    "not a student id, or given twice",
                )
            present.append(parsed)
        if len(present) > MAX_PRESENT:
            raise invalid(
                "present_student_ids", f"Tối đa {MAX_PRESENT} học sinh", f"at most {MAX_PRESENT} students"
            )
        async with self.db.unit_of_work(caller.tenant) as uow:
            club = await self._club(uow, request.club_id)
            await self._manage(caller, club)
            replayed = await idempotency.replay(
                uow, request.request_id, "RecordClubSession", request, pb.RecordClubSessionResponse
            )
            if replayed:
                return replayed
            members = set(
                (
                    await uow.session.scalars(
                        select(ClubMembership.student_id).where(
                            ClubMembership.club_id == club.id, ClubMembership.state == "APPROVED"
                        )
                    )
                ).all()
            )
            for index, student_id in enumerate(present):
                if student_id not in members:
                    raise invalid(
                        f"present_student_ids[{index}]",
                        "Học sinh này không phải thành viên câu lạc bộ",
                        "this student is not a member of the club",
                    )
            session = ClubSession(
                id=uuid.uuid4(),
                tenant_id=caller.tenant,
                club_id=club.id,
                held_on=held_on,
                topic=topic,
                recorded_by=caller.principal.subject,
            )
            uow.session.add(session)
            await uow.session.flush()
            for student_id in present:
                uow.session.add(
                    ClubAttendance(tenant_id=caller.tenant, session_id=session.id, student_id=student_id)
                )
            response = pb.RecordClubSessionResponse(
                session=pb.ClubSession(
                    id=str(session.id),
                    club_id=str(club.id),
                    held_on=held_on.isoformat(),
                    topic=topic,
                    present_student_ids=[str(s) for s in present],
                )
            )
            await idempotency.remember(uow, request.request_id, "RecordClubSession", request, response)
            await uow.commit()
        return response

    async def list_student_clubs(self, request: pb.ListStudentClubsRequest) -> pb.ListStudentClubsResponse:
        caller = await self.access.current()
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise student_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            student, _ = await student_for(uow.session, caller, student_id, Action.READ)
            rows = (
                await uow.session.execute(
                    select(ClubMembership, Club)
                    .join(Club, Club.id == ClubMembership.club_id)
                    .where(ClubMembership.student_id == student.id)
                    .order_by(Club.name)
                )
            ).all()
            result = pb.ListStudentClubsResponse()
            for membership, club in rows:
                attended = await _attended(uow, club.id, [student.id])
                result.clubs.append(
                    pb.StudentClub(
                        club=club_proto(club, await _members(uow, club.id)),
                        membership=membership_proto(
                            membership, student.full_name, attended.get(student.id, 0)
                        ),
                    )
                )
        return result

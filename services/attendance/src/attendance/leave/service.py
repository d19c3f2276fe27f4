"""Leave requests (đơn xin nghỉ học): a guardian asks, the homeroom teacher decides, an approval marks the
sessions absent excused in the registers."""

from __future__ import annotations

import uuid

from school.attendance.v1 import attendance_pb2 as pb
from school_common import idempotency
from school_common.access import (
    HOMEROOM_TEACHER,
    SCHOOL_ADMIN,
    Action,
    Caller,
    Callers,
    Resource,
)
from school_common.db import Database, UnitOfWork
from school_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    bilingual,
)
from school_common.events import Outbox
from school_common.ids import parse_uuid, uuid7
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert

from attendance.calendar.service import (
    SESSION_TO_PB,
    current_placement,
    load_calendar,
    load_class,
    load_class_context,
    load_year,
    session_of,
    student_placement,
)
from attendance.domain.calendar import Clock, Session, invalid, parse_date
from attendance.events import publish
from attendance.mappers import timestamp
from attendance.models import LeaveRequestRow, Mark, MarkChange, RosterClass, RosterEntry
from attendance.registers.service import Loaded, publish_marks

STATUS_TO_PB = {
    "PENDING": pb.LEAVE_STATUS_PENDING,
    "APPROVED": pb.LEAVE_STATUS_APPROVED,
    "REFUSED": pb.LEAVE_STATUS_REFUSED,
    "CANCELLED": pb.LEAVE_STATUS_CANCELLED,
}
STATUS_FROM_PB = {v: k for k, v in STATUS_TO_PB.items()}
#: A request covers at most this many days (longer absences are the school's business, not a form's).
MAX_DAYS = 31
MAX_REASON = 500


def leave_not_found() -> NotFound:
    return NotFound("LEAVE_NOT_FOUND", bilingual("Không tìm thấy đơn xin nghỉ", "leave request not found"))


def sees_reason(caller: Caller, row: LeaveRequestRow) -> bool:
    """A leave's reason may say why a child is ill: the family, the homeroom teacher and the school's
    admins read it; subject teachers, the nurse, the accountant and the authority see the request without."""
    if row.requested_by == caller.principal.subject or str(row.student_id) in caller.scope.children:
        return True
    if SCHOOL_ADMIN in caller.scope.school_roles(str(row.school_id)):
        return True
    grant = caller.scope.classes.get(str(row.class_id))
    return grant is not None and HOMEROOM_TEACHER in grant.roles


def leave_proto(row: LeaveRequestRow, full_name: str = "", *, reason: bool = True) -> pb.LeaveRequest:
    message = pb.LeaveRequest(
        id=str(row.id),
        student_id=str(row.student_id),
        class_id=str(row.class_id),
        school_id=str(row.school_id),
        from_date=row.from_day.isoformat(),
        to_date=row.to_day.isoformat(),
        sessions=[SESSION_TO_PB[Session(s)] for s in row.sessions],
        reason=row.reason if reason else "",
        status=STATUS_TO_PB[row.status],
        requested_by=row.requested_by,
        request_time=timestamp(row.created_at),
        decided_by=row.decided_by or "",
        decision_note=row.decision_note,
        session_count=row.session_count,
        full_name=full_name,
    )
    if row.decided_at is not None:
        message.decision_time.CopyFrom(timestamp(row.decided_at))
    return message


class LeaveService:
    def __init__(self, db: Database, access: Callers, outbox: Outbox, clock: Clock) -> None:
        self.db = db
        self.access = access
        self.outbox = outbox
        self.clock = clock

    @staticmethod
    async def _may_ask(caller: Caller, student_id: uuid.UUID, klass: RosterClass) -> None:
        """The student's guardians ask; the homeroom teacher or a school admin may enter a request the
        family made on paper or by phone."""
        if caller.scope.children.get(str(student_id)) == str(klass.school_id):
            return
        await caller.authorize(
            Action.WRITE, Resource.student(str(student_id), str(klass.school_id), [str(klass.id)])
        )

    async def request(self, request: pb.RequestLeaveRequest) -> pb.RequestLeaveResponse:
        caller = await self.access.current()
        start, end = parse_date(request.from_date, "from_date"), parse_date(request.to_date, "to_date")
        if start > end:
            raise invalid("to_date", "Ngày kết thúc phải sau ngày bắt đầu", "to_date is before from_date")
        if (end - start).days >= MAX_DAYS:
            raise invalid(
                "to_date", f"Một đơn tối đa {MAX_DAYS} ngày", f"a request covers at most {MAX_DAYS} days"
            )
        sessions = [session_of(s, "sessions") for s in request.sessions]
        if len(set(sessions)) != len(sessions):
            raise invalid("sessions", "Buổi học bị lặp", "a session is listed twice")
        reason = request.reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise invalid(
                "reason", f"Lý do từ 1 đến {MAX_REASON} ký tự", f"a reason of 1 to {MAX_REASON} characters"
            )
        async with self.db.unit_of_work(caller.tenant) as uow:
            entry, klass, _ = await student_placement(uow.session, request.student_id)
            student_id, full_name = entry.student_id, entry.full_name
            await self._may_ask(caller, student_id, klass)
            calendar = await load_calendar(uow.session, klass.school_id)
            year = await load_year(uow.session, klass.school_id, klass.school_year)
            for fld, day in (("from_date", start), ("to_date", end)):
                if day not in year:
                    raise FailedPrecondition(
                        "DATE_OUTSIDE_SCHOOL_YEAR",
                        bilingual(
                            f"Ngày {day:%d/%m/%Y} không thuộc năm học {year.name}",
                            f"{day.isoformat()} is outside school year {year.name}",
                        ),
                        {"field": fld},
                    )
            for s in sessions:
                if s not in calendar.sessions:
                    raise FailedPrecondition(
                        "SESSION_NOT_RUN",
                        bilingual("Trường không học buổi này", "the school does not run this session"),
                        {"field": "sessions"},
                    )
            chosen = sessions or sorted(calendar.sessions, key=list(Session).index)
            covered = list(calendar.school_sessions(start, end, chosen))
            if not covered:
                raise FailedPrecondition(
                    "NO_SCHOOL_SESSIONS",
                    bilingual("Khoảng ngày này không có buổi học nào", "no school session in these dates"),
                    {"field": "from_date"},
                )
            replayed = await idempotency.replay(
                uow, request.request_id, "RequestLeave", request, pb.RequestLeaveResponse
            )
            if replayed:
                return replayed
            # One request of a student at a time: two sent together would both find no overlap.
            await uow.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"leave:{student_id}"},
            )
            overlapping = await uow.session.scalar(
                select(LeaveRequestRow.id)
                .where(
                    LeaveRequestRow.student_id == student_id,
                    LeaveRequestRow.status.in_(("PENDING", "APPROVED")),
                    LeaveRequestRow.from_day <= end,
                    LeaveRequestRow.to_day >= start,
                    LeaveRequestRow.sessions.overlap([s.value for s in chosen]),
                )
                .limit(1)
            )
            if overlapping is not None:
                raise AlreadyExists(
                    "LEAVE_OVERLAPS",
                    bilingual(
                        "Đã có đơn xin nghỉ đang chờ hoặc đã duyệt trùng những buổi này",
                        "a pending or approved request already covers some of these sessions",
                    ),
                    {"field": "from_date", "leave_id": str(overlapping)},
                )
            row = LeaveRequestRow(
                id=uuid7(),
                tenant_id=caller.tenant,
                student_id=student_id,
                class_id=klass.id,
                school_id=klass.school_id,
                from_day=start,
                to_day=end,
                sessions=[s.value for s in chosen],
                reason=reason,
                status="PENDING",
                requested_by=caller.principal.subject[:64],
                decision_note="",
                session_count=len(covered),
            )
            uow.session.add(row)
            await uow.session.flush()
            await uow.session.refresh(row)
            await publish.leave_requested(self.outbox, uow, row)
            response = pb.RequestLeaveResponse(leave=leave_proto(row, full_name))
            await idempotency.remember(uow, request.request_id, "RequestLeave", request, response)
            await uow.commit()
        return response

    async def _leave(self, uow: UnitOfWork, leave_value: str) -> LeaveRequestRow:
        leave_id = parse_uuid(leave_value)
        row = (
            await uow.session.scalar(
                select(LeaveRequestRow).where(LeaveRequestRow.id == leave_id).with_for_update()
            )
            if leave_id
            else None
        )
        if row is None:
            raise leave_not_found()
        return row

    async def decide(self, request: pb.DecideLeaveRequest) -> pb.DecideLeaveResponse:
        caller = await self.access.current()
        note = request.note.strip()
        if len(note) > MAX_REASON:
            raise invalid("note", f"Tối đa {MAX_REASON} ký tự", f"at most {MAX_REASON} characters")
        if not request.approve and not note:
            raise invalid("note", "Từ chối cần nêu lý do", "a refusal needs a note")
        decision = "APPROVED" if request.approve else "REFUSED"
        now = self.clock()
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await self._leave(uow, request.leave_id)
            # The class the student is in now: a student who moved since asking is the new homeroom
            # teacher's to decide, and their register is where the leave is marked.
            current = await current_placement(uow.session, row.student_id)
            klass = current[1] if current else await uow.session.get(RosterClass, row.class_id)
            assert klass is not None
            grant = caller.scope.classes.get(str(klass.id))
            homeroom = grant is not None and HOMEROOM_TEACHER in grant.roles
            admin = SCHOOL_ADMIN in caller.scope.school_roles(str(klass.school_id))
            if not (homeroom or admin or caller.scope.tenant_wide):
                # Reading it is not deciding it: the shared decision says why a caller cannot.
                await caller.authorize(
                    Action.READ, Resource.student(str(row.student_id), str(row.school_id), [str(klass.id)])
                )
                raise PermissionDenied(
                    "HOMEROOM_TEACHER_REQUIRED",
                    bilingual(
                        "Chỉ giáo viên chủ nhiệm hoặc ban giám hiệu duyệt đơn xin nghỉ",
                        "only the homeroom teacher or a school admin decides leave",
                    ),
                )
            if row.status == decision:
                return pb.DecideLeaveResponse(leave=leave_proto(row, reason=sees_reason(caller, row)))
            if row.status != "PENDING":
                raise FailedPrecondition(
                    "LEAVE_ALREADY_DECIDED",
                    bilingual("Đơn đã được xử lý", "the request was already decided or withdrawn"),
                    {"status": row.status},
                )
            if row.requested_by == caller.principal.subject:
                raise PermissionDenied(
                    "OWN_REQUEST",
                    bilingual("Không tự duyệt đơn của mình", "nobody decides their own request"),
                )
            row.status = decision
            row.decided_by = caller.principal.subject[:64]
            row.decided_at = now
            row.decision_note = note
            marked = await self._mark(uow, row, klass) if request.approve else 0
            await uow.session.flush()
            await publish.leave_decided(self.outbox, uow, row)
            response = pb.DecideLeaveResponse(
                leave=leave_proto(row, reason=sees_reason(caller, row)), marked=marked
            )
            await uow.commit()
        return response

    async def _mark(self, uow: UnitOfWork, row: LeaveRequestRow, klass: RosterClass) -> int:
        """Mark the leave's sessions absent excused: unmarked sessions and unexcused absences. A session the
        student was marked present in stays as it is (they came after all)."""
        _, calendar, year = await load_class_context(uow.session, str(klass.id))
        covered = [
            (day, s)
            for day, s in calendar.school_sessions(
                row.from_day, row.to_day, [Session(v) for v in row.sessions]
            )
            if day in year
        ]
        if not covered:
            return 0
        for day, s in covered:  # in date order, as a register submission takes its one lock
            await uow.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"register:{klass.id}:{day.isoformat()}:{s.value}"},
            )
        recorded = {
            (m.day, m.session): m.status
            for m in (
                await uow.session.scalars(
                    select(Mark)
                    .where(
                        Mark.class_id == klass.id,
                        Mark.student_id == row.student_id,
                        Mark.day.between(row.from_day, row.to_day),
                    )
                    .with_for_update()
                )
            ).all()
        }
        to_mark = [
            (d, s) for d, s in covered if recorded.get((d, s.value), "ABSENT_UNEXCUSED") == "ABSENT_UNEXCUSED"
        ]
        if not to_mark:
            return 0
        statement = insert(Mark).values(
            [
                {
                    "id": uuid.uuid4(),
                    "tenant_id": row.tenant_id,
                    "school_id": klass.school_id,
                    "class_id": klass.id,
                    "day": d,
                    "session": s.value,
                    "student_id": row.student_id,
                    "school_year": klass.school_year,
                    "status": "ABSENT_EXCUSED",
                    "note": "",
                    "marked_by": "leave",
                    "leave_request_id": row.id,
                }
                for d, s in to_mark
            ]
        )
        await uow.session.execute(
            statement.on_conflict_do_update(
                index_elements=["class_id", "day", "session", "student_id"],
                set_={
                    "status": statement.excluded.status,
                    "marked_by": statement.excluded.marked_by,
                    "leave_request_id": statement.excluded.leave_request_id,
                    "updated_at": func.now(),
                },
            )
        )
        now = self.clock()
        # A recorded absence excused after its session's cut-off is a change like a teacher's: in the trail,
        # with the leave as its reason.
        late = [(d, s) for d, s in to_mark if (d, s.value) in recorded and now >= calendar.cutoff(d, s)]
        if late:
            await uow.session.execute(
                insert(MarkChange).values(
                    [
                        {
                            "id": uuid.uuid4(),
                            "tenant_id": row.tenant_id,
                            "class_id": klass.id,
                            "day": d,
                            "session": s.value,
                            "student_id": row.student_id,
                            "previous_status": recorded[(d, s.value)],
                            "status": "ABSENT_EXCUSED",
                            "reason": f"Đơn xin nghỉ đã được duyệt / approved leave request {row.id}",
                            "changed_by": row.decided_by or "",
                        }
                        for d, s in late
                    ]
                )
            )
        loaded = Loaded(klass, calendar, year)
        for d, s in to_mark:
            await publish_marks(
                self.outbox,
                uow,
                loaded,
                d,
                s,
                [(row.student_id, recorded.get((d, s.value), ""), "ABSENT_EXCUSED")],
                {row.student_id: row.id},
                now,
                after_cutoff=(d, s) in late,
                origin="leave",
            )
        return len(to_mark)

    async def cancel(self, request: pb.CancelLeaveRequest) -> pb.CancelLeaveResponse:
        caller = await self.access.current()
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await self._leave(uow, request.leave_id)
            if row.requested_by != caller.principal.subject:
                await caller.authorize(
                    Action.READ,
                    Resource.student(str(row.student_id), str(row.school_id), [str(row.class_id)]),
                )
                raise PermissionDenied(
                    "NOT_YOUR_REQUEST",
                    bilingual(
                        "Chỉ người gửi đơn mới rút được đơn", "only who asked may withdraw the request"
                    ),
                )
            if row.status == "CANCELLED":
                return pb.CancelLeaveResponse(leave=leave_proto(row))
            if row.status != "PENDING":
                raise FailedPrecondition(
                    "LEAVE_ALREADY_DECIDED",
                    bilingual("Đơn đã được xử lý, không rút được", "the request was already decided"),
                    {"status": row.status},
                )
            row.status = "CANCELLED"
            await uow.session.flush()
            response = pb.CancelLeaveResponse(leave=leave_proto(row))
            await uow.commit()
        return response

    async def list(self, request: pb.ListLeaveRequestsRequest) -> pb.ListLeaveRequestsResponse:
        caller = await self.access.current()
        if bool(request.class_id) == bool(request.student_id):
            raise invalid("class_id", "Chọn một lớp hoặc một học sinh", "give a class_id or a student_id")
        status = None
        if request.status:
            status = STATUS_FROM_PB.get(request.status)
            if status is None:
                raise invalid("status", "Trạng thái đơn không hợp lệ", "unknown status")
        size = request.page_size or 50
        if not 1 <= size <= 200:
            raise invalid("page_size", "Từ 1 đến 200", "1 to 200")
        after = None
        if request.page_token:
            after = parse_uuid(request.page_token)
            if after is None:
                raise invalid("page_token", "Mã trang không hợp lệ", "invalid page token")
        async with self.db.unit_of_work(caller.tenant) as uow:
            query = select(LeaveRequestRow)
            if request.class_id:
                klass = await load_class(uow.session, request.class_id)
                await caller.authorize(Action.READ, Resource.klass(str(klass.id), str(klass.school_id)))
                query = query.where(LeaveRequestRow.class_id == klass.id)
            else:
                entry, klass, class_ids = await student_placement(uow.session, request.student_id)
                await caller.authorize(
                    Action.READ, Resource.student(request.student_id, str(klass.school_id), class_ids)
                )
                student_id = entry.student_id
                query = query.where(LeaveRequestRow.student_id == student_id)
            if status:
                query = query.where(LeaveRequestRow.status == status)
            if after:
                query = query.where(LeaveRequestRow.id < after)
            rows = (
                await uow.session.scalars(query.order_by(LeaveRequestRow.id.desc()).limit(size + 1))
            ).all()
            names = dict(
                (
                    await uow.session.execute(
                        select(RosterEntry.student_id, RosterEntry.full_name).where(
                            RosterEntry.student_id.in_({r.student_id for r in rows})
                        )
                    )
                ).all()
            )
        page = rows[:size]
        return pb.ListLeaveRequestsResponse(
            leaves=[leave_proto(r, names.get(r.student_id, ""), reason=sees_reason(caller, r)) for r in page],
            next_page_token=str(page[-1].id) if len(rows) > size else "",
        )

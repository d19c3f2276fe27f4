"""Gate check-in devices: their registration and own client credentials, the credentials that name
students, the devices' taps, and the reconciliation of check-ins with the class register.

Devices and credentials are the school admins' (ADMIN on the school). A device's OAuth client
(``gate-<device id>``) is made by identity — the only service that administers Keycloak — with the
registering admin's token. A device calls ``RecordCheckIns`` itself through the partner API with its own
client-credentials token: it is known by the token's ``azp`` (the principal's ``client_id``), never by an
access scope from identity.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import date, datetime

import grpc
from school.attendance.v1 import attendance_pb2 as pb
from school.identity.v1 import identity_pb2 as idpb
from school.identity.v1.identity_pb2_grpc import IdentityServiceStub
from school_common import idempotency
from school_common.access import (
    Action,
    Callers,
    Resource,
    caller_refusal,
    identity_unavailable,
    tenant_token_required,
)
from school_common.context import Principal, current_principal
from school_common.db import Database, UnitOfWork
from school_common.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    bilingual,
    missing_token,
)
from school_common.grpc.client import auth_metadata
from school_common.grpc.status import parse_rpc_error
from school_common.ids import parse_uuid, uuid7
from sqlalchemy import and_, delete, select, text
from sqlalchemy.dialects.postgresql import insert

from attendance.calendar.service import (
    SESSION_TO_PB,
    load_calendar,
    load_class,
    load_year,
    school_known,
    school_not_found,
    school_uuid,
    session_of,
)
from attendance.domain.calendar import (
    Clock,
    Session,
    YearSpan,
    invalid,
    local_date,
    parse_date,
    school_year_of,
)
from attendance.gate import rules
from attendance.gate.models import GateCheckIn, GateCredential, GateDevice, GateTap
from attendance.mappers import timestamp
from attendance.models import Mark, RosterClass, RosterEntry

log = logging.getLogger(__name__)

GATE_DEVICE_ROLE = "gate_device"
MAX_NAME = 100
KIND_FROM_PB = {pb.GATE_DEVICE_KIND_RFID: "RFID", pb.GATE_DEVICE_KIND_FACE: "FACE"}
KIND_TO_PB = {v: k for k, v in KIND_FROM_PB.items()}
OUTCOME_TO_PB = {
    rules.Outcome.CHECKED_IN: pb.TAP_OUTCOME_CHECKED_IN,
    rules.Outcome.MERGED: pb.TAP_OUTCOME_MERGED,
    rules.Outcome.UNKNOWN_CREDENTIAL: pb.TAP_OUTCOME_UNKNOWN_CREDENTIAL,
    rules.Outcome.OTHER_SCHOOL: pb.TAP_OUTCOME_OTHER_SCHOOL,
    rules.Outcome.OUTSIDE_SCHOOL_TIME: pb.TAP_OUTCOME_OUTSIDE_SCHOOL_TIME,
}
#: Register marks in which the student was in class.
IN_CLASS = frozenset({"PRESENT", "LATE", "LEFT_EARLY"})
ABSENT = frozenset({"ABSENT_EXCUSED", "ABSENT_UNEXCUSED"})


def device_proto(row: GateDevice) -> pb.GateDevice:
    message = pb.GateDevice(
        id=str(row.id),
        school_id=str(row.school_id),
        name=row.name,
        kind=KIND_TO_PB.get(row.kind, pb.GATE_DEVICE_KIND_UNSPECIFIED),
        client_id=row.client_id,
        enabled=row.enabled,
        register_time=timestamp(row.created_at),
    )
    if row.last_seen_at is not None:
        message.last_seen_time.CopyFrom(timestamp(row.last_seen_at))
    return message


def device_not_found() -> NotFound:
    return NotFound("DEVICE_NOT_FOUND", bilingual("Không tìm thấy thiết bị", "gate device not found"))


def identity_error(error: grpc.RpcError) -> DomainError:
    """What identity's refusal means to our caller: passed on as it is, or identity unavailable."""
    parsed = parse_rpc_error(error)
    refusal = caller_refusal(parsed.code, parsed.reason, parsed.message)
    if refusal is not None:
        return refusal
    kinds: dict[grpc.StatusCode, type[DomainError]] = {
        grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
        grpc.StatusCode.NOT_FOUND: NotFound,
        grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    }
    kind = kinds.get(parsed.code)
    if kind is not None and parsed.reason:
        return kind(parsed.reason, parsed.message, parsed.metadata)
    return identity_unavailable()


def _device_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        raise missing_token()
    if principal.is_platform:
        raise tenant_token_required()
    return principal


def _not_registered() -> PermissionDenied:
    return PermissionDenied(
        "DEVICE_NOT_REGISTERED",
        bilingual(
            "Thiết bị chưa được đăng ký với trường: chỉ thiết bị điểm danh dùng client riêng của mình mới gửi"
            " được lượt quẹt thẻ",
            "not a registered gate device: only a device's own client credentials may record check-ins",
        ),
    )


class GateService:
    def __init__(
        self,
        db: Database,
        access: Callers,
        identity: IdentityServiceStub,
        identity_timeout_s: float,
        clock: Clock,
    ) -> None:
        self.db = db
        self.access = access
        self.identity = identity
        self.identity_timeout_s = identity_timeout_s
        self.clock = clock

    # ---------------------------------------------------------------- devices

    async def register_device(self, request: pb.RegisterGateDeviceRequest) -> pb.RegisterGateDeviceResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        name = " ".join(request.name.split())
        if not 0 < len(name) <= MAX_NAME:
            raise invalid(
                "name",
                f"Tên thiết bị từ 1 đến {MAX_NAME} ký tự",
                f"the device name is 1-{MAX_NAME} characters",
            )
        kind = KIND_FROM_PB.get(request.kind)
        if kind is None:
            raise invalid("kind", "Loại thiết bị là RFID hoặc FACE", "the device kind is RFID or FACE")
        async with self.db.unit_of_work(caller.tenant) as uow:
            # The key stays locked until the commit: a concurrent duplicate is ABORTED, not a second client.
            replayed = await idempotency.replay(
                uow, request.request_id, "RegisterGateDevice", request, pb.RegisterGateDeviceResponse
            )
            if replayed is not None:
                return replayed  # without the secret: it is shown once
            if not await school_known(uow.session, school_id):
                raise school_not_found()
            device_id = uuid7()
            try:
                made = await self.identity.CreateDeviceClient(
                    idpb.CreateDeviceClientRequest(
                        school_id=str(school_id), device_id=str(device_id), display_name=name
                    ),
                    metadata=auth_metadata(caller.principal.token),
                    timeout=self.identity_timeout_s,
                )
            except grpc.RpcError as exc:
                raise identity_error(exc) from None
            try:
                row = GateDevice(
                    id=device_id,
                    tenant_id=caller.tenant,
                    school_id=school_id,
                    name=name,
                    kind=kind,
                    client_id=made.client_id,
                    enabled=True,
                    registered_by=caller.principal.subject,
                    created_at=self.clock(),
                )
                uow.session.add(row)
                await uow.session.flush()
                response = pb.RegisterGateDeviceResponse(
                    device=device_proto(row),
                    client_secret=made.client_secret,
                    token_endpoint=made.token_endpoint,
                )
                stored = pb.RegisterGateDeviceResponse()
                stored.CopyFrom(response)
                stored.ClearField("client_secret")
                await idempotency.remember(uow, request.request_id, "RegisterGateDevice", request, stored)
                await uow.commit()
            except BaseException:
                # The client exists but the device was not recorded: make sure it can never be used.
                await self._disable_client(caller.principal.token, made.client_id, quiet=True)
                raise
        return response

    async def list_devices(self, request: pb.ListGateDevicesRequest) -> pb.ListGateDevicesResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        async with self.db.unit_of_work(caller.tenant) as uow:
            rows = (
                await uow.session.scalars(
                    select(GateDevice)
                    .where(GateDevice.school_id == school_id)
                    .order_by(GateDevice.created_at, GateDevice.id)
                )
            ).all()
        return pb.ListGateDevicesResponse(devices=[device_proto(r) for r in rows])

    async def disable_device(self, request: pb.DisableGateDeviceRequest) -> pb.DisableGateDeviceResponse:
        """Refused by attendance at once (committed first), then its client is disabled in identity: when
        identity cannot answer the call fails with IDENTITY_UNAVAILABLE and may be repeated."""
        caller = await self.access.current()
        device_id = parse_uuid(request.device_id)
        if device_id is None:
            raise device_not_found()
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await uow.session.scalar(
                select(GateDevice).where(GateDevice.id == device_id).with_for_update()
            )
            if row is None:
                raise device_not_found()
            await caller.authorize(Action.ADMIN, Resource.school(str(row.school_id)))
            if row.enabled:
                row.enabled = False
                await uow.session.flush()
            device = device_proto(row)
            await uow.commit()
        await self._disable_client(caller.principal.token, row.client_id, quiet=False)
        return pb.DisableGateDeviceResponse(device=device)

    async def _disable_client(self, token: str, client_id: str, *, quiet: bool) -> None:
        try:
            await self.identity.DisableDeviceClient(
                idpb.DisableDeviceClientRequest(client_id=client_id),
                metadata=auth_metadata(token),
                timeout=self.identity_timeout_s,
            )
        except grpc.RpcError as exc:
            if parse_rpc_error(exc).code == grpc.StatusCode.NOT_FOUND:
                return  # no client (removed by hand): nothing can use it
            if quiet:
                log.warning("could not disable an unrecorded device client", extra={"client_id": client_id})
                return
            raise identity_error(exc) from None

    # ---------------------------------------------------------------- credentials

    async def assign_credential(
        self, request: pb.AssignGateCredentialRequest
    ) -> pb.AssignGateCredentialResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        student_id = parse_uuid(request.student_id)
        if student_id is None:
            raise invalid("student_id", "Mã học sinh không hợp lệ", "student_id is not a valid id")
        value = rules.credential(request.credential)
        async with self.db.unit_of_work(caller.tenant) as uow:
            if not await _on_roster_of(uow, student_id, school_id):
                raise NotFound(
                    "STUDENT_NOT_IN_SCHOOL",
                    bilingual(
                        "Học sinh không có trong danh sách lớp của trường",
                        "the student is not in this school",
                    ),
                    {"field": "student_id"},
                )
            await uow.session.execute(
                insert(GateCredential)
                .values(
                    id=uuid7(),
                    tenant_id=caller.tenant,
                    school_id=school_id,
                    credential=value,
                    student_id=student_id,
                    assigned_by=caller.principal.subject,
                )
                .on_conflict_do_nothing(index_elements=["tenant_id", "credential"])
            )
            held = await uow.session.scalar(
                select(GateCredential).where(GateCredential.credential == value).with_for_update()
            )
            assert held is not None
            if held.student_id != student_id:
                raise FailedPrecondition(
                    "CREDENTIAL_IN_USE",
                    bilingual(
                        "Mã thẻ này đã được gán cho một học sinh khác; hãy gỡ trước khi gán lại",
                        "this credential names another student; remove it first",
                    ),
                    {"field": "credential"},
                )
            if held.school_id != school_id:
                # The same student's card, kept from the school they left: it follows them.
                held.school_id = school_id
                held.assigned_by = caller.principal.subject
            await uow.commit()
        return pb.AssignGateCredentialResponse(student_id=str(student_id), credential=value)

    async def remove_credential(
        self, request: pb.RemoveGateCredentialRequest
    ) -> pb.RemoveGateCredentialResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        value = rules.credential(request.credential)
        async with self.db.unit_of_work(caller.tenant) as uow:
            removed = await uow.session.scalar(
                delete(GateCredential)
                .where(GateCredential.school_id == school_id, GateCredential.credential == value)
                .returning(GateCredential.id)
            )
            if removed is None:
                raise NotFound(
                    "CREDENTIAL_NOT_FOUND",
                    bilingual("Trường không có mã thẻ này", "the school has no such credential"),
                    {"field": "credential"},
                )
            await uow.commit()
        return pb.RemoveGateCredentialResponse()

    # ---------------------------------------------------------------- taps

    async def record_check_ins(self, request: pb.RecordCheckInsRequest) -> pb.RecordCheckInsResponse:
        principal = _device_principal()
        if not principal.has_any(GATE_DEVICE_ROLE) or not principal.client_id:
            raise _not_registered()
        now = self.clock()
        async with self.db.unit_of_work(principal.tenant) as uow:
            # Locked: one batch of a device at a time, so its recorded taps are what this batch sees.
            device = await uow.session.scalar(
                select(GateDevice).where(GateDevice.client_id == principal.client_id).with_for_update()
            )
            if device is None:
                raise _not_registered()
            if not device.enabled:
                raise PermissionDenied(
                    "DEVICE_DISABLED",
                    bilingual("Thiết bị đã bị vô hiệu hóa", "this gate device is disabled"),
                )
            taps = rules.parse_taps(request.taps)
            owners = await _owners(uow, {t.credential for t in taps})
            plan = rules.plan(
                taps,
                school_id=device.school_id,
                calendar=await load_calendar(uow.session, device.school_id),
                years=await _years(uow, device.school_id, (t.at for t in taps)),
                now=now,
                owners=owners,
                on_roster=await _rosters(uow, device.school_id, owners),
                recorded=await _recorded(uow, device.id, {t.tap_id for t in taps}),
            )
            plan.finish(await _write(uow, device, plan))
            device.last_seen_at = now
            await uow.commit()
        response = pb.RecordCheckInsResponse()
        for tap, result in zip(taps, plan.results, strict=True):
            line = pb.TapResult(tap_id=tap.tap_id, outcome=OUTCOME_TO_PB[result.outcome])
            if result.outcome in rules.ACCEPTED:
                assert result.student_id is not None
                assert result.day is not None
                assert result.session is not None
                line.student_id = str(result.student_id)
                line.date = result.day.isoformat()
                line.session = SESSION_TO_PB[result.session]
            response.results.append(line)
            if result.outcome is rules.Outcome.CHECKED_IN:
                response.checked_in += 1
            elif result.outcome is rules.Outcome.MERGED:
                response.merged += 1
            else:
                response.rejected += 1
        return response

    # ---------------------------------------------------------------- reconciliation

    async def reconciliation(
        self, request: pb.GetGateReconciliationRequest
    ) -> pb.GetGateReconciliationResponse:
        caller = await self.access.current()
        day = parse_date(request.date)
        session = session_of(request.session)
        async with self.db.unit_of_work(caller.tenant) as uow:
            klass = await load_class(uow.session, request.class_id)
            await caller.authorize(Action.READ, Resource.klass(str(klass.id), str(klass.school_id)))
            rows = (
                await uow.session.execute(
                    select(
                        RosterEntry.student_id, RosterEntry.full_name, Mark.status, GateCheckIn.first_seen_at
                    )
                    .outerjoin(
                        Mark,
                        and_(
                            Mark.class_id == RosterEntry.class_id,
                            Mark.student_id == RosterEntry.student_id,
                            Mark.day == day,
                            Mark.session == session.value,
                        ),
                    )
                    .outerjoin(
                        GateCheckIn,
                        and_(
                            GateCheckIn.student_id == RosterEntry.student_id,
                            GateCheckIn.day == day,
                            GateCheckIn.session == session.value,
                        ),
                    )
                    .where(RosterEntry.class_id == klass.id)
                    .order_by(RosterEntry.full_name, RosterEntry.id)
                )
            ).all()
        response = pb.GetGateReconciliationResponse()
        for student_id, full_name, status, first_seen_at in rows:
            line = pb.ReconciliationLine(
                student_id=str(student_id), full_name=full_name, flag=flag(status, first_seen_at)
            )
            if status:
                line.status = pb.AttendanceStatus.Value(f"ATTENDANCE_STATUS_{status}")
            if first_seen_at is not None:
                line.check_in_time.CopyFrom(timestamp(first_seen_at))
            if line.flag == pb.RECONCILIATION_FLAG_ABSENT_IN_CLASS:
                response.flagged += 1
            response.lines.append(line)
        return response


def flag(status: str | None, checked_in_at: datetime | None) -> pb.ReconciliationFlag.ValueType:
    """The disagreement between the gate and the register for one student, if any."""
    if checked_in_at is not None:
        if status in ABSENT:
            return pb.RECONCILIATION_FLAG_ABSENT_IN_CLASS
        if status is None:
            return pb.RECONCILIATION_FLAG_NOT_MARKED
        return pb.RECONCILIATION_FLAG_UNSPECIFIED
    if status in IN_CLASS:
        return pb.RECONCILIATION_FLAG_NO_CHECK_IN
    return pb.RECONCILIATION_FLAG_UNSPECIFIED


# ---------------------------------------------------------------- set-based reads and writes of a batch


async def _on_roster_of(uow: UnitOfWork, student_id: uuid.UUID, school_id: uuid.UUID) -> bool:
    found = await uow.session.scalar(
        select(RosterEntry.id)
        .join(RosterClass, RosterClass.id == RosterEntry.class_id)
        .where(RosterEntry.student_id == student_id, RosterClass.school_id == school_id)
        .limit(1)
    )
    return found is not None


async def _owners(uow: UnitOfWork, credentials: set[str]) -> dict[str, rules.Owner]:
    rows = await uow.session.execute(
        select(GateCredential.credential, GateCredential.school_id, GateCredential.student_id).where(
            GateCredential.credential.in_(sorted(credentials))
        )
    )
    return {credential: rules.Owner(school_id, student_id) for credential, school_id, student_id in rows}


async def _rosters(
    uow: UnitOfWork, school_id: uuid.UUID, owners: dict[str, rules.Owner]
) -> rules.RosterCheck:
    """Which of the batch's students are on a roster of the device's school (one query)."""
    candidates = sorted({o.student_id for o in owners.values() if o.school_id == school_id})
    students = (
        set(
            (
                await uow.session.scalars(
                    select(RosterEntry.student_id)
                    .join(RosterClass, RosterClass.id == RosterEntry.class_id)
                    .where(RosterClass.school_id == school_id, RosterEntry.student_id.in_(candidates))
                    .distinct()
                )
            ).all()
        )
        if candidates
        else set()
    )
    return lambda student_id, school: school == school_id and student_id in students


async def _years(uow: UnitOfWork, school_id: uuid.UUID, moments: Iterable[datetime]) -> rules.YearsOf:
    spans: dict[str, YearSpan] = {}
    for name in sorted({school_year_of(local_date(m)) for m in moments}):
        spans[name] = await load_year(uow.session, school_id, name)
    return lambda name: spans.get(name) or YearSpan.usual(name)


async def _recorded(uow: UnitOfWork, device_id: uuid.UUID, tap_ids: set[str]) -> dict[str, rules.Result]:
    rows = await uow.session.execute(
        select(GateTap.tap_id, GateTap.student_id, GateTap.day, GateTap.session).where(
            GateTap.device_id == device_id, GateTap.tap_id.in_(sorted(tap_ids))
        )
    )
    return {
        tap_id: rules.Result(rules.Outcome.MERGED, student_id, day, Session(session))
        for tap_id, student_id, day, session in rows
    }


_INSERT_TAPS = text(
    "INSERT INTO gate_taps (id, tenant_id, device_id, tap_id, student_id, tapped_at, day, session)"
    " SELECT t.id, :tenant, :device, t.tap_id, t.student_id, t.tapped_at, t.day, t.session"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:tap_ids AS varchar[]), CAST(:students AS uuid[]),"
    " CAST(:times AS timestamptz[]), CAST(:days AS date[]), CAST(:sessions AS varchar[]))"
    " AS t(id, tap_id, student_id, tapped_at, day, session)"
    " ON CONFLICT (device_id, tap_id) DO NOTHING"
)

# One statement for the batch's check-ins: the earliest first tap and the latest last one win, whatever
# the order taps arrive in; (xmax = 0) tells a row this statement inserted from one it updated.
_UPSERT_CHECK_INS = text(
    "INSERT INTO gate_check_ins (id, tenant_id, school_id, device_id, student_id, day, session,"
    " first_seen_at, last_seen_at, taps)"
    " SELECT c.id, :tenant, :school, :device, c.student_id, c.day, c.session, c.first_seen_at,"
    " c.last_seen_at, c.taps"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:students AS uuid[]), CAST(:days AS date[]),"
    " CAST(:sessions AS varchar[]), CAST(:firsts AS timestamptz[]), CAST(:lasts AS timestamptz[]),"
    " CAST(:taps AS integer[])) AS c(id, student_id, day, session, first_seen_at, last_seen_at, taps)"
    " ON CONFLICT (student_id, day, session) DO UPDATE SET"
    " first_seen_at = LEAST(gate_check_ins.first_seen_at, EXCLUDED.first_seen_at),"
    " last_seen_at = GREATEST(gate_check_ins.last_seen_at, EXCLUDED.last_seen_at),"
    " taps = gate_check_ins.taps + EXCLUDED.taps,"
    " device_id = CASE WHEN EXCLUDED.first_seen_at < gate_check_ins.first_seen_at"
    " THEN EXCLUDED.device_id ELSE gate_check_ins.device_id END,"
    " updated_at = now()"
    " RETURNING student_id, day, session, (xmax = 0) AS inserted"
)


async def _write(
    uow: UnitOfWork, device: GateDevice, plan: rules.Plan
) -> set[tuple[uuid.UUID, date, Session]]:
    """Records the batch's new taps and merges its check-ins; returns the check-ins it created."""
    if not plan.new_taps:
        return set()
    await uow.session.execute(
        _INSERT_TAPS,
        {
            "tenant": uow.tenant,
            "device": device.id,
            "ids": [uuid7() for _ in plan.new_taps],
            "tap_ids": [tap.tap_id for tap, _ in plan.new_taps],
            "students": [result.student_id for _, result in plan.new_taps],
            "times": [tap.at for tap, _ in plan.new_taps],
            "days": [result.day for _, result in plan.new_taps],
            "sessions": [result.session.value if result.session else "" for _, result in plan.new_taps],
        },
    )
    check_ins = sorted(plan.check_ins.values(), key=lambda c: (str(c.student_id), c.day, c.session))
    rows = await uow.session.execute(
        _UPSERT_CHECK_INS,
        {
            "tenant": uow.tenant,
            "school": device.school_id,
            "device": device.id,
            "ids": [uuid7() for _ in check_ins],
            "students": [c.student_id for c in check_ins],
            "days": [c.day for c in check_ins],
            "sessions": [c.session.value for c in check_ins],
            "firsts": [c.first_at for c in check_ins],
            "lasts": [c.last_at for c in check_ins],
            "taps": [c.taps for c in check_ins],
        },
    )
    return {(student_id, day, Session(session)) for student_id, day, session, inserted in rows if inserted}

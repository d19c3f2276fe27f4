"""Gate check-in devices on a real PostgreSQL: registration with their own client (identity faked),
credentials, taps merged into one check-in per student, date and session, and the reconciliation with
the class register.

A device calls RecordCheckIns with its own client-credentials token: here the principal the gRPC
interceptor would set from it (``client_id`` = the token's ``azp``, roles ``partner`` and ``gate_device``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from attendance.domain.calendar import ZONE
from attendance.events.handlers import CLASS_CREATED, STUDENT_ENROLLED, on_class_created, on_student_enrolled
from attendance.gate.models import GateCheckIn, GateCredential, GateDevice, GateTap
from attendance.gate.service import GateService
from attendance.models import Mark
from attendance.service import DEFINITION as ATTENDANCE
from google.protobuf.timestamp_pb2 import Timestamp
from school.attendance.v1 import attendance_pb2 as pb
from school.events.student_record.v1 import events_pb2 as events
from school.identity.v1 import identity_pb2 as idpb
from school.identity.v1 import identity_pb2_grpc as idgrpc
from school_common.access import Callers, ScopeResolver
from school_common.context import Principal, set_principal
from school_common.db import Database
from school_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable
from school_common.events import Event
from school_common.grpc.client import channel
from school_common.testing import callers
from school_common.testing.callers import scopes_by_subject
from school_common.testing.servers import free_port
from sqlalchemy import func, select

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

TENANT, OTHER_TENANT = "t-gate", "t-gate-other"
SCHOOL_A, SCHOOL_B = str(uuid.uuid4()), str(uuid.uuid4())
CLASS_A1, CLASS_A2, CLASS_B1 = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
AN, BINH, CHI, DUNG, EM = (str(uuid.uuid4()) for _ in range(5))  # An, Bình, Dũng, Em in 6A1; Chi in school B
#: A Thursday; the school's default calendar (Monday to Friday, morning and afternoon from 12:00).
DAY = date(2025, 11, 20)
NOW = datetime(2025, 11, 20, 17, 0, tzinfo=ZONE)

SCOPES: dict[str, idpb.GetAccessScopeResponse] = {
    "admin-a": idpb.GetAccessScopeResponse(
        subject="admin-a", schools=[idpb.ScopedSchool(school_id=SCHOOL_A, role="school_admin")]
    ),
    "admin-b": idpb.GetAccessScopeResponse(
        subject="admin-b", schools=[idpb.ScopedSchool(school_id=SCHOOL_B, role="school_admin")]
    ),
    "nurse-a": idpb.GetAccessScopeResponse(
        subject="nurse-a", schools=[idpb.ScopedSchool(school_id=SCHOOL_A, role="nurse")]
    ),
    "teacher-a1": idpb.GetAccessScopeResponse(
        subject="teacher-a1",
        classes=[idpb.ScopedClass(class_id=CLASS_A1, school_id=SCHOOL_A, role="homeroom_teacher")],
    ),
    "teacher-a2": idpb.GetAccessScopeResponse(
        subject="teacher-a2",
        classes=[idpb.ScopedClass(class_id=CLASS_A2, school_id=SCHOOL_A, role="teacher", subject="math")],
    ),
    "parent": idpb.GetAccessScopeResponse(
        subject="parent", children=[idpb.ScopedChild(student_id=AN, school_id=SCHOOL_A)]
    ),
}


from_identity = scopes_by_subject(SCOPES, lambda subject: idpb.GetAccessScopeResponse(subject=subject))


class FakeIdentity:
    """identity's device-client RPCs as attendance calls them."""

    def __init__(self) -> None:
        self.created: list[tuple[idpb.CreateDeviceClientRequest, str]] = []
        self.disabled: list[tuple[str, str]] = []

    async def CreateDeviceClient(self, request, metadata=(), timeout=None):  # noqa: ASYNC109 - the stub's signature
        self.created.append((request, dict(metadata)["authorization"]))
        return idpb.CreateDeviceClientResponse(
            client_id=f"gate-{request.device_id}",
            client_secret=f"secret-{len(self.created)}",
            token_endpoint="http://keycloak.test/realms/tenant-t-gate/protocol/openid-connect/token",
        )

    async def DisableDeviceClient(self, request, metadata=(), timeout=None):  # noqa: ASYNC109
        self.disabled.append((request.client_id, dict(metadata)["authorization"]))
        return idpb.DisableDeviceClientResponse(client_id=request.client_id, school_id=SCHOOL_A)


def act_as(subject: str, *roles: str, tenant: str = TENANT) -> None:
    callers.act_as(tenant, subject, *roles)


def as_device(
    device: pb.GateDevice, tenant: str = TENANT, roles: tuple[str, ...] = ("partner", "gate_device")
) -> None:
    set_principal(
        Principal(
            tenant=tenant,
            subject=f"service-account-{device.id}",
            roles=frozenset(roles),
            client_id=device.client_id,
            token="device-token",
        )
    )


def event(subject: str, payload) -> Event:
    return callers.delivered(TENANT, subject, payload)


@pytest.fixture(scope="module")
async def db(make_database):
    database = Database(await make_database("attendance", ATTENDANCE.root))
    async with database.unit_of_work(TENANT) as uow:
        for class_id, school_id, name in (
            (CLASS_A1, SCHOOL_A, "6A1"),
            (CLASS_A2, SCHOOL_A, "6A2"),
            (CLASS_B1, SCHOOL_B, "6B1"),
        ):
            created = events.ClassCreated(
                class_id=class_id, school_id=school_id, name=name, grade=6, school_year="2025-2026"
            )
            await on_class_created(event(CLASS_CREATED, created), uow)
        for student, class_id, school_id, name in (
            (AN, CLASS_A1, SCHOOL_A, "Nguyễn Văn An"),
            (BINH, CLASS_A1, SCHOOL_A, "Lê Thị Bình"),
            (DUNG, CLASS_A1, SCHOOL_A, "Phạm Dũng"),
            (EM, CLASS_A1, SCHOOL_A, "Trần Em"),
            (CHI, CLASS_B1, SCHOOL_B, "Hoàng Chi"),
        ):
            enrolled = events.StudentEnrolled(
                enrolment_id=str(uuid.uuid4()),
                class_id=class_id,
                school_id=school_id,
                student_id=student,
                full_name=name,
            )
            enrolled.enrol_time.FromDatetime(datetime(2025, 9, 5, tzinfo=UTC))
            await on_student_enrolled(event(STUDENT_ENROLLED, enrolled), uow)
        await uow.commit()
    yield database
    set_principal(None)
    await database.dispose()


@pytest.fixture(scope="module")
def identity() -> FakeIdentity:
    return FakeIdentity()


@pytest.fixture(scope="module")
def gate(db, identity) -> GateService:
    return GateService(
        db, Callers(ScopeResolver(from_identity, ttl_s=0)), identity, 2.0, lambda: NOW.astimezone(UTC)
    )


async def register(
    gate: GateService, admin: str, school: str, name: str, request_id: str = ""
) -> pb.RegisterGateDeviceResponse:
    act_as(admin, "school_admin")
    return await gate.register_device(
        pb.RegisterGateDeviceRequest(
            request_id=request_id, school_id=school, name=name, kind=pb.GATE_DEVICE_KIND_RFID
        )
    )


async def assign(gate: GateService, admin: str, school: str, student: str, card: str) -> None:
    act_as(admin, "school_admin")
    await gate.assign_credential(
        pb.AssignGateCredentialRequest(school_id=school, student_id=student, credential=card)
    )


@pytest.fixture(scope="module")
async def devices(gate) -> dict[str, pb.GateDevice]:
    made = {
        "gate-a": (await register(gate, "admin-a", SCHOOL_A, "Cổng chính")).device,
        "gate-a2": (await register(gate, "admin-a", SCHOOL_A, "Cổng sau")).device,
        "gate-b": (await register(gate, "admin-b", SCHOOL_B, "Cổng trường B")).device,
    }
    await assign(gate, "admin-a", SCHOOL_A, AN, "04:A1:B2:C3")
    await assign(gate, "admin-a", SCHOOL_A, BINH, "CARD-BINH")
    await assign(gate, "admin-a", SCHOOL_A, DUNG, "face-0001")  # a face terminal's person code
    await assign(gate, "admin-b", SCHOOL_B, CHI, "CARD-CHI")
    return made


def at(hour: int, minute: int, day: date = DAY) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC))
    return stamp


def tap(tap_id: str, credential: str, when: Timestamp) -> pb.Tap:
    return pb.Tap(tap_id=tap_id, credential=credential, tap_time=when)


async def record(gate: GateService, device: pb.GateDevice, *taps: pb.Tap) -> pb.RecordCheckInsResponse:
    as_device(device)
    return await gate.record_check_ins(pb.RecordCheckInsRequest(taps=taps))


async def check_ins(db: Database, student: str, tenant: str = TENANT) -> list[GateCheckIn]:
    async with db.unit_of_work(tenant) as uow:
        return list(
            (
                await uow.session.scalars(
                    select(GateCheckIn)
                    .where(GateCheckIn.student_id == uuid.UUID(student))
                    .order_by(GateCheckIn.day, GateCheckIn.session)
                )
            ).all()
        )


async def count(db: Database, model, tenant: str = TENANT) -> int:
    async with db.unit_of_work(tenant) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------- devices


async def test_a_school_admin_registers_a_device_and_sees_its_secret_once(
    db, gate, identity, devices
) -> None:
    calls = len(identity.created)
    first = await register(gate, "admin-a", SCHOOL_A, "  Cổng   phụ  ", request_id="reg-1")
    assert first.client_secret.startswith("secret-")
    assert first.token_endpoint.endswith("/protocol/openid-connect/token")
    device = first.device
    assert (device.name, device.school_id, device.kind, device.enabled) == (
        "Cổng phụ",
        SCHOOL_A,
        pb.GATE_DEVICE_KIND_RFID,
        True,
    )
    assert device.client_id == f"gate-{device.id}"
    request, token = identity.created[-1]
    assert (request.school_id, request.device_id, token) == (SCHOOL_A, device.id, "Bearer token-admin-a")
    # the same request again: the same device, no second client, and the secret is not shown again
    again = await register(gate, "admin-a", SCHOOL_A, "  Cổng   phụ  ", request_id="reg-1")
    assert again.device == device
    assert again.client_secret == ""
    assert len(identity.created) == calls + 1
    listed = await gate.list_devices(pb.ListGateDevicesRequest(school_id=SCHOOL_A))
    assert [d.name for d in listed.devices] == ["Cổng chính", "Cổng sau", "Cổng phụ"]
    act_as("admin-b", "school_admin")
    assert [
        d.name for d in (await gate.list_devices(pb.ListGateDevicesRequest(school_id=SCHOOL_B))).devices
    ] == ["Cổng trường B"]


@pytest.mark.parametrize(
    ("subject", "roles", "reason"),
    [
        ("teacher-a1", ("homeroom_teacher",), "ADMIN_ROLE_REQUIRED"),
        ("nurse-a", ("nurse",), "ADMIN_ROLE_REQUIRED"),
        ("parent", ("guardian",), "NOT_YOUR_SCHOOL"),
        ("admin-b", ("school_admin",), "NOT_YOUR_SCHOOL"),
    ],
)
async def test_only_the_schools_admins_manage_its_devices(
    gate, identity, devices, subject, roles, reason
) -> None:
    calls = len(identity.created)
    act_as(subject, *roles)
    with pytest.raises(PermissionDenied) as caught:
        await gate.register_device(
            pb.RegisterGateDeviceRequest(school_id=SCHOOL_A, name="Cổng", kind=pb.GATE_DEVICE_KIND_FACE)
        )
    assert caught.value.reason == reason
    assert len(identity.created) == calls
    for call in (
        gate.list_devices(pb.ListGateDevicesRequest(school_id=SCHOOL_A)),
        gate.disable_device(pb.DisableGateDeviceRequest(device_id=devices["gate-a"].id)),
        gate.assign_credential(
            pb.AssignGateCredentialRequest(school_id=SCHOOL_A, student_id=EM, credential="CARD-EM")
        ),
        gate.remove_credential(pb.RemoveGateCredentialRequest(school_id=SCHOOL_A, credential="CARD-BINH")),
    ):
        with pytest.raises(PermissionDenied):
            await call


async def test_bad_registrations_say_which_field(gate) -> None:
    act_as("admin-a", "school_admin")
    for request, field in (
        (pb.RegisterGateDeviceRequest(school_id=SCHOOL_A, name=" ", kind=pb.GATE_DEVICE_KIND_RFID), "name"),
        (
            pb.RegisterGateDeviceRequest(school_id=SCHOOL_A, name="x" * 101, kind=pb.GATE_DEVICE_KIND_RFID),
            "name",
        ),
        (pb.RegisterGateDeviceRequest(school_id=SCHOOL_A, name="Cổng"), "kind"),
    ):
        with pytest.raises(InvalidArgument) as caught:
            await gate.register_device(request)
        assert caught.value.metadata["field"] == field
    act_as("authority", "authority_admin")
    SCOPES["authority"] = idpb.GetAccessScopeResponse(subject="authority", tenant_wide=True)
    with pytest.raises(NotFound) as missing:
        await gate.register_device(
            pb.RegisterGateDeviceRequest(
                school_id=str(uuid.uuid4()), name="Cổng", kind=pb.GATE_DEVICE_KIND_RFID
            )
        )
    assert missing.value.reason == "SCHOOL_NOT_FOUND"


async def test_while_identity_is_away_no_device_is_registered(db) -> None:
    away = channel(f"127.0.0.1:{free_port()}")  # nothing listens there
    try:
        gate = GateService(
            db,
            Callers(ScopeResolver(from_identity, ttl_s=0)),
            idgrpc.IdentityServiceStub(away),
            1.0,
            lambda: NOW,
        )
        before = await count(db, GateDevice)
        act_as("admin-a", "school_admin")
        with pytest.raises(Unavailable) as caught:
            await gate.register_device(
                pb.RegisterGateDeviceRequest(school_id=SCHOOL_A, name="Cổng", kind=pb.GATE_DEVICE_KIND_FACE)
            )
        assert caught.value.reason == "IDENTITY_UNAVAILABLE"
        assert await count(db, GateDevice) == before
    finally:
        await away.close()


async def test_a_client_made_for_a_device_that_was_not_recorded_is_disabled(
    db, gate, identity, monkeypatch
) -> None:
    async def broken(*args, **kwargs) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("attendance.gate.service.idempotency.remember", broken)
    before = await count(db, GateDevice)
    with pytest.raises(RuntimeError):
        await register(gate, "admin-a", SCHOOL_A, "Cổng tạm", request_id="reg-broken")
    made, _ = identity.created[-1]
    assert identity.disabled[-1] == (f"gate-{made.device_id}", "Bearer token-admin-a")
    assert await count(db, GateDevice) == before


# ---------------------------------------------------------------- credentials


async def test_a_credential_names_one_student_of_the_tenant(db, gate, devices) -> None:
    # again for the same student: nothing changes
    await assign(gate, "admin-a", SCHOOL_A, AN, "04:a1:b2:c3")
    # another student with the same card: refused
    with pytest.raises(FailedPrecondition) as in_use:
        await assign(gate, "admin-a", SCHOOL_A, BINH, "04:A1:B2:C3")
    assert in_use.value.reason == "CREDENTIAL_IN_USE"
    # another school's card (the credential is unique in the tenant), without saying whose it is
    with pytest.raises(FailedPrecondition):
        await assign(gate, "admin-a", SCHOOL_A, EM, "CARD-CHI")
    # a student who is not on a roster of the school
    with pytest.raises(NotFound) as elsewhere:
        await assign(gate, "admin-a", SCHOOL_A, CHI, "CARD-NEW-CHI")
    assert elsewhere.value.reason == "STUDENT_NOT_IN_SCHOOL"
    for bad in ("abc", "x" * 65, "CARD 1", "thẻ-001"):
        with pytest.raises(InvalidArgument) as caught:
            await assign(gate, "admin-a", SCHOOL_A, EM, bad)
        assert caught.value.metadata["field"] == "credential"
    async with db.unit_of_work(TENANT) as uow:
        held = (
            await uow.session.scalars(
                select(GateCredential.credential).where(GateCredential.student_id == uuid.UUID(AN))
            )
        ).all()
    assert held == ["04:A1:B2:C3"]
    # a lost card: removed, then unknown at the gate; removing it twice is NOT_FOUND
    await assign(gate, "admin-a", SCHOOL_A, EM, "CARD-EM-LOST")
    act_as("admin-a", "school_admin")
    await gate.remove_credential(
        pb.RemoveGateCredentialRequest(school_id=SCHOOL_A, credential="card-em-lost")
    )
    with pytest.raises(NotFound):
        await gate.remove_credential(
            pb.RemoveGateCredentialRequest(school_id=SCHOOL_A, credential="CARD-EM-LOST")
        )
    act_as("admin-b", "school_admin")
    with pytest.raises(NotFound):  # school B cannot remove school A's card
        await gate.remove_credential(
            pb.RemoveGateCredentialRequest(school_id=SCHOOL_B, credential="CARD-BINH")
        )
    response = await record(gate, devices["gate-a"], tap("lost-1", "CARD-EM-LOST", at(7, 0)))
    assert response.results[0].outcome == pb.TAP_OUTCOME_UNKNOWN_CREDENTIAL


# ---------------------------------------------------------------- taps


async def test_a_device_of_school_a_cannot_check_in_a_student_of_school_b(db, gate, devices) -> None:
    before = (await count(db, GateTap), await count(db, GateCheckIn))
    response = await record(
        gate,
        devices["gate-a"],
        tap("x-1", "CARD-CHI", at(7, 1)),  # Chi's card, assigned by school B
        tap("x-2", "NO-SUCH-CARD", at(7, 2)),
    )
    assert [r.outcome for r in response.results] == [
        pb.TAP_OUTCOME_OTHER_SCHOOL,
        pb.TAP_OUTCOME_UNKNOWN_CREDENTIAL,
    ]
    assert all(not r.student_id for r in response.results)  # nothing said about whose card it is
    assert (response.checked_in, response.merged, response.rejected) == (0, 0, 2)
    assert await check_ins(db, CHI) == []
    assert (await count(db, GateTap), await count(db, GateCheckIn)) == before
    # school B's own gate checks her in
    own = await record(gate, devices["gate-b"], tap("b-1", "CARD-CHI", at(7, 3)))
    assert own.results[0].outcome == pb.TAP_OUTCOME_CHECKED_IN
    assert [c.school_id for c in await check_ins(db, CHI)] == [uuid.UUID(SCHOOL_B)]


async def test_a_batch_with_duplicates_and_out_of_order_times_makes_one_check_in_per_student_and_session(
    db, gate, devices
) -> None:
    batch = [
        tap("t-1", "04:A1:B2:C3", at(7, 10)),  # An, morning
        tap("t-2", "CARD-BINH", at(7, 20)),  # Bình, morning
        tap("t-3", "04:a1:b2:c3", at(7, 2)),  # An again, earlier, sent later (offline buffer)
        tap("t-1", "04:A1:B2:C3", at(7, 10)),  # t-1 sent twice in the batch
        tap("t-4", "CARD-BINH", at(7, 5)),  # Bình, earlier
        tap("t-5", "04:A1:B2:C3", at(13, 30)),  # An, afternoon
        tap("t-6", "FACE-0001", at(7, 45)),  # Dũng at the face terminal
        tap("t-7", "04:A1:B2:C3", at(7, 15)),
    ]
    response = await record(gate, devices["gate-a"], *batch)
    outcomes = [pb.TapOutcome.Name(r.outcome).removeprefix("TAP_OUTCOME_") for r in response.results]
    assert outcomes == [
        "MERGED",
        "MERGED",
        "CHECKED_IN",
        "MERGED",
        "CHECKED_IN",
        "CHECKED_IN",
        "CHECKED_IN",
        "MERGED",
    ]
    assert (response.checked_in, response.merged, response.rejected) == (4, 4, 0)
    assert response.results[2].student_id == AN
    assert (response.results[2].date, response.results[2].session) == ("2025-11-20", pb.SESSION_MORNING)
    assert response.results[5].session == pb.SESSION_AFTERNOON

    an = await check_ins(db, AN)
    assert [(c.day, c.session) for c in an] == [(DAY, "AFTERNOON"), (DAY, "MORNING")]
    morning = an[1]
    assert morning.first_seen_at == at(7, 2).ToDatetime(tzinfo=UTC)  # the earliest, not the first sent
    assert morning.last_seen_at == at(7, 15).ToDatetime(tzinfo=UTC)
    assert morning.taps == 3  # t-1, t-3, t-7 (t-1 once)
    [binh] = await check_ins(db, BINH)
    assert (binh.first_seen_at, binh.last_seen_at, binh.taps) == (
        at(7, 5).ToDatetime(tzinfo=UTC),
        at(7, 20).ToDatetime(tzinfo=UTC),
        2,
    )

    # the device re-sends the batch (it did not get the answer): nothing changes
    snapshot = [(c.id, c.first_seen_at, c.last_seen_at, c.taps, c.updated_at) for c in an]
    taps_before = await count(db, GateTap)
    again = await record(gate, devices["gate-a"], *batch)
    assert {r.outcome for r in again.results} == {pb.TAP_OUTCOME_MERGED}
    assert (again.checked_in, again.merged) == (0, len(batch))
    assert [r.student_id for r in again.results] == [r.student_id for r in response.results]
    assert [
        (c.id, c.first_seen_at, c.last_seen_at, c.taps, c.updated_at) for c in await check_ins(db, AN)
    ] == snapshot
    assert await count(db, GateTap) == taps_before

    # another gate uploads its offline batch later, with an even earlier tap: it becomes the check-in
    late = await record(
        gate, devices["gate-a2"], tap("t-1", "04:A1:B2:C3", at(6, 55)), tap("t-2", "04:A1:B2:C3", at(7, 50))
    )
    assert [r.outcome for r in late.results] == [pb.TAP_OUTCOME_MERGED, pb.TAP_OUTCOME_MERGED]
    morning = (await check_ins(db, AN))[1]
    assert morning.first_seen_at == at(6, 55).ToDatetime(tzinfo=UTC)
    assert morning.last_seen_at == at(7, 50).ToDatetime(tzinfo=UTC)
    assert (morning.taps, str(morning.device_id)) == (5, devices["gate-a2"].id)
    act_as("admin-a", "school_admin")
    listed = {
        d.id: d for d in (await gate.list_devices(pb.ListGateDevicesRequest(school_id=SCHOOL_A))).devices
    }
    assert listed[devices["gate-a2"].id].last_seen_time.ToDatetime(tzinfo=UTC) == NOW


async def test_taps_outside_the_schools_time_count_for_nothing(db, gate, devices) -> None:
    before = await count(db, GateCheckIn)
    response = await record(
        gate,
        devices["gate-a"],
        tap("o-1", "CARD-BINH", at(7, 0, date(2025, 11, 22))),  # a Saturday
        tap("o-2", "CARD-BINH", at(17, 30)),  # half an hour ahead of the clock
        tap("o-3", "CARD-BINH", at(7, 0, date(2025, 7, 10))),  # the summer holiday
        tap("o-4", "CARD-BINH", at(17, 4)),  # within the clock skew
    )
    assert [r.outcome for r in response.results] == [
        pb.TAP_OUTCOME_OUTSIDE_SCHOOL_TIME,
        pb.TAP_OUTCOME_OUTSIDE_SCHOOL_TIME,
        pb.TAP_OUTCOME_OUTSIDE_SCHOOL_TIME,
        pb.TAP_OUTCOME_CHECKED_IN,
    ]
    assert await count(db, GateCheckIn) == before + 1


async def test_a_big_offline_batch_is_one_transaction(db, gate, devices) -> None:
    await assign(gate, "admin-a", SCHOOL_A, EM, "CARD-EM-2")
    # six weeks of a gate that was offline (September and October), 5,000 taps of one card
    days = [DAY - timedelta(days=d) for d in range(30, 72) if (DAY - timedelta(days=d)).isoweekday() <= 5]
    batch = [tap(f"big-{i}", "CARD-EM-2", at(6 + i % 5, i % 60, days[i % len(days)])) for i in range(5000)]
    response = await record(gate, devices["gate-a"], *batch)
    assert response.checked_in + response.merged == 5000
    rows = await check_ins(db, EM)
    assert len(rows) == response.checked_in == len(days)  # mornings only: 06:00-10:59
    assert sum(r.taps for r in rows) == 5000


async def test_an_unregistered_or_disabled_device_is_refused(db, gate, identity, devices) -> None:
    stranger = pb.GateDevice(id=str(uuid.uuid4()), client_id=f"gate-{uuid.uuid4()}")
    for who, reason in (
        (lambda: as_device(stranger), "DEVICE_NOT_REGISTERED"),
        # the shared partner client, or a user: not a device
        (lambda: as_device(devices["gate-a"], roles=("partner",)), "DEVICE_NOT_REGISTERED"),
        # a device's client id in a token of another tenant finds nothing there
        (lambda: as_device(devices["gate-a"], tenant=OTHER_TENANT), "DEVICE_NOT_REGISTERED"),
    ):
        who()
        with pytest.raises(PermissionDenied) as caught:
            await gate.record_check_ins(pb.RecordCheckInsRequest(taps=[tap("z-1", "CARD-BINH", at(8, 0))]))
        assert caught.value.reason == reason

    made = await register(gate, "admin-a", SCHOOL_A, "Cổng bị mất")
    act_as("admin-a", "school_admin")
    for _ in range(2):  # disabling again is harmless and asks identity again
        disabled = await gate.disable_device(pb.DisableGateDeviceRequest(device_id=made.device.id))
        assert disabled.device.enabled is False
    assert identity.disabled[-2:] == [(made.device.client_id, "Bearer token-admin-a")] * 2
    with pytest.raises(PermissionDenied) as refused:
        await record(gate, made.device, tap("z-2", "CARD-BINH", at(8, 0)))
    assert refused.value.reason == "DEVICE_DISABLED"
    with pytest.raises(NotFound):
        await gate.disable_device(pb.DisableGateDeviceRequest(device_id=str(uuid.uuid4())))


async def test_invalid_taps_are_refused_with_the_field_and_nothing_is_written(db, gate, devices) -> None:
    good = tap("ok-1", "CARD-BINH", at(8, 1))
    cases = [
        ([], "taps"),
        ([good] * 5001, "taps"),
        ([good, tap("", "CARD-BINH", at(8, 2))], "taps[1].tap_id"),
        ([good, tap("y" * 65, "CARD-BINH", at(8, 2))], "taps[1].tap_id"),
        ([tap("ok-2", "ab", at(8, 2))], "taps[0].credential"),
        ([tap("ok-2", "CARD BINH", at(8, 2))], "taps[0].credential"),
        ([pb.Tap(tap_id="ok-2", credential="CARD-BINH")], "taps[0].tap_time"),
    ]
    before = (await count(db, GateTap), await count(db, GateCheckIn))
    for taps, field in cases:
        as_device(devices["gate-a"])
        with pytest.raises(InvalidArgument) as caught:
            await gate.record_check_ins(pb.RecordCheckInsRequest(taps=taps))
        assert caught.value.metadata["field"] == field
    assert (await count(db, GateTap), await count(db, GateCheckIn)) == before


# ---------------------------------------------------------------- reconciliation


async def test_the_reconciliation_flags_who_was_at_the_gate_but_not_in_class(db, gate, devices) -> None:
    day = date(2025, 11, 19)
    await record(
        gate,
        devices["gate-a"],
        tap("r-1", "04:A1:B2:C3", at(7, 0, day)),  # An: at the gate, marked absent
        tap("r-2", "CARD-BINH", at(7, 1, day)),  # Bình: at the gate, not marked
        tap("r-3", "FACE-0001", at(7, 2, day)),  # Dũng: at the gate, present
    )
    async with db.unit_of_work(TENANT) as uow:
        for student, status in ((AN, "ABSENT_UNEXCUSED"), (DUNG, "PRESENT"), (EM, "LATE")):  # Em: no check-in
            uow.session.add(
                Mark(
                    tenant_id=TENANT,
                    school_id=uuid.UUID(SCHOOL_A),
                    class_id=uuid.UUID(CLASS_A1),
                    day=day,
                    session="MORNING",
                    student_id=uuid.UUID(student),
                    school_year="2025-2026",
                    status=status,
                    marked_by="teacher-a1",
                )
            )
        await uow.commit()
    act_as("teacher-a1", "homeroom_teacher")
    response = await gate.reconciliation(
        pb.GetGateReconciliationRequest(class_id=CLASS_A1, date=day.isoformat(), session=pb.SESSION_MORNING)
    )
    lines = {line.full_name: line for line in response.lines}
    assert [line.full_name for line in response.lines] == [
        "Lê Thị Bình",
        "Nguyễn Văn An",
        "Phạm Dũng",
        "Trần Em",
    ]
    assert lines["Nguyễn Văn An"].flag == pb.RECONCILIATION_FLAG_ABSENT_IN_CLASS
    assert lines["Nguyễn Văn An"].status == pb.ATTENDANCE_STATUS_ABSENT_UNEXCUSED
    assert lines["Nguyễn Văn An"].check_in_time.ToDatetime(tzinfo=UTC) == at(7, 0, day).ToDatetime(tzinfo=UTC)
    assert lines["Lê Thị Bình"].flag == pb.RECONCILIATION_FLAG_NOT_MARKED
    assert lines["Phạm Dũng"].flag == pb.RECONCILIATION_FLAG_UNSPECIFIED
    assert lines["Trần Em"].flag == pb.RECONCILIATION_FLAG_NO_CHECK_IN
    assert not lines["Trần Em"].HasField("check_in_time")
    assert response.flagged == 1
    # the afternoon: nobody checked in, nobody marked
    afternoon = await gate.reconciliation(
        pb.GetGateReconciliationRequest(class_id=CLASS_A1, date=day.isoformat(), session=pb.SESSION_AFTERNOON)
    )
    assert {line.flag for line in afternoon.lines} == {pb.RECONCILIATION_FLAG_UNSPECIFIED}


@pytest.mark.parametrize(
    ("subject", "roles", "error"),
    [
        ("teacher-a2", ("teacher",), PermissionDenied),  # another class
        ("parent", ("guardian",), PermissionDenied),
        ("admin-b", ("school_admin",), PermissionDenied),
    ],
)
async def test_only_who_reads_the_class_reads_its_reconciliation(
    gate, devices, subject, roles, error
) -> None:
    act_as(subject, *roles)
    with pytest.raises(error):
        await gate.reconciliation(
            pb.GetGateReconciliationRequest(class_id=CLASS_A1, date="2025-11-19", session=pb.SESSION_MORNING)
        )


async def test_a_reconciliation_request_is_checked(gate) -> None:
    act_as("admin-a", "school_admin")
    for request, field in (
        (
            pb.GetGateReconciliationRequest(class_id=CLASS_A1, date="19/11/2025", session=pb.SESSION_MORNING),
            "date",
        ),
        (pb.GetGateReconciliationRequest(class_id=CLASS_A1, date="2025-11-19"), "session"),
    ):
        with pytest.raises(InvalidArgument) as caught:
            await gate.reconciliation(request)
        assert caught.value.metadata["field"] == field
    with pytest.raises(NotFound):
        await gate.reconciliation(
            pb.GetGateReconciliationRequest(
                class_id=str(uuid.uuid4()), date="2025-11-19", session=pb.SESSION_MORNING
            )
        )

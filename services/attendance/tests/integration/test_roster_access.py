"""GetClassRoster is scoped: identity's assignments, the shared decision, the school from the read model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from attendance.events.handlers import CLASS_CREATED, STUDENT_ENROLLED, on_class_created, on_student_enrolled
from attendance.rosters.service import RosterService
from attendance.service import DEFINITION as ATTENDANCE
from school.attendance.v1 import attendance_pb2 as pb
from school.events.student_record.v1 import events_pb2 as events
from school.identity.v1 import identity_pb2 as idpb
from school.identity.v1 import identity_pb2_grpc as idgrpc
from school_common.access import Callers, ScopeResolver, identity_scope_fetcher
from school_common.context import set_principal
from school_common.db import Database
from school_common.errors import NotFound, PermissionDenied, Unavailable
from school_common.events import Event
from school_common.grpc.client import channel
from school_common.testing import callers
from school_common.testing.callers import scopes_by_subject
from school_common.testing.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

TENANT = "t-roster-access"
SCHOOL_A, SCHOOL_B = str(uuid.uuid4()), str(uuid.uuid4())
CLASS_A1, CLASS_A2, CLASS_B1 = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
STUDENT = str(uuid.uuid4())

#: What identity answers for each caller (by subject).
SCOPES: dict[str, idpb.GetAccessScopeResponse] = {
    "authority": idpb.GetAccessScopeResponse(subject="authority", tenant_wide=True),
    "admin-a": idpb.GetAccessScopeResponse(
        subject="admin-a", schools=[idpb.ScopedSchool(school_id=SCHOOL_A, role="school_admin")]
    ),
    "nurse-a": idpb.GetAccessScopeResponse(
        subject="nurse-a", schools=[idpb.ScopedSchool(school_id=SCHOOL_A, role="nurse")]
    ),
    "teacher-a1": idpb.GetAccessScopeResponse(
        subject="teacher-a1",
        classes=[idpb.ScopedClass(class_id=CLASS_A1, school_id=SCHOOL_A, role="teacher", subject="math")],
    ),
    "parent": idpb.GetAccessScopeResponse(
        subject="parent", children=[idpb.ScopedChild(student_id=STUDENT, school_id=SCHOOL_A)]
    ),
}


from_identity = scopes_by_subject(SCOPES, lambda subject: idpb.GetAccessScopeResponse(subject=subject))


def act_as(subject: str, *roles: str, tenant: str = TENANT) -> None:
    callers.act_as(tenant, subject, *roles)


def event(subject: str, payload) -> Event:
    return callers.delivered(TENANT, subject, payload)


@pytest.fixture(scope="module")
async def db(make_database):
    database = Database(await make_database("attendance", ATTENDANCE.root))
    # The roster read model as student-record's events build it.
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
        enrolled = events.StudentEnrolled(
            enrolment_id=str(uuid.uuid4()),
            class_id=CLASS_A1,
            school_id=SCHOOL_A,
            student_id=STUDENT,
            full_name="Nguyễn Văn An",
        )
        enrolled.enrol_time.FromDatetime(datetime.now(UTC))
        await on_student_enrolled(event(STUDENT_ENROLLED, enrolled), uow)
        await uow.commit()
    yield database
    set_principal(None)
    await database.dispose()


@pytest.fixture
def rosters(db):
    return RosterService(db, Callers(ScopeResolver(from_identity, ttl_s=0)))


async def roster(rosters, class_id: str) -> list[str]:
    response = await rosters.get_class_roster(pb.GetClassRosterRequest(class_id=class_id))
    return [e.full_name for e in response.entries]


@pytest.mark.parametrize(
    ("subject", "roles"),
    [
        ("authority", ("authority_admin",)),
        ("admin-a", ("school_admin",)),
        ("nurse-a", ("nurse",)),
        ("teacher-a1", ("teacher",)),
    ],
)
async def test_the_staff_who_reach_a_class_read_its_roster(rosters, subject, roles):
    act_as(subject, *roles)
    assert await roster(rosters, CLASS_A1) == ["Nguyễn Văn An"]


@pytest.mark.parametrize(
    ("subject", "roles", "class_id", "reason"),
    [
        ("teacher-a1", ("teacher",), CLASS_A2, "NOT_YOUR_CLASS"),  # another class of their school
        ("teacher-a1", ("teacher",), CLASS_B1, "NOT_YOUR_CLASS"),
        ("admin-a", ("school_admin",), CLASS_B1, "NOT_YOUR_CLASS"),  # a class of another school
        ("nurse-a", ("nurse",), CLASS_B1, "NOT_YOUR_CLASS"),
        ("parent", ("guardian",), CLASS_A1, "NOT_YOUR_CLASS"),  # their child's class: not a class list
        ("nobody", ("teacher",), CLASS_A1, "NOT_YOUR_CLASS"),
    ],
)
async def test_everyone_else_is_refused_with_the_reason(rosters, subject, roles, class_id, reason):
    act_as(subject, *roles)
    with pytest.raises(PermissionDenied) as caught:
        await roster(rosters, class_id)
    assert caught.value.reason == reason


async def test_a_platform_operator_reads_no_roster(rosters):
    act_as("operator", "platform_operator", tenant="")
    with pytest.raises(PermissionDenied) as caught:
        await roster(rosters, CLASS_A1)
    assert caught.value.reason == "TENANT_TOKEN_REQUIRED"


async def test_an_unknown_class_is_not_found_for_whoever_may_see_every_class(rosters):
    act_as("authority", "authority_admin")
    with pytest.raises(NotFound):
        await roster(rosters, str(uuid.uuid4()))
    with pytest.raises(NotFound):
        await roster(rosters, "not-a-uuid")


async def test_no_scope_while_identity_is_away_means_unavailable(db):
    away = channel(f"127.0.0.1:{free_port()}")  # nothing listens there
    try:
        rosters = RosterService(
            db, Callers(ScopeResolver(identity_scope_fetcher(idgrpc.IdentityServiceStub(away), 2)))
        )
        act_as("teacher-a1", "teacher")
        with pytest.raises(Unavailable) as caught:
            await roster(rosters, CLASS_A1)
        assert caught.value.reason == "IDENTITY_UNAVAILABLE"
    finally:
        await away.close()


async def test_a_moved_student_leaves_the_old_roster_and_joins_the_new_one(db, rosters):
    from attendance.events.handlers import STUDENT_TRANSFERRED, on_student_transferred

    student = str(uuid.uuid4())
    enrolled = events.StudentEnrolled(
        enrolment_id=str(uuid.uuid4()),
        class_id=CLASS_A2,
        school_id=SCHOOL_A,
        student_id=student,
        full_name="Lê Bình",
    )
    enrolled.enrol_time.FromDatetime(datetime.now(UTC))
    moved = events.StudentTransferred(
        movement_id=str(uuid.uuid4()),
        student_id=student,
        school_year="2025-2026",
        kind="SCHOOL_TRANSFER",
        from_school_id=SCHOOL_A,
        from_class_id=CLASS_A2,
        to_school_id=SCHOOL_B,
        to_class_id=CLASS_B1,
        effective_on="2025-11-20",
        full_name="Lê Bình",
    )
    moved.transfer_time.FromDatetime(datetime.now(UTC))
    async with db.unit_of_work(TENANT) as uow:
        await on_student_enrolled(event(STUDENT_ENROLLED, enrolled), uow)
        await uow.commit()
    act_as("authority", "authority_admin")
    assert "Lê Bình" in await roster(rosters, CLASS_A2)
    for _ in range(2):  # the handler is safe to run again
        async with db.unit_of_work(TENANT) as uow:
            await on_student_transferred(event(STUDENT_TRANSFERRED, moved), uow)
            await uow.commit()
    assert "Lê Bình" not in await roster(rosters, CLASS_A2)
    assert (await roster(rosters, CLASS_B1)).count("Lê Bình") == 1

"""School clubs on a real PostgreSQL: creation by the school, membership requests by families, decisions
by the adviser within capacity, sessions with approved members only, and refusals that change nothing."""

from __future__ import annotations

import pytest
from school.student_record.v1 import student_record_pb2 as pb
from school_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]
ADVISER = "gv-co-vua"


def club_request(world, capacity: int = 0) -> pb.CreateClubRequest:
    return pb.CreateClubRequest(
        school_id=world.school_a.id,
        name="Câu lạc bộ Cờ vua",
        description="Sinh hoạt chiều thứ Năm",
        adviser_subject=ADVISER,
        capacity=capacity,
        request_id="club-1",
    )


async def club_world(services, tenant: str, capacity: int = 0):
    world = await services.world(tenant)
    services.act_as(tenant, "admin-a", "school_admin", schools=[(world.school_a.id, "school_admin")])
    club = (await services.clubs.create_club(club_request(world, capacity))).club
    return world, club


def as_adviser(services, tenant: str, world) -> None:
    services.act_as(
        tenant, ADVISER, "teacher", classes=[(world.class_a2.id, world.school_a.id, "teacher", "Toán")]
    )


def as_mother(services, tenant: str, world) -> None:
    services.act_as(tenant, "mother", "guardian", children=[(world.child.id, world.school_a.id)])


async def test_a_family_asks_the_adviser_approves_and_sessions_count(services) -> None:
    world, club = await club_world(services, "c-flow")
    again = await services.clubs.create_club(club_request(world))
    assert again.club.id == club.id  # replayed
    with pytest.raises(AlreadyExists):
        await services.clubs.create_club(
            pb.CreateClubRequest(
                school_id=world.school_a.id, name="Câu lạc bộ Cờ vua", adviser_subject=ADVISER
            )
        )
    as_mother(services, "c-flow", world)
    membership = (
        await services.clubs.request_membership(
            pb.RequestClubMembershipRequest(club_id=club.id, student_id=world.child.id)
        )
    ).membership
    assert membership.state == pb.MEMBERSHIP_STATE_PENDING
    # the mother cannot ask for another family's child, nor decide
    with pytest.raises(PermissionDenied):
        await services.clubs.request_membership(
            pb.RequestClubMembershipRequest(club_id=club.id, student_id=world.classmate.id)
        )
    with pytest.raises(PermissionDenied):
        await services.clubs.decide_membership(
            pb.DecideClubMembershipRequest(membership_id=membership.id, approve=True)
        )
    as_adviser(services, "c-flow", world)
    with pytest.raises(InvalidArgument) as no_reason:
        await services.clubs.decide_membership(
            pb.DecideClubMembershipRequest(membership_id=membership.id, approve=False)
        )
    assert no_reason.value.metadata["field"] == "reason"
    approved = (
        await services.clubs.decide_membership(
            pb.DecideClubMembershipRequest(membership_id=membership.id, approve=True)
        )
    ).membership
    assert approved.state == pb.MEMBERSHIP_STATE_APPROVED
    with pytest.raises(FailedPrecondition) as twice:
        await services.clubs.decide_membership(
            pb.DecideClubMembershipRequest(membership_id=membership.id, approve=False, reason="x")
        )
    assert twice.value.reason == "MEMBERSHIP_ALREADY_DECIDED"
    # a session with the member; a non-member cannot be marked present
    await services.clubs.record_session(
        pb.RecordClubSessionRequest(
            club_id=club.id, held_on="2025-11-20", topic="Khai cuộc Ý", present_student_ids=[world.child.id]
        )
    )
    with pytest.raises(InvalidArgument) as stranger:
        await services.clubs.record_session(
            pb.RecordClubSessionRequest(
                club_id=club.id,
                held_on="2025-11-21",
                topic="Tàn cuộc",
                present_student_ids=[world.child.id, world.classmate.id],
            )
        )
    assert stranger.value.metadata["field"] == "present_student_ids[1]"
    assert await services.count("c-flow", "club_sessions") == 1
    members = await services.clubs.list_members(pb.ListClubMembersRequest(club_id=club.id))
    assert members.club.member_count == 1
    assert [(m.student_name, m.sessions_attended) for m in members.memberships] == [("Nguyễn Văn An", 1)]
    as_mother(services, "c-flow", world)
    [mine] = (
        await services.clubs.list_student_clubs(pb.ListStudentClubsRequest(student_id=world.child.id))
    ).clubs
    assert (mine.club.name, mine.membership.state, mine.membership.sessions_attended) == (
        "Câu lạc bộ Cờ vua",
        pb.MEMBERSHIP_STATE_APPROVED,
        1,
    )
    with pytest.raises(PermissionDenied):  # the member list is for the adviser and the school
        await services.clubs.list_members(pb.ListClubMembersRequest(club_id=club.id))


async def test_capacity_is_kept(services) -> None:
    world, club = await club_world(services, "c-full", capacity=1)
    requests = []
    for student in (world.child, world.classmate):
        services.act_as("c-full", "admin-a", "school_admin", schools=[(world.school_a.id, "school_admin")])
        requests.append(
            (
                await services.clubs.request_membership(
                    pb.RequestClubMembershipRequest(club_id=club.id, student_id=student.id)
                )
            ).membership
        )
    as_adviser(services, "c-full", world)
    await services.clubs.decide_membership(
        pb.DecideClubMembershipRequest(membership_id=requests[0].id, approve=True)
    )
    with pytest.raises(FailedPrecondition) as full:
        await services.clubs.decide_membership(
            pb.DecideClubMembershipRequest(membership_id=requests[1].id, approve=True)
        )
    assert full.value.reason == "CLUB_FULL"


async def test_only_students_of_the_school_join_and_only_the_school_creates(services) -> None:
    world, club = await club_world(services, "c-school")
    services.as_authority("c-school")
    with pytest.raises(InvalidArgument) as other_school:
        await services.clubs.request_membership(
            pb.RequestClubMembershipRequest(club_id=club.id, student_id=world.other.id)
        )
    assert other_school.value.metadata["field"] == "student_id"
    services.act_as("c-school", "admin-b", "school_admin", schools=[(world.school_b.id, "school_admin")])
    with pytest.raises(PermissionDenied) as not_theirs:
        await services.clubs.create_club(
            pb.CreateClubRequest(school_id=world.school_a.id, name="CLB Bóng rổ", adviser_subject="x")
        )
    assert not_theirs.value.reason == "NOT_YOUR_SCHOOL"
    with pytest.raises(PermissionDenied):
        await services.clubs.list_members(pb.ListClubMembersRequest(club_id=club.id))
    assert await services.count("c-school", "clubs") == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " "}, "name"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 501}, "capacity"),
        ({"adviser_subject": ""}, "adviser_subject"),
    ],
)
async def test_bad_clubs_are_refused(services, fields, field) -> None:
    tenant = f"c-bad-{field}-{abs(fields.get('capacity', 0))}"
    world = await services.world(tenant)
    services.act_as(tenant, "admin-a", "school_admin", schools=[(world.school_a.id, "school_admin")])
    values = {"school_id": world.school_a.id, "name": "CLB Tiếng Anh", "adviser_subject": ADVISER} | fields
    with pytest.raises(InvalidArgument) as caught:
        await services.clubs.create_club(pb.CreateClubRequest(**values))
    assert caught.value.metadata["field"] == field
    assert await services.count(tenant, "clubs") == 0

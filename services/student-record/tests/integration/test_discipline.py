"""Violations and rewards by Circular 19/2025 on a real PostgreSQL: measures by school level, who records,
who reads, the family's confirmation of a self-review, and refusals that change nothing."""

from __future__ import annotations

import pytest
from school.events.student_record.v1 import events_pb2 as events
from school.student_record.v1 import student_record_pb2 as pb
from school_common.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]
TODAY_SAFE = "2025-11-20"


def violation(
    student_id: str, measure: int = pb.DISCIPLINE_MEASURE_CRITICISM, **fields
) -> pb.RecordViolationRequest:
    values = {
        "student_id": student_id,
        "occurred_on": TODAY_SAFE,
        "description": "Sử dụng điện thoại trong giờ học",
        "severity": pb.VIOLATION_SEVERITY_SELF,
        "measure": measure,
    } | fields
    return pb.RecordViolationRequest(**values)


def homeroom(services, tenant: str, world) -> None:
    services.act_as(
        tenant,
        "gvcn-a1",
        "teacher",
        "homeroom_teacher",
        classes=[(world.class_a1.id, world.school_a.id, "homeroom_teacher", "")],
    )


async def test_a_homeroom_teacher_records_a_criticism_and_the_family_confirms_a_self_review(services) -> None:
    world = await services.world("d-record")
    homeroom(services, "d-record", world)
    recorded = (
        await services.discipline.record_violation(violation(world.child.id, request_id="v-1"))
    ).violation
    assert recorded.measure == pb.DISCIPLINE_MEASURE_CRITICISM
    assert recorded.school_id == world.school_a.id
    again = await services.discipline.record_violation(violation(world.child.id, request_id="v-1"))
    assert again.violation.id == recorded.id  # replayed, not recorded twice
    review = (
        await services.discipline.record_violation(
            violation(world.child.id, pb.DISCIPLINE_MEASURE_SELF_REVIEW)
        )
    ).violation
    [payload, _] = await services.events("d-record", "violation.recorded")
    event = events.ViolationRecorded.FromString(payload)
    assert (event.student_id, event.measure, event.severity) == (world.child.id, "CRITICISM", "SELF")
    assert b"\xc4\x91i\xe1\xbb\x87n tho\xe1\xba\xa1i" not in payload  # no description in the event
    # the family sees it and confirms the self-review; the teacher cannot confirm for them
    with pytest.raises(PermissionDenied) as caught:
        await services.discipline.confirm_self_review(pb.ConfirmSelfReviewRequest(violation_id=review.id))
    assert caught.value.reason == "GUARDIAN_CONFIRMATION_ONLY"
    services.act_as("d-record", "mother", "guardian", children=[(world.child.id, world.school_a.id)])
    listed = await services.discipline.list_violations(
        pb.ListStudentViolationsRequest(student_id=world.child.id)
    )
    assert {v.id for v in listed.violations} == {recorded.id, review.id}
    confirmed = (
        await services.discipline.confirm_self_review(pb.ConfirmSelfReviewRequest(violation_id=review.id))
    ).violation
    assert confirmed.HasField("family_confirm_time")
    with pytest.raises(FailedPrecondition) as not_review:
        await services.discipline.confirm_self_review(pb.ConfirmSelfReviewRequest(violation_id=recorded.id))
    assert not_review.value.reason == "NOT_A_SELF_REVIEW"
    # the guardian records nothing, and reads no other child's
    with pytest.raises(PermissionDenied):
        await services.discipline.record_violation(violation(world.child.id))
    with pytest.raises(PermissionDenied) as other:
        await services.discipline.list_violations(
            pb.ListStudentViolationsRequest(student_id=world.classmate.id)
        )
    assert other.value.reason == "NOT_YOUR_CHILD"


async def test_measures_follow_the_school_level(services) -> None:
    world = await services.world("d-level")
    homeroom(services, "d-level", world)
    with pytest.raises(InvalidArgument) as caught:  # secondary: no request to apologise
        await services.discipline.record_violation(violation(world.child.id, pb.DISCIPLINE_MEASURE_APOLOGY))
    assert caught.value.reason == "MEASURE_NOT_ALLOWED_AT_LEVEL"
    # primary: reminder or apology only
    services.as_authority("d-level")
    primary = (
        await services.schools.create_school(
            pb.CreateSchoolRequest(name="Trường Tiểu học C", levels=[pb.SCHOOL_LEVEL_PRIMARY])
        )
    ).school
    klass = getattr(
        await services.schools.create_class(
            pb.CreateClassRequest(school_id=primary.id, name="3A", grade=3, school_year="2025-2026")
        ),
        "class",
    )
    pupil = (await services.enrol(klass, services.new_student("Võ Minh Khang"))).student
    await services.discipline.record_violation(violation(pupil.id, pb.DISCIPLINE_MEASURE_APOLOGY))
    for measure in (pb.DISCIPLINE_MEASURE_CRITICISM, pb.DISCIPLINE_MEASURE_SELF_REVIEW):
        with pytest.raises(InvalidArgument) as refused:
            await services.discipline.record_violation(violation(pupil.id, measure))
        assert refused.value.reason == "MEASURE_NOT_ALLOWED_AT_LEVEL"
    assert await services.count("d-level", "violations") == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"measure": 0}, "measure"),
        ({"measure": 9}, "measure"),  # no value of the enum: suspension and expulsion cannot be expressed
        ({"severity": 0}, "severity"),
        ({"occurred_on": "2099-01-01"}, "occurred_on"),
        ({"occurred_on": "20/11/2025"}, "occurred_on"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 1001}, "description"),
    ],
)
async def test_bad_violations_are_refused_and_change_nothing(services, fields, field) -> None:
    tenant = f"d-bad-{field}-{len(str(fields))}"
    world = await services.world(tenant)
    homeroom(services, tenant, world)
    with pytest.raises(InvalidArgument) as caught:
        await services.discipline.record_violation(violation(world.child.id, **fields))
    assert caught.value.metadata["field"] == field
    assert await services.count(tenant, "violations") == 0


async def test_the_database_itself_refuses_a_suspension(services, db) -> None:
    world = await services.world("d-db")
    async with db.unit_of_work("d-db") as uow:
        with pytest.raises(IntegrityError, match="measure_allowed"):
            await uow.session.execute(
                text(
                    "INSERT INTO violations (id, tenant_id, student_id, school_id, recorded_by, occurred_on,"
                    " description, severity, measure) VALUES (gen_random_uuid(), 'd-db', CAST(:s AS uuid),"
                    " CAST(:sc AS uuid), 'x', '2025-11-20', 'x', 'SELF', 'SUSPENSION')"
                ),
                {"s": world.child.id, "sc": world.school_a.id},
            )


async def test_a_subject_teacher_reads_but_does_not_record(services) -> None:
    world = await services.world("d-subject")
    services.act_as(
        "d-subject", "gv-toan", "teacher", classes=[(world.class_a1.id, world.school_a.id, "teacher", "Toán")]
    )
    await services.discipline.list_violations(pb.ListStudentViolationsRequest(student_id=world.child.id))
    with pytest.raises(PermissionDenied) as caught:
        await services.discipline.record_violation(violation(world.child.id))
    assert caught.value.reason == "WRITE_NOT_ALLOWED"


async def test_rewards(services) -> None:
    world = await services.world("d-reward")
    homeroom(services, "d-reward", world)
    reward = (
        await services.discipline.record_reward(
            pb.RecordRewardRequest(
                student_id=world.child.id,
                kind=pb.REWARD_KIND_PRAISE_CLASS,
                reason="Giúp đỡ bạn",
                awarded_on=TODAY_SAFE,
            )
        )
    ).reward
    assert reward.kind == pb.REWARD_KIND_PRAISE_CLASS
    with pytest.raises(InvalidArgument):
        await services.discipline.record_reward(
            pb.RecordRewardRequest(student_id=world.child.id, kind=0, reason="x", awarded_on=TODAY_SAFE)
        )
    services.act_as("d-reward", "mother", "guardian", children=[(world.child.id, world.school_a.id)])
    listed = await services.discipline.list_rewards(pb.ListStudentRewardsRequest(student_id=world.child.id))
    assert [r.id for r in listed.rewards] == [reward.id]

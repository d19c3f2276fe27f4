"""Moves between classes and transfers between schools on a real PostgreSQL: the year's grades follow the
student, the receiving school decides a transfer, who may read the student follows their school, and bad
requests change nothing."""

from __future__ import annotations

import pytest
from school.events.student_record.v1 import events_pb2 as events
from school.student_record.v1 import student_record_pb2 as pb
from school_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

DAY = "2025-11-20"


def admin_of(services, tenant: str, school: pb.School, subject: str = "") -> None:
    services.act_as(
        tenant, subject or f"bgh-{school.id[:8]}", "school_admin", schools=[(school.id, "school_admin")]
    )


async def maths_score(services, klass: pb.Class, student_id: str, value: str) -> None:
    await services.gradebook.record_assessments(
        pb.RecordAssessmentsRequest(
            class_id=klass.id,
            subject_code="TOAN",
            semester=1,
            entries=[
                pb.AssessmentEntry(student_id=student_id, kind=pb.ASSESSMENT_KIND_MID_TERM, value=value)
            ],
        )
    )


async def roster(services, klass: pb.Class) -> set[str]:
    students = await services.enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=klass.id))
    return {s.id for s in students.students}


async def test_a_move_takes_the_student_and_their_grades_to_the_other_class(services) -> None:
    tenant = "mv-class"
    world = await services.world(tenant)
    admin_of(services, tenant, world.school_a)
    await maths_score(services, world.class_a1, world.child.id, "8,5")
    move = pb.MoveStudentRequest(
        student_id=world.child.id,
        to_class_id=world.class_a2.id,
        reason="Cân đối sĩ số",
        effective_on=DAY,
        request_id="mv-1",
    )
    moved = (await services.movements.move_student(move)).movement
    assert (moved.kind, moved.state) == (pb.MOVEMENT_KIND_CLASS_MOVE, pb.MOVEMENT_STATE_DONE)
    assert (moved.from_class_id, moved.to_class_id) == (world.class_a1.id, world.class_a2.id)
    assert (await services.movements.move_student(move)).movement.id == moved.id  # a retry replays
    assert world.child.id not in await roster(services, world.class_a1)
    assert world.child.id in await roster(services, world.class_a2)
    book = await services.gradebook.get_class_gradebook(
        pb.GetClassGradebookRequest(class_id=world.class_a2.id, subject_code="TOAN", semester=1)
    )
    [row] = [r for r in book.rows if r.student_id == world.child.id]
    assert [c.display for c in row.cells] == ["8,5"]
    [payload] = await services.events(tenant, "student.transferred")
    event = events.StudentTransferred.FromString(payload)
    assert (event.kind, event.from_class_id, event.to_class_id) == (
        "CLASS_MOVE",
        world.class_a1.id,
        world.class_a2.id,
    )
    assert event.full_name == "Nguyễn Văn An"
    listed = (
        await services.movements.list_movements(pb.ListMovementsRequest(school_id=world.school_a.id))
    ).movements
    assert [m.id for m in listed] == [moved.id]


async def test_bad_moves_are_refused_and_change_nothing(services) -> None:
    tenant = "mv-bad"
    world = await services.world(tenant)
    admin_of(services, tenant, world.school_a)
    next_year = await services.schools.create_class(
        pb.CreateClassRequest(school_id=world.school_a.id, name="6A9", grade=6, school_year="2026-2027")
    )
    next_year = getattr(next_year, "class")

    def move(**fields: str) -> pb.MoveStudentRequest:
        values = {
            "student_id": world.child.id,
            "to_class_id": world.class_a2.id,
            "reason": "x",
            "effective_on": DAY,
        }
        return pb.MoveStudentRequest(**(values | fields))

    with pytest.raises(AlreadyExists) as caught:
        await services.movements.move_student(move(to_class_id=world.class_a1.id))
    assert caught.value.reason == "ALREADY_IN_CLASS"
    with pytest.raises(FailedPrecondition) as caught:
        await services.movements.move_student(move(to_class_id=next_year.id))
    assert caught.value.reason == "NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR"
    with pytest.raises(PermissionDenied):  # another school's class is a transfer, and not this admin's
        await services.movements.move_student(move(to_class_id=world.class_b1.id))
    for field, value in (("effective_on", "2999-01-01"), ("effective_on", "20/11/2025"), ("reason", " ")):
        with pytest.raises(InvalidArgument) as caught:
            await services.movements.move_student(move(**{field: value}))
        assert caught.value.metadata["field"] == field
    services.act_as(
        tenant,
        "gvcn",
        "teacher",
        "homeroom_teacher",
        classes=[(world.class_a1.id, world.school_a.id, "homeroom_teacher", "")],
    )
    with pytest.raises(PermissionDenied):
        await services.movements.move_student(move())
    assert await services.count(tenant, "movements") == 0
    admin_of(services, tenant, world.school_a)
    assert world.child.id in await roster(services, world.class_a1)


async def test_a_transfer_is_decided_by_the_receiving_school_and_the_record_travels(services) -> None:
    tenant = "mv-transfer"
    world = await services.world(tenant)
    admin_of(services, tenant, world.school_a, "bgh-a")
    await maths_score(services, world.class_a1, world.child.id, "9")
    asked = (
        await services.movements.request_transfer(
            pb.RequestTransferRequest(
                student_id=world.child.id,
                to_school_id=world.school_b.id,
                reason="Gia đình chuyển nhà",
                effective_on=DAY,
            )
        )
    ).movement
    assert asked.state == pb.MOVEMENT_STATE_PENDING
    assert asked.to_class_id == ""
    with pytest.raises(FailedPrecondition) as caught:
        await services.movements.request_transfer(
            pb.RequestTransferRequest(
                student_id=world.child.id, to_school_id=world.school_b.id, reason="lần hai", effective_on=DAY
            )
        )
    assert caught.value.reason == "TRANSFER_PENDING"
    with pytest.raises(PermissionDenied):  # the sending school does not decide
        await services.movements.decide_transfer(
            pb.DecideTransferRequest(movement_id=asked.id, accept=True, to_class_id=world.class_b1.id)
        )
    # the student is still school A's until the receiving school accepts
    assert world.child.id in await roster(services, world.class_a1)

    admin_of(services, tenant, world.school_b, "bgh-b")
    with pytest.raises(InvalidArgument):  # a refusal needs a note
        await services.movements.decide_transfer(pb.DecideTransferRequest(movement_id=asked.id))
    done = (
        await services.movements.decide_transfer(
            pb.DecideTransferRequest(movement_id=asked.id, accept=True, to_class_id=world.class_b1.id)
        )
    ).movement
    assert (done.state, done.to_class_id, done.decided_by) == (
        pb.MOVEMENT_STATE_DONE,
        world.class_b1.id,
        "bgh-b",
    )
    student = (await services.enrolments.get_student(pb.GetStudentRequest(student_id=world.child.id))).student
    assert student.school_id == world.school_b.id
    assert student.status == "TRANSFERRED_IN_TERM1"
    assert world.child.id in await roster(services, world.class_b1)
    book = await services.gradebook.get_class_gradebook(
        pb.GetClassGradebookRequest(class_id=world.class_b1.id, subject_code="TOAN", semester=1)
    )
    assert [c.value for r in book.rows if r.student_id == world.child.id for c in r.cells] == ["9"]
    [payload] = await services.events(tenant, "student.transferred")
    event = events.StudentTransferred.FromString(payload)
    assert (event.kind, event.from_school_id, event.to_school_id) == (
        "SCHOOL_TRANSFER",
        world.school_a.id,
        world.school_b.id,
    )
    # the sending school no longer reads the student; both schools see the transfer in their list
    admin_of(services, tenant, world.school_a, "bgh-a")
    with pytest.raises(PermissionDenied):
        await services.enrolments.get_student(pb.GetStudentRequest(student_id=world.child.id))
    for school in (world.school_a, world.school_b):
        admin_of(services, tenant, school)
        listed = await services.movements.list_movements(pb.ListMovementsRequest(school_id=school.id))
        assert [m.id for m in listed.movements] == [asked.id]


async def test_a_transfer_into_a_class_of_another_year_is_refused(services) -> None:
    tenant = "mv-year"
    world = await services.world(tenant)
    admin_of(services, tenant, world.school_a)
    asked = (
        await services.movements.request_transfer(
            pb.RequestTransferRequest(
                student_id=world.child.id, to_school_id=world.school_b.id, reason="x", effective_on=DAY
            )
        )
    ).movement
    admin_of(services, tenant, world.school_b)
    later = getattr(
        await services.schools.create_class(
            pb.CreateClassRequest(school_id=world.school_b.id, name="7B1", grade=7, school_year="2026-2027")
        ),
        "class",
    )
    with pytest.raises(FailedPrecondition) as caught:
        await services.movements.decide_transfer(
            pb.DecideTransferRequest(movement_id=asked.id, accept=True, to_class_id=later.id)
        )
    assert caught.value.reason == "NOT_A_CLASS_OF_THE_SAME_SCHOOL_YEAR"
    refused = (
        await services.movements.decide_transfer(
            pb.DecideTransferRequest(movement_id=asked.id, note="Trường đã đủ sĩ số")
        )
    ).movement
    assert refused.state == pb.MOVEMENT_STATE_REFUSED
    admin_of(services, tenant, world.school_a)
    assert world.child.id in await roster(services, world.class_a1)


async def test_grades_and_school_levels_must_match(services) -> None:
    tenant = "mv-grades"
    world = await services.world(tenant)
    admin_of(services, tenant, world.school_a)
    seventh = getattr(
        await services.schools.create_class(
            pb.CreateClassRequest(school_id=world.school_a.id, name="7A1", grade=7, school_year="2025-2026")
        ),
        "class",
    )
    with pytest.raises(FailedPrecondition) as caught:
        await services.movements.move_student(
            pb.MoveStudentRequest(
                student_id=world.child.id, to_class_id=seventh.id, reason="x", effective_on=DAY
            )
        )
    assert (caught.value.reason, caught.value.metadata["field"]) == ("GRADE_MISMATCH", "to_class_id")
    services.as_authority(tenant)
    primary = (
        await services.schools.create_school(
            pb.CreateSchoolRequest(name="Trường Tiểu học C", levels=[pb.SCHOOL_LEVEL_PRIMARY])
        )
    ).school
    admin_of(services, tenant, world.school_a)
    with pytest.raises(FailedPrecondition) as caught:
        await services.movements.request_transfer(
            pb.RequestTransferRequest(
                student_id=world.child.id, to_school_id=primary.id, reason="x", effective_on=DAY
            )
        )
    assert caught.value.reason == "SCHOOL_LEVEL_MISMATCH"
    asked = (
        await services.movements.request_transfer(
            pb.RequestTransferRequest(
                student_id=world.child.id, to_school_id=world.school_b.id, reason="x", effective_on=DAY
            )
        )
    ).movement
    admin_of(services, tenant, world.school_b)
    seventh_b = getattr(
        await services.schools.create_class(
            pb.CreateClassRequest(school_id=world.school_b.id, name="7B1", grade=7, school_year="2025-2026")
        ),
        "class",
    )
    with pytest.raises(FailedPrecondition) as caught:
        await services.movements.decide_transfer(
            pb.DecideTransferRequest(movement_id=asked.id, accept=True, to_class_id=seventh_b.id)
        )
    assert caught.value.reason == "GRADE_MISMATCH"
    await services.movements.decide_transfer(
        pb.DecideTransferRequest(movement_id=asked.id, accept=True, to_class_id=world.class_b1.id)
    )
    # a retry is answered; the same decision into another class is not a retry
    retry = pb.DecideTransferRequest(movement_id=asked.id, accept=True, to_class_id=world.class_b1.id)
    assert (await services.movements.decide_transfer(retry)).movement.to_class_id == world.class_b1.id
    with pytest.raises(FailedPrecondition) as caught:
        await services.movements.decide_transfer(
            pb.DecideTransferRequest(movement_id=asked.id, accept=True, to_class_id=seventh_b.id)
        )
    assert caught.value.reason == "MOVEMENT_ALREADY_DECIDED"

"""student-record use cases on a real, migrated PostgreSQL: RLS, idempotency, outbox, validation."""

from __future__ import annotations

import unicodedata

import pytest
from school.student_record.v1 import student_record_pb2 as pb
from school_common.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from sqlalchemy import text

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def new_student(name: str = "Nguyễn Văn An") -> pb.NewStudent:
    return pb.NewStudent(
        full_name=name,
        date_of_birth="2014-09-05",
        sex=pb.SEX_MALE,
        guardians=[pb.Guardian(full_name="Trần Thị Bình", relationship="mother", phone="0901234567")],
    )


async def test_enrol_writes_student_enrolment_and_outbox_event(services):
    enrolments = services.enrolments
    school, klass = await services.school_with_class("t-enrol")
    response = await enrolments.enrol_student(
        pb.EnrolStudentRequest(class_id=klass.id, new_student=new_student())
    )
    assert response.student.school_id == school.id
    assert response.enrolment.class_id == klass.id
    listed = await enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=klass.id))
    assert [s.full_name for s in listed.students] == ["Nguyễn Văn An"]
    async with services.db.unit_of_work("t-enrol") as uow:
        subjects = (
            await uow.session.scalars(
                text("SELECT subject FROM outbox_events WHERE tenant_id = 't-enrol' ORDER BY id")
            )
        ).all()
    assert subjects == [
        "school.student_record.school.created.v1",
        "school.student_record.class.created.v1",
        "school.student_record.student.enrolled.v1",
        "school.student_record.personal_data.accessed.v1",  # the class list was read
    ]


async def test_decomposed_vietnamese_names_are_stored_nfc(services):
    enrolments = services.enrolments
    _, klass = await services.school_with_class("t-nfc")
    nfd = unicodedata.normalize("NFD", "Phạm  Thị Hồng Nhung ")
    assert nfd != unicodedata.normalize("NFC", nfd)
    response = await enrolments.enrol_student(
        pb.EnrolStudentRequest(class_id=klass.id, new_student=new_student(nfd))
    )
    assert response.student.full_name == unicodedata.normalize("NFC", "Phạm Thị Hồng Nhung")


async def test_other_tenant_sees_nothing_and_cannot_enrol(services):
    schools, enrolments = services.schools, services.enrolments
    _, klass = await services.school_with_class("t-a")
    services.as_authority("t-b")
    assert (await schools.list_schools(pb.ListSchoolsRequest())).schools == []
    with pytest.raises(NotFound):
        await enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=klass.id))
    with pytest.raises(NotFound):
        await enrolments.enrol_student(pb.EnrolStudentRequest(class_id=klass.id, new_student=new_student()))


async def test_rls_holds_for_a_query_without_tenant_filter(services):
    await services.school_with_class("t-rls-1", "Trường A")
    await services.school_with_class("t-rls-2", "Trường B")
    async with services.db.unit_of_work("t-rls-1") as uow:
        names = (await uow.session.scalars(text("SELECT name FROM schools"))).all()  # no WHERE tenant_id
    assert names == ["Trường A"]
    async with services.db.unit_of_work(None) as uow:  # no tenant at all: nothing
        assert (await uow.session.scalar(text("SELECT count(*) FROM schools"))) == 0
        # and writing a row for another tenant is refused by the policy's WITH CHECK
    async with services.db.unit_of_work("t-rls-1") as uow:
        with pytest.raises(Exception, match="row-level security"):
            await uow.session.execute(
                text(
                    "INSERT INTO schools (id, tenant_id, name, levels)"
                    " VALUES (gen_random_uuid(), 't-rls-2', 'x', '{}')"
                )
            )


async def test_enrolment_into_class_of_another_school_is_refused_and_changes_nothing(services):
    enrolments = services.enrolments
    school_a, class_a = await services.school_with_class("t-cross", "Trường Một")
    school_b, class_b = await services.school_with_class("t-cross", "Trường Hai")
    # An administrator of both schools: the refusal is about the student, not about access.
    services.act_as(
        "t-cross",
        "both-admin",
        "school_admin",
        schools=[(school_a.id, "school_admin"), (school_b.id, "school_admin")],
    )
    enrolled = await enrolments.enrol_student(
        pb.EnrolStudentRequest(class_id=class_a.id, new_student=new_student())
    )
    before = await services.count("t-cross", "enrolments")
    with pytest.raises(FailedPrecondition) as caught:
        await enrolments.enrol_student(
            pb.EnrolStudentRequest(class_id=class_b.id, student_id=enrolled.student.id)
        )
    assert caught.value.reason == "STUDENT_IN_OTHER_SCHOOL"
    assert await services.count("t-cross", "enrolments") == before
    with pytest.raises(AlreadyExists):
        await enrolments.enrol_student(
            pb.EnrolStudentRequest(class_id=class_a.id, student_id=enrolled.student.id)
        )


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: setattr(s, "full_name", "  "), "full_name"),
        (lambda s: setattr(s, "full_name", "Robert'); DROP TABLE students;--"), "full_name"),
        (lambda s: setattr(s, "date_of_birth", "2014-02-30"), "date_of_birth"),
        (lambda s: setattr(s, "date_of_birth", "1950-01-01"), "date_of_birth"),
        (lambda s: setattr(s, "sex", pb.SEX_UNSPECIFIED), "sex"),
        (lambda s: setattr(s.guardians[0], "phone", "12345"), "phone"),
        (lambda s: setattr(s.guardians[0], "relationship", "neighbour"), "relationship"),
    ],
)
async def test_bad_student_is_refused_and_changes_nothing(services, mutate, field):
    enrolments = services.enrolments
    _, klass = await services.school_with_class(f"t-bad-{field}")
    student = new_student()
    mutate(student)
    before = await services.count(f"t-bad-{field}", "students")
    with pytest.raises(InvalidArgument) as caught:
        await enrolments.enrol_student(pb.EnrolStudentRequest(class_id=klass.id, new_student=student))
    assert field in caught.value.metadata["field"]
    assert await services.count(f"t-bad-{field}", "students") == before


async def test_idempotent_enrolment_replays_refuses_reuse_and_blocks_concurrency(services):
    enrolments = services.enrolments
    _, klass = await services.school_with_class("t-idem")
    request = pb.EnrolStudentRequest(class_id=klass.id, new_student=new_student(), request_id="key-1")
    first = await enrolments.enrol_student(request)
    again = await enrolments.enrol_student(request)
    assert again == first
    assert await services.count("t-idem", "enrolments") == 1
    other = pb.EnrolStudentRequest(
        class_id=klass.id, new_student=new_student("Lê Văn Cường"), request_id="key-1"
    )
    with pytest.raises(InvalidArgument) as caught:
        await enrolments.enrol_student(other)
    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"
    # A duplicate arriving while the first is still in its transaction is told to retry (409), not queued.
    racing = pb.EnrolStudentRequest(
        class_id=klass.id, new_student=new_student("Đỗ Minh Khoa"), request_id="key-2"
    )
    async with services.db.unit_of_work("t-idem") as first_in_flight:
        await first_in_flight.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": "t-idem:admin:key-2"}
        )
        with pytest.raises(Aborted) as caught:
            await enrolments.enrol_student(racing)
        assert caught.value.reason == "REQUEST_IN_PROGRESS"
    assert await services.count("t-idem", "enrolments") == 1
    await enrolments.enrol_student(racing)
    assert await services.count("t-idem", "enrolments") == 2


async def test_idempotency_keys_belong_to_their_user(services):
    enrolments = services.enrolments
    school, klass = await services.school_with_class("t-idem-users")
    request = pb.EnrolStudentRequest(class_id=klass.id, new_student=new_student(), request_id="same-key")
    services.act_as("t-idem-users", "alice", "school_admin", schools=[(school.id, "school_admin")])
    first = await enrolments.enrol_student(request)
    services.act_as("t-idem-users", "bob", "school_admin", schools=[(school.id, "school_admin")])
    second = await enrolments.enrol_student(request)
    assert second.student.id != first.student.id  # Bob's key is his own: no replay of Alice's response


async def test_lists_are_paged_with_cursors(services):
    schools, enrolments = services.schools, services.enrolments
    school, klass = await services.school_with_class("t-pages")
    for name in ("6A2", "6A3"):
        await schools.create_class(
            pb.CreateClassRequest(school_id=school.id, name=name, grade=6, school_year="2025-2026")
        )
    first = await schools.list_classes(pb.ListClassesRequest(school_id=school.id, page_size=2))
    assert [c.name for c in first.classes] == ["6A1", "6A2"]
    assert first.next_page_token
    second = await schools.list_classes(
        pb.ListClassesRequest(school_id=school.id, page_size=2, page_token=first.next_page_token)
    )
    assert [c.name for c in second.classes] == ["6A3"]
    assert second.next_page_token == ""
    for n in range(3):
        await enrolments.enrol_student(
            pb.EnrolStudentRequest(class_id=klass.id, new_student=new_student(f"Nguyễn Văn {'ABC'[n]}"))
        )
    page_one = await enrolments.list_class_students(
        pb.ListClassStudentsRequest(class_id=klass.id, page_size=2)
    )
    page_two = await enrolments.list_class_students(
        pb.ListClassStudentsRequest(class_id=klass.id, page_size=2, page_token=page_one.next_page_token)
    )
    assert len(page_one.students) == 2
    assert len(page_two.students) == 1
    assert not page_two.next_page_token
    with pytest.raises(InvalidArgument):
        await schools.list_classes(pb.ListClassesRequest(school_id=school.id, page_token="!!not-a-token!!"))
    with pytest.raises(InvalidArgument):
        await schools.list_classes(pb.ListClassesRequest(school_id=school.id, page_size=-1))


async def test_rows_cannot_point_into_another_tenant_even_by_id(services):
    school_a, _ = await services.school_with_class("t-fk-a")
    async with services.db.unit_of_work("t-fk-b") as uow:
        with pytest.raises(Exception, match="foreign key"):
            await uow.session.execute(
                text(
                    "INSERT INTO classes (id, tenant_id, school_id, name, grade, school_year)"
                    " VALUES (gen_random_uuid(), 't-fk-b', CAST(:s AS uuid), '1A', 1, '2025-2026')"
                ),
                {"s": school_a.id},
            )

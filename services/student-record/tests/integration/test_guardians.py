"""Guardians' personal identification numbers go to identity and nowhere else; events carry person ids."""

from __future__ import annotations

import pytest
from school.events.student_record.v1 import events_pb2 as events
from school.identity.v1 import identity_pb2_grpc as idgrpc
from school.student_record.v1 import student_record_pb2 as pb
from school_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    Unavailable,
)
from school_common.grpc.client import channel
from school_common.idempotency import request_hash
from school_common.testing.servers import free_port
from sqlalchemy import text
from student_record.adapters.identity import IdentityClient
from student_record.enrolments.service import EnrolmentService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

#: The student's own number (HCMC, male born 2014), input only like the guardians'.
STUDENT_PERSONAL_ID = "079214005678"

WRITTEN = ("students", "guardians", "enrolments", "outbox_events", "idempotency_keys")


async def snapshot(services, tenant: str) -> dict[str, int]:
    return {table: await services.count(tenant, table) for table in WRITTEN}


def with_mother(services, *others) -> pb.NewStudent:
    return services.new_student(
        "Nguyễn Văn An",
        services.guardian(
            "Trần Thị Bình", "mother", "0901234567", services.MOTHER_PERSONAL_ID, services.MOTHER_BORN
        ),
        *others,
    )


async def every_stored_value(services, tenant: str) -> list[object]:
    """Every value of every row of every table of the service's database that the tenant can see."""
    async with services.db.unit_of_work(tenant) as uow:
        tables = (
            await uow.session.scalars(
                text(
                    "SELECT tablename FROM pg_tables"
                    " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            )
        ).all()
        values: list[object] = []
        for table in tables:
            for row in (await uow.session.execute(text(f"SELECT * FROM {table}"))).all():
                values.extend(row)
    assert {"guardians", "outbox_events", "idempotency_keys"} <= set(tables)
    return values


def holds(value: object, needle: str) -> bool:
    if isinstance(value, bytes | memoryview):
        return needle.encode() in bytes(value)
    return needle in str(value)


async def test_the_personal_identification_number_is_passed_to_identity_and_never_stored(services):
    tenant = "t-never-stored"
    _, klass = await services.school_with_class(tenant)
    principal = services.act_as(tenant, "admin", "authority_admin", tenant_wide=True)
    new = with_mother(services)
    new.personal_id = STUDENT_PERSONAL_ID
    request = pb.EnrolStudentRequest(class_id=klass.id, new_student=new, request_id="enrol-1")
    response = await services.enrolments.enrol_student(request)

    sent = [
        (r.request.personal_id, r.request.full_name, r.request.date_of_birth)
        for r in services.identity.registrations
    ]
    assert sent == [
        (STUDENT_PERSONAL_ID, "Nguyễn Văn An", "2014-09-05"),
        (services.MOTHER_PERSONAL_ID, "Trần Thị Bình", services.MOTHER_BORN),
    ]
    # identity is called with the caller's own token: it decides whether they may register people.
    assert {r.authorization for r in services.identity.registrations} == {f"Bearer {principal.token}"}
    assert response.student.person_id == services.identity.persons[STUDENT_PERSONAL_ID]
    [mother] = response.student.guardians
    assert mother.person_id == services.identity.persons[services.MOTHER_PERSONAL_ID]
    assert (mother.personal_id, mother.date_of_birth) == ("", "")  # never returned

    values = await every_stored_value(services, tenant)
    for stored in (mother.person_id, response.student.person_id):
        assert any(holds(v, stored) for v in values)  # the scan does see what is stored
    for secret in (STUDENT_PERSONAL_ID, services.MOTHER_PERSONAL_ID, services.MOTHER_BORN):
        assert not [v for v in values if holds(v, secret)], f"{secret} is stored"
    async with services.db.unit_of_work(tenant) as uow:
        columns = (
            await uow.session.scalars(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'guardians'")
            )
        ).all()
        stored_hash = await uow.session.scalar(text("SELECT request_hash FROM idempotency_keys"))
    assert "person_id" in columns
    assert not {"personal_id", "date_of_birth"} & set(columns)
    # Idempotency keeps a hash of the request: not of one holding the number (it could be brute-forced)
    # but of the request with the person id identity issued in place of the number and date of birth.
    kept = pb.EnrolStudentRequest()
    kept.CopyFrom(request)
    kept.new_student.personal_id = f"person:{response.student.person_id}"
    kept.new_student.guardians[0].ClearField("personal_id")
    kept.new_student.guardians[0].ClearField("date_of_birth")
    kept.new_student.guardians[0].person_id = mother.person_id
    assert stored_hash == request_hash(kept)
    assert stored_hash != request_hash(request)

    # The retry is replayed; identity gives the same person id for the same number.
    assert await services.enrolments.enrol_student(request) == response
    assert await services.count(tenant, "students") == 1


async def test_events_name_guardians_by_person_id(services):
    tenant = "t-person-events"
    school, klass = await services.school_with_class(tenant)
    father = services.guardian("Nguyễn Văn Cường", "father", "0912345678")
    enrolled = await services.enrol(klass, with_mother(services, father))
    mother_id = services.identity.persons[services.MOTHER_PERSONAL_ID]

    [created] = [events.SchoolCreated.FromString(p) for p in await services.events(tenant, "school.created")]
    assert (created.school_id, created.name, created.code) == (school.id, "Trường THCS Lê Quý Đôn", "")
    [event] = [
        events.StudentEnrolled.FromString(p) for p in await services.events(tenant, "student.enrolled")
    ]
    assert event.student_id == enrolled.student.id
    assert event.date_of_birth == "2014-09-05"
    assert event.person_id == ""  # no number was declared for the student
    assert [(g.person_id, g.relationship) for g in event.guardians] == [(mother_id, "mother"), ("", "father")]
    async with services.db.unit_of_work(tenant) as uow:
        stored = (
            await uow.session.execute(
                text("SELECT relation, CAST(person_id AS text) FROM guardians ORDER BY id")
            )
        ).all()
    assert [tuple(r) for r in stored] == [("mother", mother_id), ("father", None)]

    added = await services.enrolments.add_guardian(
        pb.AddGuardianRequest(
            student_id=enrolled.student.id,
            guardian=services.guardian("Trần Văn Minh", "grandparent", "", "079052001111", "1952-01-01"),
        )
    )
    grandparent_id = services.identity.persons["079052001111"]
    assert [(g.relationship, g.person_id) for g in added.student.guardians] == [
        ("mother", mother_id),
        ("father", ""),
        ("grandparent", grandparent_id),
    ]
    [event] = [events.GuardianAdded.FromString(p) for p in await services.events(tenant, "guardian.recorded")]
    assert (event.student_id, event.school_id) == (enrolled.student.id, school.id)
    assert (event.guardian.person_id, event.guardian.relationship) == (grandparent_id, "grandparent")
    assert not [v for v in await every_stored_value(services, tenant) if holds(v, "079052001111")]


@pytest.mark.parametrize(
    ("reason", "metadata", "field"),
    [
        ("INVALID_PERSONAL_ID_FORMAT", {"field": "personal_id"}, "personal_id"),
        ("UNKNOWN_PROVINCE_CODE", {}, "personal_id"),
        ("CENTURY_MISMATCH", {"field": "personal_id"}, "personal_id"),
        ("BIRTH_YEAR_MISMATCH", {}, "personal_id"),
        ("INVALID_DATE_OF_BIRTH", {}, "date_of_birth"),
        ("INVALID_DATE_OF_BIRTH", {"field": "date_of_birth"}, "date_of_birth"),
    ],
)
async def test_identity_refusals_are_passed_on_with_the_field_and_nothing_is_written(
    services, reason, metadata, field
):
    tenant = f"t-refused-{reason.lower().replace('_', '-')}-{len(metadata)}"
    _, klass = await services.school_with_class(tenant)
    before = await snapshot(services, tenant)
    services.identity.refusal = (reason, metadata)
    second = services.guardian("Nguyễn Văn Cường", "father", "", "079085009999", "1985-01-01")
    student = services.new_student("Nguyễn Văn An", services.guardian("Trần Thị Bình", "mother"), second)
    with pytest.raises(InvalidArgument) as caught:
        await services.enrol(klass, student, request_id="refused-1")
    assert caught.value.reason == reason
    assert caught.value.metadata["field"] == f"new_student.guardians[1].{field}"
    assert "079085009999" not in caught.value.message
    assert await snapshot(services, tenant) == before


async def test_identity_away_means_unavailable_and_nothing_is_written(services, db):
    tenant = "t-identity-away"
    _, klass = await services.school_with_class(tenant)
    before = await snapshot(services, tenant)
    away = channel(f"127.0.0.1:{free_port()}")  # nothing listens there
    try:
        # Scopes still come from the in-test identity; only the registration finds nobody.
        enrolments = EnrolmentService(
            db,
            services.outbox,
            services.access,
            IdentityClient(idgrpc.IdentityServiceStub(away), timeout_s=2),
        )
        with pytest.raises(Unavailable) as caught:
            await enrolments.enrol_student(
                pb.EnrolStudentRequest(
                    class_id=klass.id, new_student=with_mother(services), request_id="away-1"
                )
            )
        assert caught.value.reason == "IDENTITY_UNAVAILABLE"
    finally:
        await away.close()
    assert await snapshot(services, tenant) == before


@pytest.mark.parametrize(
    ("personal_id", "born", "field"),
    [("079185001234", "", "date_of_birth"), ("", "1985-03-12", "personal_id")],
)
async def test_a_number_and_a_date_of_birth_come_together(services, personal_id, born, field):
    tenant = f"t-pair-{field.replace('_', '-')}"
    _, klass = await services.school_with_class(tenant)
    before = await snapshot(services, tenant)
    student = services.new_student(
        "Nguyễn Văn An", services.guardian("Trần Thị Bình", "mother", "", personal_id, born)
    )
    with pytest.raises(InvalidArgument) as caught:
        await services.enrol(klass, student)
    assert caught.value.metadata["field"] == f"new_student.guardians[0].{field}"
    assert services.identity.registrations == []
    assert await snapshot(services, tenant) == before


async def test_identity_hears_nothing_from_a_caller_who_may_not_enrol(services):
    tenant = "t-no-registration"
    school, klass = await services.school_with_class(tenant)
    services.act_as(tenant, "teacher-1", "teacher", classes=[(klass.id, school.id, "homeroom_teacher", "")])
    with pytest.raises(PermissionDenied) as caught:
        await services.enrol(klass, with_mother(services))
    assert caught.value.reason == "ADMIN_ROLE_REQUIRED"
    assert services.identity.registrations == []


async def test_the_same_person_is_recorded_once_per_student(services):
    tenant = "t-same-person"
    _, klass = await services.school_with_class(tenant)
    mother_again = services.guardian(
        "Trần Thị Bình", "guardian", "", services.MOTHER_PERSONAL_ID, services.MOTHER_BORN
    )
    with pytest.raises(InvalidArgument) as caught:
        await services.enrol(klass, with_mother(services, mother_again))
    assert caught.value.metadata["field"] == "new_student.guardians[1].personal_id"

    enrolled = await services.enrol(klass, with_mother(services))
    before = await snapshot(services, tenant)
    with pytest.raises(AlreadyExists) as caught_again:
        await services.enrolments.add_guardian(
            pb.AddGuardianRequest(student_id=enrolled.student.id, guardian=mother_again)
        )
    assert caught_again.value.reason == "GUARDIAN_ALREADY_RECORDED"
    assert await snapshot(services, tenant) == before


async def test_add_guardian_is_idempotent_and_bounded(services):
    tenant = "t-add-guardian"
    _, klass = await services.school_with_class(tenant)
    enrolled = await services.enrol(klass, with_mother(services))
    request = pb.AddGuardianRequest(
        student_id=enrolled.student.id,
        guardian=services.guardian("Nguyễn Văn Cường", "father", "+84 912 345 678"),
        request_id="add-1",
    )
    first = await services.enrolments.add_guardian(request)
    assert await services.enrolments.add_guardian(request) == first
    assert [g.phone for g in first.student.guardians] == ["0901234567", "0912345678"]
    assert len(await services.events(tenant, "guardian.recorded")) == 1

    with pytest.raises(InvalidArgument) as caught:
        await services.enrolments.add_guardian(
            pb.AddGuardianRequest(
                student_id=enrolled.student.id, guardian=services.guardian("Lê Văn", "neighbour")
            )
        )
    assert caught.value.metadata["field"] == "guardian.relationship"
    for name in ("Lê Văn Một", "Lê Văn Hai"):
        await services.enrolments.add_guardian(
            pb.AddGuardianRequest(student_id=enrolled.student.id, guardian=services.guardian(name, "other"))
        )
    with pytest.raises(FailedPrecondition) as limit:
        await services.enrolments.add_guardian(
            pb.AddGuardianRequest(
                student_id=enrolled.student.id, guardian=services.guardian("Lê Văn Ba", "other")
            )
        )
    assert limit.value.reason == "GUARDIAN_LIMIT_REACHED"
    assert await services.count(tenant, "guardians") == 4


async def test_the_students_own_number_goes_the_same_way(services):
    tenant = "t-student-number"
    _, klass = await services.school_with_class(tenant)
    new = services.new_student("Nguyễn Văn An")
    new.personal_id = STUDENT_PERSONAL_ID
    enrolled = await services.enrol(klass, new)
    person_id = services.identity.persons[STUDENT_PERSONAL_ID]
    assert enrolled.student.person_id == person_id
    [event] = [
        events.StudentEnrolled.FromString(p) for p in await services.events(tenant, "student.enrolled")
    ]
    assert (event.person_id, list(event.guardians)) == (person_id, [])
    assert not [v for v in await every_stored_value(services, tenant) if holds(v, STUDENT_PERSONAL_ID)]

    before = await snapshot(services, tenant)
    services.identity.refusal = ("CENTURY_MISMATCH", {"field": "personal_id"})
    other = services.new_student("Lê Văn Bảo")
    other.personal_id = "079114005678"
    with pytest.raises(InvalidArgument) as caught:
        await services.enrol(klass, other)
    assert (caught.value.reason, caught.value.metadata["field"]) == (
        "CENTURY_MISMATCH",
        "new_student.personal_id",
    )
    assert await snapshot(services, tenant) == before

"""The register of upper-secondary diplomas and certificates of completion on a real PostgreSQL: entering
one for a grade-12 student of an upper-secondary school, refusals that write nothing, corrections as new
entries, revocations that stay, the school's register book, the family's lifelong look-up, and the public
verification by serial number and code."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from school.events.audit.v1 import events_pb2 as audit
from school.events.student_record.v1 import events_pb2 as events
from school.student_record.v1 import student_record_pb2 as pb
from school_common.context import set_principal
from school_common.errors import AlreadyExists, DomainError, FailedPrecondition, NotFound, PermissionDenied

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

YEAR = "2025-2026"
DIPLOMA = pb.DIPLOMA_KIND_UPPER_SECONDARY_DIPLOMA
COMPLETION = pb.DIPLOMA_KIND_UPPER_SECONDARY_COMPLETION
SIGNER = {"signer_name": "Đặng Văn Hùng", "signer_title": "Giám đốc Sở Giáo dục và Đào tạo"}


@dataclass
class Register:
    """A tenant's lower-secondary world (``services.world``) plus two upper-secondary schools: A with
    12A1 (the graduate) and 10A1 (a grade-10 student), B with 12B1 (another graduate)."""

    world: object
    school: pb.School
    school_b: pb.School
    class_12: pb.Class
    graduate: pb.Student
    junior: pb.Student
    other: pb.Student


def student(name: str, born: str) -> pb.NewStudent:
    return pb.NewStudent(
        full_name=name,
        date_of_birth=born,
        sex=pb.SEX_FEMALE,
        guardians=[pb.Guardian(full_name="Trần Thị Bình", relationship="mother")],
    )


async def upper_secondary(services, tenant: str) -> Register:
    world = await services.world(tenant)
    services.as_authority(tenant)

    async def school(name: str) -> pb.School:
        request = pb.CreateSchoolRequest(name=name, levels=[pb.SCHOOL_LEVEL_UPPER_SECONDARY])
        return (await services.schools.create_school(request)).school

    async def klass(of: pb.School, name: str, grade: int) -> pb.Class:
        request = pb.CreateClassRequest(school_id=of.id, name=name, grade=grade, school_year=YEAR)
        return getattr(await services.schools.create_class(request), "class")

    school_a, school_b = await school("Trường THPT Nguyễn Du"), await school("Trường THPT Lê Lợi")
    class_12, class_10 = await klass(school_a, "12A1", 12), await klass(school_a, "10A1", 10)
    class_12b = await klass(school_b, "12B1", 12)
    graduate = (await services.enrol(class_12, student("Nguyễn Thị Mai", "2008-05-10"))).student
    junior = (await services.enrol(class_10, student("Lê Văn Nam", "2010-02-01"))).student
    other = (await services.enrol(class_12b, student("Phạm Thị Hoa", "2008-09-09"))).student
    return Register(world, school_a, school_b, class_12, graduate, junior, other)


def admin(services, tenant: str, school: pb.School) -> None:
    services.act_as(tenant, f"admin-{school.id[-4:]}", "school_admin", schools=[(school.id, "school_admin")])


def family(services, tenant: str, reg: Register) -> None:
    services.act_as(tenant, "me-mai", "guardian", children=[(reg.graduate.id, reg.school.id)])


def homeroom(services, tenant: str, reg: Register) -> None:
    services.act_as(
        tenant,
        "gvcn-12a1",
        "teacher",
        "homeroom_teacher",
        classes=[(reg.class_12.id, reg.school.id, "homeroom_teacher", "")],
    )


def issue(
    student_id: str, serial: str = "A 0012345", register: str = "1", **fields
) -> pb.IssueDiplomaRequest:
    values = {
        "student_id": student_id,
        "kind": DIPLOMA,
        "graduation_year": 2026,
        "register_number": register,
        "serial_number": serial,
        "issued_on": "2026-07-20",
        **SIGNER,
    }
    return pb.IssueDiplomaRequest(**(values | fields))


async def refused(call, error: type[DomainError], reason: str) -> None:
    with pytest.raises(error) as caught:
        await call
    assert caught.value.reason == reason


async def test_a_school_admin_enters_a_diploma_and_the_family_finds_it(services) -> None:
    tenant = "dp-issue"
    reg = await upper_secondary(services, tenant)
    admin(services, tenant, reg.school)
    request = issue(reg.graduate.id, " a  0012345", "12/2026", classification=pb.DIPLOMA_CLASSIFICATION_KHA)
    request.request_id = "issue-1"
    diploma = (await services.diplomas.issue_diploma(request)).diploma
    assert (diploma.kind, diploma.status, diploma.graduation_year) == (DIPLOMA, pb.DIPLOMA_STATUS_VALID, 2026)
    assert (diploma.serial_number, diploma.register_number) == ("A 0012345", "12/2026")
    assert (diploma.holder_name, diploma.holder_date_of_birth) == ("Nguyễn Thị Mai", "2008-05-10")
    assert (diploma.school_id, diploma.student_id) == (reg.school.id, reg.graduate.id)
    assert diploma.classification == pb.DIPLOMA_CLASSIFICATION_KHA
    assert (diploma.issued_on, diploma.signer_name) == ("2026-07-20", "Đặng Văn Hùng")
    assert len(diploma.verification_code) == 10
    assert not diploma.HasField("correct_time")
    assert not diploma.HasField("revoke_time")
    # a retry replays; nothing more is written
    assert (await services.diplomas.issue_diploma(request)).diploma == diploma
    assert await services.count(tenant, "diplomas") == 1
    [payload] = await services.events(tenant, "diploma.issued")
    event = events.DiplomaIssued.FromString(payload)
    assert (event.diploma_id, event.student_id, event.school_id) == (
        diploma.id,
        reg.graduate.id,
        reg.school.id,
    )
    assert (event.kind, event.graduation_year, event.supersedes_id) == ("UPPER_SECONDARY_DIPLOMA", 2026, "")
    assert b"Mai" not in payload
    assert b"0012345" not in payload

    # the certificate of completion is its own book: its register number 12/2026 is free
    completion = await services.diplomas.issue_diploma(
        issue(reg.graduate.id, "GCN 001", "12/2026", kind=COMPLETION, graduation_year=2026)
    )
    assert completion.diploma.kind == COMPLETION

    family(services, tenant, reg)
    before = len(await services.events(tenant, "personal_data.accessed"))
    listed = await services.diplomas.list_student_diplomas(
        pb.ListStudentDiplomasRequest(student_id=reg.graduate.id)
    )
    assert [d.id for d in listed.diplomas] == [diploma.id, completion.diploma.id]
    [record] = [
        audit.PersonalDataAccessed.FromString(p)
        for p in (await services.events(tenant, "personal_data.accessed"))[before:]
    ]
    assert (record.actor, record.target, record.operation) == (
        "me-mai",
        f"student:{reg.graduate.id}/diplomas",
        "ListStudentDiplomas",
    )
    await refused(
        services.diplomas.list_student_diplomas(pb.ListStudentDiplomasRequest(student_id=reg.other.id)),
        PermissionDenied,
        "NOT_YOUR_CHILD",
    )

    # the public verification: no token, the tenant in the request, the name only
    set_principal(None)
    check = await services.diplomas.verify_diploma(
        pb.VerifyDiplomaRequest(
            tenant=tenant, serial_number="a 0012345", verification_code=diploma.verification_code.lower()
        )
    )
    assert check == pb.VerifyDiplomaResponse(
        status=pb.DIPLOMA_STATUS_VALID,
        kind=DIPLOMA,
        school_name="Trường THPT Nguyễn Du",
        graduation_year=2026,
        holder_name="Nguyễn Thị Mai",
    )
    wrong = [
        pb.VerifyDiplomaRequest(tenant=tenant, serial_number="A 0012345", verification_code="WRONGCODE2"),
        pb.VerifyDiplomaRequest(
            tenant=tenant, serial_number="A 9999999", verification_code=diploma.verification_code
        ),
        pb.VerifyDiplomaRequest(
            tenant="dp-other", serial_number="A 0012345", verification_code=diploma.verification_code
        ),
        pb.VerifyDiplomaRequest(tenant=tenant, serial_number="", verification_code=diploma.verification_code),
        pb.VerifyDiplomaRequest(tenant=tenant, serial_number="A 0012345", verification_code=""),
    ]
    for request in wrong:
        await refused(services.diplomas.verify_diploma(request), NotFound, "DIPLOMA_NOT_FOUND")


async def test_bad_input_and_wrong_callers_are_refused_and_write_nothing(services) -> None:
    tenant = "dp-refuse"
    reg = await upper_secondary(services, tenant)
    admin(services, tenant, reg.school)
    await services.diplomas.issue_diploma(issue(reg.graduate.id, "A 1", "1"))
    admin(services, tenant, reg.school_b)
    cases = [
        (issue(reg.other.id, "A 1", "1"), AlreadyExists, "SERIAL_NUMBER_TAKEN"),
        (issue(reg.other.id, "A 2", "2", issued_on="2026-12-01"), DomainError, "INVALID_DATE"),
        (
            issue(reg.other.id, "A 2", "2", issued_on="2025-12-31"),
            DomainError,
            "ISSUED_BEFORE_GRADUATION_YEAR",
        ),
        (issue(reg.other.id, "A 2", "2", graduation_year=2025), DomainError, "GRADUATION_BEFORE_FINAL_YEAR"),
        (
            issue(reg.other.id, "A 2", "2", kind=COMPLETION, classification=pb.DIPLOMA_CLASSIFICATION_GIOI),
            DomainError,
            "CLASSIFICATION_NOT_ALLOWED",
        ),
        (issue(reg.other.id, "A 2", "2", kind=pb.DIPLOMA_KIND_UNSPECIFIED), DomainError, "INVALID_ARGUMENT"),
        (issue(reg.other.id, "A 2", "2", signer_name=""), DomainError, "INVALID_ARGUMENT"),
        (issue(reg.other.id, "", "2"), DomainError, "INVALID_ARGUMENT"),
        (issue(reg.graduate.id, "A 2", "2"), PermissionDenied, "NOT_YOUR_STUDENT"),  # not B's student
    ]
    for request, error, reason in cases:
        await refused(services.diplomas.issue_diploma(request), error, reason)

    admin(services, tenant, reg.school)
    school_a_cases = [
        (issue(reg.graduate.id, "A 2", "2"), AlreadyExists, "DIPLOMA_ALREADY_ISSUED"),
        (issue(reg.junior.id, "A 2", "1"), FailedPrecondition, "NOT_IN_FINAL_GRADE"),
    ]
    for request, error, reason in school_a_cases:
        await refused(services.diplomas.issue_diploma(request), error, reason)
    # a lower-secondary school issues no diploma at all (abolished from 1/1/2026)
    services.as_authority(tenant)
    await refused(
        services.diplomas.issue_diploma(issue(reg.world.child.id, "A 4", "4")),
        FailedPrecondition,
        "NOT_UPPER_SECONDARY",
    )
    homeroom(services, tenant, reg)
    await refused(
        services.diplomas.issue_diploma(issue(reg.graduate.id, "A 5", "5")),
        PermissionDenied,
        "ADMIN_ROLE_REQUIRED",
    )
    family(services, tenant, reg)
    await refused(
        services.diplomas.issue_diploma(issue(reg.graduate.id, "A 5", "5")),
        PermissionDenied,
        "WRITE_NOT_ALLOWED",
    )

    assert await services.count(tenant, "diplomas") == 1
    assert len(await services.events(tenant, "diploma.issued")) == 1


async def test_register_numbers_are_unique_in_the_schools_book_of_the_year(services) -> None:
    tenant = "dp-register"
    reg = await upper_secondary(services, tenant)
    admin(services, tenant, reg.school)
    first = (await services.diplomas.issue_diploma(issue(reg.graduate.id, "A 1", "7"))).diploma
    # another school's book has its own numbering
    admin(services, tenant, reg.school_b)
    await services.diplomas.issue_diploma(issue(reg.other.id, "B 1", "7"))
    # the same book refuses the number again, even after the entry was revoked
    admin(services, tenant, reg.school)
    await services.diplomas.revoke_diploma(pb.RevokeDiplomaRequest(diploma_id=first.id, reason="Cấp nhầm"))
    await refused(
        services.diplomas.issue_diploma(issue(reg.graduate.id, "A 2", "7")),
        AlreadyExists,
        "REGISTER_NUMBER_TAKEN",
    )
    await refused(
        services.diplomas.issue_diploma(issue(reg.graduate.id, "A 1", "8")),
        AlreadyExists,
        "SERIAL_NUMBER_TAKEN",
    )
    assert (await services.diplomas.issue_diploma(issue(reg.graduate.id, "A 2", "8"))).diploma.status == (
        pb.DIPLOMA_STATUS_VALID
    )
    assert await services.count(tenant, "diplomas") == 3


async def test_a_correction_is_a_new_entry_and_the_old_one_stays_as_it_was(services) -> None:
    tenant = "dp-correct"
    reg = await upper_secondary(services, tenant)
    admin(services, tenant, reg.school)
    old = (await services.diplomas.issue_diploma(issue(reg.graduate.id, "A 1", "1"))).diploma

    def correct(**fields) -> pb.CorrectDiplomaRequest:
        values = {
            "diploma_id": old.id,
            "reason": "Sai ngày cấp",
            "serial_number": "A 2",
            "register_number": "2",
            "issued_on": "2026-07-25",
            **SIGNER,
        }
        return pb.CorrectDiplomaRequest(**(values | fields))

    await refused(services.diplomas.correct_diploma(correct(reason=" ")), DomainError, "INVALID_TEXT")
    await refused(
        services.diplomas.correct_diploma(correct(serial_number="A 1")), AlreadyExists, "SERIAL_NUMBER_TAKEN"
    )
    await refused(
        services.diplomas.correct_diploma(correct(register_number="1")),
        AlreadyExists,
        "REGISTER_NUMBER_TAKEN",
    )
    await refused(
        services.diplomas.correct_diploma(correct(issued_on="2027-01-01")), DomainError, "INVALID_DATE"
    )
    await refused(
        services.diplomas.correct_diploma(correct(diploma_id=reg.graduate.id)), NotFound, "DIPLOMA_NOT_FOUND"
    )
    homeroom(services, tenant, reg)
    await refused(services.diplomas.correct_diploma(correct()), PermissionDenied, "ADMIN_ROLE_REQUIRED")
    admin(services, tenant, reg.school_b)
    await refused(services.diplomas.correct_diploma(correct()), PermissionDenied, "NOT_YOUR_SCHOOL")
    assert await services.count(tenant, "diplomas") == 1

    admin(services, tenant, reg.school)
    new = (await services.diplomas.correct_diploma(correct(request_id="fix-1"))).diploma
    assert (new.supersedes_id, new.correction_reason, new.status) == (
        old.id,
        "Sai ngày cấp",
        pb.DIPLOMA_STATUS_VALID,
    )
    assert (new.serial_number, new.register_number, new.issued_on) == ("A 2", "2", "2026-07-25")
    assert (new.kind, new.graduation_year, new.holder_name) == (
        old.kind,
        old.graduation_year,
        old.holder_name,
    )
    assert new.verification_code != old.verification_code
    assert (await services.diplomas.correct_diploma(correct(request_id="fix-1"))).diploma == new

    listed = (
        await services.diplomas.list_student_diplomas(
            pb.ListStudentDiplomasRequest(student_id=reg.graduate.id)
        )
    ).diplomas
    was = next(d for d in listed if d.id == old.id)
    assert was.status == pb.DIPLOMA_STATUS_CORRECTED
    assert was.HasField("correct_time")
    was.ClearField("correct_time")
    was.status = pb.DIPLOMA_STATUS_VALID
    assert was == old  # nothing else of the old entry changed

    await refused(
        services.diplomas.correct_diploma(correct(serial_number="A 3", register_number="3")),
        FailedPrecondition,
        "DIPLOMA_CORRECTED",
    )
    await refused(
        services.diplomas.revoke_diploma(pb.RevokeDiplomaRequest(diploma_id=old.id, reason="x")),
        FailedPrecondition,
        "DIPLOMA_CORRECTED",
    )
    issued = [events.DiplomaIssued.FromString(p) for p in await services.events(tenant, "diploma.issued")]
    assert [(e.diploma_id, e.supersedes_id) for e in issued] == [(old.id, ""), (new.id, old.id)]

    set_principal(None)
    for diploma, expected in ((old, pb.DIPLOMA_STATUS_CORRECTED), (new, pb.DIPLOMA_STATUS_VALID)):
        check = await services.diplomas.verify_diploma(
            pb.VerifyDiplomaRequest(
                tenant=tenant,
                serial_number=diploma.serial_number,
                verification_code=diploma.verification_code,
            )
        )
        assert check.status == expected


async def test_a_revoked_entry_stays_in_the_register(services) -> None:
    tenant = "dp-revoke"
    reg = await upper_secondary(services, tenant)
    admin(services, tenant, reg.school)
    diploma = (await services.diplomas.issue_diploma(issue(reg.graduate.id, "A 1", "1"))).diploma
    revoke = pb.RevokeDiplomaRequest(
        diploma_id=diploma.id, reason="Hồ sơ dự thi không hợp lệ", request_id="rv-1"
    )
    await refused(
        services.diplomas.revoke_diploma(pb.RevokeDiplomaRequest(diploma_id=diploma.id)),
        DomainError,
        "INVALID_TEXT",
    )
    family(services, tenant, reg)
    await refused(services.diplomas.revoke_diploma(revoke), PermissionDenied, "NOT_YOUR_SCHOOL")
    homeroom(services, tenant, reg)
    await refused(services.diplomas.revoke_diploma(revoke), PermissionDenied, "ADMIN_ROLE_REQUIRED")
    assert await services.events(tenant, "diploma.revoked") == []

    admin(services, tenant, reg.school)
    revoked = (await services.diplomas.revoke_diploma(revoke)).diploma
    assert (revoked.status, revoked.revocation_reason) == (
        pb.DIPLOMA_STATUS_REVOKED,
        "Hồ sơ dự thi không hợp lệ",
    )
    assert revoked.revoked_by == f"admin-{reg.school.id[-4:]}"
    assert revoked.HasField("revoke_time")
    assert (await services.diplomas.revoke_diploma(revoke)).diploma == revoked  # replayed
    await refused(
        services.diplomas.revoke_diploma(pb.RevokeDiplomaRequest(diploma_id=diploma.id, reason="lần nữa")),
        FailedPrecondition,
        "DIPLOMA_REVOKED",
    )
    await refused(
        services.diplomas.correct_diploma(
            pb.CorrectDiplomaRequest(
                diploma_id=diploma.id,
                reason="x",
                serial_number="A 2",
                register_number="2",
                issued_on="2026-07-20",
                **SIGNER,
            )
        ),
        FailedPrecondition,
        "DIPLOMA_REVOKED",
    )
    [payload] = await services.events(tenant, "diploma.revoked")
    event = events.DiplomaRevoked.FromString(payload)
    assert (event.diploma_id, event.student_id, event.kind) == (
        diploma.id,
        reg.graduate.id,
        "UPPER_SECONDARY_DIPLOMA",
    )
    assert await services.count(tenant, "diplomas") == 1

    set_principal(None)
    check = await services.diplomas.verify_diploma(
        pb.VerifyDiplomaRequest(
            tenant=tenant, serial_number="A 1", verification_code=diploma.verification_code
        )
    )
    assert check.status == pb.DIPLOMA_STATUS_REVOKED


async def test_the_register_book_is_for_the_school_and_the_authority(services) -> None:
    tenant = "dp-book"
    reg = await upper_secondary(services, tenant)
    admin(services, tenant, reg.school)
    first = (await services.diplomas.issue_diploma(issue(reg.graduate.id, "A 1", "1"))).diploma
    await services.diplomas.revoke_diploma(pb.RevokeDiplomaRequest(diploma_id=first.id, reason="Cấp nhầm"))
    second = (await services.diplomas.issue_diploma(issue(reg.graduate.id, "A 2", "2"))).diploma
    cert = (
        await services.diplomas.issue_diploma(issue(reg.graduate.id, "C 1", "1", kind=COMPLETION))
    ).diploma
    admin(services, tenant, reg.school_b)
    await services.diplomas.issue_diploma(issue(reg.other.id, "B 1", "1"))

    book = pb.ListSchoolDiplomasRequest(school_id=reg.school.id, graduation_year=2026)
    for sign_in in (lambda: admin(services, tenant, reg.school), lambda: services.as_authority(tenant)):
        sign_in()
        listed = (await services.diplomas.list_school_diplomas(book)).diplomas
        assert [(d.id, d.status) for d in listed] == [
            (first.id, pb.DIPLOMA_STATUS_REVOKED),
            (second.id, pb.DIPLOMA_STATUS_VALID),
            (cert.id, pb.DIPLOMA_STATUS_VALID),
        ]
    only = pb.ListSchoolDiplomasRequest(school_id=reg.school.id, graduation_year=2026, kind=COMPLETION)
    assert [d.id for d in (await services.diplomas.list_school_diplomas(only)).diplomas] == [cert.id]
    later = pb.ListSchoolDiplomasRequest(school_id=reg.school.id, graduation_year=2027)
    assert list((await services.diplomas.list_school_diplomas(later)).diplomas) == []
    records = [
        audit.PersonalDataAccessed.FromString(p)
        for p in await services.events(tenant, "personal_data.accessed")
    ]
    books = [(r.target, r.subjects) for r in records if r.operation == "ListSchoolDiplomas"]
    assert books[0] == (f"school:{reg.school.id}/diplomas/2026", 1)
    assert len(books) == 4

    admin(services, tenant, reg.school_b)
    await refused(services.diplomas.list_school_diplomas(book), PermissionDenied, "NOT_YOUR_SCHOOL")
    homeroom(services, tenant, reg)
    await refused(services.diplomas.list_school_diplomas(book), PermissionDenied, "ADMIN_ROLE_REQUIRED")
    family(services, tenant, reg)
    await refused(services.diplomas.list_school_diplomas(book), PermissionDenied, "NOT_YOUR_SCHOOL")
    # the family reads their child's entries (the teacher of the class too), not the book
    listed = (
        await services.diplomas.list_student_diplomas(
            pb.ListStudentDiplomasRequest(student_id=reg.graduate.id)
        )
    ).diplomas
    assert [d.id for d in listed] == [first.id, second.id, cert.id]


async def test_concurrent_entries_for_one_student_leave_one(services) -> None:
    tenant = "dp-race"
    reg = await upper_secondary(services, tenant)
    admin(services, tenant, reg.school)

    async def attempt(serial: str, register: str) -> str:
        try:
            await services.diplomas.issue_diploma(issue(reg.graduate.id, serial, register))
        except DomainError as exc:
            return exc.reason
        return "OK"

    outcomes = await asyncio.gather(*(attempt(f"R {i}", str(i)) for i in range(4)))
    assert sorted(outcomes) == ["DIPLOMA_ALREADY_ISSUED"] * 3 + ["OK"]
    assert await services.count(tenant, "diplomas") == 1

"""Who reaches what: identity's scopes applied by the shared decision, minimal data, audited reads."""

from __future__ import annotations

import pytest
from school.events.audit.v1 import events_pb2 as audit
from school.student_record.v1 import student_record_pb2 as pb
from school.student_record.v1 import student_record_pb2_grpc as pb_grpc
from school_common.context import Principal, set_principal
from school_common.errors import PermissionDenied, Unauthenticated, Unavailable
from school_common.testing.servers import free_port
from student_record.grpc.servicer import StudentRecordServicer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def denied(call, reason: str) -> None:
    with pytest.raises(PermissionDenied) as caught:
        await call
    assert caught.value.reason == reason


async def test_a_teacher_lists_the_students_of_their_classes_only(services):
    world = await services.world("t-teacher")
    services.act_as(
        "t-teacher",
        "teacher-1",
        "teacher",
        classes=[(world.class_a1.id, world.school_a.id, "teacher", "math")],
    )
    listed = await services.enrolments.list_class_students(
        pb.ListClassStudentsRequest(class_id=world.class_a1.id)
    )
    assert sorted(s.full_name for s in listed.students) == ["Lê Thị Dung", "Nguyễn Văn An"]
    await denied(
        services.enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=world.class_a2.id)),
        "NOT_YOUR_CLASS",
    )
    await denied(
        services.enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=world.class_b1.id)),
        "NOT_YOUR_CLASS",
    )
    # The student of another school is not theirs either.
    await denied(
        services.enrolments.get_student(pb.GetStudentRequest(student_id=world.other.id)), "NOT_YOUR_STUDENT"
    )
    assert (await services.enrolments.get_student(pb.GetStudentRequest(student_id=world.child.id))).student.id


async def test_a_school_admin_reaches_their_school_and_nothing_of_another(services):
    world = await services.world("t-school-admin")
    services.act_as(
        "t-school-admin", "admin-a", "school_admin", schools=[(world.school_a.id, "school_admin")]
    )
    for klass in (world.class_a1, world.class_a2):
        await services.enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=klass.id))
    await services.schools.get_school(pb.GetSchoolRequest(school_id=world.school_a.id))
    await services.schools.create_class(
        pb.CreateClassRequest(school_id=world.school_a.id, name="6A3", grade=6, school_year="2025-2026")
    )

    await denied(
        services.enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=world.class_b1.id)),
        "NOT_YOUR_CLASS",
    )
    await denied(
        services.schools.get_school(pb.GetSchoolRequest(school_id=world.school_b.id)), "NOT_YOUR_SCHOOL"
    )
    await denied(
        services.schools.list_classes(pb.ListClassesRequest(school_id=world.school_b.id)), "NOT_YOUR_SCHOOL"
    )
    await denied(
        services.schools.create_class(
            pb.CreateClassRequest(school_id=world.school_b.id, name="6B2", grade=6, school_year="2025-2026")
        ),
        "NOT_YOUR_SCHOOL",
    )
    await denied(
        services.enrolments.enrol_student(
            pb.EnrolStudentRequest(
                class_id=world.class_b1.id, new_student=services.new_student("Võ Văn Khánh")
            )
        ),
        "NOT_YOUR_CLASS",
    )
    await denied(
        services.enrolments.get_student(pb.GetStudentRequest(student_id=world.other.id)), "NOT_YOUR_STUDENT"
    )
    await denied(
        services.enrolments.add_guardian(
            pb.AddGuardianRequest(
                student_id=world.other.id, guardian=services.guardian("Phạm Văn Long", "father")
            )
        ),
        "NOT_YOUR_STUDENT",
    )
    await denied(
        services.schools.create_school(pb.CreateSchoolRequest(name="X", levels=[pb.SCHOOL_LEVEL_PRIMARY])),
        "ADMIN_ROLE_REQUIRED",
    )
    assert await services.count("t-school-admin", "classes") == 4  # A1, A2, A3, B1: nothing added to B


async def test_lists_hold_only_what_the_caller_reaches(services):
    world = await services.world("t-lists")
    services.as_authority("t-lists")
    every = await services.schools.list_schools(pb.ListSchoolsRequest())
    assert [s.id for s in every.schools] == [world.school_a.id, world.school_b.id]

    services.act_as(
        "t-lists", "teacher-1", "teacher", classes=[(world.class_a2.id, world.school_a.id, "teacher", "math")]
    )
    assert [s.id for s in (await services.schools.list_schools(pb.ListSchoolsRequest())).schools] == [
        world.school_a.id
    ]
    classes = await services.schools.list_classes(pb.ListClassesRequest(school_id=world.school_a.id))
    assert [c.id for c in classes.classes] == [world.class_a2.id]

    services.act_as("t-lists", "nurse-a", "nurse", schools=[(world.school_a.id, "nurse")])
    classes = await services.schools.list_classes(pb.ListClassesRequest(school_id=world.school_a.id))
    assert [c.id for c in classes.classes] == [world.class_a1.id, world.class_a2.id]

    services.act_as("t-lists", "parent-1", "guardian", children=[(world.other.id, world.school_b.id)])
    assert [s.id for s in (await services.schools.list_schools(pb.ListSchoolsRequest())).schools] == [
        world.school_b.id
    ]

    services.act_as("t-lists", "nobody", "teacher")  # signed in, assigned nowhere
    assert list((await services.schools.list_schools(pb.ListSchoolsRequest())).schools) == []


async def test_a_guardian_reads_their_child_and_no_other(services):
    world = await services.world("t-guardian")
    services.act_as("t-guardian", "parent-1", "guardian", children=[(world.child.id, world.school_a.id)])
    own = (await services.enrolments.get_student(pb.GetStudentRequest(student_id=world.child.id))).student
    assert own.full_name == "Nguyễn Văn An"
    assert [(g.full_name, g.relationship) for g in own.guardians] == [
        ("Trần Thị Bình", "mother"),
        ("Nguyễn Văn Cường", "father"),
    ]
    await denied(
        services.enrolments.get_student(pb.GetStudentRequest(student_id=world.classmate.id)), "NOT_YOUR_CHILD"
    )
    await denied(
        services.enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=world.class_a1.id)),
        "NOT_YOUR_CLASS",
    )
    await denied(
        services.enrolments.add_guardian(
            pb.AddGuardianRequest(
                student_id=world.child.id, guardian=services.guardian("Trần Văn Minh", "other")
            )
        ),
        "WRITE_NOT_ALLOWED",
    )


async def test_guardian_phones_go_to_homeroom_teachers_and_school_staff_not_to_subject_teachers(services):
    world = await services.world("t-phones")

    def phones(students) -> list[tuple[str, str, bool]]:
        return sorted((g.full_name, g.phone, bool(g.person_id)) for s in students for g in s.guardians)

    with_contacts = [
        ("Lê Văn Em", "0987654321", False),
        ("Nguyễn Văn Cường", "0912345678", False),
        ("Trần Thị Bình", "0901234567", True),
    ]
    names_only = [(name, "", False) for name, _, _ in with_contacts]
    a1 = pb.ListClassStudentsRequest(class_id=world.class_a1.id)
    child = pb.GetStudentRequest(student_id=world.child.id)

    services.act_as(
        "t-phones",
        "math-teacher",
        "teacher",
        classes=[(world.class_a1.id, world.school_a.id, "teacher", "math")],
    )
    assert phones((await services.enrolments.list_class_students(a1)).students) == names_only
    assert phones([(await services.enrolments.get_student(child)).student]) == names_only[1:]

    services.act_as(
        "t-phones",
        "homeroom",
        "homeroom_teacher",
        classes=[(world.class_a1.id, world.school_a.id, "homeroom_teacher", "")],
    )
    assert phones((await services.enrolments.list_class_students(a1)).students) == with_contacts
    assert phones([(await services.enrolments.get_student(child)).student]) == with_contacts[1:]

    # Homeroom teacher of another class: a subject teacher here.
    services.act_as(
        "t-phones",
        "homeroom-a2",
        "teacher",
        "homeroom_teacher",
        classes=[
            (world.class_a2.id, world.school_a.id, "homeroom_teacher", ""),
            (world.class_a1.id, world.school_a.id, "teacher", "literature"),
        ],
    )
    assert phones((await services.enrolments.list_class_students(a1)).students) == names_only

    services.act_as("t-phones", "nurse", "nurse", schools=[(world.school_a.id, "nurse")])
    assert phones((await services.enrolments.list_class_students(a1)).students) == with_contacts


async def test_only_administrators_change_the_records(services):
    world = await services.world("t-admin-only")
    services.act_as(
        "t-admin-only",
        "homeroom",
        "homeroom_teacher",
        classes=[(world.class_a1.id, world.school_a.id, "homeroom_teacher", "")],
    )
    await denied(
        services.enrolments.enrol_student(
            pb.EnrolStudentRequest(
                class_id=world.class_a1.id, new_student=services.new_student("Võ Văn Khánh")
            )
        ),
        "ADMIN_ROLE_REQUIRED",
    )
    await denied(
        services.enrolments.add_guardian(
            pb.AddGuardianRequest(
                student_id=world.child.id, guardian=services.guardian("Trần Văn Minh", "other")
            )
        ),
        "ADMIN_ROLE_REQUIRED",
    )
    await denied(
        services.schools.create_class(
            pb.CreateClassRequest(school_id=world.school_a.id, name="6A9", grade=6, school_year="2025-2026")
        ),
        "ADMIN_ROLE_REQUIRED",
    )
    assert await services.count("t-admin-only", "students") == 3
    assert await services.count("t-admin-only", "guardians") == 4


PLATFORM_CALLS = {
    "CreateSchool": lambda s, w: s.schools.create_school(
        pb.CreateSchoolRequest(name="X", levels=[pb.SCHOOL_LEVEL_PRIMARY])
    ),
    "ListSchools": lambda s, w: s.schools.list_schools(pb.ListSchoolsRequest()),
    "GetSchool": lambda s, w: s.schools.get_school(pb.GetSchoolRequest(school_id=w.school_a.id)),
    "CreateClass": lambda s, w: s.schools.create_class(
        pb.CreateClassRequest(school_id=w.school_a.id, name="6A9", grade=6, school_year="2025-2026")
    ),
    "ListClasses": lambda s, w: s.schools.list_classes(pb.ListClassesRequest(school_id=w.school_a.id)),
    "EnrolStudent": lambda s, w: s.enrolments.enrol_student(
        pb.EnrolStudentRequest(class_id=w.class_a1.id, student_id=w.other.id)
    ),
    "ListClassStudents": lambda s, w: s.enrolments.list_class_students(
        pb.ListClassStudentsRequest(class_id=w.class_a1.id)
    ),
    "GetStudent": lambda s, w: s.enrolments.get_student(pb.GetStudentRequest(student_id=w.child.id)),
    "AddGuardian": lambda s, w: s.enrolments.add_guardian(
        pb.AddGuardianRequest(
            student_id=w.child.id, guardian=pb.Guardian(full_name="X", relationship="other")
        )
    ),
    "RecordViolation": lambda s, w: s.discipline.record_violation(
        pb.RecordViolationRequest(
            student_id=w.child.id,
            occurred_on="2025-11-20",
            description="x",
            severity=pb.VIOLATION_SEVERITY_SELF,
            measure=pb.DISCIPLINE_MEASURE_REMINDER,
        )
    ),
    "ListStudentViolations": lambda s, w: s.discipline.list_violations(
        pb.ListStudentViolationsRequest(student_id=w.child.id)
    ),
    "ConfirmSelfReview": lambda s, w: s.discipline.confirm_self_review(
        pb.ConfirmSelfReviewRequest(violation_id="0193a4c2-0000-7000-8000-000000000001")
    ),
    "RecordReward": lambda s, w: s.discipline.record_reward(
        pb.RecordRewardRequest(
            student_id=w.child.id, kind=pb.REWARD_KIND_PRAISE_CLASS, reason="x", awarded_on="2025-11-20"
        )
    ),
    "ListStudentRewards": lambda s, w: s.discipline.list_rewards(
        pb.ListStudentRewardsRequest(student_id=w.child.id)
    ),
    "CreateClub": lambda s, w: s.clubs.create_club(
        pb.CreateClubRequest(school_id=w.school_a.id, name="CLB", adviser_subject="x")
    ),
    "ListClubs": lambda s, w: s.clubs.list_clubs(pb.ListClubsRequest(school_id=w.school_a.id)),
    "RequestClubMembership": lambda s, w: s.clubs.request_membership(
        pb.RequestClubMembershipRequest(club_id=w.class_a1.id, student_id=w.child.id)
    ),
    "DecideClubMembership": lambda s, w: s.clubs.decide_membership(
        pb.DecideClubMembershipRequest(membership_id=w.child.id, approve=True)
    ),
    "ListClubMembers": lambda s, w: s.clubs.list_members(pb.ListClubMembersRequest(club_id=w.class_a1.id)),
    "RecordClubSession": lambda s, w: s.clubs.record_session(
        pb.RecordClubSessionRequest(club_id=w.class_a1.id, held_on="2025-11-20", topic="x")
    ),
    "ListStudentClubs": lambda s, w: s.clubs.list_student_clubs(
        pb.ListStudentClubsRequest(student_id=w.child.id)
    ),
    "ListSubjects": lambda s, w: s.gradebook.list_subjects(pb.ListSubjectsRequest(grade=6)),
    "DefineSchoolYear": lambda s, w: s.gradebook.define_school_year(
        pb.DefineSchoolYearRequest(
            school_id=w.school_a.id,
            name="2025-2026",
            semester_1_start="2025-09-05",
            semester_1_end="2026-01-10",
            semester_2_start="2026-01-12",
            semester_2_end="2026-05-25",
        )
    ),
    "ListSchoolYears": lambda s, w: s.gradebook.list_school_years(
        pb.ListSchoolYearsRequest(school_id=w.school_a.id)
    ),
    "RecordAssessments": lambda s, w: s.gradebook.record_assessments(
        pb.RecordAssessmentsRequest(
            class_id=w.class_a1.id,
            subject_code="TOAN",
            semester=1,
            entries=[pb.AssessmentEntry(student_id=w.child.id, kind=pb.ASSESSMENT_KIND_MID_TERM, value="8")],
        )
    ),
    "RecordRatings": lambda s, w: s.gradebook.record_ratings(
        pb.RecordRatingsRequest(
            class_id=w.class_a1.id,
            semester=1,
            entries=[pb.RatingEntry(student_id=w.child.id, item="CONDUCT", value="TOT")],
        )
    ),
    "GetClassGradebook": lambda s, w: s.gradebook.get_class_gradebook(
        pb.GetClassGradebookRequest(class_id=w.class_a1.id, subject_code="TOAN", semester=1)
    ),
    "LockSemester": lambda s, w: s.gradebook.lock_semester(
        pb.LockSemesterRequest(school_id=w.school_a.id, school_year="2025-2026", semester=1)
    ),
    "RequestGradeChange": lambda s, w: s.gradebook.request_grade_change(
        pb.RequestGradeChangeRequest(
            class_id=w.class_a1.id,
            subject_code="TOAN",
            semester=1,
            entry=pb.AssessmentEntry(student_id=w.child.id, kind=pb.ASSESSMENT_KIND_MID_TERM, value="8"),
            reason="x",
        )
    ),
    "DecideGradeChange": lambda s, w: s.gradebook.decide_grade_change(
        pb.DecideGradeChangeRequest(change_id=w.child.id, approve=True)
    ),
    "ListGradeChanges": lambda s, w: s.gradebook.list_grade_changes(
        pb.ListGradeChangesRequest(school_id=w.school_a.id)
    ),
    "GetStudentResults": lambda s, w: s.gradebook.get_student_results(
        pb.GetStudentResultsRequest(student_id=w.child.id)
    ),
    "PublishResults": lambda s, w: s.gradebook.publish_results(
        pb.PublishResultsRequest(class_id=w.class_a1.id, term=1)
    ),
    "ImportStudents": lambda s, w: s.student_lists.import_students(
        pb.ImportStudentsRequest(school_id=w.school_a.id, school_year="2025-2026", content=b"x")
    ),
    "ExportStudents": lambda s, w: s.student_lists.export_students(
        pb.ExportStudentsRequest(school_id=w.school_a.id, school_year="2025-2026")
    ),
    "MoveStudent": lambda s, w: s.movements.move_student(
        pb.MoveStudentRequest(
            student_id=w.child.id, to_class_id=w.class_a2.id, reason="x", effective_on="2025-11-20"
        )
    ),
    "RequestTransfer": lambda s, w: s.movements.request_transfer(
        pb.RequestTransferRequest(
            student_id=w.child.id, to_school_id=w.school_b.id, reason="x", effective_on="2025-11-20"
        )
    ),
    "DecideTransfer": lambda s, w: s.movements.decide_transfer(
        pb.DecideTransferRequest(movement_id=w.child.id, accept=True, to_class_id=w.class_b1.id)
    ),
    "TransferStudentOut": lambda s, w: s.travel.transfer_student_out(
        pb.TransferStudentOutRequest(
            student_id=w.child.id, destination="x", reason="x", effective_on="2025-11-20"
        )
    ),
    "ExportStudentRecord": lambda s, w: s.travel.export_student_record(
        pb.ExportStudentRecordRequest(student_id=w.child.id)
    ),
    "ImportStudentRecord": lambda s, w: s.travel.import_student_record(
        pb.ImportStudentRecordRequest(class_id=w.class_a1.id, content=b"<x/>", effective_on="2025-11-20")
    ),
    "ListReceivedRecords": lambda s, w: s.travel.list_received_records(
        pb.ListReceivedRecordsRequest(student_id=w.child.id)
    ),
    "ListMovements": lambda s, w: s.movements.list_movements(
        pb.ListMovementsRequest(school_id=w.school_a.id)
    ),
    "IssueTranscripts": lambda s, w: s.transcripts.issue_transcripts(
        pb.IssueTranscriptsRequest(class_id=w.class_a1.id)
    ),
    "CorrectTranscript": lambda s, w: s.transcripts.correct_transcript(
        pb.CorrectTranscriptRequest(transcript_id=w.child.id, reason="x")
    ),
    "ListStudentTranscripts": lambda s, w: s.transcripts.list_student_transcripts(
        pb.ListStudentTranscriptsRequest(student_id=w.child.id)
    ),
    "GetTranscriptDocument": lambda s, w: s.transcripts.get_transcript_document(
        pb.GetTranscriptDocumentRequest(transcript_id=w.child.id, format=pb.TRANSCRIPT_FORMAT_PDF)
    ),
    "IssueDiploma": lambda s, w: s.diplomas.issue_diploma(
        pb.IssueDiplomaRequest(
            student_id=w.child.id,
            kind=pb.DIPLOMA_KIND_UPPER_SECONDARY_DIPLOMA,
            graduation_year=2026,
            register_number="1",
            serial_number="A1",
            issued_on="2026-07-20",
            signer_name="Đặng Văn Hùng",
            signer_title="Giám đốc",
        )
    ),
    "CorrectDiploma": lambda s, w: s.diplomas.correct_diploma(
        pb.CorrectDiplomaRequest(
            diploma_id=w.child.id,
            reason="x",
            register_number="2",
            serial_number="A2",
            issued_on="2026-07-20",
            signer_name="Đặng Văn Hùng",
            signer_title="Giám đốc",
        )
    ),
    "RevokeDiploma": lambda s, w: s.diplomas.revoke_diploma(
        pb.RevokeDiplomaRequest(diploma_id=w.child.id, reason="x")
    ),
    "ListSchoolDiplomas": lambda s, w: s.diplomas.list_school_diplomas(
        pb.ListSchoolDiplomasRequest(school_id=w.school_a.id, graduation_year=2026)
    ),
    "ListStudentDiplomas": lambda s, w: s.diplomas.list_student_diplomas(
        pb.ListStudentDiplomasRequest(student_id=w.child.id)
    ),
}
#: Public RPCs: no token and no access scope (``DEFINITION.public_methods``); the tenant travels in the
#: request and the answer is what the holder of the verification code may show.
PUBLIC_CALLS = {"VerifyTranscript", "VerifyDiploma"}


async def test_every_rpc_is_served_and_covered_here():
    service = pb.DESCRIPTOR.services_by_name["StudentRecordService"]
    assert set(PLATFORM_CALLS) | PUBLIC_CALLS == {m.name for m in service.methods}
    for method in service.methods:
        assert getattr(StudentRecordServicer, method.name) is not getattr(
            pb_grpc.StudentRecordServiceServicer, method.name
        ), f"{method.name} is not implemented"


@pytest.mark.parametrize("rpc", sorted(PLATFORM_CALLS))
async def test_a_platform_operator_reaches_nothing(services, rpc):
    tenant = f"t-platform-{rpc.lower()}"
    world = await services.world(tenant)
    rows = {t: await services.count(tenant, t) for t in ("schools", "classes", "students", "outbox_events")}
    # A platform-realm token, even one that identity would answer with everything.
    services.act_as("", "operator", "platform_operator", tenant_wide=True)
    calls_before = services.identity.scope_calls
    await denied(PLATFORM_CALLS[rpc](services, world), "TENANT_TOKEN_REQUIRED")
    assert services.identity.scope_calls == calls_before  # refused before identity is even asked
    assert {t: await services.count(tenant, t) for t in rows} == rows


async def test_reads_of_personal_data_are_audited_with_the_read(services):
    world = await services.world("t-audit")
    before = len(await services.events("t-audit", "personal_data.accessed"))
    services.act_as(
        "t-audit", "teacher-1", "teacher", classes=[(world.class_a1.id, world.school_a.id, "teacher", "math")]
    )
    await services.enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=world.class_a1.id))
    services.act_as("t-audit", "parent-1", "guardian", children=[(world.child.id, world.school_a.id)])
    await services.enrolments.get_student(pb.GetStudentRequest(student_id=world.child.id))
    # A refused read reads nothing, and records nothing.
    await denied(
        services.enrolments.get_student(pb.GetStudentRequest(student_id=world.classmate.id)), "NOT_YOUR_CHILD"
    )
    recorded = [
        audit.PersonalDataAccessed.FromString(p)
        for p in (await services.events("t-audit", "personal_data.accessed"))[before:]
    ]
    assert [(r.actor, r.target, r.subjects, r.operation) for r in recorded] == [
        ("teacher-1", f"class:{world.class_a1.id}/students", 2, "ListClassStudents"),
        ("parent-1", f"student:{world.child.id}", 1, "GetStudent"),
    ]
    assert all(r.access_time.seconds > 0 for r in recorded)


async def test_a_caller_identity_does_not_know_is_unauthenticated(services):
    await services.world("t-unknown")
    set_principal(
        Principal(tenant="t-unknown", subject="ghost", roles=frozenset({"teacher"}), token="forged")
    )
    with pytest.raises(Unauthenticated):
        await services.schools.list_schools(pb.ListSchoolsRequest())


async def test_no_scope_while_identity_is_away_means_unavailable(services, db):
    from school.identity.v1 import identity_pb2_grpc as idgrpc
    from school_common.access import Callers, ScopeResolver
    from school_common.grpc.client import channel
    from student_record.adapters.identity import IdentityClient
    from student_record.schools.service import SchoolService

    away = channel(f"127.0.0.1:{free_port()}")  # nothing listens there
    client = IdentityClient(idgrpc.IdentityServiceStub(away), timeout_s=2)
    schools = SchoolService(db, services.outbox, Callers(ScopeResolver(client.access_scope)))
    services.as_authority("t-away")
    try:
        with pytest.raises(Unavailable) as caught:
            await schools.list_schools(pb.ListSchoolsRequest())
        assert caught.value.reason == "IDENTITY_UNAVAILABLE"
    finally:
        await away.close()

"""student-record's definition for the component runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from school.attendance.v1.attendance_pb2_grpc import AttendanceServiceStub
from school.identity.v1.identity_pb2_grpc import IdentityServiceStub
from school.student_record.v1 import student_record_pb2 as pb
from school.student_record.v1 import student_record_pb2_grpc as pb_grpc
from school_common.access import Callers, ScopeResolver
from school_common.app import Deps, ServiceDefinition
from school_common.grpc.client import channel

from student_record.adapters.attendance import AttendanceAbsences
from student_record.adapters.identity import IdentityClient
from student_record.clubs.service import ClubService
from student_record.diplomas.service import DiplomaService
from student_record.discipline.service import DisciplineService
from student_record.enrolments.c1_import import StudentListService
from student_record.enrolments.movements import MovementService
from student_record.enrolments.service import EnrolmentService
from student_record.enrolments.travel import RecordTravelService
from student_record.gradebook.service import GradebookService
from student_record.grpc.servicer import StudentRecordServicer
from student_record.schools.service import SchoolService
from student_record.settings import (
    AttendanceClientSettings,
    IdentityClientSettings,
    Settings,
    TranscriptSettings,
)
from student_record.transcripts.service import TranscriptService
from student_record.transcripts.signing import signer_for, trust_roots_for


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    settings = deps.settings.identity if isinstance(deps.settings, Settings) else IdentityClientSettings()
    # The channel connects lazily and lives as long as the process.
    identity = IdentityClient(IdentityServiceStub(channel(settings.target)), settings.timeout_s)
    access = Callers(ScopeResolver(identity.access_scope))
    transcript_settings = (
        deps.settings.transcripts if isinstance(deps.settings, Settings) else TranscriptSettings()
    )
    ca_dir = transcript_settings.ca_dir

    attendance = (
        deps.settings.attendance if isinstance(deps.settings, Settings) else AttendanceClientSettings()
    )
    absences = AttendanceAbsences(AttendanceServiceStub(channel(attendance.target)), attendance.timeout_s)
    gradebook = GradebookService(deps.db, deps.outbox, access, absences)
    environment = str(deps.settings.environment)
    signer = signer_for(environment, ca_dir)  # production plugs in its Signer here
    trust_roots = trust_roots_for(environment, ca_dir)
    servicer = StudentRecordServicer(
        SchoolService(deps.db, deps.outbox, access),
        EnrolmentService(deps.db, deps.outbox, access, identity),
        DisciplineService(deps.db, deps.outbox, access),
        ClubService(deps.db, deps.outbox, access),
        gradebook,
        StudentListService(deps.db, deps.outbox, access, identity),
        MovementService(deps.db, deps.outbox, access),
        TranscriptService(
            deps.db,
            deps.outbox,
            access,
            gradebook,
            signer,
            trust_roots,
            transcript_settings.verification_base_url,
            transcript_settings.authority_name,
        ),
        DiplomaService(deps.db, deps.outbox, access),
        RecordTravelService(deps.db, deps.outbox, access, gradebook, signer, trust_roots),
    )
    return [lambda server: pb_grpc.add_StudentRecordServiceServicer_to_server(servicer, server)]


DEFINITION = ServiceDefinition(
    name="student_record",
    settings_type=Settings,
    root=Path(__file__).resolve().parents[2],
    servicers=servicers,
    service_names=[pb.DESCRIPTOR.services_by_name["StudentRecordService"].full_name],
    # The verification pages: a visitor holding the id (a diploma's serial number) and code, no account.
    public_methods=[
        f"/{pb.DESCRIPTOR.services_by_name['StudentRecordService'].full_name}/{method}"
        for method in ("VerifyTranscript", "VerifyDiploma")
    ],
)

"""student-record's definition for the component runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from school.student_record.v1 import student_record_pb2 as pb
from school.student_record.v1 import student_record_pb2_grpc as pb_grpc
from school_common.app import Deps, ServiceDefinition

from student_record.enrolments.service import EnrolmentService
from student_record.grpc.servicer import StudentRecordServicer
from student_record.schools.service import SchoolService
from student_record.settings import Settings


def servicers(deps: Deps) -> list[Callable[[grpc.aio.Server], None]]:
    servicer = StudentRecordServicer(
        SchoolService(deps.db, deps.outbox), EnrolmentService(deps.db, deps.outbox)
    )
    return [lambda server: pb_grpc.add_StudentRecordServiceServicer_to_server(servicer, server)]


DEFINITION = ServiceDefinition(
    name="student_record",
    settings_type=Settings,
    root=Path(__file__).resolve().parents[2],
    servicers=servicers,
    service_names=[pb.DESCRIPTOR.services_by_name["StudentRecordService"].full_name],
)

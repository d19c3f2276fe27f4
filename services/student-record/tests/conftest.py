"""student-record's use cases on a real, migrated PostgreSQL, with identity played by an in-test gRPC server.

The use cases reach that server through the service's own identity client (``GetAccessScope`` through the
shared ``ScopeResolver``, ``RegisterPerson`` with the caller's token), so what is tested is the path the
service takes; only identity's answers are made up here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from school.identity.v1 import identity_pb2 as idpb
from school.identity.v1 import identity_pb2_grpc as idgrpc
from school.student_record.v1 import student_record_pb2 as pb
from school_common.access import Callers, ScopeResolver
from school_common.context import Principal, set_principal
from school_common.db import Database
from school_common.errors import InvalidArgument
from school_common.events import Outbox
from school_common.grpc.client import channel
from school_common.grpc.status import abort_with_domain_error
from sqlalchemy import text
from student_record.adapters.identity import IdentityClient
from student_record.clubs.service import ClubService
from student_record.diplomas.service import DiplomaService
from student_record.discipline.service import DisciplineService
from student_record.enrolments.c1_import import StudentListService
from student_record.enrolments.movements import MovementService
from student_record.enrolments.service import EnrolmentService
from student_record.enrolments.travel import RecordTravelService
from student_record.gradebook.service import GradebookService
from student_record.schools.service import SchoolService
from student_record.transcripts.service import TranscriptService
from student_record.transcripts.signing import signer_for, trust_roots_for

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Registration:
    authorization: str
    request: idpb.RegisterPersonRequest


@dataclass
class FakeIdentity(idgrpc.IdentityServiceServicer):
    """identity as far as student-record asks it: scopes by bearer token, persons by number."""

    scopes: dict[str, idpb.GetAccessScopeResponse] = field(default_factory=dict)
    persons: dict[str, str] = field(default_factory=dict)
    registrations: list[Registration] = field(default_factory=list)
    scope_calls: int = 0
    #: (reason, ErrorInfo metadata) with which RegisterPerson answers INVALID_ARGUMENT.
    refusal: tuple[str, dict[str, str]] | None = None

    async def GetAccessScope(
        self, request: idpb.GetAccessScopeRequest, context: grpc.aio.ServicerContext
    ) -> idpb.GetAccessScopeResponse:
        self.scope_calls += 1
        scope = self.scopes.get(dict(context.invocation_metadata()).get("authorization", ""))
        if scope is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "unknown token")
        return scope

    async def RegisterPerson(
        self, request: idpb.RegisterPersonRequest, context: grpc.aio.ServicerContext
    ) -> idpb.RegisterPersonResponse:
        self.registrations.append(
            Registration(dict(context.invocation_metadata()).get("authorization", ""), request)
        )
        if self.refusal is not None:
            reason, metadata = self.refusal
            await abort_with_domain_error(
                context, InvalidArgument(reason, "refused", metadata), "identity.school"
            )
        person_id = self.persons.setdefault(request.personal_id, str(uuid.uuid4()))
        return idpb.RegisterPersonResponse(person_id=person_id)


#: A mother's personal identification number (HCMC, female born 1985) and date of birth: input only.
MOTHER_PERSONAL_ID = "079185001234"
MOTHER_BORN = "1985-03-12"


def guardian(
    name: str, relationship: str, phone: str = "", personal_id: str = "", born: str = ""
) -> pb.Guardian:
    return pb.Guardian(
        full_name=name, relationship=relationship, phone=phone, personal_id=personal_id, date_of_birth=born
    )


def new_student(name: str, *guardians: pb.Guardian) -> pb.NewStudent:
    return pb.NewStudent(full_name=name, date_of_birth="2014-09-05", sex=pb.SEX_MALE, guardians=guardians)


@dataclass
class Absences:
    """attendance's 45-session counter as student-record reads it (``AbsenceSource``): 0 for every
    student unless a test sets a count, or ``None`` for "attendance cannot say"."""

    counts: dict[str, int | None] = field(default_factory=dict)
    default: int | None = 0

    async def absent_sessions(self, student_id: str, school_year: str) -> int | None:
        return self.counts.get(student_id, self.default)


@dataclass
class World:
    """Two schools of one tenant: A with classes A1 and A2, B with class B1; two students in A1, one in B1."""

    school_a: pb.School
    class_a1: pb.Class
    class_a2: pb.Class
    school_b: pb.School
    class_b1: pb.Class
    #: In A1; guardians: a mother declared with her personal identification number, a father without.
    child: pb.Student
    classmate: pb.Student
    #: In B1.
    other: pb.Student


@dataclass
class Services:
    db: Database
    identity: FakeIdentity
    client: IdentityClient
    access: Callers
    outbox: Outbox
    schools: SchoolService
    enrolments: EnrolmentService
    discipline: DisciplineService
    clubs: ClubService
    gradebook: GradebookService
    absences: Absences
    student_lists: StudentListService
    movements: MovementService
    travel: RecordTravelService
    transcripts: TranscriptService
    diplomas: DiplomaService
    #: The development CA of this test session's transcripts (a temporary directory).
    ca_dir: Path

    # For the test modules, which cannot import this conftest.
    guardian = staticmethod(guardian)
    new_student = staticmethod(new_student)
    MOTHER_PERSONAL_ID = MOTHER_PERSONAL_ID
    MOTHER_BORN = MOTHER_BORN

    def act_as(
        self,
        tenant: str,
        subject: str,
        *roles: str,
        tenant_wide: bool = False,
        schools: Iterable[tuple[str, str]] = (),
        classes: Iterable[tuple[str, str, str, str]] = (),
        children: Iterable[tuple[str, str]] = (),
    ) -> Principal:
        """Sign in as ``subject`` whose assignments at identity are the given ones:
        schools (school_id, role), classes (class_id, school_id, role, subject), children (student_id,
        school_id)."""
        token = f"token-{tenant}-{subject}"
        self.identity.scopes[f"Bearer {token}"] = idpb.GetAccessScopeResponse(
            subject=subject,
            tenant_wide=tenant_wide,
            schools=[idpb.ScopedSchool(school_id=s, role=r) for s, r in schools],
            classes=[
                idpb.ScopedClass(class_id=c, school_id=s, role=r, subject=subj) for c, s, r, subj in classes
            ],
            children=[idpb.ScopedChild(student_id=c, school_id=s) for c, s in children],
        )
        principal = Principal(tenant=tenant, subject=subject, roles=frozenset(roles), token=token)
        set_principal(principal)
        return principal

    def as_authority(self, tenant: str, subject: str = "admin") -> Principal:
        return self.act_as(tenant, subject, "authority_admin", tenant_wide=True)

    async def school_with_class(
        self, tenant: str, name: str = "Trường THCS Lê Quý Đôn", class_name: str = "6A1"
    ) -> tuple[pb.School, pb.Class]:
        """A lower-secondary school and a class of it, created by the authority (who stays signed in)."""
        self.as_authority(tenant)
        school = (
            await self.schools.create_school(
                pb.CreateSchoolRequest(name=name, levels=[pb.SCHOOL_LEVEL_LOWER_SECONDARY])
            )
        ).school
        klass = await self.add_class(school, class_name)
        return school, klass

    async def add_class(self, school: pb.School, name: str) -> pb.Class:
        response = await self.schools.create_class(
            pb.CreateClassRequest(school_id=school.id, name=name, grade=6, school_year="2025-2026")
        )
        return getattr(response, "class")

    async def enrol(
        self, klass: pb.Class, student: pb.NewStudent, request_id: str = ""
    ) -> pb.EnrolStudentResponse:
        return await self.enrolments.enrol_student(
            pb.EnrolStudentRequest(class_id=klass.id, new_student=student, request_id=request_id)
        )

    async def world(self, tenant: str) -> World:
        school_a, class_a1 = await self.school_with_class(tenant, "Trường THCS A", "6A1")
        class_a2 = await self.add_class(school_a, "6A2")
        school_b, class_b1 = await self.school_with_class(tenant, "Trường THCS B", "6B1")
        child = await self.enrol(
            class_a1,
            new_student(
                "Nguyễn Văn An",
                guardian("Trần Thị Bình", "mother", "0901234567", MOTHER_PERSONAL_ID, MOTHER_BORN),
                guardian("Nguyễn Văn Cường", "father", "0912345678"),
            ),
        )
        classmate = await self.enrol(
            class_a1, new_student("Lê Thị Dung", guardian("Lê Văn Em", "father", "0987654321"))
        )
        other = await self.enrol(class_b1, new_student("Phạm Văn Giang", guardian("Phạm Thị Hoa", "mother")))
        return World(
            school_a, class_a1, class_a2, school_b, class_b1, child.student, classmate.student, other.student
        )

    async def count(self, tenant: str, table: str) -> int:
        async with self.db.unit_of_work(tenant) as uow:
            return int(await uow.session.scalar(text(f"SELECT count(*) FROM {table}")))

    async def events(self, tenant: str, event_type: str) -> list[bytes]:
        """Payloads of the outbox rows of ``event_type`` (e.g. ``student.enrolled``), oldest first."""
        async with self.db.unit_of_work(tenant) as uow:
            rows = await uow.session.scalars(
                text("SELECT payload FROM outbox_events WHERE subject = :s ORDER BY id"),
                {"s": f"school.student_record.{event_type}.v1"},
            )
            return [bytes(r) for r in rows]


@pytest.fixture(scope="module")
async def db(make_database) -> AsyncIterator[Database]:
    settings = await make_database("student_record", ROOT)
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture
async def identity_server() -> AsyncIterator[tuple[FakeIdentity, int]]:
    fake = FakeIdentity()
    server = grpc.aio.server()
    idgrpc.add_IdentityServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield fake, port
    await server.stop(None)


@pytest.fixture(scope="session")
def dev_ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One development CA for the session: creating keys is the slow part of signing."""
    return tmp_path_factory.mktemp("dev-ca")


@pytest.fixture
async def services(
    db: Database, identity_server: tuple[FakeIdentity, int], dev_ca_dir: Path
) -> AsyncIterator[Services]:
    fake, port = identity_server
    identity_channel = channel(f"127.0.0.1:{port}")
    client = IdentityClient(idgrpc.IdentityServiceStub(identity_channel), timeout_s=5)
    # No caching across calls: a test changes a caller's assignments and expects the next call to see it.
    access = Callers(ScopeResolver(client.access_scope, ttl_s=0))
    outbox = Outbox("student_record")
    absences = Absences()
    gradebook = GradebookService(db, outbox, access, absences)

    signer, trust_roots = signer_for("test", dev_ca_dir), trust_roots_for("test", dev_ca_dir)
    yield Services(
        db=db,
        identity=fake,
        client=client,
        access=access,
        outbox=outbox,
        schools=SchoolService(db, outbox, access),
        enrolments=EnrolmentService(db, outbox, access, client),
        discipline=DisciplineService(db, outbox, access),
        clubs=ClubService(db, outbox, access),
        gradebook=gradebook,
        absences=absences,
        student_lists=StudentListService(db, outbox, access, client),
        movements=MovementService(db, outbox, access),
        transcripts=TranscriptService(
            db,
            outbox,
            access,
            gradebook,
            signer,
            trust_roots,
            "https://verify.test/t",
        ),
        diplomas=DiplomaService(db, outbox, access),
        travel=RecordTravelService(db, outbox, access, gradebook, signer, trust_roots),
        ca_dir=dev_ca_dir,
    )
    set_principal(None)
    await identity_channel.close()

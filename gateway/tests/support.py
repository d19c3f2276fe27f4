"""Test support for the gateway: token helpers and fake backends implementing our own gRPC contracts.

The backends are tiny in-process grpc.aio servers with canned answers (or a chosen status + ErrorInfo);
tokens are real RS256 JWTs whose keys are served as a realm's JWKS (the tenant realm's and the platform
realm's) through ``httpx.MockTransport``. The fake identity answers ``GetAccessScope`` by the token's
subject (``Recorder.scopes``); a subject it does not know gets a tenant-wide scope (an authority admin).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from school.attendance.v1 import attendance_pb2 as att
from school.attendance.v1 import attendance_pb2_grpc as att_grpc
from school.identity.v1 import identity_pb2 as idn
from school.identity.v1 import identity_pb2_grpc as idn_grpc
from school.student_record.v1 import student_record_pb2 as sr
from school.student_record.v1 import student_record_pb2_grpc as sr_grpc
from school_common.auth import TokenVerifier
from school_common.grpc.status import STATUS_DETAILS_KEY, status_details
from school_common.settings import AuthSettings

from gateway.settings import GatewaySettings, GrpcClientSettings, RateLimitSettings, ServicesSettings

ISSUER_BASE = "https://id.school.test"
TENANT = "demo"
ISSUER = f"{ISSUER_BASE}/realms/tenant-{TENANT}"
PLATFORM_ISSUER = f"{ISSUER_BASE}/realms/platform"
AUDIENCE = "school-api"
KID = "test-key-1"

SCHOOL_ID = "0193a4c2-1f00-7c4e-9a1b-2f0e4c3d5b6a"
CLASS_ID = "0193a4c2-2e11-7d2a-8c3b-4a5e6f708192"
STUDENT_ID = "0193a4c2-3d22-7e3b-9d4c-5b6f708192a3"
ENROLMENT_ID = "0193a4c2-4c33-7f4c-8e5d-6c708192a3b4"
OTHER_SCHOOL_ID = "0193a4c2-1f00-7c4e-9a1b-000000000099"
LINK_REQUEST_ID = "0193a4c2-5b44-7a5d-9f6e-7d8192a3b4c5"
PERSON_ID = "0193a4c2-6a55-7b6e-8a7f-8e92a3b4c5d6"
IMPORT_ID = "0193a4c2-7966-7c7f-9b80-9fa3b4c5d6e7"
ACCOUNT_ID = "0193a4c2-8877-7d80-8c91-a0b4c5d6e7f8"
VIOLATION_ID = "0193a4c2-aa99-7fa2-9eb3-c2d6e7f8091a"
REWARD_ID = "0193a4c2-bbaa-7ab3-8fc4-d3e7f8091a2b"
OTHER_VIOLATION_ID = "0193a4c2-aa99-7fa2-9eb3-000000000002"
OTHER_REWARD_ID = "0193a4c2-bbaa-7ab3-8fc4-000000000002"
CLUB_ID = "0193a4c2-ccbb-7bc4-9ad5-e4f8091a2b3c"
OTHER_CLUB_ID = "0193a4c2-ccbb-7bc4-9ad5-000000000002"
MEMBERSHIP_ID = "0193a4c2-ddcc-7cd5-8be6-f5091a2b3c4d"
OTHER_MEMBERSHIP_ID = "0193a4c2-ddcc-7cd5-8be6-000000000002"
SESSION_ID = "0193a4c2-eedd-7de6-9cf7-061a2b3c4d5e"
OTHER_STUDENT_ID = "0193a4c2-3d22-7e3b-9d4c-000000000002"
ADVISER_SUBJECT = "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f"


def ts(seconds: int = 1_764_000_000) -> Timestamp:
    return Timestamp(seconds=seconds)


# Tokens


@dataclass
class Keys:
    private: rsa.RSAPrivateKey
    other: rsa.RSAPrivateKey  # a key the realm does not publish
    jwks_requests: int = 0
    jwks_down: bool = False

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}


def new_keys() -> Keys:
    return Keys(
        private=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        other=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


MakeToken = Callable[..., str]


def token_factory(keys: Keys) -> MakeToken:
    def make(
        *,
        subject: str | None = None,
        roles: tuple[str, ...] = ("authority_admin",),
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        expires_in: int = 300,
        key: Any = None,
        kid: str = KID,
        algorithm: str = "RS256",
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": issuer,
            "aud": audience,
            "sub": subject or str(uuid.uuid4()),
            "iat": now - 5,
            "exp": now + expires_in,
            "typ": "Bearer",
            "azp": "school-console",
            "realm_access": {"roles": list(roles)},
            **claims,
        }
        signing_key = key if key is not None else keys.private
        return jwt.encode(payload, signing_key, algorithm=algorithm, headers={"kid": kid})

    return make


def verifier_for(keys: Keys) -> TokenVerifier:
    def handler(request: httpx.Request) -> httpx.Response:
        if keys.jwks_down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path in (
            f"/realms/tenant-{TENANT}/protocol/openid-connect/certs",
            "/realms/platform/protocol/openid-connect/certs",
        ):
            keys.jwks_requests += 1
            return httpx.Response(200, json=keys.jwks())
        return httpx.Response(404, json={"error": "Realm does not exist"})

    settings = AuthSettings(issuer_base_url=ISSUER_BASE, audience=AUDIENCE)
    return TokenVerifier(settings, http=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


# Backends


@dataclass
class Failure:
    code: grpc.StatusCode
    message: str = ""
    reason: str = ""  # empty: no ErrorInfo, as when grpc itself or a crash fails the call
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    method: str
    request: Any
    metadata: dict[str, str]
    time_remaining: float | None


class Recorder:
    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.calls: list[Call] = []
        self.failures: dict[str, Failure] = {}
        self.delay_s = 0.0
        # identity only: GetAccessScope's answer per token subject (others: tenant-wide).
        self.scopes: dict[str, idn.GetAccessScopeResponse] = {}
        # student-record only: the student's name VerifyTranscript and VerifyDiploma answer with.
        self.student_name = "Nguyễn Văn An"
        # student-record only: the status VerifyDiploma answers with.
        self.diploma_status: sr.DiplomaStatus.ValueType = sr.DIPLOMA_STATUS_VALID

    def reset(self) -> None:
        self.calls.clear()
        self.failures.clear()
        self.delay_s = 0.0
        self.scopes.clear()
        self.student_name = "Nguyễn Văn An"
        self.diploma_status = sr.DIPLOMA_STATUS_VALID

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    async def handle(
        self, method: str, request: Any, context: grpc.aio.ServicerContext, response: Any
    ) -> Any:
        metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        self.calls.append(Call(method, request, metadata, context.time_remaining()))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        failure = self.failures.get(method)
        if failure is not None:
            if failure.reason:
                details = status_details(
                    failure.code, failure.reason, failure.message, self.domain, failure.metadata
                )
                context.set_trailing_metadata(((STATUS_DETAILS_KEY, details),))
            await context.abort(failure.code, failure.message)
        return response


def school_pb(school_id: str = SCHOOL_ID, code: str = "") -> sr.School:
    return sr.School(
        id=school_id,
        name="Trường THCS Nguyễn Du",
        code=code,
        levels=[sr.SCHOOL_LEVEL_LOWER_SECONDARY],
        create_time=ts(),
    )


def class_pb() -> sr.Class:
    return sr.Class(
        id=CLASS_ID, school_id=SCHOOL_ID, name="6A1", grade=6, school_year="2025-2026", create_time=ts()
    )


def student_pb(full_name: str = "Nguyễn Văn An") -> sr.Student:
    return sr.Student(
        id=STUDENT_ID,
        school_id=SCHOOL_ID,
        full_name=full_name,
        date_of_birth="2014-09-05",
        sex=sr.SEX_MALE,
        guardians=[
            sr.Guardian(
                full_name="Trần Thị Mai", relationship="mother", phone="0912345678", person_id=PERSON_ID
            )
        ],
    )


def violation_pb(**fields: Any) -> sr.Violation:
    values: dict[str, Any] = {
        "id": VIOLATION_ID,
        "student_id": STUDENT_ID,
        "school_id": SCHOOL_ID,
        "occurred_on": "2025-11-20",
        "description": "Sử dụng điện thoại trong giờ học",
        "severity": sr.VIOLATION_SEVERITY_SELF,
        "measure": sr.DISCIPLINE_MEASURE_SELF_REVIEW,
        "record_time": ts(),
    }
    values.update(fields)
    return sr.Violation(**values)


def reward_pb(**fields: Any) -> sr.Reward:
    values: dict[str, Any] = {
        "id": REWARD_ID,
        "student_id": STUDENT_ID,
        "school_id": SCHOOL_ID,
        "kind": sr.REWARD_KIND_PRINCIPAL_CERTIFICATE,
        "reason": "Đạt giải Nhất Olympic Toán cấp quận",
        "awarded_on": "2025-11-20",
        "record_time": ts(),
    }
    values.update(fields)
    return sr.Reward(**values)


def club_pb(**fields: Any) -> sr.Club:
    values: dict[str, Any] = {
        "id": CLUB_ID,
        "school_id": SCHOOL_ID,
        "name": "CLB Robotics",
        "description": "Lắp ráp và lập trình robot",
        "adviser_subject": ADVISER_SUBJECT,
        "capacity": 30,
        "member_count": 12,
    }
    values.update(fields)
    return sr.Club(**values)


def membership_pb(**fields: Any) -> sr.ClubMembership:
    values: dict[str, Any] = {
        "id": MEMBERSHIP_ID,
        "club_id": CLUB_ID,
        "student_id": STUDENT_ID,
        "student_name": "Nguyễn Văn An",
        "state": sr.MEMBERSHIP_STATE_APPROVED,
        "sessions_attended": 3,
        "request_time": ts(),
    }
    values.update(fields)
    return sr.ClubMembership(**values)


# The gradebook's canned values.
CHANGE_ID = "0193a4c2-ffee-7ef7-8d08-172b3c4d5e6f"
TEACHER = "0193a4c2-0000-7000-8000-00000000000a"
PRINCIPAL_SUBJECT = "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f"
DATES = {
    "semester_1_start": "2025-09-05",
    "semester_1_end": "2026-01-10",
    "semester_2_start": "2026-01-12",
    "semester_2_end": "2026-05-25",
}

MATHS = sr.Subject(
    code="TOAN",
    name="Toán",
    name_en="Mathematics",
    evaluation=sr.EVALUATION_SCORED,
    periods_per_year=140,
    regular_assessments=4,
)
PE = sr.Subject(
    code="GDTC", name="Giáo dục thể chất", name_en="Physical education", evaluation=sr.EVALUATION_COMMENT
)


def explanation(rule: str, subjects: tuple[str, ...] = ()) -> sr.Explanation:
    return sr.Explanation(rule=rule, vi=f"Vì {rule}", en=f"Because {rule}", subjects=list(subjects))


def change_pb(**fields: Any) -> sr.GradeChange:
    values: dict[str, Any] = {
        "id": CHANGE_ID,
        "class_id": CLASS_ID,
        "student_id": STUDENT_ID,
        "subject_code": "TOAN",
        "semester": 1,
        "kind": sr.ASSESSMENT_KIND_END_TERM,
        "ordinal": 1,
        "old_value": "6",
        "new_value": "7",
        "reason": "Cộng nhầm điểm bài cuối kì",
        "state": sr.GRADE_CHANGE_STATE_PENDING,
        "requested_by": TEACHER,
        "request_time": ts(),
        "school_year": "2025-2026",
    }
    values.update(fields)
    return sr.GradeChange(**values)


TRANSCRIPT_ID = "0193a4c2-0a1b-7c2d-8e3f-405162738495"
NEW_TRANSCRIPT_ID = "0193a4c2-0a1b-7c2d-8e3f-000000000002"
VERIFICATION_CODE = "K7M2Q9XP4R"
#: The file ExportStudents answers with (a ZIP's magic and a little more: the fake never opens it).
EXPORTED_XLSX = b"PK\x03\x04 C1-HocSinh export"
TRANSCRIPT_PDF = b"%PDF-1.7\n% signed transcript\n%%EOF\n"
TRANSCRIPT_XML = b'<?xml version="1.0" encoding="UTF-8"?><HocBa xmlns="urn:vn-school:hoc-ba:1"/>'


def transcript_pb(**fields: Any) -> sr.Transcript:
    values: dict[str, Any] = {
        "id": TRANSCRIPT_ID,
        "student_id": STUDENT_ID,
        "school_id": SCHOOL_ID,
        "class_id": CLASS_ID,
        "school_year": "2025-2026",
        "version": 1,
        "digest": "ab" * 32,
        "verification_code": VERIFICATION_CODE,
        "issued_by": PRINCIPAL_SUBJECT,
        "issue_time": ts(1_780_000_000),
    }
    values.update(fields)
    return sr.Transcript(**values)


# Moves, transfers and diplomas: canned values.
MOVEMENT_ID = "0193a4c2-1b2c-7d3e-8f40-5162738495a6"
OTHER_CLASS_ID = "0193a4c2-2e11-7d2a-8c3b-000000000002"
DIPLOMA_ID = "0193a4c2-2c3d-7e4f-9051-62738495a6b7"
NEW_DIPLOMA_ID = "0193a4c2-2c3d-7e4f-9051-000000000002"
SERIAL_NUMBER = "B 0012345"
DIPLOMA_CODE = "Q4R7T2W9XZ"


def movement_pb(**fields: Any) -> sr.Movement:
    values: dict[str, Any] = {
        "id": MOVEMENT_ID,
        "student_id": STUDENT_ID,
        "kind": sr.MOVEMENT_KIND_CLASS_MOVE,
        "state": sr.MOVEMENT_STATE_DONE,
        "school_year": "2025-2026",
        "from_school_id": SCHOOL_ID,
        "from_class_id": CLASS_ID,
        "to_school_id": SCHOOL_ID,
        "to_class_id": OTHER_CLASS_ID,
        "effective_on": "2025-11-24",
        "reason": "Theo nguyện vọng của gia đình",
        "requested_by": PRINCIPAL_SUBJECT,
        "request_time": ts(),
        "decided_by": PRINCIPAL_SUBJECT,
        "decide_time": ts(),
    }
    values.update(fields)
    return sr.Movement(**values)


# Transfers out of the tenant and into it: canned values.
ARRIVED_STUDENT_ID = "0193a4c2-3d22-7e3b-9d4c-000000000003"
RECEIVED_RECORD_ID = "0193a4c2-3d4e-7f50-8162-738495a6b7c8"
OTHER_RECEIVED_RECORD_ID = "0193a4c2-3d4e-7f50-8162-000000000002"
DESTINATION = "Trường THCS Nguyễn Du, TP. Hồ Chí Minh"
#: The package ExportStudentRecord answers with (the fake never signs nor parses it).
RECORD_PACKAGE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<HoSoChuyenTruong xmlns="urn:vn-school:hoc-ba:1" id="p-1">'
    b"<NoiDung/></HoSoChuyenTruong>"
)
#: The packages ListReceivedRecords answers with.
RECEIVED_PACKAGE = RECORD_PACKAGE.replace(b'id="p-1"', b'id="p-0"')
OTHER_RECEIVED_PACKAGE = RECORD_PACKAGE.replace(b'id="p-1"', b'id="p-2"')


def diploma_pb(**fields: Any) -> sr.Diploma:
    values: dict[str, Any] = {
        "id": DIPLOMA_ID,
        "student_id": STUDENT_ID,
        "school_id": SCHOOL_ID,
        "kind": sr.DIPLOMA_KIND_UPPER_SECONDARY_DIPLOMA,
        "status": sr.DIPLOMA_STATUS_VALID,
        "graduation_year": 2026,
        "register_number": "125/2026",
        "serial_number": SERIAL_NUMBER,
        "holder_name": "Nguyễn Văn An",
        "holder_date_of_birth": "2008-09-05",
        "issued_on": "2026-07-20",
        "signer_name": "Nguyễn Văn Hải",
        "signer_title": "Giám đốc Sở Giáo dục và Đào tạo",
        "verification_code": DIPLOMA_CODE,
        "issued_by": PRINCIPAL_SUBJECT,
        "issue_time": ts(1_784_000_000),
    }
    values.update(fields)
    return sr.Diploma(**values)


class FakeStudentRecord(sr_grpc.StudentRecordServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.r = recorder

    async def CreateSchool(self, request: sr.CreateSchoolRequest, context: Any) -> sr.CreateSchoolResponse:
        school = school_pb(code=request.code)
        school.name = request.name
        return await self.r.handle("CreateSchool", request, context, sr.CreateSchoolResponse(school=school))

    async def ListSchools(self, request: sr.ListSchoolsRequest, context: Any) -> sr.ListSchoolsResponse:
        response = sr.ListSchoolsResponse(schools=[school_pb()], next_page_token="next-1")
        return await self.r.handle("ListSchools", request, context, response)

    async def GetSchool(self, request: sr.GetSchoolRequest, context: Any) -> sr.GetSchoolResponse:
        return await self.r.handle(
            "GetSchool", request, context, sr.GetSchoolResponse(school=school_pb(request.school_id))
        )

    async def CreateClass(self, request: sr.CreateClassRequest, context: Any) -> sr.CreateClassResponse:
        response = sr.CreateClassResponse(**{"class": class_pb()})
        return await self.r.handle("CreateClass", request, context, response)

    async def ListClasses(self, request: sr.ListClassesRequest, context: Any) -> sr.ListClassesResponse:
        return await self.r.handle(
            "ListClasses", request, context, sr.ListClassesResponse(classes=[class_pb()])
        )

    async def EnrolStudent(self, request: sr.EnrolStudentRequest, context: Any) -> sr.EnrolStudentResponse:
        name = (
            request.new_student.full_name
            if request.WhichOneof("student") == "new_student"
            else "Nguyễn Văn An"
        )
        response = sr.EnrolStudentResponse(
            enrolment=sr.Enrolment(
                id=ENROLMENT_ID, class_id=request.class_id, student_id=STUDENT_ID, enrol_time=ts()
            ),
            student=student_pb(name),
        )
        return await self.r.handle("EnrolStudent", request, context, response)

    async def ListClassStudents(
        self, request: sr.ListClassStudentsRequest, context: Any
    ) -> sr.ListClassStudentsResponse:
        return await self.r.handle(
            "ListClassStudents", request, context, sr.ListClassStudentsResponse(students=[student_pb()])
        )

    async def GetStudent(self, request: sr.GetStudentRequest, context: Any) -> sr.GetStudentResponse:
        return await self.r.handle(
            "GetStudent", request, context, sr.GetStudentResponse(student=student_pb())
        )

    async def AddGuardian(self, request: sr.AddGuardianRequest, context: Any) -> sr.AddGuardianResponse:
        student = student_pb()
        added = sr.Guardian()
        added.CopyFrom(request.guardian)
        # A careless service echoing personal_id and date_of_birth back: the gateway must drop them.
        if request.guardian.personal_id:
            added.person_id = PERSON_ID
        student.guardians.append(added)
        return await self.r.handle("AddGuardian", request, context, sr.AddGuardianResponse(student=student))

    async def RecordViolation(
        self, request: sr.RecordViolationRequest, context: Any
    ) -> sr.RecordViolationResponse:
        # Echoes what it was asked to record, as the service would.
        violation = violation_pb(
            student_id=request.student_id,
            occurred_on=request.occurred_on,
            description=request.description,
            severity=request.severity,
            measure=request.measure,
            record_time=ts(1_764_000_120),
        )
        response = sr.RecordViolationResponse(violation=violation)
        return await self.r.handle("RecordViolation", request, context, response)

    async def ListStudentViolations(
        self, request: sr.ListStudentViolationsRequest, context: Any
    ) -> sr.ListStudentViolationsResponse:
        response = sr.ListStudentViolationsResponse(
            violations=[
                violation_pb(family_confirm_time=ts(1_764_086_400)),
                violation_pb(
                    id=OTHER_VIOLATION_ID,
                    occurred_on="2025-11-21",
                    description="Nói chuyện riêng",
                    severity=sr.VIOLATION_SEVERITY_CLASS,
                    measure=sr.DISCIPLINE_MEASURE_CRITICISM,
                ),
            ]
        )
        return await self.r.handle("ListStudentViolations", request, context, response)

    async def ConfirmSelfReview(
        self, request: sr.ConfirmSelfReviewRequest, context: Any
    ) -> sr.ConfirmSelfReviewResponse:
        response = sr.ConfirmSelfReviewResponse(
            violation=violation_pb(id=request.violation_id, family_confirm_time=ts(1_764_086_400))
        )
        return await self.r.handle("ConfirmSelfReview", request, context, response)

    async def RecordReward(self, request: sr.RecordRewardRequest, context: Any) -> sr.RecordRewardResponse:
        reward = reward_pb(
            student_id=request.student_id,
            kind=request.kind,
            reason=request.reason,
            awarded_on=request.awarded_on,
            record_time=ts(1_764_000_120),
        )
        return await self.r.handle("RecordReward", request, context, sr.RecordRewardResponse(reward=reward))

    async def ListStudentRewards(
        self, request: sr.ListStudentRewardsRequest, context: Any
    ) -> sr.ListStudentRewardsResponse:
        response = sr.ListStudentRewardsResponse(
            rewards=[
                reward_pb(),
                reward_pb(id=OTHER_REWARD_ID, kind=sr.REWARD_KIND_UNSPECIFIED, reason="Giúp đỡ bạn"),
            ]
        )
        return await self.r.handle("ListStudentRewards", request, context, response)

    async def CreateClub(self, request: sr.CreateClubRequest, context: Any) -> sr.CreateClubResponse:
        # Echoes what it was asked to create, as the service would.
        club = club_pb(
            school_id=request.school_id,
            name=request.name,
            description=request.description,
            adviser_subject=request.adviser_subject,
            capacity=request.capacity,
            member_count=0,
        )
        return await self.r.handle("CreateClub", request, context, sr.CreateClubResponse(club=club))

    async def ListClubs(self, request: sr.ListClubsRequest, context: Any) -> sr.ListClubsResponse:
        response = sr.ListClubsResponse(
            clubs=[
                club_pb(),
                club_pb(id=OTHER_CLUB_ID, name="CLB Cờ vua", description="", capacity=0, member_count=0),
            ]
        )
        return await self.r.handle("ListClubs", request, context, response)

    async def RequestClubMembership(
        self, request: sr.RequestClubMembershipRequest, context: Any
    ) -> sr.RequestClubMembershipResponse:
        membership = membership_pb(
            club_id=request.club_id,
            student_id=request.student_id,
            state=sr.MEMBERSHIP_STATE_PENDING,
            sessions_attended=0,
            request_time=ts(1_764_000_120),
        )
        response = sr.RequestClubMembershipResponse(membership=membership)
        return await self.r.handle("RequestClubMembership", request, context, response)

    async def DecideClubMembership(
        self, request: sr.DecideClubMembershipRequest, context: Any
    ) -> sr.DecideClubMembershipResponse:
        membership = membership_pb(
            id=request.membership_id,
            state=sr.MEMBERSHIP_STATE_APPROVED if request.approve else sr.MEMBERSHIP_STATE_REFUSED,
            decision_reason=request.reason,
            sessions_attended=0,
        )
        response = sr.DecideClubMembershipResponse(membership=membership)
        return await self.r.handle("DecideClubMembership", request, context, response)

    async def ListClubMembers(
        self, request: sr.ListClubMembersRequest, context: Any
    ) -> sr.ListClubMembersResponse:
        response = sr.ListClubMembersResponse(
            club=club_pb(id=request.club_id),
            memberships=[
                membership_pb(),
                membership_pb(
                    id=OTHER_MEMBERSHIP_ID,
                    student_id=OTHER_STUDENT_ID,
                    student_name="Lê Thị Hoa",
                    state=sr.MEMBERSHIP_STATE_PENDING,
                    sessions_attended=0,
                    request_time=ts(1_764_000_060),
                ),
            ],
        )
        return await self.r.handle("ListClubMembers", request, context, response)

    async def RecordClubSession(
        self, request: sr.RecordClubSessionRequest, context: Any
    ) -> sr.RecordClubSessionResponse:
        session = sr.ClubSession(
            id=SESSION_ID,
            club_id=request.club_id,
            held_on=request.held_on,
            topic=request.topic,
            present_student_ids=list(request.present_student_ids),
        )
        response = sr.RecordClubSessionResponse(session=session)
        return await self.r.handle("RecordClubSession", request, context, response)

    async def ListStudentClubs(
        self, request: sr.ListStudentClubsRequest, context: Any
    ) -> sr.ListStudentClubsResponse:
        response = sr.ListStudentClubsResponse(
            clubs=[
                sr.StudentClub(club=club_pb(), membership=membership_pb(student_id=request.student_id)),
                sr.StudentClub(
                    club=club_pb(
                        id=OTHER_CLUB_ID, name="CLB Cờ vua", description="", capacity=0, member_count=0
                    ),
                    membership=membership_pb(
                        id=OTHER_MEMBERSHIP_ID,
                        club_id=OTHER_CLUB_ID,
                        student_id=request.student_id,
                        state=sr.MEMBERSHIP_STATE_REFUSED,
                        decision_reason="Trùng lịch học thêm",
                        sessions_attended=0,
                    ),
                ),
            ]
        )
        return await self.r.handle("ListStudentClubs", request, context, response)

    # ---------------------------------------------------------------- the gradebook

    async def ListSubjects(self, request: sr.ListSubjectsRequest, context: Any) -> sr.ListSubjectsResponse:
        return await self.r.handle(
            "ListSubjects", request, context, sr.ListSubjectsResponse(subjects=[MATHS, PE])
        )

    async def DefineSchoolYear(
        self, request: sr.DefineSchoolYearRequest, context: Any
    ) -> sr.DefineSchoolYearResponse:
        year = sr.SchoolYear(
            school_id=request.school_id,
            name=request.name,
            semester_1_start=request.semester_1_start,
            semester_1_end=request.semester_1_end,
            semester_2_start=request.semester_2_start,
            semester_2_end=request.semester_2_end,
        )
        return await self.r.handle(
            "DefineSchoolYear", request, context, sr.DefineSchoolYearResponse(school_year=year)
        )

    async def ListSchoolYears(
        self, request: sr.ListSchoolYearsRequest, context: Any
    ) -> sr.ListSchoolYearsResponse:
        years = [
            sr.SchoolYear(school_id=request.school_id, name="2026-2027"),  # a class's year, not defined
            sr.SchoolYear(school_id=request.school_id, name="2025-2026", locked_semesters=[1], **DATES),
        ]
        return await self.r.handle(
            "ListSchoolYears", request, context, sr.ListSchoolYearsResponse(school_years=years)
        )

    async def LockSemester(self, request: sr.LockSemesterRequest, context: Any) -> sr.LockSemesterResponse:
        year = sr.SchoolYear(
            school_id=request.school_id,
            name=request.school_year,
            locked_semesters=list(range(1, request.semester + 1)),
            **DATES,
        )
        return await self.r.handle(
            "LockSemester", request, context, sr.LockSemesterResponse(school_year=year)
        )

    async def RecordAssessments(
        self, request: sr.RecordAssessmentsRequest, context: Any
    ) -> sr.RecordAssessmentsResponse:
        response = sr.RecordAssessmentsResponse(written=len(request.entries) - 1, unchanged=1)
        return await self.r.handle("RecordAssessments", request, context, response)

    async def RecordRatings(self, request: sr.RecordRatingsRequest, context: Any) -> sr.RecordRatingsResponse:
        response = sr.RecordRatingsResponse(written=len(request.entries), unchanged=0)
        return await self.r.handle("RecordRatings", request, context, response)

    async def GetClassGradebook(
        self, request: sr.GetClassGradebookRequest, context: Any
    ) -> sr.GetClassGradebookResponse:
        response = sr.GetClassGradebookResponse(
            subject=MATHS,
            semester=request.semester,
            locked=True,
            rows=[
                sr.GradebookRow(
                    student_id=STUDENT_ID,
                    full_name="Nguyễn Văn An",
                    cells=[
                        sr.GradebookCell(
                            kind=sr.ASSESSMENT_KIND_REGULAR, ordinal=1, value="8.5", display="8,5"
                        ),
                        sr.GradebookCell(kind=sr.ASSESSMENT_KIND_MID_TERM, ordinal=1, value="8", display="8"),
                        sr.GradebookCell(
                            kind=sr.ASSESSMENT_KIND_UNSPECIFIED, ordinal=1, value="9", display="9"
                        ),
                    ],
                    result="8,3",
                ),
                sr.GradebookRow(
                    student_id=OTHER_STUDENT_ID,
                    full_name="Lê Thị Hoa",
                    missing=["REGULAR 1", "END_TERM"],
                ),
            ],
        )
        return await self.r.handle("GetClassGradebook", request, context, response)

    async def RequestGradeChange(
        self, request: sr.RequestGradeChangeRequest, context: Any
    ) -> sr.RequestGradeChangeResponse:
        change = change_pb(
            class_id=request.class_id,
            student_id=request.entry.student_id,
            subject_code=request.subject_code,
            semester=request.semester,
            kind=request.entry.kind,
            ordinal=request.entry.ordinal or 1,
            new_value=request.entry.value,
            reason=request.reason,
        )
        return await self.r.handle(
            "RequestGradeChange", request, context, sr.RequestGradeChangeResponse(change=change)
        )

    async def DecideGradeChange(
        self, request: sr.DecideGradeChangeRequest, context: Any
    ) -> sr.DecideGradeChangeResponse:
        change = change_pb(
            id=request.change_id,
            state=sr.GRADE_CHANGE_STATE_APPROVED if request.approve else sr.GRADE_CHANGE_STATE_REFUSED,
            decided_by=PRINCIPAL_SUBJECT,
            decide_time=ts(1_764_000_300),
            decision_note=request.note,
        )
        return await self.r.handle(
            "DecideGradeChange", request, context, sr.DecideGradeChangeResponse(change=change)
        )

    async def ListGradeChanges(
        self, request: sr.ListGradeChangesRequest, context: Any
    ) -> sr.ListGradeChangesResponse:
        changes = [
            change_pb(
                state=sr.GRADE_CHANGE_STATE_APPROVED,
                decided_by=PRINCIPAL_SUBJECT,
                decide_time=ts(1_764_000_300),
                decision_note="Đã kiểm tra bài thi",
            ),
            change_pb(id=OTHER_STUDENT_ID, kind=sr.ASSESSMENT_KIND_MID_TERM, old_value="", new_value="9"),
        ]
        return await self.r.handle(
            "ListGradeChanges", request, context, sr.ListGradeChangesResponse(changes=changes)
        )

    async def GetStudentResults(
        self, request: sr.GetStudentResultsRequest, context: Any
    ) -> sr.GetStudentResultsResponse:
        literature = sr.SubjectResult(
            subject_code="NGU_VAN", subject_name="Ngữ văn", value="6", display="6,0", test_score=-1
        )
        maths = sr.SubjectResult(
            subject_code="TOAN", subject_name="Toán", missing=["END_TERM"], test_score=-1
        )
        response = sr.GetStudentResultsResponse(
            student_id=request.student_id,
            school_year=request.school_year or "2025-2026",
            class_id=CLASS_ID,
            grade=6,
            terms=[
                # Semester I, not published and read by a family: no overall result.
                sr.TermResult(term=1, subjects=[literature, maths], incomplete=["Toán"], absent_sessions=-1),
                sr.TermResult(
                    term=0,
                    subjects=[
                        literature,
                        sr.SubjectResult(
                            subject_code="TOAN", subject_name="Toán", value="9", display="9,0", test_score=7
                        ),
                    ],
                    learning="KHA",
                    learning_explanation=explanation("KHA", ("Ngữ văn",)),
                    conduct="TOT",
                    conduct_explanation=explanation("CONDUCT_YEAR"),
                    promotion="PROMOTED",
                    promotion_explanation=explanation("PROMOTION"),
                    award="NONE",
                    award_explanation=explanation("AWARD"),
                    absent_sessions=3,
                    published=True,
                ),
                sr.TermResult(term=7),  # a term this gateway does not know: left out
            ],
        )
        return await self.r.handle("GetStudentResults", request, context, response)

    async def PublishResults(
        self, request: sr.PublishResultsRequest, context: Any
    ) -> sr.PublishResultsResponse:
        response = sr.PublishResultsResponse(publish_time=ts(1_764_000_600), students=32)
        return await self.r.handle("PublishResults", request, context, response)

    async def ImportStudents(
        self, request: sr.ImportStudentsRequest, context: Any
    ) -> sr.ImportStudentsResponse:
        response = sr.ImportStudentsResponse(
            created=1,
            unchanged=1,
            refused=1,
            rows=[
                sr.StudentImportRow(
                    row=3, outcome=sr.IMPORT_OUTCOME_CREATED, student_id=STUDENT_ID, student_code="0123456789"
                ),
                sr.StudentImportRow(
                    row=4,
                    outcome=sr.IMPORT_OUTCOME_UNCHANGED,
                    student_id=OTHER_STUDENT_ID,
                    temporary_key="TAM-3F9A1C2B7E04",
                ),
                sr.StudentImportRow(
                    row=5,
                    outcome=sr.IMPORT_OUTCOME_REFUSED,
                    column="Ngày sinh",
                    reason="INVALID_DATE",
                    message="Ngày sinh không hợp lệ / invalid date of birth",
                ),
            ],
            ignored_headers=["Quốc tịch", "Tôn giáo"],
        )
        return await self.r.handle("ImportStudents", request, context, response)

    async def ExportStudents(
        self, request: sr.ExportStudentsRequest, context: Any
    ) -> sr.ExportStudentsResponse:
        response = sr.ExportStudentsResponse(
            content=EXPORTED_XLSX, filename=f"C1-HocSinh_LQD01_{request.school_year}.xlsx", students=2
        )
        return await self.r.handle("ExportStudents", request, context, response)

    async def IssueTranscripts(
        self, request: sr.IssueTranscriptsRequest, context: Any
    ) -> sr.IssueTranscriptsResponse:
        response = sr.IssueTranscriptsResponse(
            issued=1,
            students=[
                sr.TranscriptIssueRow(
                    student_id=STUDENT_ID,
                    student_name="Nguyễn Văn An",
                    outcome=sr.TRANSCRIPT_ISSUE_OUTCOME_ISSUED,
                    transcript_id=TRANSCRIPT_ID,
                ),
                sr.TranscriptIssueRow(
                    student_id=OTHER_STUDENT_ID,
                    student_name="Lê Thị Bình",
                    outcome=sr.TRANSCRIPT_ISSUE_OUTCOME_RESULTS_INCOMPLETE,
                    missing=["HK I: Toán", "Cả năm: Rèn luyện"],
                ),
            ],
        )
        return await self.r.handle("IssueTranscripts", request, context, response)

    async def CorrectTranscript(
        self, request: sr.CorrectTranscriptRequest, context: Any
    ) -> sr.CorrectTranscriptResponse:
        transcript = transcript_pb(
            id=NEW_TRANSCRIPT_ID,
            version=2,
            supersedes_id=request.transcript_id,
            verification_code="P3W8N5ZT2H",
            correction_reason=request.reason,
        )
        return await self.r.handle(
            "CorrectTranscript", request, context, sr.CorrectTranscriptResponse(transcript=transcript)
        )

    async def ListStudentTranscripts(
        self, request: sr.ListStudentTranscriptsRequest, context: Any
    ) -> sr.ListStudentTranscriptsResponse:
        transcripts = [
            transcript_pb(
                id=NEW_TRANSCRIPT_ID,
                version=2,
                supersedes_id=TRANSCRIPT_ID,
                verification_code="P3W8N5ZT2H",
                correction_reason="Sửa điểm Toán",
            ),
            transcript_pb(superseded_time=ts(1_780_000_500)),
        ]
        return await self.r.handle(
            "ListStudentTranscripts",
            request,
            context,
            sr.ListStudentTranscriptsResponse(transcripts=transcripts),
        )

    async def GetTranscriptDocument(
        self, request: sr.GetTranscriptDocumentRequest, context: Any
    ) -> sr.GetTranscriptDocumentResponse:
        pdf = request.format == sr.TRANSCRIPT_FORMAT_PDF
        response = sr.GetTranscriptDocumentResponse(
            content=TRANSCRIPT_PDF if pdf else TRANSCRIPT_XML,
            filename=f"hoc-ba-2025-2026-v1-{request.transcript_id}.{'pdf' if pdf else 'xml'}",
            media_type="application/pdf" if pdf else "application/xml",
        )
        return await self.r.handle("GetTranscriptDocument", request, context, response)

    async def VerifyTranscript(
        self, request: sr.VerifyTranscriptRequest, context: Any
    ) -> sr.VerifyTranscriptResponse:
        """Valid for (TENANT, TRANSCRIPT_ID, VERIFICATION_CODE); anything else is NOT_FOUND, as the service
        answers. The student's name is ``Recorder.student_name`` (a test may make it hostile)."""
        method = "VerifyTranscript"
        if (request.tenant, request.transcript_id, request.verification_code) != (
            TENANT,
            TRANSCRIPT_ID,
            VERIFICATION_CODE,
        ):
            method = "VerifyTranscript@unknown"  # recorded under its own name, failing on its own
            self.r.failures.setdefault(
                method,
                Failure(
                    grpc.StatusCode.NOT_FOUND,
                    "Không tìm thấy học bạ / transcript not found",
                    "TRANSCRIPT_NOT_FOUND",
                ),
            )
        response = sr.VerifyTranscriptResponse(
            valid=True,
            pdf_valid=True,
            xml_valid=True,
            digest_matches=True,
            version=1,
            superseded=False,
            school_name="Trường THCS Lê Quý Đôn",
            school_year="2025-2026",
            issued_on="2026-06-01",
            student_name=self.r.student_name,
        )
        return await self.r.handle(method, request, context, response)

    async def MoveStudent(self, request: sr.MoveStudentRequest, context: Any) -> sr.MoveStudentResponse:
        movement = movement_pb(
            student_id=request.student_id,
            to_class_id=request.to_class_id,
            reason=request.reason,
            effective_on=request.effective_on,
        )
        return await self.r.handle("MoveStudent", request, context, sr.MoveStudentResponse(movement=movement))

    async def RequestTransfer(
        self, request: sr.RequestTransferRequest, context: Any
    ) -> sr.RequestTransferResponse:
        movement = movement_pb(
            student_id=request.student_id,
            kind=sr.MOVEMENT_KIND_SCHOOL_TRANSFER,
            state=sr.MOVEMENT_STATE_PENDING,
            to_school_id=request.to_school_id,
            to_class_id="",
            reason=request.reason,
            effective_on=request.effective_on,
            decided_by="",
            decide_time=None,
        )
        return await self.r.handle(
            "RequestTransfer", request, context, sr.RequestTransferResponse(movement=movement)
        )

    async def DecideTransfer(
        self, request: sr.DecideTransferRequest, context: Any
    ) -> sr.DecideTransferResponse:
        movement = movement_pb(
            id=request.movement_id,
            kind=sr.MOVEMENT_KIND_SCHOOL_TRANSFER,
            state=sr.MOVEMENT_STATE_DONE if request.accept else sr.MOVEMENT_STATE_REFUSED,
            to_school_id=OTHER_SCHOOL_ID,
            to_class_id=request.to_class_id,
            decided_by=ADVISER_SUBJECT,
            decide_time=ts(1_764_000_300),
            decision_note=request.note,
        )
        return await self.r.handle(
            "DecideTransfer", request, context, sr.DecideTransferResponse(movement=movement)
        )

    async def ListMovements(self, request: sr.ListMovementsRequest, context: Any) -> sr.ListMovementsResponse:
        movements = [
            movement_pb(
                id=MOVEMENT_ID,
                kind=sr.MOVEMENT_KIND_SCHOOL_TRANSFER,
                state=sr.MOVEMENT_STATE_PENDING,
                to_school_id=OTHER_SCHOOL_ID,
                to_class_id="",
                decided_by="",
                decide_time=None,
            ),
            movement_pb(id=OTHER_STUDENT_ID, kind=9),  # a kind this gateway does not know: null
            movement_pb(  # out of the tenant: no receiving school nor class, where they went instead
                id=ARRIVED_STUDENT_ID,
                kind=sr.MOVEMENT_KIND_TRANSFER_OUT,
                to_school_id="",
                to_class_id="",
                counterpart=DESTINATION,
            ),
        ]
        return await self.r.handle(
            "ListMovements", request, context, sr.ListMovementsResponse(movements=movements)
        )

    async def TransferStudentOut(
        self, request: sr.TransferStudentOutRequest, context: Any
    ) -> sr.TransferStudentOutResponse:
        movement = movement_pb(
            student_id=request.student_id,
            kind=sr.MOVEMENT_KIND_TRANSFER_OUT,
            to_school_id="",
            to_class_id="",
            counterpart=request.destination,
            reason=request.reason,
            effective_on=request.effective_on,
        )
        return await self.r.handle(
            "TransferStudentOut", request, context, sr.TransferStudentOutResponse(movement=movement)
        )

    async def ExportStudentRecord(
        self, request: sr.ExportStudentRecordRequest, context: Any
    ) -> sr.ExportStudentRecordResponse:
        response = sr.ExportStudentRecordResponse(
            content=RECORD_PACKAGE, filename=f"ho-so-chuyen-truong-{request.student_id}.xml"
        )
        return await self.r.handle("ExportStudentRecord", request, context, response)

    async def ImportStudentRecord(
        self, request: sr.ImportStudentRecordRequest, context: Any
    ) -> sr.ImportStudentRecordResponse:
        student = sr.Student(
            id=ARRIVED_STUDENT_ID,
            school_id=OTHER_SCHOOL_ID,
            full_name="Phạm Minh Châu",
            date_of_birth="2013-03-14",
            sex=sr.SEX_FEMALE,
            temporary_key="TAM-9C1D2E3F4A5B",
            status="TRANSFERRED_IN_TERM1",
        )
        movement = movement_pb(
            id=MOVEMENT_ID,
            student_id=ARRIVED_STUDENT_ID,
            kind=sr.MOVEMENT_KIND_TRANSFER_IN,
            from_school_id="",
            from_class_id="",
            to_school_id=OTHER_SCHOOL_ID,
            to_class_id=request.class_id,
            counterpart=DESTINATION,
            reason=f"Chuyển đến từ {DESTINATION}",
            effective_on=request.effective_on,
        )
        return await self.r.handle(
            "ImportStudentRecord",
            request,
            context,
            sr.ImportStudentRecordResponse(student=student, movement=movement),
        )

    async def ListReceivedRecords(
        self, request: sr.ListReceivedRecordsRequest, context: Any
    ) -> sr.ListReceivedRecordsResponse:
        """As student-record answers: every package's metadata, or the one asked for with its content."""
        packages = [
            (RECEIVED_RECORD_ID, DESTINATION, True, 1_764_000_900, RECEIVED_PACKAGE),
            (
                OTHER_RECEIVED_RECORD_ID,
                "Trường THCS Chu Văn An, Hà Nội",
                False,
                1_764_001_000,
                OTHER_RECEIVED_PACKAGE,
            ),
        ]
        records = [
            sr.ReceivedRecord(
                id=record_id,
                student_id=request.student_id,
                from_school=school,
                verified=verified,
                receive_time=ts(when),
                content=content if request.record_id else b"",
                size_bytes=len(content),
            )
            for record_id, school, verified, when, content in packages
            if not request.record_id or record_id == request.record_id
        ]
        return await self.r.handle(
            "ListReceivedRecords", request, context, sr.ListReceivedRecordsResponse(records=records)
        )

    async def IssueDiploma(self, request: sr.IssueDiplomaRequest, context: Any) -> sr.IssueDiplomaResponse:
        diploma = diploma_pb(
            student_id=request.student_id,
            kind=request.kind,
            graduation_year=request.graduation_year,
            classification=request.classification,
            register_number=request.register_number.upper(),
            serial_number=request.serial_number.upper(),
            issued_on=request.issued_on,
            signer_name=request.signer_name,
            signer_title=request.signer_title,
        )
        return await self.r.handle("IssueDiploma", request, context, sr.IssueDiplomaResponse(diploma=diploma))

    async def CorrectDiploma(
        self, request: sr.CorrectDiplomaRequest, context: Any
    ) -> sr.CorrectDiplomaResponse:
        diploma = diploma_pb(
            id=NEW_DIPLOMA_ID,
            classification=request.classification,
            register_number=request.register_number.upper(),
            serial_number=request.serial_number.upper(),
            issued_on=request.issued_on,
            signer_name=request.signer_name,
            signer_title=request.signer_title,
            verification_code="H8J3K6M2N5",
            supersedes_id=request.diploma_id,
            correction_reason=request.reason,
        )
        return await self.r.handle(
            "CorrectDiploma", request, context, sr.CorrectDiplomaResponse(diploma=diploma)
        )

    async def RevokeDiploma(self, request: sr.RevokeDiplomaRequest, context: Any) -> sr.RevokeDiplomaResponse:
        diploma = diploma_pb(
            id=request.diploma_id,
            status=sr.DIPLOMA_STATUS_REVOKED,
            revoked_by=PRINCIPAL_SUBJECT,
            revoke_time=ts(1_784_000_600),
            revocation_reason=request.reason,
        )
        return await self.r.handle(
            "RevokeDiploma", request, context, sr.RevokeDiplomaResponse(diploma=diploma)
        )

    async def ListSchoolDiplomas(
        self, request: sr.ListSchoolDiplomasRequest, context: Any
    ) -> sr.ListSchoolDiplomasResponse:
        diplomas = [
            diploma_pb(status=sr.DIPLOMA_STATUS_CORRECTED, correct_time=ts(1_784_000_300)),
            diploma_pb(
                id=NEW_DIPLOMA_ID,
                register_number="126/2026",
                serial_number="B 0012346",
                verification_code="H8J3K6M2N5",
                supersedes_id=DIPLOMA_ID,
                correction_reason="Sai ngày sinh",
                issue_time=ts(1_784_000_300),
            ),
        ]
        return await self.r.handle(
            "ListSchoolDiplomas", request, context, sr.ListSchoolDiplomasResponse(diplomas=diplomas)
        )

    async def ListStudentDiplomas(
        self, request: sr.ListStudentDiplomasRequest, context: Any
    ) -> sr.ListStudentDiplomasResponse:
        diplomas = [
            diploma_pb(
                kind=sr.DIPLOMA_KIND_UPPER_SECONDARY_COMPLETION,
                register_number="7/2026",
                serial_number="GCN 000777",
                classification=sr.DIPLOMA_CLASSIFICATION_UNSPECIFIED,
            ),
            diploma_pb(id=NEW_DIPLOMA_ID, classification=sr.DIPLOMA_CLASSIFICATION_KHA),
        ]
        return await self.r.handle(
            "ListStudentDiplomas", request, context, sr.ListStudentDiplomasResponse(diplomas=diplomas)
        )

    async def VerifyDiploma(self, request: sr.VerifyDiplomaRequest, context: Any) -> sr.VerifyDiplomaResponse:
        """Found for (TENANT, SERIAL_NUMBER, DIPLOMA_CODE); anything else is NOT_FOUND, as the service
        answers. The holder's name is ``Recorder.student_name``, the status ``Recorder.diploma_status``."""
        method = "VerifyDiploma"
        if (request.tenant, request.serial_number, request.verification_code) != (
            TENANT,
            SERIAL_NUMBER,
            DIPLOMA_CODE,
        ):
            method = "VerifyDiploma@unknown"  # recorded under its own name, failing on its own
            self.r.failures.setdefault(
                method,
                Failure(
                    grpc.StatusCode.NOT_FOUND,
                    "Không tìm thấy văn bằng / diploma not found",
                    "DIPLOMA_NOT_FOUND",
                ),
            )
        response = sr.VerifyDiplomaResponse(
            status=self.r.diploma_status,
            kind=sr.DIPLOMA_KIND_UPPER_SECONDARY_DIPLOMA,
            school_name="Trường THPT Chuyên Lê Hồng Phong",
            graduation_year=2026,
            holder_name=self.r.student_name,
        )
        return await self.r.handle(method, request, context, response)


# attendance's canned values.
LEAVE_ID = "0193a4c2-4e5f-7061-9273-8495a6b7c8d9"
DEVICE_ID = "0193a4c2-5f60-7172-8384-95a6b7c8d9ea"
OTHER_DEVICE_ID = "0193a4c2-5f60-7172-8384-000000000002"
SAMPLE_ID = "0193a4c2-6071-7283-9495-a6b7c8d9eafb"
GATE_CLIENT_SECRET = "s3cr3t-shown-once"
TOKEN_ENDPOINT = f"{ISSUER}/protocol/openid-connect/token"
#: A credential no student of the device's school has (the fake's rule for unknown_credential).
UNKNOWN_CARD = "FFFF-0000"
DAY_SECONDS = 86_400


def calendar_pb(**fields: Any) -> att.SchoolCalendar:
    values: dict[str, Any] = {
        "school_id": SCHOOL_ID,
        "sessions": [att.SESSION_MORNING, att.SESSION_AFTERNOON],
        "weekdays": [1, 2, 3, 4, 5],
        "main_session": att.SESSION_MORNING,
        "morning_cutoff": "10:00",
        "afternoon_cutoff": "16:00",
        "afternoon_starts": "12:00",
        "absence_warning_at": 35,
    }
    values.update(fields)
    return att.SchoolCalendar(**values)


def register_pb(**fields: Any) -> att.Register:
    values: dict[str, Any] = {
        "class_id": CLASS_ID,
        "school_id": SCHOOL_ID,
        "class_name": "6A1",
        "date": "2025-11-24",
        "session": att.SESSION_MORNING,
        "school_year": "2025-2026",
        "lines": [
            att.RegisterLine(
                student_id=STUDENT_ID,
                full_name="Nguyễn Văn An",
                status=att.ATTENDANCE_STATUS_PRESENT,
                check_in_time=ts(1_763_942_400),
                mark_time=ts(1_763_945_000),
                marked_by=ADVISER_SUBJECT,
            ),
            att.RegisterLine(
                student_id=OTHER_STUDENT_ID,
                full_name="Trần Thị Bình",
                leave_request_id=LEAVE_ID,
            ),
        ],
        "present": 1,
        "unmarked": 1,
        "cutoff_time": ts(1_763_953_200),
    }
    values.update(fields)
    return att.Register(**values)


def summary_pb(**fields: Any) -> att.AbsenceSummary:
    values: dict[str, Any] = {
        "student_id": STUDENT_ID,
        "full_name": "Nguyễn Văn An",
        "school_year": "2025-2026",
        "absent_sessions": 36,
        "excused": 30,
        "unexcused": 6,
        "limit": 45,
        "warning_at": 35,
        "level": att.ABSENCE_LEVEL_APPROACHING,
        "late": 2,
        "left_early": 1,
    }
    values.update(fields)
    return att.AbsenceSummary(**values)


def leave_pb(**fields: Any) -> att.LeaveRequest:
    values: dict[str, Any] = {
        "id": LEAVE_ID,
        "student_id": STUDENT_ID,
        "full_name": "Nguyễn Văn An",
        "class_id": CLASS_ID,
        "school_id": SCHOOL_ID,
        "from_date": "2025-11-24",
        "to_date": "2025-11-25",
        "sessions": [att.SESSION_MORNING, att.SESSION_AFTERNOON],
        "reason": "Cháu bị sốt",
        "status": att.LEAVE_STATUS_PENDING,
        "session_count": 4,
        "requested_by": ADVISER_SUBJECT,
        "request_time": ts(),
    }
    values.update(fields)
    return att.LeaveRequest(**values)


def device_pb(**fields: Any) -> att.GateDevice:
    values: dict[str, Any] = {
        "id": DEVICE_ID,
        "school_id": SCHOOL_ID,
        "name": "Cổng chính - làn 1",
        "kind": att.GATE_DEVICE_KIND_RFID,
        "client_id": f"gate-{DEVICE_ID}",
        "enabled": True,
        "register_time": ts(),
    }
    values.update(fields)
    return att.GateDevice(**values)


def boarding_settings_pb(**fields: Any) -> att.BoardingSettings:
    values: dict[str, Any] = {
        "school_id": SCHOOL_ID,
        "meal_cutoff": "09:00",
        "meal_refund": att.MEAL_REFUND_POLICY_NONE,
        "care_refund": att.CARE_REFUND_POLICY_NONE,
    }
    values.update(fields)
    return att.BoardingSettings(**values)


def boarding_registration_pb(**fields: Any) -> att.BoardingRegistration:
    values: dict[str, Any] = {
        "student_id": STUDENT_ID,
        "full_name": "Nguyễn Văn An",
        "class_id": CLASS_ID,
        "month": "2025-12",
        "lunch": True,
        "nap_care": True,
        "effective_date": "2025-12-01",
        "registered_by": ADVISER_SUBJECT,
        "register_time": ts(),
    }
    values.update(fields)
    return att.BoardingRegistration(**values)


def menu_pb(**fields: Any) -> att.Menu:
    values: dict[str, Any] = {
        "school_id": SCHOOL_ID,
        "date": "2025-11-24",
        "items": [att.MenuItem(meal=att.MEAL_LUNCH, dishes=["Cơm trắng", "Cá kho tộ"])],
        "publish_time": ts(),
    }
    values.update(fields)
    return att.Menu(**values)


def food_sample_pb(**fields: Any) -> att.FoodSample:
    values: dict[str, Any] = {
        "id": SAMPLE_ID,
        "school_id": SCHOOL_ID,
        "date": "2025-11-24",
        "meal": att.MEAL_LUNCH,
        "dishes": ["Cá kho tộ"],
        "sample_time": ts(),
        "keep_until": ts(1_764_000_000 + DAY_SECONDS),
        "recorded_by": ADVISER_SUBJECT,
    }
    values.update(fields)
    return att.FoodSample(**values)


def charge_pb(**fields: Any) -> att.BoardingCharge:
    values: dict[str, Any] = {
        "student_id": STUDENT_ID,
        "full_name": "Nguyễn Văn An",
        "class_id": CLASS_ID,
        "month": "2025-11",
        "lines": [
            att.ChargeLine(
                kind=att.CHARGE_KIND_LUNCH,
                quantity=20,
                unit_price=30000,
                gross_amount=600000,
                refunded_days=2,
                refund_amount=60000,
                amount=540000,
            ),
            att.ChargeLine(
                kind=att.CHARGE_KIND_NAP_CARE,
                quantity=1,
                unit_price=320000,
                gross_amount=320000,
                amount=320000,
            ),
        ],
        "total": 860000,
        "version": 1,
    }
    values.update(fields)
    return att.BoardingCharge(**values)


class FakeAttendance(att_grpc.AttendanceServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.r = recorder

    async def GetClassRoster(
        self, request: att.GetClassRosterRequest, context: Any
    ) -> att.GetClassRosterResponse:
        response = att.GetClassRosterResponse(
            class_id=request.class_id,
            school_id=SCHOOL_ID,
            class_name="6A1",
            entries=[att.RosterEntry(student_id=STUDENT_ID, full_name="Nguyễn Văn An", enrol_time=ts())],
        )
        return await self.r.handle("GetClassRoster", request, context, response)

    async def GetSchoolCalendar(
        self, request: att.GetSchoolCalendarRequest, context: Any
    ) -> att.GetSchoolCalendarResponse:
        response = att.GetSchoolCalendarResponse(calendar=calendar_pb(school_id=request.school_id))
        return await self.r.handle("GetSchoolCalendar", request, context, response)

    async def ConfigureSchoolCalendar(
        self, request: att.ConfigureSchoolCalendarRequest, context: Any
    ) -> att.ConfigureSchoolCalendarResponse:
        calendar = att.SchoolCalendar()
        calendar.CopyFrom(request.calendar)
        calendar.configured = True
        response = att.ConfigureSchoolCalendarResponse(calendar=calendar)
        return await self.r.handle("ConfigureSchoolCalendar", request, context, response)

    async def MarkAttendance(
        self, request: att.MarkAttendanceRequest, context: Any
    ) -> att.MarkAttendanceResponse:
        # The register as marked: each entry's line, as the service would answer.
        lines = [
            att.RegisterLine(
                student_id=e.student_id,
                full_name="Nguyễn Văn An",
                status=e.status,
                note=e.note,
                mark_time=ts(1_763_945_000),
                marked_by=subject_of(context),
            )
            for e in request.entries
        ]
        register = register_pb(
            class_id=request.class_id, date=request.date, session=request.session, lines=lines, unmarked=0
        )
        register.present = sum(e.status == att.ATTENDANCE_STATUS_PRESENT for e in request.entries)
        response = att.MarkAttendanceResponse(
            register=register, changed=len(request.entries), after_cutoff=bool(request.reason)
        )
        return await self.r.handle("MarkAttendance", request, context, response)

    async def GetRegister(self, request: att.GetRegisterRequest, context: Any) -> att.GetRegisterResponse:
        register = register_pb(class_id=request.class_id, date=request.date, session=request.session)
        return await self.r.handle(
            "GetRegister", request, context, att.GetRegisterResponse(register=register)
        )

    async def ListRegisterChanges(
        self, request: att.ListRegisterChangesRequest, context: Any
    ) -> att.ListRegisterChangesResponse:
        change = att.RegisterChange(
            student_id=STUDENT_ID,
            date="2025-11-24",
            session=att.SESSION_MORNING,
            previous_status=att.ATTENDANCE_STATUS_ABSENT_UNEXCUSED,
            status=att.ATTENDANCE_STATUS_LATE,
            reason="Đến muộn có giấy của phòng y tế",
            changed_by=ADVISER_SUBJECT,
            change_time=ts(),
        )
        response = att.ListRegisterChangesResponse(changes=[change])
        return await self.r.handle("ListRegisterChanges", request, context, response)

    async def ListStudentAttendance(
        self, request: att.ListStudentAttendanceRequest, context: Any
    ) -> att.ListStudentAttendanceResponse:
        response = att.ListStudentAttendanceResponse(
            days=[
                att.StudentAttendanceDay(
                    date="2025-11-24", session=att.SESSION_MORNING, status=att.ATTENDANCE_STATUS_PRESENT
                ),
                att.StudentAttendanceDay(
                    date="2025-11-24",
                    session=att.SESSION_AFTERNOON,
                    status=att.ATTENDANCE_STATUS_ABSENT_EXCUSED,
                    note="Nghỉ có phép",
                ),
            ]
        )
        return await self.r.handle("ListStudentAttendance", request, context, response)

    async def GetAbsenceSummary(
        self, request: att.GetAbsenceSummaryRequest, context: Any
    ) -> att.GetAbsenceSummaryResponse:
        response = att.GetAbsenceSummaryResponse(
            summary=summary_pb(student_id=request.student_id, school_year=request.school_year)
        )
        return await self.r.handle("GetAbsenceSummary", request, context, response)

    async def ListClassAbsenceSummaries(
        self, request: att.ListClassAbsenceSummariesRequest, context: Any
    ) -> att.ListClassAbsenceSummariesResponse:
        response = att.ListClassAbsenceSummariesResponse(
            school_year="2025-2026",
            summaries=[
                summary_pb(),
                summary_pb(
                    student_id=OTHER_STUDENT_ID,
                    full_name="Trần Thị Bình",
                    absent_sessions=46,
                    excused=40,
                    level=att.ABSENCE_LEVEL_OVER,
                ),
            ],
        )
        return await self.r.handle("ListClassAbsenceSummaries", request, context, response)

    async def RequestLeave(self, request: att.RequestLeaveRequest, context: Any) -> att.RequestLeaveResponse:
        leave = leave_pb(
            student_id=request.student_id,
            from_date=request.from_date,
            to_date=request.to_date,
            sessions=list(request.sessions) or [att.SESSION_MORNING, att.SESSION_AFTERNOON],
            reason=request.reason,
            requested_by=subject_of(context),
        )
        return await self.r.handle("RequestLeave", request, context, att.RequestLeaveResponse(leave=leave))

    async def DecideLeave(self, request: att.DecideLeaveRequest, context: Any) -> att.DecideLeaveResponse:
        leave = leave_pb(
            id=request.leave_id,
            status=att.LEAVE_STATUS_APPROVED if request.approve else att.LEAVE_STATUS_REFUSED,
            decided_by=subject_of(context),
            decision_time=ts(1_764_003_600),
            decision_note=request.note,
        )
        response = att.DecideLeaveResponse(leave=leave, marked=4 if request.approve else 0)
        return await self.r.handle("DecideLeave", request, context, response)

    async def CancelLeave(self, request: att.CancelLeaveRequest, context: Any) -> att.CancelLeaveResponse:
        leave = leave_pb(id=request.leave_id, status=att.LEAVE_STATUS_CANCELLED)
        return await self.r.handle("CancelLeave", request, context, att.CancelLeaveResponse(leave=leave))

    async def ListLeaveRequests(
        self, request: att.ListLeaveRequestsRequest, context: Any
    ) -> att.ListLeaveRequestsResponse:
        response = att.ListLeaveRequestsResponse(leaves=[leave_pb()], next_page_token="next-1")
        return await self.r.handle("ListLeaveRequests", request, context, response)

    async def RegisterGateDevice(
        self, request: att.RegisterGateDeviceRequest, context: Any
    ) -> att.RegisterGateDeviceResponse:
        device = device_pb(school_id=request.school_id, name=request.name, kind=request.kind)
        response = att.RegisterGateDeviceResponse(
            device=device, client_secret=GATE_CLIENT_SECRET, token_endpoint=TOKEN_ENDPOINT
        )
        return await self.r.handle("RegisterGateDevice", request, context, response)

    async def ListGateDevices(
        self, request: att.ListGateDevicesRequest, context: Any
    ) -> att.ListGateDevicesResponse:
        devices = [
            device_pb(last_seen_time=ts(1_764_003_600)),
            device_pb(
                id=OTHER_DEVICE_ID,
                name="Cổng sau",
                kind=att.GATE_DEVICE_KIND_FACE,
                client_id=f"gate-{OTHER_DEVICE_ID}",
                enabled=False,
            ),
        ]
        response = att.ListGateDevicesResponse(devices=devices)
        return await self.r.handle("ListGateDevices", request, context, response)

    async def DisableGateDevice(
        self, request: att.DisableGateDeviceRequest, context: Any
    ) -> att.DisableGateDeviceResponse:
        response = att.DisableGateDeviceResponse(device=device_pb(id=request.device_id, enabled=False))
        return await self.r.handle("DisableGateDevice", request, context, response)

    async def AssignGateCredential(
        self, request: att.AssignGateCredentialRequest, context: Any
    ) -> att.AssignGateCredentialResponse:
        response = att.AssignGateCredentialResponse(
            student_id=request.student_id, credential=request.credential
        )
        return await self.r.handle("AssignGateCredential", request, context, response)

    async def RemoveGateCredential(
        self, request: att.RemoveGateCredentialRequest, context: Any
    ) -> att.RemoveGateCredentialResponse:
        return await self.r.handle(
            "RemoveGateCredential", request, context, att.RemoveGateCredentialResponse()
        )

    async def RecordCheckIns(
        self, request: att.RecordCheckInsRequest, context: Any
    ) -> att.RecordCheckInsResponse:
        # UNKNOWN_CARD is no student's; a credential's first tap checks in, later ones merge.
        response = att.RecordCheckInsResponse()
        seen: set[str] = set()
        for tap in request.taps:
            if tap.credential == UNKNOWN_CARD:
                result = att.TapResult(tap_id=tap.tap_id, outcome=att.TAP_OUTCOME_UNKNOWN_CREDENTIAL)
                response.rejected += 1
            else:
                outcome = att.TAP_OUTCOME_MERGED if tap.credential in seen else att.TAP_OUTCOME_CHECKED_IN
                seen.add(tap.credential)
                result = att.TapResult(
                    tap_id=tap.tap_id,
                    outcome=outcome,
                    student_id=STUDENT_ID,
                    date="2025-11-24",
                    session=att.SESSION_MORNING,
                )
                if outcome == att.TAP_OUTCOME_MERGED:
                    response.merged += 1
                else:
                    response.checked_in += 1
            response.results.append(result)
        return await self.r.handle("RecordCheckIns", request, context, response)

    async def GetGateReconciliation(
        self, request: att.GetGateReconciliationRequest, context: Any
    ) -> att.GetGateReconciliationResponse:
        response = att.GetGateReconciliationResponse(
            lines=[
                att.ReconciliationLine(
                    student_id=STUDENT_ID,
                    full_name="Nguyễn Văn An",
                    status=att.ATTENDANCE_STATUS_ABSENT_UNEXCUSED,
                    check_in_time=ts(1_763_942_400),
                    flag=att.RECONCILIATION_FLAG_ABSENT_IN_CLASS,
                ),
                att.ReconciliationLine(
                    student_id=OTHER_STUDENT_ID,
                    full_name="Trần Thị Bình",
                    status=att.ATTENDANCE_STATUS_PRESENT,
                ),
            ],
            flagged=1,
        )
        return await self.r.handle("GetGateReconciliation", request, context, response)

    async def GetBoardingSettings(
        self, request: att.GetBoardingSettingsRequest, context: Any
    ) -> att.GetBoardingSettingsResponse:
        response = att.GetBoardingSettingsResponse(settings=boarding_settings_pb(school_id=request.school_id))
        return await self.r.handle("GetBoardingSettings", request, context, response)

    async def ConfigureBoarding(
        self, request: att.ConfigureBoardingRequest, context: Any
    ) -> att.ConfigureBoardingResponse:
        settings = att.BoardingSettings()
        settings.CopyFrom(request.settings)
        settings.configured = True
        response = att.ConfigureBoardingResponse(settings=settings)
        return await self.r.handle("ConfigureBoarding", request, context, response)

    async def RegisterBoarding(
        self, request: att.RegisterBoardingRequest, context: Any
    ) -> att.RegisterBoardingResponse:
        registration = boarding_registration_pb(
            student_id=request.student_id,
            month=request.month,
            lunch=request.lunch,
            breakfast=request.breakfast,
            nap_care=request.nap_care,
            effective_date=f"{request.month}-01",
            registered_by=subject_of(context),
        )
        response = att.RegisterBoardingResponse(registration=registration)
        return await self.r.handle("RegisterBoarding", request, context, response)

    async def ListBoardingRegistrations(
        self, request: att.ListBoardingRegistrationsRequest, context: Any
    ) -> att.ListBoardingRegistrationsResponse:
        response = att.ListBoardingRegistrationsResponse(
            registrations=[boarding_registration_pb(month=request.month)]
        )
        return await self.r.handle("ListBoardingRegistrations", request, context, response)

    async def GetMealCount(self, request: att.GetMealCountRequest, context: Any) -> att.GetMealCountResponse:
        response = att.GetMealCountResponse(
            school_id=request.school_id,
            date=request.date,
            frozen=True,
            cutoff_time=ts(1_763_949_600),
            freeze_time=ts(1_763_949_601),
            kitchens=[
                att.KitchenCount(
                    kitchen="Bếp khu A", lunch=412, breakfast=120, lunch_absent=9, breakfast_absent=2
                ),
                att.KitchenCount(kitchen="Bếp khu B", lunch=0, breakfast=0),
            ],
        )
        return await self.r.handle("GetMealCount", request, context, response)

    async def PublishMenu(self, request: att.PublishMenuRequest, context: Any) -> att.PublishMenuResponse:
        menu = menu_pb(school_id=request.school_id, date=request.date, items=list(request.items))
        return await self.r.handle("PublishMenu", request, context, att.PublishMenuResponse(menu=menu))

    async def ListMenus(self, request: att.ListMenusRequest, context: Any) -> att.ListMenusResponse:
        return await self.r.handle("ListMenus", request, context, att.ListMenusResponse(menus=[menu_pb()]))

    async def RecordMealAttendance(
        self, request: att.RecordMealAttendanceRequest, context: Any
    ) -> att.RecordMealAttendanceResponse:
        entries = [
            att.MealAttendanceEntry(student_id=e.student_id, ate=e.ate, full_name="Nguyễn Văn An")
            for e in request.entries
        ]
        response = att.RecordMealAttendanceResponse(entries=entries)
        return await self.r.handle("RecordMealAttendance", request, context, response)

    async def GetMealAttendance(
        self, request: att.GetMealAttendanceRequest, context: Any
    ) -> att.GetMealAttendanceResponse:
        response = att.GetMealAttendanceResponse(
            entries=[
                att.MealAttendanceEntry(student_id=STUDENT_ID, ate=True, full_name="Nguyễn Văn An"),
                att.MealAttendanceEntry(student_id=OTHER_STUDENT_ID, ate=False, full_name="Trần Thị Bình"),
            ]
        )
        return await self.r.handle("GetMealAttendance", request, context, response)

    async def RecordFoodSample(
        self, request: att.RecordFoodSampleRequest, context: Any
    ) -> att.RecordFoodSampleResponse:
        sample = food_sample_pb(
            school_id=request.school_id,
            date=request.date,
            meal=request.meal,
            dishes=list(request.dishes),
            sample_time=request.sample_time,
            keep_until=Timestamp(seconds=request.sample_time.seconds + DAY_SECONDS),
            storage=request.storage,
            recorded_by=subject_of(context),
        )
        response = att.RecordFoodSampleResponse(sample=sample)
        return await self.r.handle("RecordFoodSample", request, context, response)

    async def DiscardFoodSample(
        self, request: att.DiscardFoodSampleRequest, context: Any
    ) -> att.DiscardFoodSampleResponse:
        sample = food_sample_pb(
            id=request.sample_id, discard_time=request.discard_time, discarded_by=subject_of(context)
        )
        response = att.DiscardFoodSampleResponse(sample=sample)
        return await self.r.handle("DiscardFoodSample", request, context, response)

    async def ListFoodSamples(
        self, request: att.ListFoodSamplesRequest, context: Any
    ) -> att.ListFoodSamplesResponse:
        response = att.ListFoodSamplesResponse(samples=[food_sample_pb()])
        return await self.r.handle("ListFoodSamples", request, context, response)

    async def ComputeBoardingCharges(
        self, request: att.ComputeBoardingChargesRequest, context: Any
    ) -> att.ComputeBoardingChargesResponse:
        response = att.ComputeBoardingChargesResponse(
            school_id=request.school_id,
            month=request.month,
            version=2,
            changed=True,
            charges=[charge_pb(month=request.month, version=2)],
            total=860000,
        )
        return await self.r.handle("ComputeBoardingCharges", request, context, response)

    async def ListBoardingCharges(
        self, request: att.ListBoardingChargesRequest, context: Any
    ) -> att.ListBoardingChargesResponse:
        response = att.ListBoardingChargesResponse(charges=[charge_pb()])
        return await self.r.handle("ListBoardingCharges", request, context, response)


def subject_of(context: grpc.aio.ServicerContext) -> str:
    """The caller's subject, from the bearer token in the call metadata (the fake trusts the gateway)."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            claims = jwt.decode(value.removeprefix("Bearer "), options={"verify_signature": False})
            return str(claims["sub"])
    return ""


def teacher_scope(subject: str, school_id: str = SCHOOL_ID) -> idn.GetAccessScopeResponse:
    return idn.GetAccessScopeResponse(
        subject=subject,
        classes=[idn.ScopedClass(class_id=CLASS_ID, school_id=school_id, role="teacher", subject="Toán")],
    )


def tenant_pb(slug: str, display_name: str = "Sở GD-ĐT Demo") -> idn.Tenant:
    return idn.Tenant(
        slug=slug,
        display_name=display_name,
        realm=f"tenant-{slug}",
        state=idn.TENANT_STATE_ACTIVE,
        completed_steps=["realm", "clients", "roles", "citizen-id-broker"],
        create_time=ts(),
        update_time=ts(1_764_000_060),
    )


def verification_pb() -> idn.Verification:
    return idn.Verification(
        status=idn.VERIFICATION_STATUS_MISMATCH,
        checks=[
            idn.FieldCheck(field="full_name", matches=True),
            idn.FieldCheck(field="date_of_birth", matches=False),
        ],
        verify_time=ts(),
        identification_level=0,
        source="POPULATION_REGISTRY",
    )


def link_request_pb(state: int = idn.LINK_REQUEST_STATE_PENDING) -> idn.LinkRequest:
    return idn.LinkRequest(
        id=LINK_REQUEST_ID,
        school_id=SCHOOL_ID,
        child_full_name="Nguyễn Văn An",
        child_date_of_birth="2014-09-05",
        relationship="mother",
        note="Con học lớp 6A1",
        state=state,  # type: ignore[arg-type]
        create_time=ts(),
        requester_name="Trần Thị Mai",
    )


def consent_pb(purpose: str, state: int = idn.CONSENT_STATE_GRANTED) -> idn.Consent:
    consent = idn.Consent(
        id=ENROLMENT_ID,
        student_id=STUDENT_ID,
        purpose=purpose,
        given_by="guardian",
        state=state,  # type: ignore[arg-type]
        grant_time=ts(),
    )
    if state == idn.CONSENT_STATE_WITHDRAWN:
        consent.withdraw_time.CopyFrom(ts(1_764_000_600))
    return consent


def audit_event_pb(n: int, **fields: Any) -> idn.AuditEvent:
    values: dict[str, Any] = {
        "id": f"0193a4c2-9988-7e91-8da2-{n:012d}",
        "occur_time": ts(1_764_000_000 + n),
        "source": "keycloak",
        "action": "LOGIN",
        "actor": "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f",
        "target": f"user:{n}",
        "outcome": "SUCCESS",
    }
    values.update(fields)
    return idn.AuditEvent(**values)


# ListAuditEvents' pages, by page token: four events over three pages.
AUDIT_PAGES: dict[str, tuple[list[idn.AuditEvent], str]] = {
    "": (
        [
            audit_event_pb(1, details={"client_id": "school-console", "ghi_chú": "Đăng nhập từ Hà Nội"}),
            audit_event_pb(2, action="LOGIN_ERROR", actor="", outcome="FAILURE", details={"error": "bad"}),
        ],
        "page-2",
    ),
    "page-2": ([audit_event_pb(3, source="identity", action="STAFF_IMPORTED", target="import:1")], "page-3"),
    "page-3": ([audit_event_pb(4, action="ADMIN_UPDATE", target='=HYPERLINK("http://x")')], ""),
}


class FakeIdentity(idn_grpc.IdentityServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.r = recorder

    async def CreateTenant(self, request: idn.CreateTenantRequest, context: Any) -> idn.CreateTenantResponse:
        response = idn.CreateTenantResponse(tenant=tenant_pb(request.slug, request.display_name))
        return await self.r.handle("CreateTenant", request, context, response)

    async def GetTenant(self, request: idn.GetTenantRequest, context: Any) -> idn.GetTenantResponse:
        tenant = tenant_pb(request.slug)
        tenant.state = idn.TENANT_STATE_PROVISIONING
        tenant.last_error = "KEYCLOAK_UNAVAILABLE"
        del tenant.completed_steps[2:]
        return await self.r.handle("GetTenant", request, context, idn.GetTenantResponse(tenant=tenant))

    async def GetMe(self, request: idn.GetMeRequest, context: Any) -> idn.GetMeResponse:
        response = idn.GetMeResponse(
            subject=subject_of(context),
            tenant=TENANT,
            display_name="Trần Thị Mai",
            roles=["guardian", "teacher"],
            person_id=PERSON_ID,
            verification=idn.Verification(
                status=idn.VERIFICATION_STATUS_VERIFIED,
                checks=[idn.FieldCheck(field="full_name", matches=True)],
                verify_time=ts(),
                identification_level=2,
                source="VNEID",
            ),
            schools=[idn.SchoolAccess(school_id=SCHOOL_ID, school_name="Trường THCS Nguyễn Du", roles=[])],
            classes=[
                idn.ClassAccess(
                    class_id=CLASS_ID, school_id=SCHOOL_ID, class_name="6A1", role="teacher", subject="Toán"
                )
            ],
            children=[
                idn.Child(
                    student_id=STUDENT_ID,
                    full_name="Nguyễn Văn An",
                    school_id=SCHOOL_ID,
                    school_name="Trường THCS Nguyễn Du",
                    class_id=CLASS_ID,
                    class_name="6A1",
                    relationship="mother",
                    link_time=ts(),
                )
            ],
            link_state=idn.LINK_STATE_LINKED,
            pending_link_requests=1,
            # She was a student of the tenant herself: her own record, for life.
            own_records=[
                idn.Child(
                    student_id=OTHER_STUDENT_ID,
                    full_name="Trần Thị Mai",
                    school_id=SCHOOL_ID,
                    school_name="Trường THCS Nguyễn Du",
                    class_id=CLASS_ID,
                    class_name="9A1",
                    relationship="self",
                )
            ],
        )
        return await self.r.handle("GetMe", request, context, response)

    async def GetAccessScope(
        self, request: idn.GetAccessScopeRequest, context: Any
    ) -> idn.GetAccessScopeResponse:
        subject = subject_of(context)
        response = self.r.scopes.get(subject) or idn.GetAccessScopeResponse(subject=subject, tenant_wide=True)
        return await self.r.handle("GetAccessScope", request, context, response)

    async def ImportStaff(self, request: idn.ImportStaffRequest, context: Any) -> idn.ImportStaffResponse:
        response = idn.ImportStaffResponse(
            import_id=IMPORT_ID,
            columns={"full_name": "Họ và tên", "date_of_birth": "Ngày sinh"},
            rows=[
                idn.ImportRow(
                    row=2,
                    outcome=idn.ROW_OUTCOME_CREATED,
                    account_id=ACCOUNT_ID,
                    verification_status=idn.VERIFICATION_STATUS_PENDING,
                ),
                idn.ImportRow(
                    row=3,
                    outcome=idn.ROW_OUTCOME_REFUSED,
                    problems=[
                        idn.RowProblem(
                            column="Ngày sinh",
                            reason="INVALID_DATE",
                            message="Ngày sinh không hợp lệ / invalid date of birth",
                        )
                    ],
                ),
            ],
            created=1,
            refused=1,
        )
        return await self.r.handle("ImportStaff", request, context, response)

    async def ListStaff(self, request: idn.ListStaffRequest, context: Any) -> idn.ListStaffResponse:
        response = idn.ListStaffResponse(
            staff=[
                idn.StaffMember(
                    account_id=ACCOUNT_ID,
                    subject="6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f",
                    username="lan.nguyen",
                    full_name="Nguyễn Thị Lan",
                    assignments=[
                        idn.Assignment(role="teacher", school_id=SCHOOL_ID, class_id=CLASS_ID, subject="Toán")
                    ],
                )
            ],
            next_page_token="staff-2",
        )
        return await self.r.handle("ListStaff", request, context, response)

    async def VerifyCitizen(
        self, request: idn.VerifyCitizenRequest, context: Any
    ) -> idn.VerifyCitizenResponse:
        response = idn.VerifyCitizenResponse(person_id=PERSON_ID, verification=verification_pb())
        return await self.r.handle("VerifyCitizen", request, context, response)

    async def CreateLinkRequest(
        self, request: idn.CreateLinkRequestRequest, context: Any
    ) -> idn.CreateLinkRequestResponse:
        response = idn.CreateLinkRequestResponse(link_request=link_request_pb())
        return await self.r.handle("CreateLinkRequest", request, context, response)

    async def ListLinkRequests(
        self, request: idn.ListLinkRequestsRequest, context: Any
    ) -> idn.ListLinkRequestsResponse:
        response = idn.ListLinkRequestsResponse(link_requests=[link_request_pb()])
        return await self.r.handle("ListLinkRequests", request, context, response)

    async def DecideLinkRequest(
        self, request: idn.DecideLinkRequestRequest, context: Any
    ) -> idn.DecideLinkRequestResponse:
        decided = link_request_pb(
            idn.LINK_REQUEST_STATE_APPROVED if request.approve else idn.LINK_REQUEST_STATE_REFUSED
        )
        decided.student_id = request.student_id
        decided.decision_reason = request.reason
        decided.decide_time.CopyFrom(ts(1_764_000_300))
        response = idn.DecideLinkRequestResponse(link_request=decided)
        return await self.r.handle("DecideLinkRequest", request, context, response)

    async def ListPurposes(self, request: idn.ListPurposesRequest, context: Any) -> idn.ListPurposesResponse:
        response = idn.ListPurposesResponse(
            purposes=[
                idn.Purpose(
                    code="student_records",
                    title="Hồ sơ học sinh / Student records",
                    legal_basis=idn.LEGAL_BASIS_LAW,
                    legal_reference="Luật Giáo dục 2019",
                ),
                idn.Purpose(
                    code="photos_in_school_media",
                    title="Đăng ảnh học sinh / Photos in school media",
                    legal_basis=idn.LEGAL_BASIS_CONSENT,
                    child_consent_from_age_7=True,
                ),
            ]
        )
        return await self.r.handle("ListPurposes", request, context, response)

    async def ListConsents(self, request: idn.ListConsentsRequest, context: Any) -> idn.ListConsentsResponse:
        response = idn.ListConsentsResponse(
            consents=[consent_pb("photos_in_school_media")],
            purposes=[
                idn.PurposeStatus(
                    purpose="photos_in_school_media",
                    legal_basis=idn.LEGAL_BASIS_CONSENT,
                    permitted=False,
                    missing=["child"],
                )
            ],
        )
        return await self.r.handle("ListConsents", request, context, response)

    async def GrantConsent(self, request: idn.GrantConsentRequest, context: Any) -> idn.GrantConsentResponse:
        response = idn.GrantConsentResponse(consent=consent_pb(request.purpose))
        return await self.r.handle("GrantConsent", request, context, response)

    async def WithdrawConsent(
        self, request: idn.WithdrawConsentRequest, context: Any
    ) -> idn.WithdrawConsentResponse:
        response = idn.WithdrawConsentResponse(
            consent=consent_pb(request.purpose, idn.CONSENT_STATE_WITHDRAWN)
        )
        return await self.r.handle("WithdrawConsent", request, context, response)

    async def ListAuditEvents(
        self, request: idn.ListAuditEventsRequest, context: Any
    ) -> idn.ListAuditEventsResponse:
        events, next_token = AUDIT_PAGES.get(request.page_token, ([], ""))
        response = idn.ListAuditEventsResponse(events=events, next_page_token=next_token)
        # A failure for one page only: failures["ListAuditEvents@<page token>"].
        paged = f"ListAuditEvents@{request.page_token}"
        method = paged if paged in self.r.failures else "ListAuditEvents"
        return await self.r.handle(method, request, context, response)


@dataclass
class Backend:
    target: str
    recorder: Recorder
    health: health.aio.HealthServicer

    async def set_ready(self, ready: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if ready else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        await self.health.set("readiness", status)


async def serve_fake(
    domain: str, add: Callable[[grpc.aio.Server, Recorder], None]
) -> tuple[grpc.aio.Server, Backend]:
    # As the services must be configured: a 5 MiB staff list fits in one ImportStaff message, a 10 MiB
    # student list in one ImportStudents message.
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 12 * 1024 * 1024)])
    recorder = Recorder(domain)
    add(server, recorder)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    backend = Backend(f"127.0.0.1:{port}", recorder, health_servicer)
    await backend.set_ready(True)
    return server, backend


@dataclass
class Fakes:
    student_record: Backend
    attendance: Backend
    identity: Backend

    def all(self) -> tuple[Backend, ...]:
        return (self.student_record, self.attendance, self.identity)


def gateway_settings(fakes: Fakes, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "auth": AuthSettings(issuer_base_url=ISSUER_BASE, audience=AUDIENCE),
        "services": ServicesSettings(
            student_record=fakes.student_record.target,
            attendance=fakes.attendance.target,
            identity=fakes.identity.target,
            payments="",
            messaging="",
            health="",
        ),
        "grpc": GrpcClientSettings(deadline_s=2.0, readiness_cache_s=0),
        "rate_limit": RateLimitSettings(enabled=False),
    }
    values.update(overrides)
    return GatewaySettings(**values)


class GatewayClient(httpx.AsyncClient):
    app: FastAPI


def platform_token(make_token: MakeToken, subject: str = "operator-1") -> str:
    return make_token(subject=subject, issuer=PLATFORM_ISSUER, roles=("platform_operator",))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

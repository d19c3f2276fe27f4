"""student-record's gRPC server as deployed: authentication errors carry ErrorInfo."""

from __future__ import annotations

import grpc
import pytest
from school.student_record.v1 import student_record_pb2 as pb
from school.student_record.v1 import student_record_pb2_grpc as pb_grpc
from school_common.grpc.status import parse_rpc_error
from school_common.settings import AuthSettings
from student_record.service import DEFINITION

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
async def server(start_service):
    # Auth points where nothing listens: no token can verify, which is what these tests need.
    running = await start_service(
        DEFINITION, {"serve"}, auth=AuthSettings(issuer_base_url="http://127.0.0.1:9")
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield channel


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ((), "MISSING_TOKEN"),
        ((("authorization", "Basic x"),), "MISSING_TOKEN"),
        ((("authorization", "Bearer not-a-jwt"),), "INVALID_TOKEN"),
    ],
)
async def test_calls_without_a_valid_token_are_unauthenticated_with_a_reason(server, metadata, reason):
    stub = pb_grpc.StudentRecordServiceStub(server)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListSchools(pb.ListSchoolsRequest(), metadata=metadata, timeout=5)
    error = parse_rpc_error(caught.value)
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.reason == reason
    assert error.domain == "student-record.school"
    assert "/" in error.message  # Vietnamese / English


async def test_only_the_declared_public_method_answers_without_a_token(server):
    """Transcript verification is for anyone holding the id and code; nothing else is, even with the same
    deployment and no token."""
    stub = pb_grpc.StudentRecordServiceStub(server)
    unknown = pb.VerifyTranscriptRequest(
        tenant="demo", transcript_id="0193a4c2-0000-7000-8000-000000000001", verification_code="ABCDEFGHJK"
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.VerifyTranscript(unknown, timeout=5)
    error = parse_rpc_error(caught.value)
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "TRANSCRIPT_NOT_FOUND")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListStudentTranscripts(pb.ListStudentTranscriptsRequest(student_id=unknown.transcript_id))
    assert parse_rpc_error(caught.value).reason == "MISSING_TOKEN"

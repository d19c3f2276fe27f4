from pathlib import Path

from pydantic import BaseModel, Field
from school_common.settings import GrpcSettings, ServiceSettings


class IdentityClientSettings(BaseModel):
    """Where identity answers: callers' access scopes (GetAccessScope) and guardians (RegisterPerson)."""

    target: str = "127.0.0.1:50061"
    timeout_s: float = Field(default=5.0, gt=0)


class AttendanceClientSettings(BaseModel):
    """Where attendance answers the 45-session counter that promotion reads (GetAbsenceSummary)."""

    target: str = "127.0.0.1:50063"
    timeout_s: float = Field(default=5.0, gt=0)


class TranscriptSettings(BaseModel):
    """Signed transcripts: where the development CA lives (``LocalSigner``; relative paths are taken from
    the working directory, i.e. the repository root in development) and the public verification URL that
    the QR code of every transcript points to (``<base>/<tenant>/<transcript id>?code=<code>``)."""

    ca_dir: Path = Path(".run/dev-ca")
    verification_base_url: str = "http://127.0.0.1:8000/v1/public/transcripts"
    #: The managing authority printed above the school (until tenants carry their authority's name).
    authority_name: str = "SỞ GIÁO DỤC VÀ ĐÀO TẠO"


class StudentRecordGrpcSettings(GrpcSettings):
    # Defaults as a class (not an instance) so that GRPC__PORT from the environment keeps the others.
    port: int = Field(default=50062, ge=0, le=65535)
    # A sector student list of up to 10 MiB arrives in one ImportStudents message.
    max_receive_message_bytes: int = Field(default=12 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)


class Settings(ServiceSettings):
    service_name: str = "student-record"
    grpc: StudentRecordGrpcSettings = StudentRecordGrpcSettings()
    identity: IdentityClientSettings = IdentityClientSettings()
    attendance: AttendanceClientSettings = AttendanceClientSettings()
    transcripts: TranscriptSettings = TranscriptSettings()

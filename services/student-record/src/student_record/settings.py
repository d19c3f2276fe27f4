from pathlib import Path

from pydantic import BaseModel, Field
from school_common.settings import GrpcSettings, ServiceSettings


class IdentityClientSettings(BaseModel):
    """Where identity answers: callers' access scopes (GetAccessScope) and guardians (RegisterPerson)."""

    target: str = "127.0.0.1:50061"
    timeout_s: float = Field(default=5.0, gt=0)


class TranscriptSettings(BaseModel):
    """Signed transcripts: where the development CA lives (``LocalSigner``; relative paths are taken from
    the working directory, i.e. the repository root in development) and the public verification URL that
    the QR code of every transcript points to (``<base>/<tenant>/<transcript id>?code=<code>``)."""

    ca_dir: Path = Path(".run/dev-ca")
    verification_base_url: str = "http://127.0.0.1:8000/v1/public/transcripts"
    #: The managing authority printed above the school (until tenants carry their authority's name).
    authority_name: str = "SỞ GIÁO DỤC VÀ ĐÀO TẠO"


class Settings(ServiceSettings):
    service_name: str = "student-record"
    grpc: GrpcSettings = GrpcSettings(port=50062)
    identity: IdentityClientSettings = IdentityClientSettings()
    transcripts: TranscriptSettings = TranscriptSettings()

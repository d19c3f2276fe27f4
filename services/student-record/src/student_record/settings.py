from pydantic import BaseModel, Field
from school_common.settings import GrpcSettings, ServiceSettings


class IdentityClientSettings(BaseModel):
    """Where identity answers: callers' access scopes (GetAccessScope) and guardians (RegisterPerson)."""

    target: str = "127.0.0.1:50061"
    timeout_s: float = Field(default=5.0, gt=0)


class Settings(ServiceSettings):
    service_name: str = "student-record"
    grpc: GrpcSettings = GrpcSettings(port=50062)
    identity: IdentityClientSettings = IdentityClientSettings()

from pydantic import BaseModel, Field
from school_common.settings import GrpcSettings, ServiceSettings


class IdentityClientSettings(BaseModel):
    """Where identity answers callers' access scopes (GetAccessScope)."""

    target: str = "127.0.0.1:50061"
    timeout_s: float = Field(default=5.0, gt=0)


class RegisterSettings(BaseModel):
    """How many register submissions one process works on at once; the rest are refused at once
    (UNAVAILABLE/OVERLOADED, retry after ``retry_after_s``) instead of queueing (registers/admission.py)."""

    max_in_flight: int = Field(default=24, ge=1, le=10_000)
    retry_after_s: int = Field(default=1, ge=1, le=60)


class Settings(ServiceSettings):
    service_name: str = "attendance"
    grpc: GrpcSettings = GrpcSettings(port=50063)
    identity: IdentityClientSettings = IdentityClientSettings()
    registers: RegisterSettings = RegisterSettings()

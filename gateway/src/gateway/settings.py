"""Gateway settings.

Platform-wide settings keep the names every component uses (``ENVIRONMENT``, ``LOG_LEVEL``, ``SERVICE_NAME``,
``AUTH__ISSUER_BASE_URL``…). Settings that only the gateway has are read with the ``GATEWAY__`` prefix
(``GATEWAY__SERVICES__STUDENT_RECORD``, ``GATEWAY__HTTP__PORT``, ``GATEWAY__RATE_LIMIT__BURST``…), the
names the Helm chart writes into the gateway's ConfigMap. In code they are plain fields:
``settings.services.student_record``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource
from school_common.settings import AuthSettings, CommonSettings

GATEWAY_ENV_PREFIX = "GATEWAY__"

MIB = 1024 * 1024


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Requests with a larger body are refused with 413 before they are read.
    max_body_bytes: int = Field(default=MIB, ge=1024, le=64 * MIB)
    # On SIGTERM: stop accepting, let requests in flight finish for at most this long.
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    # Proxies (the ingress controller) whose X-Forwarded-For / -Proto are trusted for the client address,
    # comma-separated IPs or CIDRs, or "*". The client address keys the per-IP rate limit.
    forwarded_allow_ips: str = "127.0.0.1"
    # Serve the Swagger UI at /docs (the OpenAPI document at /openapi.json is always served).
    docs_enabled: bool = True


class ServicesSettings(BaseModel):
    """gRPC address (host:port) of each backend service; an empty address leaves the service out."""

    identity: str = "127.0.0.1:50061"
    student_record: str = "127.0.0.1:50062"
    attendance: str = "127.0.0.1:50063"
    payments: str = "127.0.0.1:50064"
    messaging: str = "127.0.0.1:50065"
    health: str = "127.0.0.1:50066"

    def configured(self) -> dict[str, str]:
        return {name: target for name, target in self.model_dump().items() if target}


class GrpcClientSettings(BaseModel):
    # Deadline of every call to a backend.
    deadline_s: float = Field(default=5.0, gt=0, le=60)
    # Deadline of each backend's health check made by /readyz, and how long its answer is reused.
    readiness_timeout_s: float = Field(default=1.0, gt=0, le=10)
    readiness_cache_s: float = Field(default=1.0, ge=0, le=60)
    # The largest answer taken from a backend: documents (signed transcripts, exported spreadsheets).
    max_receive_message_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)


class AccessSettings(BaseModel):
    """The edge's share of the access decision: callers' scopes fetched from identity, cached briefly."""

    # A changed assignment reaches the gateway within this time.
    scope_cache_s: float = Field(default=30.0, ge=0, le=300)
    scope_cache_max_entries: int = Field(default=10_000, ge=100)


class RateLimitSettings(BaseModel):
    """Token buckets, in this process (each replica counts on its own)."""

    enabled: bool = True
    # Per caller (tenant, subject), after the token is verified.
    requests_per_second: float = Field(default=10.0, gt=0)
    burst: int = Field(default=20, ge=1)
    # Per client IP, before anything else: a school's whole network may share one address.
    ip_requests_per_second: float = Field(default=100.0, gt=0)
    ip_burst: int = Field(default=200, ge=1)
    # Per client IP on the public routes (no token: transcript verification), on top of the above: a
    # stricter bucket of its own, so guessing codes is slow and cannot eat the authenticated budget.
    public_per_minute: float = Field(default=30.0, gt=0)
    public_burst: int = Field(default=10, ge=1)
    # Least recently seen buckets beyond this are forgotten (they start full again).
    max_tracked_keys: int = Field(default=100_000, ge=100)


class _PrefixedEnvSource(EnvSettingsSource):
    """Environment variables for some fields only, optionally under a prefix."""

    def __init__(
        self, settings_cls: type[BaseSettings], fields: frozenset[str], *, prefix: str, include: bool
    ) -> None:
        super().__init__(settings_cls, env_prefix=prefix)
        self._fields = fields
        self._include = include

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in super().__call__().items() if (k in self._fields) == self._include}


class GatewaySettings(CommonSettings):
    service_name: str = "gateway"
    auth: AuthSettings = AuthSettings()
    http: HttpSettings = HttpSettings()
    services: ServicesSettings = ServicesSettings()
    grpc: GrpcClientSettings = GrpcClientSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    access: AccessSettings = AccessSettings()

    # The fields read from GATEWAY__<FIELD>__…; every other field keeps its unprefixed name.
    gateway_fields: ClassVar[frozenset[str]] = frozenset({"http", "services", "grpc", "rate_limit", "access"})

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        common = super().settings_customise_sources(
            settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        )
        fields = cls.gateway_fields
        replaced = [
            _PrefixedEnvSource(settings_cls, fields, prefix=GATEWAY_ENV_PREFIX, include=True),
            _PrefixedEnvSource(settings_cls, fields, prefix="", include=False),
        ]
        out: list[PydanticBaseSettingsSource] = []
        for source in common:
            if source is env_settings:
                out.extend(replaced)
            else:
                out.append(source)
        return tuple(out)

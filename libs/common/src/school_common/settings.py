"""Settings shared by every component: environment variables nested with ``__``, secrets from files.

A service subclasses :class:`ServiceSettings` and adds its own fields. Values come, in order of precedence,
from keyword arguments, environment variables (``DATABASE__URL``), files in ``SECRETS_DIR``
(``/run/secrets/database__url``: the Kubernetes way to mount a Secret) and the defaults below.

The defaults are for development only. Unless ``ENVIRONMENT`` is ``development`` or ``test`` (it defaults
to ``production``), a setting that still holds a development secret is refused at start-up, so a forgotten
value cannot reach production.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# Any secret containing one of these markers is a development default.
DEVELOPMENT_SECRET_MARKERS = ("dev-only", "change-me")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class DatabaseSettings(BaseModel):
    # The application role: DML only, no BYPASSRLS. Migrations use ``migration_url`` (the owner role).
    url: SecretStr = SecretStr("postgresql+asyncpg://dev_app:dev-only@127.0.0.1:55432/dev")
    migration_url: SecretStr | None = None
    pool_size: int = Field(default=5, ge=1, le=100)
    max_overflow: int = Field(default=5, ge=0, le=100)
    statement_timeout_ms: int = Field(default=5000, ge=100)
    connect_timeout_s: float = Field(default=3.0, gt=0)


class NatsSettings(BaseModel):
    url: str = "nats://127.0.0.1:14222"
    connect_timeout_s: float = Field(default=2.0, gt=0)


class AuthSettings(BaseModel):
    # Tokens are accepted only from realms named ``<realm_prefix><tenant>`` under ``issuer_base_url``;
    # the tenant of a request is the suffix of the issuing realm, never a header or a body field.
    issuer_base_url: str = "http://127.0.0.1:8180"
    # Where to fetch the realm keys when it differs from the public issuer (in-cluster address).
    jwks_base_url: str | None = None
    realm_prefix: str = "tenant-"
    # The realm of the platform operators (who create tenants). Its tokens carry no tenant: they reach
    # only the tenant-provisioning RPCs. Empty to refuse them everywhere.
    platform_realm: str = "platform"
    audience: str = "school-api"
    leeway_s: int = Field(default=10, ge=0, le=120)
    jwks_cache_s: int = Field(default=300, ge=10)

    def realm_of(self, tenant: str) -> str:
        return f"{self.realm_prefix}{tenant}"


class GrpcSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=50051, ge=0, le=65535)
    # Applied when a caller sends no deadline, and the upper bound on any deadline.
    default_deadline_s: float = Field(default=10.0, gt=0)
    max_deadline_s: float = Field(default=60.0, gt=0)
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    readiness_interval_s: float = Field(default=2.0, gt=0)
    # The largest request message accepted (an uploaded spreadsheet travels in one message).
    max_receive_message_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)


class CommonSettings(BaseSettings):
    """Infrastructure settings every component has."""

    model_config = SettingsConfigDict(
        env_nested_delimiter="__",
        env_file=None,
        extra="ignore",
        case_sensitive=False,
    )

    # Production unless told otherwise: a forgotten ENVIRONMENT must not switch the secret check off.
    environment: Environment = Environment.PRODUCTION
    service_name: str = "school"
    log_level: str = "INFO"

    # The names of fields (dotted) holding secrets that must not keep a development default.
    secret_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secrets_dir = os.environ.get("SECRETS_DIR")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if secrets_dir and os.path.isdir(secrets_dir):
            sources.append(
                NestedSecretsSettingsSource(
                    file_secret_settings,
                    secrets_dir=secrets_dir,
                    secrets_nested_delimiter="__",
                    secrets_dir_missing="error",
                )
            )
        return tuple(sources)

    @classmethod
    def load(cls, **values: Any) -> Self:
        """From the environment, and from the files in ``SECRETS_DIR`` (e.g. ``database__url``)."""
        return cls(**values)

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Self:
        if self.environment in (Environment.DEVELOPMENT, Environment.TEST):
            return self
        bad = [name for name in self.secret_fields if _is_development_secret(_dotted(self, name))]
        if bad:
            raise ValueError(
                f"development secrets are not allowed when ENVIRONMENT={self.environment}: "
                + ", ".join(sorted(bad))
            )
        return self


class ServiceSettings(CommonSettings):
    """Settings of a gRPC service (api, worker and relay components share them)."""

    database: DatabaseSettings = DatabaseSettings()
    nats: NatsSettings = NatsSettings()
    auth: AuthSettings = AuthSettings()
    grpc: GrpcSettings = GrpcSettings()

    secret_fields: ClassVar[tuple[str, ...]] = ("database.url", "database.migration_url")


def _dotted(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _is_development_secret(value: Any) -> bool:
    if value is None:
        return False
    raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return any(marker in raw for marker in DEVELOPMENT_SECRET_MARKERS)

"""identity's settings on top of school_common's (``KEYCLOAK__ADMIN_PASSWORD``, ``REGISTRY__BASE_URL``...)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field, SecretStr
from school_common.settings import GrpcSettings, ServiceSettings

# deploy/keycloak in a checkout; images copy it to /app/deploy/keycloak and set KEYCLOAK__REALMS_DIR.
_REPO_REALMS = Path(__file__).resolve().parents[4] / "deploy" / "keycloak"


class KeycloakAdminSettings(BaseModel):
    """How identity administers Keycloak: tenant realms, staff users, reading users and events."""

    # Base URL Keycloak is reached at from this service (in-cluster address in Kubernetes).
    server_url: str = "http://127.0.0.1:8180"
    # The public base URL browsers and token issuers use (the `iss` prefix); defaults to server_url.
    public_url: str | None = None
    # An admin of the master realm: a user (admin-cli password grant) or a service-account client.
    admin_realm: str = "master"
    admin_username: str = "admin"
    admin_password: SecretStr = SecretStr("dev-only-admin")
    admin_client_id: str = "admin-cli"
    admin_client_secret: SecretStr | None = None
    # The realm-as-code files: realm-template.json and, for the VNeID stand-in, vneid-broker-client.json.
    realms_dir: Path = _REPO_REALMS
    # The national electronic-identity provider every tenant realm brokers to (OIDC issuer).
    vneid_issuer: str = "http://127.0.0.1:8180/realms/vneid"
    # Base URL of the tenant console (redirect URIs of its client).
    console_base_url: str = "http://127.0.0.1:8300"
    # Development only: also register the tenant's broker client in the VNeID stand-in realm.
    register_vneid_broker_client: bool = False
    timeout_s: float = Field(default=10.0, gt=0)


class RegistrySettings(BaseModel):
    """The national population database's verification API (locally: simulators citizen-registry)."""

    base_url: str = "http://127.0.0.1:8290"
    api_key: SecretStr = SecretStr("dev-only-population-key")
    timeout_s: float = Field(default=5.0, gt=0)
    # Pending verifications are retried this often at first, doubling up to retry_max_s.
    retry_initial_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=1800.0, gt=0)
    # How often the worker looks for verifications due.
    poll_interval_s: float = Field(default=5.0, gt=0)


class CryptoSettings(BaseModel):
    """Keys for personal identification numbers: AES-256-GCM at rest, HMAC-SHA256 for look-ups.

    Each key is a random secret of at least 32 characters (``openssl rand -base64 48``); the 256-bit key is
    derived from it with HKDF-SHA256. ``personal_id_keys`` holds ``<id>:<secret>`` pairs separated by
    commas: the first encrypts, all decrypt (rotation). ``lookup_key`` must never change without
    re-hashing every stored number.
    """

    personal_id_keys: SecretStr = SecretStr("k1:dev-only-personal-id-encryption-key-000000")
    lookup_key: SecretStr = SecretStr("dev-only-personal-id-lookup-key-0000000000")


class IdentityGrpcSettings(GrpcSettings):
    # Defaults as a class (not an instance) so that GRPC__PORT from the environment keeps the others.
    port: int = Field(default=50061, ge=0, le=65535)
    # Staff spreadsheets of up to 5 MiB arrive in one ImportStaff message.
    max_receive_message_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)


class Settings(ServiceSettings):
    service_name: str = "identity"
    grpc: IdentityGrpcSettings = IdentityGrpcSettings()
    keycloak: KeycloakAdminSettings = KeycloakAdminSettings()
    registry: RegistrySettings = RegistrySettings()
    crypto: CryptoSettings = CryptoSettings()
    # How often the worker copies Keycloak's sign-in and admin events into the audit trail.
    audit_sync_interval_s: float = Field(default=60.0, gt=0)

    secret_fields: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.secret_fields,
        "keycloak.admin_password",
        "keycloak.admin_client_secret",
        "registry.api_key",
        "crypto.personal_id_keys",
        "crypto.lookup_key",
    )

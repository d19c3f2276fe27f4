import pytest
from pydantic import ValidationError
from school_common.settings import ServiceSettings


def test_nested_environment_variables(monkeypatch):
    monkeypatch.setenv("DATABASE__URL", "postgresql+asyncpg://app:s3cret@db:5432/x")
    monkeypatch.setenv("GRPC__PORT", "6000")
    settings = ServiceSettings.load()
    assert settings.database.url.get_secret_value().endswith("@db:5432/x")
    assert settings.grpc.port == 6000


def test_secrets_are_read_from_files(monkeypatch, tmp_path):
    (tmp_path / "database__url").write_text("postgresql+asyncpg://app:from-file@db/x")
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE__URL", raising=False)
    assert "from-file" in ServiceSettings.load().database.url.get_secret_value()


def test_development_secrets_are_refused_outside_development(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("DATABASE__URL", raising=False)
    with pytest.raises(ValidationError, match="development secrets are not allowed"):
        ServiceSettings.load()
    monkeypatch.setenv("DATABASE__URL", "postgresql+asyncpg://app:real-secret@db/x")
    assert ServiceSettings.load().environment == "production"


def test_development_defaults_are_fine_in_development(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert "dev-only" in ServiceSettings.load().database.url.get_secret_value()


def test_bad_values_are_rejected(monkeypatch):
    monkeypatch.setenv("GRPC__PORT", "not-a-port")
    with pytest.raises(ValidationError):
        ServiceSettings.load()

from __future__ import annotations

import pytest

from gateway.settings import GatewaySettings


def test_gateway_settings_use_the_gateway_prefix_and_platform_settings_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY__SERVICES__STUDENT_RECORD", "school-student-record-api:50051")
    monkeypatch.setenv("GATEWAY__SERVICES__PAYMENTS", "")
    monkeypatch.setenv("GATEWAY__HTTP__HOST", "0.0.0.0")
    monkeypatch.setenv("GATEWAY__HTTP__PORT", "8080")
    monkeypatch.setenv("GATEWAY__RATE_LIMIT__ENABLED", "false")
    monkeypatch.setenv("GATEWAY__RATE_LIMIT__REQUESTS_PER_SECOND", "2.5")
    monkeypatch.setenv("GATEWAY__RATE_LIMIT__BURST", "7")
    monkeypatch.setenv("GATEWAY__GRPC__DEADLINE_S", "3")
    monkeypatch.setenv("GATEWAY__SERVICES__IDENTITY", "school-identity-api:50051")
    monkeypatch.setenv("GATEWAY__ACCESS__SCOPE_CACHE_S", "5")
    monkeypatch.setenv("AUTH__AUDIENCE", "school-api-test")
    monkeypatch.setenv("AUTH__ISSUER_BASE_URL", "https://id.example")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("SERVICE_NAME", "gateway")
    # Neither the unprefixed gateway names nor prefixed platform names are read.
    monkeypatch.setenv("SERVICES__ATTENDANCE", "wrong:1")
    monkeypatch.setenv("HTTP__PORT", "1")
    monkeypatch.setenv("GATEWAY__AUTH__AUDIENCE", "wrong")

    settings = GatewaySettings.load()

    assert settings.services.student_record == "school-student-record-api:50051"
    assert settings.services.attendance == "127.0.0.1:50063"
    assert "payments" not in settings.services.configured()
    assert settings.http.host == "0.0.0.0"
    assert settings.http.port == 8080
    assert settings.rate_limit.enabled is False
    assert settings.rate_limit.requests_per_second == 2.5
    assert settings.rate_limit.burst == 7
    assert settings.grpc.deadline_s == 3
    assert settings.services.identity == "school-identity-api:50051"
    assert settings.access.scope_cache_s == 5
    assert settings.auth.audience == "school-api-test"
    assert settings.auth.issuer_base_url == "https://id.example"
    assert settings.log_level == "DEBUG"


def test_defaults_are_for_one_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GATEWAY__HTTP__PORT", "GATEWAY__SERVICES__STUDENT_RECORD"):
        monkeypatch.delenv(name, raising=False)
    settings = GatewaySettings.load()
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8000)
    assert settings.services.configured() == {
        "identity": "127.0.0.1:50061",
        "student_record": "127.0.0.1:50062",
        "attendance": "127.0.0.1:50063",
        "payments": "127.0.0.1:50064",
        "messaging": "127.0.0.1:50065",
        "health": "127.0.0.1:50066",
    }
    assert settings.http.max_body_bytes == 1024 * 1024
    assert settings.grpc.deadline_s == 5.0
    assert settings.access.scope_cache_s == 30.0

"""Configuration: read from the environment, invalid values named at start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from health_export.core.config import ConfigError, load_settings


def test_defaults_match_the_documented_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "HOST", "MAX_PAYLOAD_BYTES", "RATE_LIMIT_REQUESTS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.port == 8000
    assert settings.max_payload_bytes == 100 * 1024 * 1024
    assert settings.rate_limit_requests == 1000
    assert settings.rate_limit_window_seconds == 3600


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "0.0.0.0")  # noqa: S104 - a value under test, not a bind
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("REDIS_URL", "")
    settings = load_settings(_env_file=None)
    assert (settings.host, settings.port, settings.redis_url) == ("0.0.0.0", 9123, None)  # noqa: S104


def test_invalid_values_are_named_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert "PORT" in str(caught.value)
    assert "DATABASE_URL" in str(caught.value)


def test_cli_refuses_to_start_with_invalid_configuration() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "health_export.cli", "migrate"],
        env={"PORT": "70000", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "PORT" in result.stderr


def test_plain_postgresql_url_gets_the_asyncpg_driver() -> None:
    settings = load_settings(_env_file=None, database_url="postgresql://u@db:5432/x")
    assert settings.async_database_url == "postgresql+asyncpg://u@db:5432/x"


def test_forwarded_allow_ips_must_be_addresses_or_networks() -> None:
    with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS: .*'proxy' is not an IP address"):
        load_settings(forwarded_allow_ips="10.0.0.0/8,proxy", _env_file=None)
    assert load_settings(
        forwarded_allow_ips=" 10.0.0.0/8 , ::1", _env_file=None
    ).forwarded_allow_ips == ("10.0.0.0/8,::1")
    assert load_settings(_env_file=None).forwarded_allow_ips == ""


def test_each_scope_budget_falls_back_to_rate_limit_requests() -> None:
    settings = load_settings(rate_limit_requests=50, rate_limit_read_requests=7, _env_file=None)
    assert settings.rate_limit_for("read") == 7
    assert settings.rate_limit_for("ingest") == 50
    assert settings.rate_limit_for("keys") == 100


def test_read_replica_url_is_optional_checked_and_gets_the_asyncpg_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_READ_URL", "")
    assert load_settings(_env_file=None).async_database_read_url is None
    monkeypatch.setenv("DATABASE_READ_URL", "postgres://ro@replica:5432/x")
    assert load_settings(_env_file=None).async_database_read_url == (
        "postgresql+asyncpg://ro@replica:5432/x"
    )
    monkeypatch.setenv("DATABASE_READ_URL", "mysql://replica/x")
    with pytest.raises(ConfigError, match="DATABASE_READ_URL: .*postgresql://"):
        load_settings(_env_file=None)

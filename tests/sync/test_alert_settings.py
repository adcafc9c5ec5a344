"""The alert and set-up settings: validated at start-up, each bad one named."""

from __future__ import annotations

import pytest

from health_export.core.config import ConfigError, load_settings


def test_bad_alert_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "hooks.example.org/x")
    monkeypatch.setenv("ALERT_NTFY_URL", "ntfy://topic")
    monkeypatch.setenv("ALERT_SILENCE_FACTOR", "0.5")
    monkeypatch.setenv("ALERT_CHECK_SECONDS", "0")
    monkeypatch.setenv("PUBLIC_URL", "health.example.org")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    for name in (
        "ALERT_WEBHOOK_URL",
        "ALERT_NTFY_URL",
        "ALERT_SILENCE_FACTOR",
        "ALERT_CHECK_SECONDS",
        "PUBLIC_URL",
    ):
        assert name in str(caught.value)


def test_empty_alert_settings_mean_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALERT_WEBHOOK_URL", "ALERT_NTFY_URL", "ALERT_SILENCE_SECONDS", "PUBLIC_URL"):
        monkeypatch.setenv(name, "")
    settings = load_settings(_env_file=None)
    assert settings.alert_webhook_url is None
    assert settings.alert_ntfy_url is None
    assert settings.alert_silence_seconds is None
    assert settings.public_url is None
    assert (settings.alert_check_seconds, settings.alert_silence_factor) == (60.0, 3.0)

"""SQLAlchemy's engine log never shows password hashes, key digests or health values."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from health_export.auth import keys
from health_export.core.config import Settings
from health_export.core.logging import configure_logging_for
from tests.conftest import make_settings
from tests.fixtures.auth import TestKey, create_user_with_key, unique_name

ENGINE = "sqlalchemy.engine"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def engine_log_level() -> Iterator[None]:
    """Whatever a test does to the engine's log level is undone after it."""
    logger = logging.getLogger(ENGINE)
    previous = logger.level
    yield
    logger.setLevel(previous)


def _secrets_in(text: str, key: TestKey) -> list[str]:
    digest = keys.digest(key.key)
    candidates = ["$argon2", PASSWORD, key.key, digest.hex(), repr(digest)[2:30]]
    return [candidate for candidate in candidates if candidate in text]


async def _touch_secrets(app: Any, http: httpx.AsyncClient, admin: TestKey) -> TestKey:
    """Store a password hash and look a never-seen key up by its digest."""
    created = await http.post(
        "/api/v1/admin/users",
        headers=admin.headers,
        json={"name": unique_name(), "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    fresh = await create_user_with_key(app)
    assert (await http.get("/api/v1/auth/rate-limit", headers=fresh.headers)).status_code == 200
    return fresh


@pytest.mark.parametrize("name", [ENGINE, "sqlalchemy.engine.Engine", "sqlalchemy"])
async def test_debug_on_the_engine_logger_is_refused(
    auth_client: httpx.AsyncClient, admin_key: TestKey, engine_log_level: None, name: str
) -> None:
    before = logging.getLogger(name).getEffectiveLevel()
    response = await auth_client.put(
        "/api/v1/admin/logging", headers=admin_key.headers, json={"levels": {name: "DEBUG"}}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "result rows" in response.json()["detail"]
    assert response.json()["errors"] == [{"path": f"levels.{name}", "reason": "DEBUG is refused"}]
    assert logging.getLogger(name).getEffectiveLevel() == before


async def test_engine_at_info_logs_statements_without_their_parameters(
    app: Any,
    auth_client: httpx.AsyncClient,
    admin_key: TestKey,
    engine_log_level: None,
    captured_logs: io.StringIO,
) -> None:
    changed = await auth_client.put(
        "/api/v1/admin/logging", headers=admin_key.headers, json={"levels": {ENGINE: "INFO"}}
    )
    assert changed.status_code == 200
    fresh = await _touch_secrets(app, auth_client, admin_key)
    logs = captured_logs.getvalue()
    assert "INSERT INTO users" in logs
    assert "SQL parameters hidden" in logs
    assert _secrets_in(logs, fresh) == []


async def test_log_level_debug_in_settings_does_not_reach_the_engine(
    app: Any, app_factory: Any, settings: Settings, captured_logs: io.StringIO
) -> None:
    # ``app`` first: its logging set-up owns the root handler ``captured_logs`` reads.
    debug_app = app_factory(log_level="DEBUG")
    try:
        assert logging.getLogger(ENGINE).getEffectiveLevel() > logging.INFO
        async with debug_app.router.lifespan_context(debug_app):
            admin = await create_user_with_key(
                debug_app, scopes=["admin", "ingest", "read"], is_admin=True
            )
            transport = httpx.ASGITransport(app=debug_app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                fresh = await _touch_secrets(debug_app, http, admin)
        logs = captured_logs.getvalue()
        assert '"level":"debug"' in logs  # DEBUG is on for the rest
        assert _secrets_in(logs, fresh) == []
        assert "INSERT INTO users" not in logs
    finally:
        configure_logging_for(make_settings(settings.database_url))

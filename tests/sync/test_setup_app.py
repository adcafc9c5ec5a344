"""`health-export setup-app` and the first-run banner: one renderer of the app's settings."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from alembic import command
from typer.testing import CliRunner

from health_export.cli import app as cli
from health_export.migrations_head import alembic_config
from health_export.sync.address import lan_address
from health_export.sync.app_settings import COMMON, DATA_TYPES
from tests.fixtures.auth import unique_name
from tests.fixtures.databases import drop_database, fresh_database
from tests.fixtures.payloads import hae_metrics

runner = CliRunner()
LINK = re.compile(r"com\.HealthExport://automation\?\S+")


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def _new_user() -> str:
    name = unique_name()
    assert runner.invoke(cli, ["users", "create", name]).exit_code == 0
    return name


def _links(output: str) -> dict[str, dict[str, str]]:
    found = {}
    for link in LINK.findall(output):
        query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
        found[query["datatype"]] = query
    return found


def _keys_of(name: str) -> list[dict[str, Any]]:
    listed = runner.invoke(cli, ["keys", "list", "--user", name, "--json"])
    rows: list[dict[str, Any]] = orjson.loads(listed.stdout)
    return rows


def _setup_app_for_a_new_user() -> str:
    name = _new_user()
    earlier = runner.invoke(cli, ["keys", "create", "--user", name, "--name", "laptop"])
    earlier_key = earlier.stdout.strip().splitlines()[-1]
    result = runner.invoke(
        cli, ["setup-app", "--user", name, "--url", "https://health.example.org"]
    )
    assert result.exit_code == 0, result.output
    links = _links(result.stdout)
    assert set(links) == {"healthmetrics", "workouts", "symptoms"}
    metrics = links["healthmetrics"]
    assert metrics["url"] == "https://health.example.org/api/v1/ingest"
    assert (metrics["format"], metrics["period"], metrics["interval"]) == (
        "json",
        "none",
        "minutes",
    )
    header, value = metrics["headers"].split(",", 1)
    assert header == "Authorization"
    assert all(link["headers"] == metrics["headers"] for link in links.values())
    assert earlier_key not in result.stdout  # only the new key is ever printed
    assert "▀" in result.stdout or "▄" in result.stdout  # a QR code per link
    assert "ECG ==\n  No documented deep link" in result.stdout
    for setting in COMMON:
        assert setting.label in result.stdout
    [minted] = [k for k in _keys_of(name) if k["name"].startswith("Health Auto Export (setup-app")]
    assert minted["scopes"] == ["ingest"]
    return value.removeprefix("Bearer ")


async def test_setup_app_mints_an_ingest_only_key_in_a_link_per_data_type(
    cli_env: str, client: httpx.AsyncClient
) -> None:
    # The CLI runs its own event loop: in a thread, beside the app's.
    key = await asyncio.to_thread(_setup_app_for_a_new_user)

    # The printed key is the user's new phone key: it ingests, and reads nothing.
    auth = {"Authorization": f"Bearer {key}"}
    sent = await client.post(
        "/api/v1/ingest", json=hae_metrics(["step_count"], count=2), headers=auth
    )
    assert sent.status_code == 200
    assert (await client.get("/api/v1/sync", headers=auth)).status_code == 403


def test_setup_app_warns_when_the_phone_cannot_reach_the_url(cli_env: str) -> None:
    name = _new_user()
    for url in ("http://localhost:8000", "http://127.0.0.1:8000/api/v1/ingest"):
        result = runner.invoke(cli, ["setup-app", "--user", name, "--url", url, "--no-qr"])
        assert result.exit_code == 0, result.output
        assert "WARNING: a phone cannot reach" in result.output
        assert "HOST=0.0.0.0" in result.output
    fine = runner.invoke(cli, ["setup-app", "--user", name, "--url", "http://192.168.1.20:8000"])
    assert "WARNING" not in fine.output


def test_setup_app_refuses_what_it_cannot_use(cli_env: str) -> None:
    bad_url = runner.invoke(cli, ["setup-app", "--user", _new_user(), "--url", "ftp://x"])
    assert bad_url.exit_code == 2
    assert "--url must be an http:// or https:// URL" in bad_url.output
    unknown = runner.invoke(cli, ["setup-app", "--user", unique_name()])
    assert unknown.exit_code == 1
    assert "no user named" in unknown.output


@pytest.mark.parametrize(
    ("host", "expected"),
    [("0.0.0.0", "lan"), ("127.0.0.1", "warning")],  # noqa: S104 - the bind address shown
)
def test_bootstrap_banner_says_how_a_phone_reaches_the_server(
    host: str, expected: str, worker_id_suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"health_export_banner_{worker_id_suffix}_{expected}"
    url = asyncio.run(fresh_database(name))
    try:
        command.upgrade(alembic_config(url), "head")
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("HOST", host)
        banner = runner.invoke(cli, ["bootstrap"])
        assert banner.exit_code == 0, banner.output
    finally:
        asyncio.run(drop_database(name))
    if expected == "lan":
        address = lan_address() or "<this-machine>"
        assert f"http://{address}:8000/api/v1/ingest" in banner.stdout
        assert "WARNING" not in banner.stdout
    else:
        assert "WARNING: a phone cannot reach 127.0.0.1" in banner.stdout
        assert "HOST=0.0.0.0" in banner.stdout
    # Every setting the README recommends, from the renderer setup-app uses too.
    for setting in COMMON + tuple(s for t in DATA_TYPES for s in t.settings):
        assert f"{setting.label}:" in banner.stdout
        assert setting.value in banner.stdout

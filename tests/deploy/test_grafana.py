"""deploy/grafana: the provisioned data source, the three dashboards, the compose profile,
and every panel's SQL run against our schema with data (Grafana's macros filled in)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import yaml

from tests.dashboard.test_read_api import get, store
from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.fixtures.dashboard_data import MONTH_START, month_of_data

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
# The time picker of every query below: all of March 2024, with a margin.
TIME_FROM, TIME_TO = "2024-02-25T00:00:00Z", "2024-04-05T00:00:00Z"
GROUP_SECONDS = 3600
# Panels of metrics the dashboard's month of data does not hold.
ALSO = ("basal_energy_burned", "blood_oxygen_saturation", "respiratory_rate")


def panels() -> list[tuple[str, dict[str, Any]]]:
    """(dashboard file, panel) for every panel of every shipped dashboard."""
    found = []
    for path in DASHBOARDS:
        board = orjson.loads(path.read_bytes())
        found += [(path.name, panel) for panel in board["panels"]]
    return found


def fill_macros(sql: str, user_id: int) -> str:
    """Grafana's PostgreSQL macros and our $user variable, as Grafana would expand them."""
    bucket = rf"floor(extract(epoch FROM \1) / {GROUP_SECONDS}) * {GROUP_SECONDS}"
    sql = re.sub(
        r"\$__timeGroupAlias\(([^,]+),\s*\$__interval\)", rf'to_timestamp({bucket}) AS "time"', sql
    )
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", rf"\1 BETWEEN '{TIME_FROM}' AND '{TIME_TO}'", sql)
    sql = sql.replace("$__timeFrom()", f"'{TIME_FROM}'").replace("$__timeTo()", f"'{TIME_TO}'")
    sql = sql.replace("$user", str(user_id))
    assert "$" not in sql, sql  # a macro this test does not know
    return sql


@pytest.fixture
async def pg(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the test database, read-only like Grafana's role."""
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    await conn.execute("SET default_transaction_read_only = on")
    yield conn
    await conn.close()


def test_three_dashboards_read_the_provisioned_data_source() -> None:
    (source,) = yaml.safe_load(
        (GRAFANA / "provisioning/datasources/health-export.yml").read_text()
    )["datasources"]
    assert source["type"] == "grafana-postgresql-datasource"
    assert source["user"] == "grafana_reader"
    assert source["secureJsonData"]["password"] == "${GRAFANA_DB_PASSWORD}"
    titles = {orjson.loads(p.read_bytes())["title"] for p in DASHBOARDS}
    assert titles == {
        "health-export · Activity",
        "health-export · Heart & sleep",
        "health-export · Workouts",
    }
    for name, panel in panels():
        assert panel["datasource"]["uid"] == source["uid"], (name, panel["title"])
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"], (name, panel["title"])
            assert "$user" in target["rawSql"], (name, panel["title"])


def test_compose_runs_grafana_only_in_its_profile() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    grafana = services["grafana"]
    assert grafana["profiles"] == ["grafana"]
    assert all("profiles" not in services[name] for name in ("db", "redis", "app"))
    assert grafana["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "healthcheck" in grafana
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"]}
    assert (REPO / mounts["/etc/grafana/provisioning"]).resolve() == GRAFANA / "provisioning"
    assert (REPO / mounts["/etc/grafana/dashboards"]).resolve() == GRAFANA / "dashboards"
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/health-export.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"
    init = next(v for v in services["db"]["volumes"] if "docker-entrypoint-initdb.d" in v)
    assert (REPO / init.split(":")[0]).resolve() == GRAFANA / "initdb"
    assert "GRAFANA_DB_PASSWORD" in services["db"]["environment"]
    assert "GRAFANA_DB_PASSWORD" in grafana["environment"]


async def test_every_panel_returns_rows_from_our_schema(
    client: httpx.AsyncClient, ingest_key: TestKey, pg: asyncpg.Connection
) -> None:
    hourly = timedelta(hours=1)
    for payload in [*month_of_data(), payloads.hae_metrics(ALSO, 31 * 24, MONTH_START, hourly)]:
        await store(client, ingest_key, payload)
    assert len(panels()) >= 15
    for name, panel in panels():
        for target in panel["targets"]:
            rows = await pg.fetch(fill_macros(target["rawSql"], ingest_key.user_id))
            assert rows, (name, panel["title"])


async def grafana_rows(pg: asyncpg.Connection, title: str, user_id: int) -> list[asyncpg.Record]:
    """The rows of the panel called ``title``."""
    (panel,) = [panel for _, panel in panels() if panel["title"] == title]
    return list(await pg.fetch(fill_macros(panel["targets"][0]["rawSql"], user_id)))


async def test_panels_give_the_api_numbers(
    client: httpx.AsyncClient, ingest_key: TestKey, pg: asyncpg.Connection
) -> None:
    hourly = timedelta(hours=1)
    # The Watch and the iPhone both count the same hours: never added up.
    for source, seed in ((payloads.WATCH, 1), (payloads.PHONE, 2)):
        steps = payloads.hae_metrics(
            ("step_count",), 31 * 24, MONTH_START, hourly, seed=seed, source=source
        )
        await store(client, ingest_key, steps)
    morning = MONTH_START + timedelta(hours=8)
    daily = payloads.hae_metrics(("resting_heart_rate",), 31, morning, timedelta(days=1))
    await store(client, ingest_key, daily)
    await store(client, ingest_key, payloads.hae_sleep_aggregated(nights=20, start=MONTH_START))
    await store(
        client,
        ingest_key,
        payloads.hae_sleep_stages(nights=5, start=MONTH_START + timedelta(days=22)),
    )
    user = ingest_key.user_id

    activity = await get(client, ingest_key, "/api/v1/activity/daily")
    shown = {
        r["time"].date().isoformat(): r["Steps"]
        for r in await grafana_rows(pg, "Steps per day", user)
    }
    assert shown == pytest.approx({d["date"]: d["steps"] for d in activity["days"]})
    assert len(shown) == 31

    heart = await get(client, ingest_key, "/api/v1/heart/daily")
    resting = await grafana_rows(pg, "Resting heart rate", user)
    assert {r["time"].date().isoformat(): r["Resting HR"] for r in resting} == pytest.approx(
        {d["date"]: d["resting_hr"] for d in heart["days"] if d["resting_hr"] is not None}
    )

    nights = (await get(client, ingest_key, "/api/v1/sleep"))["nights"]
    stacked = await grafana_rows(pg, "Sleep stages per night", user)
    columns = {"Deep": "deep_h", "Core": "core_h", "REM": "rem_h", "Awake": "awake_h"}
    assert {r["time"].date().isoformat(): {c: r[c] for c in columns} for r in stacked} == {
        n["date"]: {c: pytest.approx(n[field] or 0.0) for c, field in columns.items()}
        for n in nights
    }
    assert len(nights) == 25

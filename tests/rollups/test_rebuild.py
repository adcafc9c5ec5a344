"""`health-export rollups rebuild`: recompute from the rows, report the keys that differed."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from typer.testing import CliRunner, Result

from health_export.cli import app as cli
from health_export.core.state import state_of
from tests.fixtures import rollup_corpus
from tests.fixtures.auth import TestKey
from tests.health_data.conftest import Ingest

runner = CliRunner()
DAY = {"start": "2024-03-04", "end": "2024-03-05"}


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


async def _rebuild(key: TestKey) -> Result:
    # The command runs its own event loop: in a thread, beside the test's.
    return await asyncio.to_thread(
        runner.invoke, cli, ["rollups", "rebuild", "--user", key.user_name]
    )


async def _steps_of_the_day(client: httpx.AsyncClient, key: TestKey) -> float:
    response = await client.get(
        "/api/v1/metrics/step_count/series", params=DAY, headers=key.headers
    )
    assert response.status_code == 200, response.text
    value: float = response.json()["points"][0]["value"]
    return value


async def _tamper(app: FastAPI, key: TestKey) -> None:
    """Corrupt one stored rollup, as a bug or a hand-edited row would."""
    async with state_of(app).engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE metric_rollups SET total = total + 1000 WHERE user_id = :u "
                "AND day = '2024-03-04' AND source_id = 0 AND metric_id = "
                "(SELECT id FROM metric_types WHERE name = 'step_count')"
            ),
            {"u": key.user_id},
        )


async def test_rebuild_finds_no_difference_after_ingests_and_erases(
    client: httpx.AsyncClient, owner: TestKey, ingest: Ingest, cli_env: str
) -> None:
    await ingest(owner, rollup_corpus.history())
    await ingest(owner, rollup_corpus.history(bump=0.25))
    erased = await client.delete(
        "/api/v1/data",
        params={"confirm": "true", "types": "metrics", "start": "2024-03-07T08:00:00Z"},
        headers=owner.headers,
    )
    assert erased.status_code == 200
    result = await _rebuild(owner)
    assert result.exit_code == 0, result.output
    assert f"{owner.user_name}: " in result.stdout
    assert ", 0 differing keys" in result.stdout


async def test_rebuild_reports_and_repairs_a_rollup_that_differs_from_the_rows(
    app: FastAPI,
    client: httpx.AsyncClient,
    rows_client: httpx.AsyncClient,
    owner: TestKey,
    ingest: Ingest,
    cli_env: str,
) -> None:
    await ingest(owner, rollup_corpus.history())
    from_rows = await _steps_of_the_day(rows_client, owner)
    assert await _steps_of_the_day(client, owner) == from_rows
    await _tamper(app, owner)
    # The day's answer is read from the rollup, so the corruption shows...
    assert await _steps_of_the_day(client, owner) == from_rows + 1000
    result = await _rebuild(owner)
    assert result.exit_code == 0, result.output
    assert "1 differing keys" in result.stdout
    # ...until the rebuild puts back what the rows say.
    assert await _steps_of_the_day(client, owner) == from_rows


def test_rebuild_of_an_unknown_user_is_a_one_line_error(cli_env: str) -> None:
    result = runner.invoke(cli, ["rollups", "rebuild", "--user", "nobody-at-all"])
    assert result.exit_code == 1
    using, *refusal = result.stderr.strip().splitlines()  # every command names its database
    assert using.startswith("health-export: using database ")
    assert refusal == ["error: no user named 'nobody-at-all' (health-export users list shows them)"]


def test_rebuild_without_a_database_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://root@127.0.0.1:1/none")
    result = runner.invoke(cli, ["rollups", "rebuild"])
    assert result.exit_code == 1
    using, *refusal = result.stderr.strip().splitlines()
    assert using.startswith("health-export: using database ")
    assert len(refusal) == 1
    assert "DATABASE_URL" in refusal[0]

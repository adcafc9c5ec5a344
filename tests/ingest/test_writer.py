"""The writer's paths: array parameters, COPY, streaming while parsing, dedupe fallback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from health_export.ingest import writer
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.upsert import UNNEST_MAX_ROWS
from tests.fixtures.auth import create_user_with_key
from tests.ingest.conftest import fetch

START = datetime(2019, 5, 1, tzinfo=UTC)


def _row(minute: int, qty: float) -> tuple[Any, ...]:
    return (
        "step_count",
        "iPhone",
        START + timedelta(minutes=minute),
        None,
        -240,
        "count",
        qty,
        None,
        None,
        None,
        None,
        None,
        None,
    )


async def _write(
    app: FastAPI,
    user_id: int,
    payload: NormalisedPayload,
    parsing: asyncio.Future[Any] | None = None,
) -> writer.WriteResult:
    engine = app.state.engine
    async with engine.connect() as conn, conn.begin():
        stream = writer.PayloadWriter(engine, conn)
        await stream.start()
        if parsing is not None:
            await stream.stage_while_parsing(payload, parsing)
        return await stream.finish(user_id, payload)


async def _stored(app: FastAPI, user_id: int) -> list[float]:
    rows = await fetch(
        app, "SELECT qty FROM metric_samples WHERE user_id = :u ORDER BY start_at", u=user_id
    )
    return [row["qty"] for row in rows]


@pytest.mark.parametrize("count", [10, UNNEST_MAX_ROWS + 500])
async def test_repeated_key_in_one_batch_keeps_the_last_on_both_paths(
    app: FastAPI, count: int
) -> None:
    user = await create_user_with_key(app)
    payload = NormalisedPayload()
    payload.rows["metric_samples"] = [_row(i, 1.0) for i in range(count)] + [_row(3, 99.0)]
    result = await _write(app, user.user_id, payload)
    counts = result.by_table["metric_samples"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (count, 0, 1)
    stored = await _stored(app, user.user_id)
    assert len(stored) == count
    assert stored[3] == 99.0


async def test_rows_are_staged_while_the_parser_is_still_producing_them(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "DRAIN_MIN_ROWS", 1)
    monkeypatch.setattr(writer, "DRAIN_POLL_S", 0.001)
    user = await create_user_with_key(app)
    payload = NormalisedPayload()
    loop = asyncio.get_running_loop()
    parsing: asyncio.Future[Any] = loop.create_future()
    taken_during_parse: list[int] = []

    async def parser() -> None:
        rows = payload.rows["metric_samples"]
        for chunk in range(5):
            rows.extend(_row(chunk * 100 + i, float(chunk)) for i in range(100))
            await asyncio.sleep(0.02)
            taken_during_parse.append(payload.taken.get("metric_samples", 0))
        rows.append(_row(0, 42.0))  # the same key again, last: it must win
        parsing.set_result(payload)

    producer = asyncio.create_task(parser())
    result = await _write(app, user.user_id, payload, parsing)
    await producer
    assert max(taken_during_parse) > 0
    assert payload.received == 501
    counts = result.by_table["metric_samples"]
    assert (counts.inserted, counts.unchanged) == (500, 1)
    stored = await _stored(app, user.user_id)
    assert len(stored) == 500
    assert stored[0] == 42.0


async def test_resend_through_staging_rewrites_nothing(app: FastAPI) -> None:
    user = await create_user_with_key(app)
    rows = [_row(i, float(i)) for i in range(UNNEST_MAX_ROWS + 10)]
    first = NormalisedPayload()
    first.rows["metric_samples"] = list(rows)
    await _write(app, user.user_id, first)
    before = await fetch(
        app,
        "SELECT sum(xmin::text::bigint) AS v FROM metric_samples WHERE user_id = :u",
        u=user.user_id,
    )
    again = NormalisedPayload()
    again.rows["metric_samples"] = list(rows)
    counts = (await _write(app, user.user_id, again)).by_table["metric_samples"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, len(rows))
    after = await fetch(
        app,
        "SELECT sum(xmin::text::bigint) AS v FROM metric_samples WHERE user_id = :u",
        u=user.user_id,
    )
    assert after == before

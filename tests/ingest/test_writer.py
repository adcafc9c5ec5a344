"""The writer's paths: array parameters, COPY, streaming while parsing, dedupe fallback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from health_export.core.state import state_of
from health_export.ingest.housekeeping import drop_abandoned_batch_tables
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.write import feeder, writer
from health_export.ingest.write.batches import BATCH_TABLE_PREFIX, batch_table_name
from health_export.ingest.write.upsert import UNNEST_MAX_ROWS, TableWriter
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
    claim: Callable[[], Awaitable[int | None]] | None = None,
    *,
    fail_after_staging: bool = False,
) -> writer.WriteResult:
    """Write ``payload`` in one transaction, the way the ingest does (staging while
    ``parsing`` runs, when given); ``fail_after_staging`` makes the transaction fail
    once the parse's batches are written."""
    engine = state_of(app).engine
    committed = False
    try:
        async with engine.connect() as conn:
            async with conn.begin():
                stream = writer.PayloadWriter(engine, conn)
                await stream.start()
                if parsing is not None:
                    await stream.stage_while_parsing(
                        writer.feed_from_thread(engine, payload, parsing), claim
                    )
                if fail_after_staging:
                    assert stream.tables["metric_samples"].counts.inserted > 0
                    raise RuntimeError("the ingest failed after the first batches")
                result = await stream.finish(user_id, payload)
            committed = True
    finally:
        await stream.close(committed=committed)
    return result


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


async def _parse_slowly(payload: NormalisedPayload, parsing: asyncio.Future[Any]) -> list[int]:
    """Five chunks of 100 rows with pauses, then key 0 again (it must win); rows taken by
    the writer after each chunk."""
    taken_during_parse: list[int] = []
    rows = payload.rows["metric_samples"]
    for chunk in range(5):
        rows.extend(_row(chunk * 100 + i, float(chunk)) for i in range(100))
        await asyncio.sleep(0.05)
        taken_during_parse.append(payload.taken.get("metric_samples", 0))
    rows.append(_row(0, 42.0))
    parsing.set_result(payload)
    return taken_during_parse


@dataclass
class SlowParse:
    """A parse in progress (:func:`_parse_slowly`) and the user it is for."""

    user_id: int
    payload: NormalisedPayload
    parsing: asyncio.Future[Any]
    producer: asyncio.Task[list[int]]


@pytest.fixture
async def slow_parse(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> SlowParse:
    """A new user's parse, drained a row at a time (every row its own batch)."""
    monkeypatch.setattr(feeder, "DRAIN_MIN_ROWS", 1)
    monkeypatch.setattr(feeder, "DRAIN_POLL_S", 0.001)
    user = await create_user_with_key(app)
    payload = NormalisedPayload()
    parsing: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    return SlowParse(
        user.user_id, payload, parsing, asyncio.create_task(_parse_slowly(payload, parsing))
    )


async def _assert_every_row_and_the_last_key_won(
    app: FastAPI, user_id: int, result: writer.WriteResult
) -> None:
    counts = result.by_table["metric_samples"]
    # Key 0 came again in a later batch: inserted by the first, updated by the second.
    assert (counts.inserted, counts.updated, counts.unchanged) == (500, 1, 0)
    stored = await _stored(app, user_id)
    assert len(stored) == 500
    assert stored[0] == 42.0


async def test_rows_are_staged_while_the_parser_is_still_producing_them(
    app: FastAPI, slow_parse: SlowParse
) -> None:
    # No claim: batches are staged as they come and written by finish().
    result = await _write(app, slow_parse.user_id, slow_parse.payload, slow_parse.parsing)
    assert max(await slow_parse.producer) > 0
    assert slow_parse.payload.received == 501
    await _assert_every_row_and_the_last_key_won(app, slow_parse.user_id, result)


async def test_claimed_batches_reach_the_table_while_the_parser_still_runs(
    app: FastAPI, slow_parse: SlowParse, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, parsing = slow_parse.user_id, slow_parse.parsing
    claims: list[int] = []
    written_during_parse: list[int] = []

    async def claim() -> int:
        claims.append(user_id)
        return user_id

    original = TableWriter.store

    async def store(self: TableWriter, batch: Any, user: int) -> None:
        await original(self, batch, user)
        if not parsing.done():
            written_during_parse.append(batch.rows)

    monkeypatch.setattr(TableWriter, "store", store)
    result = await _write(app, user_id, slow_parse.payload, parsing, claim)
    await slow_parse.producer
    assert claims == [user_id]  # claimed once, before the first write
    assert sum(written_during_parse) > 0
    await _assert_every_row_and_the_last_key_won(app, user_id, result)


async def test_a_refused_claim_writes_nothing_and_leaves_no_table(
    app: FastAPI, slow_parse: SlowParse
) -> None:
    async def refused() -> None:
        return None  # another attempt finished this ingestion meanwhile

    engine = state_of(app).engine
    batches = writer.feed_from_thread(engine, slow_parse.payload, slow_parse.parsing)
    async with engine.connect() as conn:
        async with conn.begin():
            stream = writer.PayloadWriter(engine, conn)
            await stream.start()
            await stream.stage_while_parsing(batches, refused)
            assert stream.waiting  # staged, never written
        await stream.close(committed=True)
    await slow_parse.producer
    assert await _stored(app, slow_parse.user_id) == []
    assert await _batch_tables(app) == []


async def test_a_rolled_back_ingest_leaves_no_batch_table(
    app: FastAPI, slow_parse: SlowParse
) -> None:
    async def claim() -> int:
        return slow_parse.user_id

    with pytest.raises(RuntimeError, match="after the first batches"):
        await _write(
            app,
            slow_parse.user_id,
            slow_parse.payload,
            slow_parse.parsing,
            claim,
            fail_after_staging=True,
        )
    await slow_parse.producer
    assert await _stored(app, slow_parse.user_id) == []
    assert await _batch_tables(app) == []


async def _batch_tables(app: FastAPI) -> list[str]:
    rows = await fetch(
        app, "SELECT relname FROM pg_class WHERE starts_with(relname, :p)", p=BATCH_TABLE_PREFIX
    )
    return [row["relname"] for row in rows]


async def test_abandoned_batch_tables_are_swept_and_fresh_ones_kept(app: FastAPI) -> None:
    engine = state_of(app).engine
    old = f"{BATCH_TABLE_PREFIX}{int(time.time()) - 7200}_0123456789ab"
    fresh = batch_table_name()
    async with engine.begin() as conn:
        for name in (old, fresh):
            await conn.execute(text(f"CREATE UNLOGGED TABLE {name} (x int)"))
    assert await drop_abandoned_batch_tables(engine, older_than_s=3600) == 1
    assert await _batch_tables(app) == [fresh]
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE {fresh}"))


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

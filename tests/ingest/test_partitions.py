"""Monthly partitions: made on demand, like their parent (storage settings included)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from tests.fixtures import payloads
from tests.ingest.conftest import Phone, fetch

Post = Callable[..., Awaitable[httpx.Response]]


async def test_a_2015_backfill_gets_its_partitions(app: FastAPI, phone: Phone, post: Post) -> None:
    doc = payloads.hae_metrics(
        ["step_count"], count=3, start=datetime(2015, 2, 28, 23, 59, tzinfo=UTC)
    )
    assert (await post(phone, doc)).json()["inserted"] == 3
    rows = await fetch(
        app,
        "SELECT c.relname FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname = 'metric_samples' AND c.relname LIKE '%y2015%' "
        "ORDER BY 1",
    )
    assert [row["relname"] for row in rows] == [
        "metric_samples_y2015m02",
        "metric_samples_y2015m03",
    ]


async def test_raw_body_partitions_store_bodies_without_recompressing(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    await post(phone, payloads.hae_metrics(["step_count"], count=1))
    rows = await fetch(
        app,
        "SELECT c.relname, a.attstorage FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE a.attname = 'body' AND c.relname LIKE 'raw_ingestions_y%'",
    )
    assert rows
    assert {row["attstorage"] for row in rows} == {b"e"}  # "char" arrives as bytes

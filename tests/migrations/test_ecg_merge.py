"""The ECG key migration merges the copies of one recording stored before it: the app's
copy (with its source) is kept, at its whole start second."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import asyncpg
from alembic import command

from health_export.migrations_head import alembic_config
from tests.fixtures.databases import drop_database, fresh_database

BEFORE = "0015_samples_int_user_id"
RECORDED = datetime(2024, 3, 14, 13, 15, 35, tzinfo=UTC)


async def _store_copies(url: str) -> int:
    """One recording as the app sent it (a fraction of a second) and as an archive
    stored it (no source), and another recording; the user's id."""
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        user = await apg.fetchval("INSERT INTO users (name) VALUES ('ecg') RETURNING id")
        watch, none = [
            await apg.fetchval("INSERT INTO sources (name) VALUES ($1) RETURNING id", name)
            for name in ("Watch", "")
        ]
        rows = [
            (user, watch, RECORDED + timedelta(milliseconds=250), 60, "Sinus Rhythm", None),
            (user, none, RECORDED, 60, "Sinus Rhythm", '{"origin": "archive"}'),
            (user, none, RECORDED + timedelta(days=1), 60, "Inconclusive", None),
        ]
        await apg.executemany(
            "INSERT INTO ecg_recordings (user_id, source_id, start_at, utc_offset_min, "
            "classification, attrs) VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            rows,
        )
        return int(user)
    finally:
        await apg.close()


async def _stored(url: str, user_id: int) -> list[tuple[datetime, str]]:
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await apg.fetch(
            "SELECT e.start_at, src.name FROM ecg_recordings e JOIN sources src "
            "ON src.id = e.source_id WHERE e.user_id = $1 ORDER BY e.start_at",
            user_id,
        )
    finally:
        await apg.close()
    return [(row["start_at"], row["name"]) for row in rows]


def test_upgrade_merges_an_archive_copy_into_the_apps_recording() -> None:
    name = f"health_export_ecg_merge_{os.getpid()}"
    url = asyncio.run(fresh_database(name))
    try:
        config = alembic_config(url)
        command.upgrade(config, BEFORE)
        user_id = asyncio.run(_store_copies(url))
        command.upgrade(config, "head")
        assert asyncio.run(_stored(url, user_id)) == [
            (RECORDED, "Watch"),
            (RECORDED + timedelta(days=1), ""),
        ]
    finally:
        asyncio.run(drop_database(name))

"""SQL of the ``imports`` rows: register, claim, heartbeat, finish, read."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_COLUMNS = (
    "id, user_id, kind, status, tz, file_path, file_bytes, attempts, progress, result, error, "
    "created_at, started_at, finished_at"
)

# Statements over the constant column list above (no caller text reaches them).
_CLAIM = text(
    "UPDATE imports SET status = 'running', attempts = attempts + 1, "  # noqa: S608
    "started_at = now(), heartbeat_at = now() WHERE id = ("
    "SELECT id FROM imports WHERE status = 'queued' OR (status = 'running' "
    "AND heartbeat_at < now() - make_interval(secs => :stale)) "
    f"ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING {_COLUMNS}"
)
_ONE = text(f"SELECT {_COLUMNS} FROM imports WHERE id = :id")  # noqa: S608
_OF_USER = text(
    f"SELECT {_COLUMNS} FROM imports WHERE user_id = :user_id "  # noqa: S608
    "ORDER BY created_at DESC, id LIMIT :limit"
)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


async def register(
    engine: AsyncEngine,
    *,
    import_id: uuid.UUID,
    user_id: int,
    key_id: uuid.UUID | None,
    tz: str,
    file_path: str,
    file_bytes: int,
) -> None:
    """A queued import, committed."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO imports (id, user_id, key_id, tz, file_path, file_bytes) "
                "VALUES (:id, :user_id, :key_id, :tz, :file_path, :file_bytes)"
            ),
            {
                "id": import_id,
                "user_id": user_id,
                "key_id": key_id,
                "tz": tz,
                "file_path": file_path,
                "file_bytes": file_bytes,
            },
        )


async def claim_next(engine: AsyncEngine, stale_after_s: float) -> dict[str, Any] | None:
    """Mark the oldest queued import (or one whose worker stopped beating) running.

    ``FOR UPDATE SKIP LOCKED``: two workers never claim the same row; the heartbeat
    tells a live worker's running import from a dead one's.
    """
    async with engine.begin() as conn:
        result = await conn.execute(_CLAIM, {"stale": stale_after_s})
        row = result.mappings().first()
    return None if row is None else dict(row)


async def beat(engine: AsyncEngine, import_id: uuid.UUID, progress: dict[str, Any]) -> None:
    """The worker is alive; how far it is."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE imports SET heartbeat_at = now(), progress = CAST(:progress AS jsonb) "
                "WHERE id = :id AND status = 'running'"
            ),
            {"id": import_id, "progress": _json(progress)},
        )


async def hold_if_listed(conn: AsyncConnection, import_id: uuid.UUID) -> bool:
    """Whether the import is still listed (not erased), its row then share-locked until
    ``conn``'s transaction ends: an erase, which deletes the row before the data,
    waits for that transaction and then erases what it wrote too."""
    found = await conn.execute(
        text("SELECT 1 FROM imports WHERE id = :id FOR KEY SHARE"), {"id": import_id}
    )
    return found.first() is not None


async def finish(
    conn: AsyncConnection,
    import_id: uuid.UUID,
    *,
    status: str,
    progress: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    """Record the outcome (``done``, ``failed``, or ``queued`` again to retry)."""
    await conn.execute(
        text(
            "UPDATE imports SET status = :status, "
            "progress = COALESCE(CAST(:progress AS jsonb), progress), "
            "result = CAST(:result AS jsonb), error = CAST(:error AS jsonb), "
            "finished_at = CASE WHEN :status IN ('done', 'failed') THEN now() END "
            "WHERE id = :id"
        ),
        {
            "id": import_id,
            "status": status,
            "progress": _json(progress),
            "result": _json(result),
            "error": _json(error),
        },
    )


async def fetch_one(conn: AsyncConnection, import_id: uuid.UUID) -> dict[str, Any] | None:
    """One import, whoever owns it."""
    row = (await conn.execute(_ONE, {"id": import_id})).mappings().first()
    return None if row is None else dict(row)


async def fetch_of_user(conn: AsyncConnection, user_id: int, limit: int) -> list[dict[str, Any]]:
    """A user's imports, newest first."""
    rows = await conn.execute(
        _OF_USER,
        {"user_id": user_id, "limit": limit},
    )
    return [dict(row) for row in rows.mappings()]


_EPOCH = date(1970, 1, 1)


async def store_day_counts(
    conn: AsyncConnection, import_id: uuid.UUID, counts: Counter[tuple[str, int]]
) -> None:
    """What the archive held per metric and local day (replacing an earlier attempt's).

    The import's row is locked first: a run given up for dead may still be finishing
    beside its re-run, and the two then write one after the other.
    """
    await conn.execute(text("SELECT 1 FROM imports WHERE id = :id FOR UPDATE"), {"id": import_id})
    await conn.execute(
        text("DELETE FROM import_day_counts WHERE import_id = :id"), {"id": import_id}
    )
    if not counts:
        return
    metrics = [metric for metric, _ in counts]
    days = [_EPOCH + timedelta(days=day) for _, day in counts]
    await conn.execute(
        text(
            "INSERT INTO import_day_counts (import_id, metric, day, samples) "
            "SELECT :id, m, d, n FROM unnest(CAST(:metrics AS text[]), CAST(:days AS date[]), "
            "CAST(:samples AS integer[])) AS c(m, d, n)"
        ),
        {"id": import_id, "metrics": metrics, "days": days, "samples": list(counts.values())},
    )

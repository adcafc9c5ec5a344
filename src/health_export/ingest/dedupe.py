"""Byte-identical re-sends: answered from the earlier answer only while it is still true.

An answer describes the stored data at the moment it was made. It stays true until the
user's data changes, which only another ingestion or an erase can do. So each user has
one *latest* ingestion (``latest_ingestions``): every processed ingestion takes that
place in its own transaction, and an erase removes it. A re-send of the latest
ingestion's exact bytes changes nothing and is answered from it; any other re-send is
processed again, which is always safe (unchanged rows are not rewritten) and restores
what a later ingestion or an erase changed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_COUNTS = ("inserted", "updated", "unchanged")


async def find_current_answer(
    conn: AsyncConnection, user_id: int, sha256: bytes
) -> dict[str, Any] | None:
    """The user's latest ingestion when it was of these exact bytes and was processed."""
    result = await conn.execute(
        text(
            "SELECT r.id, r.result FROM latest_ingestions l JOIN raw_ingestions r "
            "ON r.id = l.ingestion_id AND r.received_at = l.received_at "
            "WHERE l.user_id = :user_id AND r.sha256 = :sha256 AND r.status = 'processed'"
        ),
        {"user_id": user_id, "sha256": sha256},
    )
    row = result.mappings().first()
    return dict(row) if row else None


async def become_latest(
    conn: AsyncConnection, user_id: int, ingestion_id: uuid.UUID, received_at: datetime
) -> None:
    """Make a just-processed ingestion the user's latest (in its processing transaction).

    After its rows are written, so this row lock is taken last, as the erase takes it.
    """
    await conn.execute(
        text(
            "INSERT INTO latest_ingestions (user_id, ingestion_id, received_at) "
            "VALUES (:user_id, :ingestion_id, :received_at) ON CONFLICT (user_id) "
            "DO UPDATE SET ingestion_id = EXCLUDED.ingestion_id, "
            "received_at = EXCLUDED.received_at"
        ),
        {"user_id": user_id, "ingestion_id": ingestion_id, "received_at": received_at},
    )


def duplicate_answer(ingestion_id: uuid.UUID, earlier: dict[str, Any]) -> dict[str, Any]:
    """The answer to a re-send of the latest ingestion: nothing was written this time.

    Every record the earlier answer counted is stored as it left it (nothing changed
    since), so each is counted as unchanged, exactly what processing the body again
    would answer; ``ingestion_id`` names the earlier ingestion.
    """
    answer = dict(earlier)
    by_type = {table: _as_unchanged(counts) for table, counts in earlier["by_type"].items()}
    answer.update(
        {
            "ingestion_id": str(ingestion_id),
            "duplicate_payload": True,
            **_as_unchanged(earlier),
            "by_type": by_type,
        }
    )
    return answer


def _as_unchanged(counts: dict[str, Any]) -> dict[str, int]:
    return {"inserted": 0, "updated": 0, "unchanged": sum(int(counts[name]) for name in _COUNTS)}

"""Read-your-writes with a streaming replica: a per-user write counter, the *read fence*.

Every transaction that changes a user's data (an ingest, through the writer; an erase)
increments the user's row in ``read_fences`` as it commits its rows. The replica
receives that row in the same WAL as the rows, so a replica whose fence for the user
equals the primary's holds every write of that user (a replica never runs ahead of
the primary). A read is served by the replica only then, else by the primary.

Why this rule: the app that writes (the phone) is not the one that reads (the
dashboard, an assistant), so a token returned to the writer (a cookie carrying the WAL
position) would never reach the reader; the fence is kept where every API process on
every host sees it. It is exact (no "N seconds" guess that a lagging replica outlasts),
it is written inside the writing transaction (no crash window between a commit and a
note of it), and only the user who wrote is sent to the primary, for as long as the
replica lags behind that write: other users keep reading from the replica.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from health_export.core.db import Base

read_fences = Table(
    "read_fences",
    Base.metadata,
    Column(
        "user_id",
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("writes", BigInteger, nullable=False),
)

_ADVANCE = (
    "INSERT INTO read_fences (user_id, writes) VALUES ($1, 1) ON CONFLICT (user_id) "
    "DO UPDATE SET writes = read_fences.writes + 1"
)
_READ = "SELECT writes FROM read_fences WHERE user_id = :user_id"


async def advance_read_fence(apg: Any, user_id: int) -> None:
    """Count one write of ``user_id`` in the caller's transaction (asyncpg connection).

    Called after the transaction's rows are written and before ``latest_ingestions``,
    by the ingest and the erase alike, so the two take their row locks in one order.
    """
    await apg.execute(_ADVANCE, user_id)


async def fence_of(conn: AsyncConnection, user_id: int) -> int:
    """The user's write count as ``conn``'s server sees it (0: no write yet)."""
    found = (await conn.execute(text(_READ), {"user_id": user_id})).scalar()
    return int(found) if found is not None else 0

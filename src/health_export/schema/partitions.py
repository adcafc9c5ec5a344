"""Monthly range partitions: names, bounds, and creating them on demand.

On the driver (asyncpg), without SQLAlchemy: the parser process makes partitions too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from health_export.core.driver import Connections

_PARTITION_SUFFIX = re.compile(r"_y\d{4}m\d{2}$")
# Advisory lock key serialising partition DDL across workers ("HEpart" in ASCII).
PARTITION_LOCK_KEY = 0x4845_7061_7274


def is_partition_name(name: str) -> bool:
    """Whether ``name`` is a monthly partition made at run time."""
    return bool(_PARTITION_SUFFIX.search(name))


def month_of(moment: datetime) -> date:
    """The first day of the UTC month holding ``moment``."""
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def next_month(month: date) -> date:
    """The first day of the following month."""
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def partition_name(parent: str, month: date) -> str:
    """``metric_samples`` + 2024-03 → ``metric_samples_y2024m03``."""
    return f"{parent}_y{month.year:04d}m{month.month:02d}"


async def existing_partitions(apg: Any, parent: str) -> set[str]:
    """Names of the partitions ``parent`` has now."""
    rows = await apg.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1",
        parent,
    )
    return {row[0] for row in rows}


async def ensure_partitions(apg: Any, parent: str, months: Iterable[date]) -> int:
    """Create the missing monthly partitions of ``parent``; returns how many were made.

    A partition is created as a plain table and then attached: ``ATTACH PARTITION``
    takes only a SHARE UPDATE EXCLUSIVE lock on the parent, which reads and writes do
    not conflict with, whereas ``CREATE TABLE … PARTITION OF`` waits for every open
    transaction on the parent (a long export would stall every ingest of a new month).
    A transaction-level advisory lock makes concurrent creators of one month wait
    instead of failing. Inside the caller's transaction on ``apg``.
    """
    wanted = {partition_name(parent, month): month for month in months}
    missing = set(wanted) - await existing_partitions(apg, parent)
    if not missing:
        return 0
    await apg.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK_KEY)
    missing -= await existing_partitions(apg, parent)
    for name in sorted(missing):
        month = wanted[name]
        await apg.execute(
            f'CREATE TABLE IF NOT EXISTS "{name}" '
            # STORAGE and COMPRESSION too: raw bodies are stored without recompression.
            f'(LIKE "{parent}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
            "INCLUDING STORAGE INCLUDING COMPRESSION)"
        )
        await apg.execute(
            f'ALTER TABLE "{parent}" ATTACH PARTITION "{name}" '
            f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') "
            f"TO ('{next_month(month).isoformat()} 00:00:00+00')"
        )
    return len(missing)


async def ensure_partitions_exist(db: Connections, parent: str, months: Iterable[date]) -> None:
    """Like :func:`ensure_partitions`, in a transaction of its own, skipping the months
    known to exist (``db.known_partitions``): an ingest that only touches known months
    goes without the catalogue query and its transaction."""
    known = db.known_partitions
    wanted = set(months)
    names = {partition_name(parent, month) for month in wanted}
    if names <= known:
        return
    async with db.acquire() as apg, apg.transaction():
        await ensure_partitions(apg, parent, wanted)
    known |= names


async def drop_partitions_before(
    db: Connections, parent: str, cutoff: datetime, *, keep_if: str | None = None
) -> int:
    """Drop the monthly partitions of ``parent`` that end on or before ``cutoff``, in one
    transaction, and forget them in ``db.known_partitions``.

    ``keep_if`` is an SQL condition: a partition holding any row matching it is kept.
    """
    dropped = 0
    async with db.acquire() as apg, apg.transaction():
        for name in sorted(await existing_partitions(apg, parent)):
            if not is_partition_name(name):
                continue
            year, month = int(name[-7:-3]), int(name[-2:])
            ends = datetime.combine(next_month(date(year, month, 1)), datetime.min.time(), UTC)
            if ends > cutoff:
                continue
            if keep_if is not None:
                found = await apg.fetchval(f'SELECT 1 FROM "{name}" WHERE {keep_if} LIMIT 1')
                if found is not None:
                    continue
            await apg.execute(f'DROP TABLE "{name}"')
            db.known_partitions.discard(name)
            dropped += 1
    return dropped

"""Batch tables: a batch of rows COPYed into a table of its own before it is written.

Unlogged batch tables are filled outside the ingest transaction (the feeder's connection)
and dropped by the transaction that writes them; the housekeeping sweep drops any a crashed
process left.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from health_export.core.driver import Connections
from health_export.ingest.write.names import intern_names, metric_source_pairs
from health_export.ingest.write.tables import TableWrite

# Tables a batch of rows waits in before it is written (see stage_batch).
BATCH_TABLE_PREFIX = "ingest_batch_"


def route_rows(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Routes carry (lon, lat) pairs; staging takes them as WKT text."""
    prepared = []
    for row in rows:
        pairs = row[1]
        # A LineString needs two points: a one-point route is stored as a zero-length
        # line (its times and attributes keep the one real point).
        if len(pairs) == 1:
            pairs = [pairs[0], pairs[0]]
        points = ", ".join(f"{lon!r} {lat!r}" for lon, lat in pairs)
        prepared.append((row[0], f"SRID=4326;LINESTRING({points})", *row[2:]))
    return prepared


def prepared(write: TableWrite, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows as staging takes them."""
    return route_rows(rows) if write.table == "workout_routes" else rows


def staging_type(pg_type: str) -> str:
    # Byte-order collation: the dedupe sort needs equality, not linguistic order.
    return 'text COLLATE "C"' if pg_type == "text" else pg_type


@dataclass(slots=True)
class Batch:
    """Rows of one table COPYed into a table of their own, waiting to be written."""

    write: TableWrite
    table: str
    rows: int
    metric_sources: set[tuple[str, str]]


def batch_table_name() -> str:
    """A new batch table's name; unlogged ones carry their creation time for the sweep."""
    return f"{BATCH_TABLE_PREFIX}{int(time.time())}_{secrets.token_hex(6)}"


async def stage_batch(
    db: Connections,
    apg: Any,
    write: TableWrite,
    slices: Iterable[list[tuple[Any, ...]]],
    *,
    name: str,
    temporary: bool = False,
) -> Batch:
    """COPY rows (in slices) into a new table on ``apg``; rows keep their order in ``ord``.

    ``temporary``: a temp table of the ingest transaction itself. Otherwise an unlogged
    table, created and filled outside the ingest transaction (autocommit on another
    connection), so the next batch is COPYed while the ingest transaction writes this one.
    """
    columns = ", ".join(
        f"{column} {staging_type(pg_type)}" for column, pg_type in write.staging_types.items()
    )
    kind, on_commit = ("TEMP", " ON COMMIT DROP") if temporary else ("UNLOGGED", "")
    await apg.execute(
        f"CREATE {kind} TABLE {name} (ord bigint GENERATED ALWAYS AS IDENTITY, "
        f"{columns}){on_commit}"
    )
    batch = Batch(write, name, 0, set())
    # In slices: encoding rows for COPY runs on the event loop, and other requests must
    # not wait behind half a million rows of it.
    for rows in slices:
        records = prepared(write, rows)
        await intern_names(db, write, records)
        batch.metric_sources |= metric_source_pairs(write, records)
        await apg.copy_records_to_table(name, records=records, columns=list(write.staging_columns))
        batch.rows += len(records)
    return batch


async def drop_batch_tables(apg: Any, names: Iterable[str]) -> None:
    """Drop batch tables that may be left (a rolled-back ingest's)."""
    listed = ", ".join(sorted(names))
    if listed:
        await apg.execute(f"DROP TABLE IF EXISTS {listed}")

"""Store a normalised payload: COPY each batch into staging, then one upsert per table.

Latest wins: within a batch the last occurrence of a natural key is kept (DISTINCT ON
... ORDER BY ord DESC); against stored rows a changed value updates the row and an
unchanged one writes nothing (``WHERE (t.*) IS DISTINCT FROM (excluded.*)``), so a
re-send creates no new row versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.ingest.records import NormalisedPayload
from health_export.ingest.tables import WRITES, TableWrite
from health_export.partitions import ensure_partitions_exist, month_of

# Advisory lock class for "one ingest per user at a time" ("HEin" in ASCII).
INGEST_LOCK_CLASS = 0x4865_696E
INGEST_WORK_MEM = "256MB"
# Up to this many rows a batch is sent as array parameters; above, by COPY.
UNNEST_MAX_ROWS = 2000


@dataclass(slots=True)
class TableCounts:
    """Outcome of one table's upsert."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        """JSON-ready counts."""
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


@dataclass(slots=True)
class WriteResult:
    """Counts per table of one stored payload."""

    by_table: dict[str, TableCounts] = field(default_factory=dict)

    def total(self, name: str) -> int:
        """The sum of one count (``inserted``, ``updated``, ``unchanged``) over tables."""
        return sum(getattr(counts, name) for counts in self.by_table.values())


def _jsonb_encode(value: Any) -> bytes:
    # asyncpg's binary jsonb format is a version byte then the text; SQLAlchemy hands us
    # strings already serialised, the parsers hand us Python objects.
    if isinstance(value, str):
        return b"\x01" + value.encode()
    return b"\x01" + orjson.dumps(value)


def _jsonb_decode(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def driver_connection(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, with a jsonb codec that takes objects too."""
    raw = await conn.get_raw_connection()
    apg: Any = raw.driver_connection
    if apg is None:
        raise RuntimeError("the pooled connection has no driver connection")
    if not raw.info.get("health_export_codecs"):
        await apg.set_type_codec(
            "jsonb",
            encoder=_jsonb_encode,
            decoder=_jsonb_decode,
            schema="pg_catalog",
            format="binary",
        )
        raw.info["health_export_codecs"] = True
    return apg


def months_touched(write: TableWrite, rows: Sequence[tuple[Any, ...]]) -> set[Any]:
    """The UTC months a batch's rows fall in (for partitions)."""
    if write.partition_column is None:
        return set()
    index = write.staging_columns.index(write.partition_column)
    # Parsers reuse datetime objects for repeated timestamps; dedupe before converting.
    moments: set[datetime] = {row[index] for row in rows}
    return {month_of(moment) for moment in moments}


async def prepare_partitions(engine: AsyncEngine, payload: NormalisedPayload) -> None:
    """Create the months a payload needs, in short transactions of their own.

    Done before the ingest transaction so partition DDL never waits behind, or holds
    locks for, a long ingest.
    """
    for table, rows in payload.rows.items():
        months = months_touched(WRITES[table], rows) if rows else set()
        if months:
            await ensure_partitions_exist(engine, table, months)


async def lock_user(conn: AsyncConnection, user_id: int) -> None:
    """Serialise ingests of one user (overlapping re-sends cannot deadlock).

    The same round trip sets the ingest transaction's settings: the in-batch dedupe
    sorts the whole batch (4 MB of work_mem spilled 88 MB to disk for 935k points,
    measured) and JIT only adds compile time to these statements.
    """
    await conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(:cls, :uid), set_config('work_mem', :mem, true), "
            "set_config('jit', 'off', true)"
        ),
        {
            "cls": INGEST_LOCK_CLASS & 0x7FFF_FFFF,
            "uid": user_id % 2_147_483_647,
            "mem": INGEST_WORK_MEM,
        },
    )


async def write_payload(
    conn: AsyncConnection, user_id: int, payload: NormalisedPayload
) -> WriteResult:
    """Upsert every batch of ``payload`` inside the caller's transaction."""
    # Through SQLAlchemy first: its asyncpg adapter sends BEGIN lazily, on the first
    # statement, and the driver-level work below must be inside that transaction.
    await lock_user(conn, user_id)
    apg = await driver_connection(conn)
    result = WriteResult()
    for table, rows in payload.rows.items():
        if rows:
            result.by_table[table] = await _write_table(apg, WRITES[table], user_id, rows)
    return result


def _route_rows(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
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


async def _write_table(
    apg: Any, write: TableWrite, user_id: int, rows: list[tuple[Any, ...]]
) -> TableCounts:
    records = _route_rows(rows) if write.table == "workout_routes" else rows
    await _intern_names(apg, write, records)
    if len(records) <= UNNEST_MAX_ROWS and _has_scalar_columns_only(write):
        source, arrays = (
            _unnest_source(write),
            [list(column) for column in zip(*records, strict=False)],
        )
        inserted, updated = await apg.fetchrow(_upsert_sql(write, source), user_id, *arrays)
    else:
        stage = await _copy_to_staging(apg, write, records)
        inserted, updated = await apg.fetchrow(_upsert_sql(write, f"{stage} AS s"), user_id)
        await apg.execute(f"DROP TABLE {stage}")
    return TableCounts(inserted, updated, len(rows) - inserted - updated)


def _has_scalar_columns_only(write: TableWrite) -> bool:
    # unnest() flattens nested arrays, so rows holding arrays always go through COPY.
    return not any(pg_type.endswith("[]") for pg_type in write.staging_types.values())


def _unnest_source(write: TableWrite) -> str:
    """Small batches arrive as one array parameter per column: no temp table, one statement."""
    arrays = ", ".join(
        f"${index}::{pg_type}[]"
        for index, pg_type in enumerate(write.staging_types.values(), start=2)
    )
    names = ", ".join((*write.staging_columns, "ord"))
    return f"unnest({arrays}) WITH ORDINALITY AS s({names})"


async def _copy_to_staging(apg: Any, write: TableWrite, records: list[tuple[Any, ...]]) -> str:
    """Large batches: binary COPY into a temp table (rows numbered in arrival order)."""
    stage = f"stage_{write.table}"
    columns = ", ".join(
        f"{name} {_staging_type(pg_type)}" for name, pg_type in write.staging_types.items()
    )
    await apg.execute(
        f"CREATE TEMP TABLE {stage} (ord bigint GENERATED ALWAYS AS IDENTITY, {columns}) "
        "ON COMMIT DROP"
    )
    await apg.copy_records_to_table(stage, records=records, columns=list(write.staging_columns))
    return stage


def _staging_type(pg_type: str) -> str:
    # Byte-order collation: the dedupe sort needs equality, not linguistic order.
    return 'text COLLATE "C"' if pg_type == "text" else pg_type


async def _intern_names(apg: Any, write: TableWrite, records: list[tuple[Any, ...]]) -> None:
    """Make sure every source and metric name of the batch has its id (one round trip)."""
    columns = write.staging_columns
    if "source" not in columns:
        return
    # Sorted, so concurrent ingests of new names lock them in the same order.
    sources = sorted({record[columns.index("source")] for record in records})
    metrics = (
        sorted({record[columns.index("metric")] for record in records})
        if ("metric" in columns)
        else []
    )
    await apg.execute(
        "WITH new_sources AS (INSERT INTO sources (name) SELECT unnest($1::text[]) "
        "ON CONFLICT (name) DO NOTHING) "
        "INSERT INTO metric_types (name) SELECT unnest($2::text[]) ON CONFLICT (name) DO NOTHING",
        sources,
        metrics,
    )


def _comparable(expression: str, column: str) -> str:
    # geography's "=" compares bounding boxes; compare the exact bytes instead.
    return f"ST_AsBinary({expression})" if column == "geom" else expression


def _upsert_sql(write: TableWrite, source: str) -> str:
    pairs = write.target_columns()
    targets = ", ".join(name for name, _ in pairs)
    selects = ", ".join(expression for _, expression in pairs)
    key = ", ".join(write.key)
    staging_key = ", ".join(write.staging_key())
    values = [name for name, _ in pairs if name not in write.key]
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in values)
    current = ", ".join(_comparable(f"t.{name}", name) for name in values)
    incoming = ", ".join(_comparable(f"EXCLUDED.{name}", name) for name in values)
    joins = ""
    if "source" in write.staging_columns:
        joins += " JOIN sources src ON src.name = s.source"
    if "metric" in write.staging_columns:
        joins += " JOIN metric_types mt ON mt.name = s.metric"
    # ROW(...) so that a single value column still compares as a row.
    return (
        f"WITH latest AS (SELECT DISTINCT ON ({staging_key}) * FROM {source} "
        f"ORDER BY {staging_key}, s.ord DESC), "
        f"written AS (INSERT INTO {write.table} AS t ({targets}) "
        f"SELECT {selects} FROM latest s{joins} "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}, "
        "revision = LEAST(t.revision, 32766) + 1 "
        f"WHERE ROW({current}) IS DISTINCT FROM ROW({incoming}) "
        "RETURNING (revision = 0) AS is_insert) "
        "SELECT count(*) FILTER (WHERE is_insert), count(*) FILTER (WHERE NOT is_insert) "
        "FROM written"
    )

"""One table's batch into PostgreSQL: staging (COPY or array parameters), then upsert.

Latest wins: within a batch the last occurrence of a natural key is kept (DISTINCT ON
... ORDER BY ord DESC); against stored rows a changed value updates the row and an
unchanged one writes nothing (``WHERE ROW(t.…) IS DISTINCT FROM ROW(excluded.…)``), so a
re-send creates no new row versions.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.ingest.tables import TableWrite
from health_export.rollups.maintain import TouchedDays

# Up to this many rows a batch is sent as array parameters; above, by COPY.
UNNEST_MAX_ROWS = 2000
# Tables a batch of rows waits in before it is written (see stage_batch).
BATCH_TABLE_PREFIX = "ingest_batch_"


@dataclass(slots=True)
class TableCounts:
    """Outcome of one table's upsert."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: TableCounts) -> TableCounts:
        return TableCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )

    def as_dict(self) -> dict[str, int]:
        """JSON-ready counts."""
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


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


# Names this process knows are interned, per engine: names are never deleted, so a
# batch whose sources and metrics are all known needs no round trip for them.
_known_names: WeakKeyDictionary[AsyncEngine, set[tuple[str, str]]] = WeakKeyDictionary()


async def intern_names(
    engine: AsyncEngine, write: TableWrite, records: list[tuple[Any, ...]]
) -> None:
    """Make sure every source and metric name of the batch has its id.

    In a transaction of its own, committed at once: inside a long ingest an uncommitted
    new name would make every other ingest sending that name wait for it to commit
    (seen as multi-second stalls of small syncs beside a bulk ingest).
    """
    columns = write.staging_columns
    if "source" not in columns:
        return
    known = _known_names.setdefault(engine, set())
    # map(itemgetter) runs the loop in C: a set comprehension costs ~10x more per row.
    sources = set(map(itemgetter(columns.index("source")), records))
    wanted = {("sources", name) for name in sources}
    if "metric" in columns:
        metric_names = set(map(itemgetter(columns.index("metric")), records))
        wanted |= {("metric_types", name) for name in metric_names}
    missing = wanted - known
    if not missing:
        return
    # Sorted, so concurrent ingests of new names lock them in the same order.
    new_sources = sorted(name for table, name in missing if table == "sources")
    new_metrics = sorted(name for table, name in missing if table == "metric_types")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "WITH new_sources AS (INSERT INTO sources (name) SELECT unnest(CAST(:s AS text[])) "
                "ON CONFLICT (name) DO NOTHING) INSERT INTO metric_types (name) "
                "SELECT unnest(CAST(:m AS text[])) ON CONFLICT (name) DO NOTHING"
            ),
            {"s": new_sources, "m": new_metrics},
        )
    known |= missing


def metric_source_pairs(write: TableWrite, records: list[tuple[Any, ...]]) -> set[tuple[str, str]]:
    """The distinct (metric, source) names of a ``metric_samples`` batch (else empty)."""
    columns = write.staging_columns
    if "metric" not in columns:
        return set()
    return set(map(itemgetter(columns.index("metric"), columns.index("source")), records))


async def record_metric_sources(apg: Any, user_id: int, pairs: set[tuple[str, str]]) -> None:
    """Remember which sources the user's metrics have (read by the series queries)."""
    if not pairs:
        return
    metrics, sources = zip(*sorted(pairs), strict=True)
    await apg.execute(
        "INSERT INTO metric_sources (user_id, metric_id, source_id) "
        "SELECT $1, mt.id, src.id FROM unnest($2::text[], $3::text[]) AS p(metric, source) "
        "JOIN metric_types mt ON mt.name = p.metric JOIN sources src ON src.name = p.source "
        "ON CONFLICT DO NOTHING",
        user_id,
        list(metrics),
        list(sources),
    )


async def write_small_or_whole(
    engine: AsyncEngine,
    apg: Any,
    write: TableWrite,
    user_id: int,
    rows: list[tuple[Any, ...]],
    touched: TouchedDays | None = None,
) -> TableCounts:
    """Upsert a batch that is all here: array parameters when small, else COPY.

    ``touched`` collects the days of the metric samples inserted or changed (rollups).
    """
    records = prepared(write, rows)
    if len(records) <= UNNEST_MAX_ROWS and _fits_array_parameters(write, records):
        await intern_names(engine, write, records)
        await record_metric_sources(apg, user_id, metric_source_pairs(write, records))
        arrays = [list(column) for column in zip(*records, strict=True)]
        source = _unnest_source(write)
        answer = await apg.fetchrow(upsert_sql(write, source), user_id, *arrays)
        _note_written(touched, answer)
        inserted, updated = answer[0], answer[1]
        return TableCounts(inserted, updated, len(rows) - inserted - updated)
    batch = await stage_batch(engine, apg, write, [rows], name=batch_table_name(), temporary=True)
    table = TableWriter(apg, write, touched)
    await table.store(batch, user_id)
    return table.counts


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
    engine: AsyncEngine,
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
        f"{column} {_staging_type(pg_type)}" for column, pg_type in write.staging_types.items()
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
        await intern_names(engine, write, records)
        batch.metric_sources |= metric_source_pairs(write, records)
        await apg.copy_records_to_table(name, records=records, columns=list(write.staging_columns))
        batch.rows += len(records)
    return batch


async def drop_batch_tables(apg: Any, names: Iterable[str]) -> None:
    """Drop batch tables that may be left (a rolled-back ingest's)."""
    listed = ", ".join(sorted(names))
    if listed:
        await apg.execute(f"DROP TABLE IF EXISTS {listed}")


async def drop_abandoned_batch_tables(engine: AsyncEngine, older_than_s: float) -> int:
    """Drop unlogged batch tables a crashed process left behind; returns how many.

    A table still in use is younger than any ingest can last, and locked besides (the
    drop gives up at once on a lock).
    """
    cutoff = time.time() - older_than_s
    async with engine.connect() as conn:
        names = (
            await conn.execute(
                text(
                    "SELECT relname FROM pg_class WHERE relkind = 'r' AND relpersistence = 'u' "
                    "AND relnamespace = current_schema()::regnamespace "
                    "AND starts_with(relname, :prefix)"
                ),
                {"prefix": BATCH_TABLE_PREFIX},
            )
        ).scalars()
        abandoned = [name for name in names if _created_at(name) < cutoff]
    dropped = 0
    for name in abandoned:
        try:
            async with engine.begin() as conn:
                await conn.execute(text("SET LOCAL lock_timeout = '100ms'"))
                await conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
            dropped += 1
        except DBAPIError:
            continue  # in use after all: not abandoned
    return dropped


def _created_at(name: str) -> float:
    created = name.removeprefix(BATCH_TABLE_PREFIX).split("_", 1)[0]
    return float(created) if created.isdigit() else float("inf")


def _note_written(touched: TouchedDays | None, answer: Any) -> None:
    """The (metric, UTC date) pairs an upsert of metric samples answered with."""
    if touched is not None and len(answer) > 2 and answer[2] is not None:
        touched.add_written(answer[2], answer[3])


class TableWriter:
    """Writes one table's batches in the ingest transaction, adding up their counts.

    ``touched`` (metric samples only) collects the days whose rows were inserted or
    changed, so that their rollups are recomputed; unchanged rows touch none.
    """

    def __init__(self, apg: Any, write: TableWrite, touched: TouchedDays | None = None) -> None:
        self.apg = apg
        self.write = write
        self.touched = touched if write.table == "metric_samples" else None
        self.counts = TableCounts()
        # Once a batch met stored rows, later batches go straight to the upsert.
        self._met_stored_rows = False

    async def store(self, batch: Batch, user_id: int) -> None:
        """Insert or upsert one batch, then drop its table.

        A key repeated in two batches of one payload is inserted by the first and
        updated by the second (latest wins either way).
        """
        await record_metric_sources(self.apg, user_id, batch.metric_sources)
        inserted = None if self._met_stored_rows else await self._insert_if_all_new(batch, user_id)
        if inserted is not None:
            updated = 0
            if self.touched is not None:
                await self.touched.add_staged(self.apg, batch.table)
        else:
            self._met_stored_rows = True
            inserted, updated = await self._upsert(batch, user_id)
        self.counts.inserted += inserted
        self.counts.updated += updated
        self.counts.unchanged += batch.rows - inserted - updated
        await self.apg.execute(f"DROP TABLE {batch.table}")

    async def _upsert(self, batch: Batch, user_id: int) -> tuple[int, int]:
        source = f"{batch.table} AS s"
        try:
            # Batches rarely repeat a key, so first try without the dedupe sort; a
            # repeated key makes PostgreSQL refuse ("cannot affect row a second time").
            async with self.apg.transaction():
                counts = await self.apg.fetchrow(
                    upsert_sql(self.write, source, dedupe=False), user_id
                )
        except asyncpg.exceptions.CardinalityViolationError:
            counts = await self.apg.fetchrow(upsert_sql(self.write, source), user_id)
        _note_written(self.touched, counts)
        return int(counts[0]), int(counts[1])

    async def _insert_if_all_new(self, batch: Batch, user_id: int) -> int | None:
        """A plain INSERT, or None when a key is already stored (or repeated in the batch).

        A first backfill is the largest write there is, and a plain INSERT of 935k points
        took 2.7-3.6 s where the upsert took 5.6-6.7 s (measured: the upsert's
        speculative insertion checks every key first). The INSERT stops at the first
        stored key, so a re-send loses almost nothing trying; a batch that meets stored
        rows only near its end wastes at most one batch of work.
        """
        try:
            async with self.apg.transaction():
                status = await self.apg.execute(
                    insert_sql(self.write, f"{batch.table} AS s"), user_id
                )
        except asyncpg.exceptions.UniqueViolationError:
            return None
        return int(status.rsplit(" ", 1)[1])


def _fits_array_parameters(write: TableWrite, records: list[tuple[Any, ...]]) -> bool:
    """Whether the rows can be sent as one array parameter per column.

    unnest() flattens nested arrays, and asyncpg sends a list inside an array parameter
    as another dimension: an array column, or a JSON list in a jsonb column (a
    medication's ``codings``), would come out as extra rows. Such rows go through COPY.
    """
    types = list(write.staging_types.values())
    if any(pg_type.endswith("[]") for pg_type in types):
        return False
    json_columns = [index for index, pg_type in enumerate(types) if pg_type == "jsonb"]
    return not any(isinstance(record[i], list) for record in records for i in json_columns)


def _unnest_source(write: TableWrite) -> str:
    """Small batches arrive as one array parameter per column: no temp table, one statement."""
    arrays = ", ".join(
        f"${index}::{pg_type}[]"
        for index, pg_type in enumerate(write.staging_types.values(), start=2)
    )
    names = ", ".join((*write.staging_columns, "ord"))
    return f"unnest({arrays}) WITH ORDINALITY AS s({names})"


def _staging_type(pg_type: str) -> str:
    # Byte-order collation: the dedupe sort needs equality, not linguistic order.
    return 'text COLLATE "C"' if pg_type == "text" else pg_type


def _comparable(expression: str, column: str) -> str:
    # geography's "=" compares bounding boxes; compare the exact bytes instead.
    return f"ST_AsBinary({expression})" if column == "geom" else expression


def _joins(write: TableWrite) -> str:
    joins = ""
    if "source" in write.staging_columns:
        joins += " JOIN sources src ON src.name = s.source"
    if "metric" in write.staging_columns:
        joins += " JOIN metric_types mt ON mt.name = s.metric"
    return joins


def insert_sql(write: TableWrite, source: str) -> str:
    """The rows of ``source`` inserted as they are (no conflict handling)."""
    pairs = write.target_columns()
    targets = ", ".join(name for name, _ in pairs)
    selects = ", ".join(expression for _, expression in pairs)
    return f"INSERT INTO {write.table} ({targets}) SELECT {selects} FROM {source}{_joins(write)}"


def upsert_sql(write: TableWrite, source: str, *, dedupe: bool = True) -> str:
    """One statement: (deduplicated) rows of ``source`` upserted, counts returned."""
    pairs = write.target_columns()
    targets = ", ".join(name for name, _ in pairs)
    selects = ", ".join(expression for _, expression in pairs)
    key = ", ".join(write.key)
    staging_key = ", ".join(write.staging_key())
    values = [name for name, _ in pairs if name not in write.key]
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in values)
    current = ", ".join(_comparable(f"t.{name}", name) for name in values)
    incoming = ", ".join(_comparable(f"EXCLUDED.{name}", name) for name in values)
    joins = _joins(write)
    rows = (
        f"(SELECT DISTINCT ON ({staging_key}) * FROM {source} ORDER BY {staging_key}, s.ord DESC) s"
        if dedupe
        else source
    )
    # ROW(...) so that a single value column still compares as a row.
    return (
        f"WITH written AS (INSERT INTO {write.table} AS t ({targets}) "
        f"SELECT {selects} FROM {rows}{joins} "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}, "
        "revision = LEAST(t.revision, 32766) + 1 "
        f"WHERE ROW({current}) IS DISTINCT FROM ROW({incoming}) "
        f"RETURNING (revision = 0) AS is_insert{_WRITTEN_DAYS_RETURNING.get(write.table, '')}) "
        "SELECT count(*) FILTER (WHERE is_insert), count(*) FILTER (WHERE NOT is_insert)"
        f"{_WRITTEN_DAYS_SELECT.get(write.table, '')} FROM written"
    )


# Metric samples also answer with the (metric, UTC date) pairs they inserted or changed:
# the days whose rollups the write must recompute (rollups/maintain.py).
_WRITTEN_DAYS_RETURNING = {
    "metric_samples": ", metric_id, (start_at AT TIME ZONE 'UTC')::date AS utc_day"
}
_WRITTEN_DAYS_SELECT = {
    "metric_samples": (
        # Both arrays in the same order: the pairs are distinct, so the sort is total.
        ", (SELECT array_agg(metric_id ORDER BY metric_id, utc_day) FROM "
        "(SELECT DISTINCT metric_id, utc_day FROM written) d)"
        ", (SELECT array_agg(utc_day ORDER BY metric_id, utc_day) FROM "
        "(SELECT DISTINCT metric_id, utc_day FROM written) d)"
    )
}

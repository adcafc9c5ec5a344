"""One table's batch into PostgreSQL: staging (COPY or array parameters), then upsert.

Latest wins: within a batch the last occurrence of a natural key is kept (DISTINCT ON
... ORDER BY ord DESC); against stored rows a changed value updates the row and an
unchanged one writes nothing (``WHERE ROW(t.…) IS DISTINCT FROM ROW(excluded.…)``), so a
re-send creates no new row versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.core.db import connections_of
from health_export.ingest.write.batches import (
    Batch,
    batch_table_name,
    prepared,
    stage_batch,
)
from health_export.ingest.write.names import (
    intern_names,
    metric_source_pairs,
    record_metric_sources,
)
from health_export.ingest.write.tables import TableWrite
from health_export.rollups.deltas import (
    CUMULATIVE_METRICS,
    SAMPLE_RETURNING,
    delta_ctes,
    recompute_pairs_select,
)
from health_export.rollups.maintain import TouchedDays, lock_rollups

# Up to this many rows a batch is sent as array parameters; above, by COPY.
UNNEST_MAX_ROWS = 2000


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
    records, db = prepared(write, rows), connections_of(engine)
    if len(records) <= UNNEST_MAX_ROWS and _fits_array_parameters(write, records):
        await intern_names(db, write, records)
        await record_metric_sources(apg, user_id, metric_source_pairs(write, records))
        arrays = [list(column) for column in zip(*records, strict=True)]
        source = _unnest_source(write)
        await _lock_rollups(apg, write, user_id, touched)
        sql = upsert_sql(write, source, next_param=len(arrays) + 2)
        answer = await apg.fetchrow(sql, user_id, *arrays, *sample_parameters(write))
        _note_written(touched, answer)
        inserted, updated = answer[0], answer[1]
        return TableCounts(inserted, updated, len(rows) - inserted - updated)
    batch = await stage_batch(db, apg, write, [rows], name=batch_table_name(), temporary=True)
    table = TableWriter(apg, write, touched)
    await table.store(batch, user_id)
    return table.counts


async def _lock_rollups(
    apg: Any, write: TableWrite, user_id: int, touched: TouchedDays | None
) -> None:
    """A metric-sample write changes the user's rollups: serialise it with their other
    writers (``maintain.lock_rollups``), once per transaction."""
    if write.table != "metric_samples":
        return
    if touched is None:
        await lock_rollups(apg, user_id)
    else:
        await touched.lock(apg, user_id)


def _note_written(touched: TouchedDays | None, answer: Any) -> None:
    """The (metric, UTC date) pairs a write of metric samples left to the recompute."""
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
        self._parameters = sample_parameters(write)

    async def store(self, batch: Batch, user_id: int) -> None:
        """Insert or upsert one batch, then drop its table.

        A key repeated in two batches of one payload is inserted by the first and
        updated by the second (latest wins either way).
        """
        await record_metric_sources(self.apg, user_id, batch.metric_sources)
        await _lock_rollups(self.apg, self.write, user_id, self.touched)
        inserted = None if self._met_stored_rows else await self._insert_if_all_new(batch, user_id)
        if inserted is not None:
            updated = 0
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
                    upsert_sql(self.write, source, dedupe=False), user_id, *self._parameters
                )
        except asyncpg.exceptions.CardinalityViolationError:
            counts = await self.apg.fetchrow(
                upsert_sql(self.write, source), user_id, *self._parameters
            )
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
        sql = insert_sql(self.write, f"{batch.table} AS s")
        try:
            async with self.apg.transaction():
                if self.write.table != "metric_samples":
                    status = await self.apg.execute(sql, user_id)
                    return int(status.rsplit(" ", 1)[1])
                answer = await self.apg.fetchrow(sql, user_id, *self._parameters)
        except asyncpg.exceptions.UniqueViolationError:
            return None
        _note_written(self.touched, answer)
        return int(answer[0])


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


def insert_sql(write: TableWrite, source: str, next_param: int = 2) -> str:
    """The rows of ``source`` inserted as they are (no conflict handling).

    Metric samples answer like :func:`upsert_sql` (one row: inserted, 0, the pairs to
    recompute), their rollups updated by the same statement; other tables answer with
    a command status.
    """
    pairs = write.target_columns()
    targets = ", ".join(name for name, _ in pairs)
    selects = ", ".join(expression for _, expression in pairs)
    insert = f"INSERT INTO {write.table} ({targets}) SELECT {selects} FROM {source}{_joins(write)}"
    if write.table != "metric_samples":
        return insert
    return (
        f"WITH written AS ({insert} RETURNING true AS is_insert, {SAMPLE_RETURNING})"
        f"{delta_ctes('written', f'${next_param}')} "
        f"SELECT count(*), 0{recompute_pairs_select('written')} FROM written"
    )


def upsert_sql(write: TableWrite, source: str, *, dedupe: bool = True, next_param: int = 2) -> str:
    """One statement: (deduplicated) rows of ``source`` upserted, counts returned.

    Metric samples also answer with the (metric, UTC date) pairs whose rollups the
    write must recompute, and add the rows they inserted to the rollups themselves
    (``rollups/deltas.py``); ``next_param`` is then the parameter number of
    :data:`~health_export.rollups.deltas.CUMULATIVE_METRICS`.
    """
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
    samples = write.table == "metric_samples"
    # ROW(...) so that a single value column still compares as a row.
    return (
        f"WITH written AS (INSERT INTO {write.table} AS t ({targets}) "
        f"SELECT {selects} FROM {rows}{joins} "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}, "
        "revision = LEAST(t.revision, 32766) + 1 "
        f"WHERE ROW({current}) IS DISTINCT FROM ROW({incoming}) "
        f"RETURNING (revision = 0) AS is_insert{', ' + SAMPLE_RETURNING if samples else ''})"
        f"{delta_ctes('written', f'${next_param}') if samples else ''} "
        "SELECT count(*) FILTER (WHERE is_insert), count(*) FILTER (WHERE NOT is_insert)"
        f"{recompute_pairs_select('written') if samples else ''} FROM written"
    )


def sample_parameters(write: TableWrite) -> tuple[list[str], ...]:
    """The parameters after the rows' that a write of ``write``'s table takes."""
    return (CUMULATIVE_METRICS,) if write.table == "metric_samples" else ()

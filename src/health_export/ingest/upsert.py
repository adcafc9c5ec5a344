"""One table's batch into PostgreSQL: staging (COPY or array parameters), then upsert.

Latest wins: within a batch the last occurrence of a natural key is kept (DISTINCT ON
... ORDER BY ord DESC); against stored rows a changed value updates the row and an
unchanged one writes nothing (``WHERE ROW(t.…) IS DISTINCT FROM ROW(excluded.…)``), so a
re-send creates no new row versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.ingest.tables import TableWrite

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
    wanted = {("sources", record[columns.index("source")]) for record in records}
    if "metric" in columns:
        wanted |= {("metric_types", record[columns.index("metric")]) for record in records}
    missing = wanted - known
    if not missing:
        return
    # Sorted, so concurrent ingests of new names lock them in the same order.
    sources = sorted(name for table, name in missing if table == "sources")
    metrics = sorted(name for table, name in missing if table == "metric_types")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "WITH new_sources AS (INSERT INTO sources (name) SELECT unnest(CAST(:s AS text[])) "
                "ON CONFLICT (name) DO NOTHING) INSERT INTO metric_types (name) "
                "SELECT unnest(CAST(:m AS text[])) ON CONFLICT (name) DO NOTHING"
            ),
            {"s": sources, "m": metrics},
        )
    known |= missing


def metric_source_pairs(write: TableWrite, records: list[tuple[Any, ...]]) -> set[tuple[str, str]]:
    """The distinct (metric, source) names of a ``metric_samples`` batch (else empty)."""
    columns = write.staging_columns
    if "metric" not in columns:
        return set()
    metric, source = columns.index("metric"), columns.index("source")
    return {(record[metric], record[source]) for record in records}


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
    engine: AsyncEngine, apg: Any, write: TableWrite, user_id: int, rows: list[tuple[Any, ...]]
) -> TableCounts:
    """Upsert a batch that is all here: array parameters when small, else COPY."""
    records = prepared(write, rows)
    if len(records) <= UNNEST_MAX_ROWS and _has_scalar_columns_only(write):
        await intern_names(engine, write, records)
        await record_metric_sources(apg, user_id, metric_source_pairs(write, records))
        arrays = [list(column) for column in zip(*records, strict=True)]
        source = _unnest_source(write)
        inserted, updated = await apg.fetchrow(upsert_sql(write, source), user_id, *arrays)
        return TableCounts(inserted, updated, len(rows) - inserted - updated)
    stage = Staging(engine, apg, write)
    await stage.copy(rows)
    return await stage.upsert(user_id)


class Staging:
    """A temp table collecting one table's rows (possibly while parsing goes on)."""

    def __init__(self, engine: AsyncEngine, apg: Any, write: TableWrite) -> None:
        self.engine = engine
        self.apg = apg
        self.write = write
        self.name = f"stage_{write.table}"
        self.rows = 0
        self.metric_sources: set[tuple[str, str]] = set()
        self._created = False

    async def copy(self, rows: list[tuple[Any, ...]]) -> None:
        """Binary COPY a batch in (rows keep their arrival order in ``ord``)."""
        records = prepared(self.write, rows)
        if not self._created:
            columns = ", ".join(
                f"{name} {_staging_type(pg_type)}"
                for name, pg_type in self.write.staging_types.items()
            )
            await self.apg.execute(
                f"CREATE TEMP TABLE {self.name} (ord bigint GENERATED ALWAYS AS IDENTITY, "
                f"{columns}) ON COMMIT DROP"
            )
            self._created = True
        await intern_names(self.engine, self.write, records)
        self.metric_sources |= metric_source_pairs(self.write, records)
        await self.apg.copy_records_to_table(
            self.name, records=records, columns=list(self.write.staging_columns)
        )
        self.rows += len(records)

    async def upsert(self, user_id: int) -> TableCounts:
        """Upsert everything staged; the temp table is dropped."""
        await record_metric_sources(self.apg, user_id, self.metric_sources)
        inserted = await self._insert_if_all_new(user_id)
        if inserted is not None:
            await self.apg.execute(f"DROP TABLE {self.name}")
            return TableCounts(inserted, 0, self.rows - inserted)
        source = f"{self.name} AS s"
        try:
            # Batches rarely repeat a key, so first try without the dedupe sort; a
            # repeated key makes PostgreSQL refuse ("cannot affect row a second time").
            async with self.apg.transaction():
                counts = await self.apg.fetchrow(
                    upsert_sql(self.write, source, dedupe=False), user_id
                )
        except asyncpg.exceptions.CardinalityViolationError:
            counts = await self.apg.fetchrow(upsert_sql(self.write, source), user_id)
        await self.apg.execute(f"DROP TABLE {self.name}")
        inserted, updated = counts
        return TableCounts(inserted, updated, self.rows - inserted - updated)

    async def _insert_if_all_new(self, user_id: int) -> int | None:
        """Plain INSERT when the user has no row yet in the batch's time span.

        A first backfill is the largest write there is, and a plain INSERT of 935k points
        took 2.7-3.6 s where the upsert took 5.6-6.7 s (measured: the upsert's
        speculative insertion checks every key first). Ingests of one user are
        serialised, so no row can appear in the span meanwhile; a key repeated within
        the batch still fails the INSERT, and then the upsert runs instead.
        """
        write = self.write
        column = write.partition_column
        if column is None or write.key[0] != "user_id":
            return None
        span_has_rows = await self.apg.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM {write.table} t WHERE t.user_id = $1 "
            f"AND t.{column} >= (SELECT min({column}) FROM {self.name}) "
            f"AND t.{column} <= (SELECT max({column}) FROM {self.name}))",
            user_id,
        )
        if span_has_rows:
            return None
        try:
            async with self.apg.transaction():
                status = await self.apg.execute(insert_sql(write, f"{self.name} AS s"), user_id)
        except asyncpg.exceptions.UniqueViolationError:
            return None
        return int(status.rsplit(" ", 1)[1])


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
        "RETURNING (revision = 0) AS is_insert) "
        "SELECT count(*) FILTER (WHERE is_insert), count(*) FILTER (WHERE NOT is_insert) "
        "FROM written"
    )

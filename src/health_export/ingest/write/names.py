"""Interned names: every source and metric name has an id, made on first sight.

Also each user's (metric, source) pairs (``metric_sources``), which the series reads use to
tell a single-source metric.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from health_export.core.driver import Connections
from health_export.ingest.write.tables import TableWrite


async def intern_names(db: Connections, write: TableWrite, records: list[tuple[Any, ...]]) -> None:
    """Make sure every source and metric name of the batch has its id.

    In a transaction of its own, committed at once: inside a long ingest an uncommitted
    new name would make every other ingest sending that name wait for it to commit
    (seen as multi-second stalls of small syncs beside a bulk ingest). Names are never
    deleted, so a batch whose names are all in ``db.known_names`` needs no round trip.
    """
    columns = write.staging_columns
    if "source" not in columns:
        return
    known = db.known_names
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
    async with db.acquire() as apg, apg.transaction():
        await apg.execute(
            "WITH new_sources AS (INSERT INTO sources (name) SELECT unnest($1::text[]) "
            "ON CONFLICT (name) DO NOTHING) INSERT INTO metric_types (name) "
            "SELECT unnest($2::text[]) ON CONFLICT (name) DO NOTHING",
            new_sources,
            new_metrics,
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

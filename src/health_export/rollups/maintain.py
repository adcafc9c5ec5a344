"""Keep ``metric_rollups`` exact: recompute the local days a write touched from the rows.

Recomputing from the stored rows (rather than adding a batch's deltas) stays exact for
inserts, updates with changed values or offsets, re-sends, erases and replays alike:
whatever the rows are after the write, the days are summarised from them. A row at
UTC date d belongs, by its own offset or by the largest offset of its period (the
per-period dedupe), to local day d-1, d or d+1 (offsets are within ±23:59), so those
three days are recomputed; rows of local day D have start_at in [D-1, D+2) UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

from health_export.catalog.metrics import kind_of

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DaySpan:
    """Local days [first, last] of one metric whose rollups are recomputed."""

    metric_id: int
    first: date
    last: date
    is_cumulative: bool


def spans_of_days(metric_id: int, days: Iterable[date], *, is_cumulative: bool) -> list[DaySpan]:
    """Consecutive runs of ``days`` as spans (a sparse set stays a few short spans)."""
    spans: list[DaySpan] = []
    ordered = sorted(set(days))
    if not ordered:
        return spans
    first = last = ordered[0]
    for day in ordered[1:]:
        if day - last > ONE_DAY:
            spans.append(DaySpan(metric_id, first, last, is_cumulative))
            first = day
        last = day
    spans.append(DaySpan(metric_id, first, last, is_cumulative))
    return spans


def local_days_of_utc_dates(utc_dates: Iterable[date]) -> set[date]:
    """Every local day a row of these UTC dates can count in (see the module docstring)."""
    days: set[date] = set()
    for day in utc_dates:
        days.update((day - ONE_DAY, day, day + ONE_DAY))
    return days


class TouchedDays:
    """The (metric name, UTC date) pairs one write touched, gathered batch by batch."""

    def __init__(self) -> None:
        self.by_metric: dict[str, set[date]] = defaultdict(set)

    def add_rows(self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Note the rows of a ``metric_samples`` batch held in this process."""
        # Parsers reuse datetime objects for repeated times: convert each distinct one once.
        pairs = set(map(itemgetter(columns.index("metric"), columns.index("start_at")), rows))
        for metric, moment in pairs:
            self.by_metric[metric].add(_utc_date(moment))

    async def add_staged(self, apg: Any, batch_table: str) -> None:
        """Note the rows of a staged batch table (one aggregate in PostgreSQL)."""
        found = await apg.fetch(
            f"SELECT metric, array_agg(DISTINCT (start_at AT TIME ZONE 'UTC')::date) AS days "  # noqa: S608 - our own table name
            f"FROM {batch_table} GROUP BY metric"
        )
        for row in found:
            self.by_metric[row["metric"]].update(row["days"])

    async def refresh(self, apg: Any, user_id: int) -> int:
        """Recompute the rollups of every day touched; how many rollup rows now hold them."""
        if not self.by_metric:
            return 0
        ids = await _metric_ids(apg, list(self.by_metric))
        spans = [
            span
            for name, utc_dates in self.by_metric.items()
            for span in spans_of_days(
                ids[name],
                local_days_of_utc_dates(utc_dates),
                is_cumulative=kind_of(name) == "sum",
            )
        ]
        self.by_metric.clear()
        return await recompute(apg, user_id, spans)


async def refresh_range(
    apg: Any, user_id: int, metric_ids: Sequence[int], start: datetime, end: datetime
) -> int:
    """Recompute the rollups of ``metric_ids`` for every local day of rows in [start, end)."""
    if not metric_ids:
        return 0
    names = await apg.fetch(
        "SELECT id, name FROM metric_types WHERE id = ANY($1::int[])", list(metric_ids)
    )
    last_utc_date = _utc_date(end - timedelta(microseconds=1))
    spans = [
        DaySpan(
            row["id"],
            _utc_date(start) - ONE_DAY,
            last_utc_date + ONE_DAY,
            is_cumulative=kind_of(row["name"]) == "sum",
        )
        for row in names
    ]
    return await recompute(apg, user_id, spans)


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date() if moment.tzinfo is not None else moment.date()


async def _metric_ids(apg: Any, names: list[str]) -> dict[str, int]:
    rows = await apg.fetch("SELECT name, id FROM metric_types WHERE name = ANY($1)", names)
    return {row["name"]: row["id"] for row in rows}


# The rows of each span's days with the values each aggregate reads; the rows of
# cumulative metrics once more as periods (one value per start, the largest source's,
# at the largest offset: samples/repository.py reads them so); then per local day and
# offset, then per local day. $1 user; $2.. the spans as arrays.
SUMMARY_SQL = """
WITH spans AS (
    SELECT * FROM unnest($2::int[], $3::date[], $4::date[], $5::bool[])
        AS k(metric_id, first_day, last_day, is_cumulative)),
picked AS (
    SELECT s.metric_id, s.source_id, s.start_at, s.utc_offset_min AS off, s.qty,
           COALESCE(s.qty, s.avg, s.systolic) AS v,
           COALESCE(s.min, s.qty, s.avg, s.systolic) AS v_low,
           COALESCE(s.max, s.qty, s.avg, s.systolic) AS v_high,
           k.first_day, k.last_day, k.is_cumulative
    FROM spans k JOIN metric_samples s ON s.user_id = $1 AND s.metric_id = k.metric_id
     AND s.start_at >= (k.first_day - 1)::timestamp AT TIME ZONE 'UTC'
     AND s.start_at < (k.last_day + 2)::timestamp AT TIME ZONE 'UTC'),
periods AS (
    SELECT metric_id, 0 AS source_id, start_at, max(off) AS off, max(qty) AS qty, max(v) AS v,
           max(v_low) AS v_low, max(v_high) AS v_high, first_day, last_day
    FROM picked WHERE is_cumulative GROUP BY metric_id, start_at, first_day, last_day),
both_kinds AS (
    SELECT metric_id, source_id, start_at, off, NULL::float8 AS qty, v, v_low, v_high,
           first_day, last_day FROM picked
    UNION ALL SELECT * FROM periods),
per_offset AS (
    SELECT metric_id, source_id, day, off, min(start_at) AS first_at,
           count(v) AS n, sum(v) AS total, count(v_low) AS n_low, min(v_low) AS low,
           count(v_high) AS n_high, max(v_high) AS high, sum(qty) AS qty_total
    FROM (SELECT *, (start_at AT TIME ZONE 'UTC' + off * interval '1 minute')::date AS day
          FROM both_kinds) d
    WHERE day BETWEEN first_day AND last_day
    GROUP BY metric_id, source_id, day, off)
SELECT $1::bigint AS user_id, metric_id, day, source_id, min(first_at) AS first_at,
       (array_agg(off ORDER BY first_at, off DESC))[1]::smallint AS first_off,
       sum(n)::int AS n, sum(total) AS total, sum(n_low)::int AS n_low, min(low) AS low,
       sum(n_high)::int AS n_high, max(high) AS high, sum(qty_total) AS qty_total
FROM per_offset GROUP BY metric_id, day, source_id
"""
ROLLUP_COLUMNS = (
    "user_id, metric_id, day, source_id, first_at, first_off, "
    "n, total, n_low, low, n_high, high, qty_total"
)


def span_arrays(spans: Sequence[DaySpan]) -> list[list[Any]]:
    """The spans as the four array parameters of SUMMARY_SQL."""
    return [
        [span.metric_id for span in spans],
        [span.first for span in spans],
        [span.last for span in spans],
        [span.is_cumulative for span in spans],
    ]


async def recompute(apg: Any, user_id: int, spans: Sequence[DaySpan]) -> int:
    """Replace the rollups of ``spans`` by a summary of the rows stored now.

    Two statements, not one with a data-modifying CTE: the INSERT would not see the
    DELETE's effect and would meet the keys it deletes.
    """
    if not spans:
        return 0
    arrays = span_arrays(spans)
    await apg.execute(
        "DELETE FROM metric_rollups r USING unnest($2::int[], $3::date[], $4::date[]) "
        "AS k(metric_id, first_day, last_day) WHERE r.user_id = $1 "
        "AND r.metric_id = k.metric_id AND r.day BETWEEN k.first_day AND k.last_day",
        user_id,
        *arrays[:3],
    )
    status: str = await apg.execute(
        f"INSERT INTO metric_rollups ({ROLLUP_COLUMNS}) {SUMMARY_SQL}",  # noqa: S608 - fixed SQL
        user_id,
        *arrays,
    )
    return int(status.rsplit(" ", 1)[1])

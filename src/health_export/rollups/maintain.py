"""Keep the rollups exact: recompute the local days a write touched (and the UTC hours
around them) from the rows, where adding the write's rows is not enough (``deltas.py``:
updated rows, metrics kept per period) and after an erase.

A recompute is exact whatever happened to the rows (updates with changed values or
offsets, erases): the days are summarised from the rows stored now. A row at
UTC date d belongs, by its own offset or by the largest offset of its period (the
per-period dedupe), to local day d-1, d or d+1 (offsets are within ±23:59), so those
three days are recomputed; rows of local day D have start_at in [D-1, D+2) UTC. The
hourly rollups of every UTC hour of those dates are recomputed with them, from the same
scan (``summary_sql.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from health_export.catalog.metrics import kind_of
from health_export.rollups.summary_sql import (
    DELETE_DAILY_SQL,
    DELETE_HOURLY_SQL,
    WRITE_BOTH_SQL,
)

ONE_DAY = timedelta(days=1)
# Advisory lock class for "one rollup recompute per user at a time" ("HErl" in ASCII).
ROLLUP_LOCK_CLASS = 0x4845_726C


@dataclass(frozen=True, slots=True)
class DaySpan:
    """Local days [first, last] of one metric whose rollups are recomputed."""

    metric_id: int
    first: date
    last: date


def spans_of_days(metric_id: int, days: Iterable[date]) -> list[DaySpan]:
    """Consecutive runs of ``days`` as spans (a sparse set stays a few short spans)."""
    spans: list[DaySpan] = []
    ordered = sorted(set(days))
    if not ordered:
        return spans
    first = last = ordered[0]
    for day in ordered[1:]:
        if day - last > ONE_DAY:
            spans.append(DaySpan(metric_id, first, last))
            first = day
        last = day
    spans.append(DaySpan(metric_id, first, last))
    return spans


def local_days_of_utc_dates(utc_dates: Iterable[date]) -> set[date]:
    """Every local day a row of these UTC dates can count in (see the module docstring)."""
    days: set[date] = set()
    for day in utc_dates:
        days.update((day - ONE_DAY, day, day + ONE_DAY))
    return days


class TouchedDays:
    """The (metric, UTC date) pairs whose rollups one write must recompute, gathered
    batch by batch: the pairs a write of metric samples answers with (its updated rows,
    and the rows of metrics kept per period; ``deltas.py`` adds the other inserted rows
    to the rollups itself)."""

    def __init__(self) -> None:
        self.by_id: dict[int, set[date]] = defaultdict(set)
        self._locked = False

    async def lock(self, apg: Any, user_id: int) -> None:
        """Take the user's rollup lock (:func:`lock_rollups`) once for this transaction."""
        if not self._locked:
            await lock_rollups(apg, user_id)
            self._locked = True

    def add_written(self, metric_ids: Sequence[int], utc_dates: Sequence[date]) -> None:
        """Note the (metric id, UTC date) pairs of rows whose days must be recomputed."""
        for metric_id, day in zip(metric_ids, utc_dates, strict=True):
            self.by_id[metric_id].add(day)

    async def refresh(self, apg: Any, user_id: int) -> int:
        """Recompute the rollups of every day noted; how many rollup rows now hold them."""
        spans = [
            span
            for metric_id, utc_dates in self.by_id.items()
            for span in spans_of_days(metric_id, local_days_of_utc_dates(utc_dates))
        ]
        self.by_id.clear()
        return await recompute(apg, user_id, spans)


async def refresh_range(
    apg: Any, user_id: int, metric_ids: Sequence[int], start: datetime, end: datetime
) -> int:
    """Recompute the rollups of ``metric_ids`` for every local day of rows in [start, end)."""
    first, last = _utc_date(start) - ONE_DAY, _utc_date(end - timedelta(microseconds=1)) + ONE_DAY
    return await recompute(apg, user_id, [DaySpan(m, first, last) for m in metric_ids])


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date() if moment.tzinfo is not None else moment.date()


async def metrics_kept_per_period(apg: Any, user_id: int, metric_ids: Sequence[int]) -> set[int]:
    """The metrics among ``metric_ids`` whose rollups include per-period rows: cumulative
    ones with more than one source (with one source a period is its one sample)."""
    rows = await apg.fetch(
        "SELECT mt.id, mt.name FROM metric_types mt WHERE mt.id = ANY($2::int[]) AND (SELECT "
        "count(*) FROM metric_sources ms WHERE ms.user_id = $1 AND ms.metric_id = mt.id) > 1",
        user_id,
        list(metric_ids),
    )
    return {row["id"] for row in rows if kind_of(row["name"]) == "sum"}


# Days of a metric now kept per period whose per-period rows are missing: computed
# while it had one source. Its second source makes them needed.
_UNCOUNTED_DAYS = """
SELECT r.metric_id, min(r.day) AS first_day, max(r.day) AS last_day
FROM metric_rollups r WHERE r.user_id = $1 AND r.metric_id = ANY($2::int[]) AND r.source_id <> 0
  AND NOT EXISTS (SELECT 1 FROM metric_rollups z WHERE z.user_id = $1
                  AND z.metric_id = r.metric_id AND z.day = r.day AND z.source_id = 0)
GROUP BY r.metric_id
"""


def span_arrays(spans: Sequence[DaySpan]) -> list[list[Any]]:
    """The spans as the three array parameters of the summary SQL (``summary_sql.py``)."""
    return [
        [span.metric_id for span in spans],
        [span.first for span in spans],
        [span.last for span in spans],
    ]


async def lock_rollups(apg: Any, user_id: int) -> None:
    """Serialise the rollup writes of one user until the transaction ends.

    An erase and an ingest of one user may recompute the same days: the second waits
    for the first to commit, then deletes what it wrote and sees its rows. Taken after
    the ingest's own user lock, never before it, so the two cannot deadlock.
    """
    await apg.execute(
        "SELECT pg_advisory_xact_lock($1, $2)", ROLLUP_LOCK_CLASS, user_id % 2_147_483_647
    )


async def recompute(apg: Any, user_id: int, spans: Sequence[DaySpan]) -> int:
    """Replace the rollups of ``spans`` by a summary of the rows stored now; rows written.

    Two statements, not one with a data-modifying CTE: the INSERT would not see the
    DELETE's effect and would meet the keys it deletes. A metric that just got its
    second source has the per-period rows of its earlier days added too.
    """
    if not spans:
        return 0
    await lock_rollups(apg, user_id)
    per_period = await metrics_kept_per_period(apg, user_id, sorted({s.metric_id for s in spans}))
    written = await _replace(apg, user_id, spans, per_period)
    if per_period:
        found = await apg.fetch(_UNCOUNTED_DAYS, user_id, sorted(per_period))
        missing = [DaySpan(r["metric_id"], r["first_day"], r["last_day"]) for r in found]
        if missing:
            written += await _replace(apg, user_id, missing, per_period)
    return written


def disjoint_windows(spans: Sequence[DaySpan]) -> list[DaySpan]:
    """The spans, a metric's merged where the UTC dates they read would overlap.

    A span reads (and rewrites the hourly rollups of) UTC dates [first - 1, last + 2):
    two spans of one metric closer than that would write the same hours twice. Merging
    them recomputes a day or two more, which stays exact.
    """
    merged: list[DaySpan] = []
    for span in sorted(spans, key=lambda s: (s.metric_id, s.first)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.metric_id == span.metric_id
            and span.first <= last.last + 2 * ONE_DAY
        ):
            merged[-1] = DaySpan(span.metric_id, last.first, max(last.last, span.last))
        else:
            merged.append(span)
    return merged


async def _replace(apg: Any, user_id: int, spans: Sequence[DaySpan], per_period: set[int]) -> int:
    arrays = span_arrays(disjoint_windows(spans))
    await apg.execute(DELETE_DAILY_SQL, user_id, *arrays)
    await apg.execute(DELETE_HOURLY_SQL, user_id, *arrays)
    # The planner cannot see how many rows a span holds (it guesses one) and sorted
    # 300k rows twice to group them; hashing took the summary from 0.76 to 0.47 s
    # (300k single-source points, measured).
    await apg.execute("SELECT set_config('enable_sort', 'off', true)")
    status: str = await apg.execute(WRITE_BOTH_SQL, user_id, *arrays, sorted(per_period))
    await apg.execute("SELECT set_config('enable_sort', 'on', true)")
    return int(status.rsplit(" ", 1)[1])

"""Rows a write inserts, added to the rollups of their day and hour by the write itself.

A recompute (``maintain.py``) reads every row of the local days a write touched and
the days beside them: for a phone's sync of 100 new points that is thousands of stored
rows per metric, and it was most of a small sync's cost (``bench/README.md``). A new
row changes its day's and its hour's figures by itself alone (one more value in the
count, the sum, the minimum and the maximum; an earlier first sample), so the write's
own statement adds the rows it inserted to the rollups: ``INSERT … ON CONFLICT DO
UPDATE`` with the sums added and the extremes widened. What a delta cannot express is
recomputed as before, from the rows:

- an updated row (its old value is gone: a minimum cannot be taken back);
- every row of a metric kept per period (a cumulative metric with several sources),
  whose period rows take the largest source's value at each start, not a sum.

The write answers with the (metric, UTC date) pairs of those rows only; the rest are
exact already. Sums added in another order may differ from a recompute in the last
bits of a double (the rebuild compares them to 1e-9).
"""

from __future__ import annotations

from health_export.catalog.metrics import METRICS
from health_export.rollups.summary_sql import HOURLY_COLUMNS, ROLLUP_COLUMNS

# What a metric-sample write returns of each row it wrote, for the deltas and for the
# recompute of the rest.
SAMPLE_RETURNING = (
    "metric_id, source_id, start_at, utc_offset_min, qty, avg, min, max, systolic, "
    "(start_at AT TIME ZONE 'UTC')::date AS utc_day"
)

# The metrics whose rollups hold per-period rows when they have several sources.
CUMULATIVE_METRICS = sorted(name for name, spec in METRICS.items() if spec.kind == "sum")


def _added(column: str) -> str:
    """A sum added to the stored one, either side possibly NULL (no value yet)."""
    return f"{column} = COALESCE(r.{column} + EXCLUDED.{column}, r.{column}, EXCLUDED.{column})"


_FIGURES_UPDATE = ", ".join(
    (
        "n = r.n + EXCLUDED.n",
        _added("total"),
        "n_low = r.n_low + EXCLUDED.n_low",
        "low = LEAST(r.low, EXCLUDED.low)",
        "n_high = r.n_high + EXCLUDED.n_high",
        "high = GREATEST(r.high, EXCLUDED.high)",
        _added("qty_total"),
    )
)
_FIGURES = (
    "count(v)::int, sum(v), count(v_low)::int, min(v_low), count(v_high)::int, "
    "max(v_high), sum(qty)"
)


def delta_ctes(written: str, cumulative_param: str) -> str:
    """CTEs (each starting with a comma) adding the inserted rows of CTE ``written``
    (its ``is_insert`` rows, with :data:`SAMPLE_RETURNING`) to both rollups.

    ``cumulative_param`` is the parameter holding :data:`CUMULATIVE_METRICS`; ``$1`` is
    the user. ``kept_per_period`` names the metrics left to the recompute.
    """
    # Within ±23:59 of UTC a local day is the date of start_at moved by the offset.
    day = "((w.start_at + make_interval(mins => w.utc_offset_min)) AT TIME ZONE 'UTC')::date"
    hour = "date_bin('1 hour', w.start_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
    return f""",
kept_per_period AS MATERIALIZED (
    SELECT ms.metric_id FROM metric_sources ms JOIN metric_types mt ON mt.id = ms.metric_id
    WHERE ms.user_id = $1 AND mt.name = ANY({cumulative_param}::text[])
    GROUP BY ms.metric_id HAVING count(*) > 1),
added AS (
    SELECT w.metric_id, w.source_id, w.start_at, w.utc_offset_min AS off,
           {day} AS day, {hour} AS hour, w.qty,
           COALESCE(w.qty, w.avg, w.systolic) AS v,
           COALESCE(w.min, w.qty, w.avg, w.systolic) AS v_low,
           COALESCE(w.max, w.qty, w.avg, w.systolic) AS v_high
    FROM {written} w
    WHERE w.is_insert AND w.metric_id NOT IN (SELECT metric_id FROM kept_per_period)),
added_daily AS (
    INSERT INTO metric_rollups AS r ({ROLLUP_COLUMNS})
    SELECT $1::bigint, metric_id, day, source_id, min(start_at),
           (array_agg(off ORDER BY start_at))[1]::smallint, {_FIGURES}
    FROM added GROUP BY metric_id, day, source_id
    ON CONFLICT (user_id, metric_id, day, source_id) DO UPDATE SET
        first_at = LEAST(r.first_at, EXCLUDED.first_at),
        first_off = CASE WHEN EXCLUDED.first_at < r.first_at
                         THEN EXCLUDED.first_off ELSE r.first_off END,
        {_FIGURES_UPDATE}),
added_hourly AS (
    INSERT INTO metric_hourly_rollups AS r ({HOURLY_COLUMNS})
    SELECT $1::bigint, metric_id, hour, source_id, {_FIGURES}
    FROM added GROUP BY metric_id, hour, source_id
    ON CONFLICT (user_id, metric_id, hour, source_id) DO UPDATE SET {_FIGURES_UPDATE})"""  # noqa: S608 - fixed fragments


def recompute_pairs_select(written: str) -> str:
    """The (metric id, UTC date) arrays of the rows of ``written`` the deltas left out,
    in one order (the pairs are distinct, so the sort is total)."""
    left = (
        f"(SELECT DISTINCT metric_id, utc_day FROM {written} "  # noqa: S608 - a CTE's name
        "WHERE NOT is_insert OR metric_id IN (SELECT metric_id FROM kept_per_period)) d"
    )
    return (
        f", (SELECT array_agg(metric_id ORDER BY metric_id, utc_day) FROM {left})"  # noqa: S608
        f", (SELECT array_agg(utc_day ORDER BY metric_id, utc_day) FROM {left})"  # noqa: S608
    )

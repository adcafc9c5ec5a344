"""The SQL that summarises stored rows into daily and hourly rollups (one scan for both).

$1 is the user; $2-$4 the spans (metric id, first and last local day) as arrays; $5 the
metrics kept per period. Each span reads the rows of UTC dates [first - 1, last + 2),
which hold every row of its local days (offsets are within ±23:59) and every row of
each UTC hour in that window: the daily rollups of the span's days and the hourly
rollups of the window's hours are both exact, so the spans a write recomputes must have
disjoint windows (``maintain.disjoint_windows``).

The rows are grouped once per (metric, source, UTC hour, local day, offset): per source,
and per period for metrics in $5 (one value per start, the largest source's, at the
largest offset: health_data/metrics/repository.py reads them so). Daily rollups add those groups up
per local day (an empty period row, first_at NULL, marks a day holding samples but no
period, which says the day's periods were counted); hourly ones per UTC hour.
"""

from __future__ import annotations

ROLLUP_COLUMNS = (
    "user_id, metric_id, day, source_id, first_at, first_off, "
    "n, total, n_low, low, n_high, high, qty_total"
)
HOURLY_COLUMNS = (
    "user_id, metric_id, hour, source_id, n, total, n_low, low, n_high, high, qty_total"
)

_LOCAL_DAY = "(({at} + make_interval(mins => {off})) AT TIME ZONE 'UTC')::date"
# The UTC hour of an instant. date_bin is arithmetic; date_trunc with a zone took the
# recompute of a 935k-point backfill from 1.67 to 1.84 s (medians of 3, measured).
_HOUR = "date_bin('1 hour', {at}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
_WINDOW = """s.user_id = $1 AND s.metric_id = k.metric_id
     AND s.start_at >= (k.first_day - 1)::timestamp AT TIME ZONE 'UTC'
     AND s.start_at < (k.last_day + 2)::timestamp AT TIME ZONE 'UTC'"""
_GROUPS = f"""
WITH spans AS (
    SELECT * FROM unnest($2::int[], $3::date[], $4::date[]) AS k(metric_id, first_day, last_day)),
per_source AS (
    SELECT k.metric_id, s.source_id, {_HOUR.format(at="s.start_at")} AS hour,
           {_LOCAL_DAY.format(at="s.start_at", off="s.utc_offset_min")} AS day,
           s.utc_offset_min AS off, min(s.start_at) AS first_at,
           count(COALESCE(s.qty, s.avg, s.systolic)) AS n,
           sum(COALESCE(s.qty, s.avg, s.systolic)) AS total,
           count(COALESCE(s.min, s.qty, s.avg, s.systolic)) AS n_low,
           min(COALESCE(s.min, s.qty, s.avg, s.systolic)) AS low,
           count(COALESCE(s.max, s.qty, s.avg, s.systolic)) AS n_high,
           max(COALESCE(s.max, s.qty, s.avg, s.systolic)) AS high,
           sum(s.qty) AS qty_total, k.first_day, k.last_day
    FROM spans k JOIN metric_samples s ON {_WINDOW}
    GROUP BY k.metric_id, s.source_id, 3, 4, s.utc_offset_min, k.first_day, k.last_day),
per_period AS (
    SELECT k.metric_id, 0 AS source_id, {_HOUR.format(at="p.start_at")} AS hour,
           {_LOCAL_DAY.format(at="p.start_at", off="p.off")} AS day,
           p.off, min(p.start_at) AS first_at, count(p.v) AS n, sum(p.v) AS total,
           count(p.v_low) AS n_low, min(p.v_low) AS low, count(p.v_high) AS n_high,
           max(p.v_high) AS high, sum(p.qty) AS qty_total, k.first_day, k.last_day
    FROM spans k CROSS JOIN LATERAL (
        SELECT s.start_at, max(s.utc_offset_min) AS off, max(s.qty) AS qty,
               max(COALESCE(s.qty, s.avg, s.systolic)) AS v,
               max(COALESCE(s.min, s.qty, s.avg, s.systolic)) AS v_low,
               max(COALESCE(s.max, s.qty, s.avg, s.systolic)) AS v_high
        FROM metric_samples s WHERE {_WINDOW}
        GROUP BY s.start_at) p
    WHERE k.metric_id = ANY($5::int[])
    GROUP BY k.metric_id, 3, 4, p.off, k.first_day, k.last_day),
parts AS (SELECT * FROM per_source UNION ALL SELECT * FROM per_period),
counted_days AS (
    SELECT DISTINCT metric_id, 0 AS source_id, NULL::timestamptz AS hour, day,
           NULL::smallint AS off, NULL::timestamptz AS first_at, 0::bigint AS n,
           NULL::float8 AS total, 0::bigint AS n_low, NULL::float8 AS low, 0::bigint AS n_high,
           NULL::float8 AS high, NULL::float8 AS qty_total, first_day, last_day
    FROM per_source WHERE metric_id = ANY($5::int[]))"""  # noqa: S608 - fixed fragments
_DAILY = """
SELECT $1::bigint AS user_id, metric_id, day, source_id, min(first_at) AS first_at,
       (array_agg(off ORDER BY first_at, off DESC))[1]::smallint AS first_off,
       sum(n)::int AS n, sum(total) AS total, sum(n_low)::int AS n_low, min(low) AS low,
       sum(n_high)::int AS n_high, max(high) AS high, sum(qty_total) AS qty_total
FROM (SELECT * FROM parts UNION ALL SELECT * FROM counted_days) d
WHERE day BETWEEN first_day AND last_day GROUP BY metric_id, day, source_id"""
_HOURLY = """
SELECT $1::bigint AS user_id, metric_id, hour, source_id, sum(n)::int AS n,
       sum(total) AS total, sum(n_low)::int AS n_low, min(low) AS low,
       sum(n_high)::int AS n_high, max(high) AS high, sum(qty_total) AS qty_total
FROM parts GROUP BY metric_id, hour, source_id"""

# The daily and the hourly rollups of the spans, as two queries (the rebuild compares them).
DAILY_SQL = _GROUPS + _DAILY
HOURLY_SQL = _GROUPS + _HOURLY
# Both written by one statement, from one scan of the rows.
WRITE_BOTH_SQL = (
    _GROUPS
    + f",\nhourly AS (INSERT INTO metric_hourly_rollups ({HOURLY_COLUMNS}) {_HOURLY})\n"
    + f"INSERT INTO metric_rollups ({ROLLUP_COLUMNS}) {_DAILY}"
)
DELETE_DAILY_SQL = (
    "DELETE FROM metric_rollups r USING unnest($2::int[], $3::date[], $4::date[]) "
    "AS k(metric_id, first_day, last_day) WHERE r.user_id = $1 "
    "AND r.metric_id = k.metric_id AND r.day BETWEEN k.first_day AND k.last_day"
)
DELETE_HOURLY_SQL = (
    "DELETE FROM metric_hourly_rollups r USING unnest($2::int[], $3::date[], $4::date[]) "
    "AS k(metric_id, first_day, last_day) WHERE r.user_id = $1 AND r.metric_id = k.metric_id "
    "AND r.hour >= (k.first_day - 1)::timestamp AT TIME ZONE 'UTC' "
    "AND r.hour < (k.last_day + 2)::timestamp AT TIME ZONE 'UTC'"
)

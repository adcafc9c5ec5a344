"""SQL of the sync view: request history per automation, and days with data per metric."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

FAILED_OUTCOMES = ("rejected", "failed", "refused")
# Requests closer together than this are one run of an automation (Batch requests
# splits one export into many POSTs within seconds), so they never count as its cadence.
SAME_RUN_S = 120.0
HISTORY_DAYS = 30
# What an automation carries is read from this many days of its requests (a year of
# hourly runs would otherwise be 9k rows to unfold per metric).
CARRIED_DAYS = 90


def _latest(column: str) -> str:
    # The newest non-null value of a column: what the automation is set to now.
    return (
        f"(array_agg({column} ORDER BY received_at DESC) "
        f"FILTER (WHERE {column} IS NOT NULL))[1] AS {column}"
    )


_SUMMARY = f"""
SELECT automation_key, {_latest("automation_name")}, {_latest("automation_id")},
       {_latest("aggregation")}, {_latest("period")}, {_latest("app_version")},
       min(received_at) AS first_seen, max(received_at) AS last_seen,
       count(*) AS requests, coalesce(sum(points), 0) AS points,
       coalesce(sum(rejected_points), 0) AS rejected_points,
       count(*) FILTER (WHERE outcome IN ('rejected', 'failed', 'refused')) AS failures
FROM sync_requests WHERE user_id = :user_id
GROUP BY automation_key ORDER BY max(received_at) DESC
"""


async def automation_summaries(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """One row per automation of the user: identity as last sent, counts, first/last seen."""
    result = await conn.execute(text(_SUMMARY), {"user_id": user_id})
    return [dict(row) for row in result.mappings()]


async def carried(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """Per automation, each table, metric and workout feature it sent in the last
    CARRIED_DAYS: total, last sent, on how many days."""
    result = await conn.execute(
        text(
            """
            SELECT r.automation_key, e.kind, e.name, sum(e.n)::bigint AS total,
                   max(r.received_at) AS last_at, count(DISTINCT r.received_at::date) AS days
            FROM sync_requests r
            CROSS JOIN LATERAL (
                SELECT 'table' AS kind, key AS name, value::bigint AS n
                  FROM jsonb_each_text(coalesce(r.tables, '{}'))
                UNION ALL
                SELECT 'metric', key, value::bigint FROM jsonb_each_text(coalesce(r.metrics, '{}'))
                UNION ALL
                SELECT 'feature', key, value::bigint
                  FROM jsonb_each_text(coalesce(r.features, '{}'))
            ) e
            WHERE r.user_id = :user_id AND r.outcome = 'processed'
              AND r.received_at > now() - make_interval(days => :days)
            GROUP BY r.automation_key, e.kind, e.name
            """
        ),
        {"user_id": user_id, "days": CARRIED_DAYS},
    )
    return [dict(row) for row in result.mappings()]


async def recent_requests(
    conn: AsyncConnection, user_id: int, since: datetime
) -> list[dict[str, Any]]:
    """The user's requests since ``since``, oldest first (outcome, status, what they held)."""
    result = await conn.execute(
        text(
            "SELECT automation_key, received_at, outcome, http_status, error, metrics "
            "FROM sync_requests WHERE user_id = :user_id AND received_at >= :since "
            "ORDER BY received_at"
        ),
        {"user_id": user_id, "since": since},
    )
    return [dict(row) for row in result.mappings()]


_CADENCE = """
WITH steps AS (
    SELECT user_id, automation_key,
           extract(epoch FROM received_at - lag(received_at) OVER (
               PARTITION BY user_id, automation_key ORDER BY received_at)) AS step_s
    FROM sync_requests
    WHERE received_at > now() - make_interval(days => :days) {user_filter}
)
SELECT user_id, automation_key, percentile_cont(0.5) WITHIN GROUP (ORDER BY step_s) AS cadence_s,
       count(*) AS intervals
FROM steps WHERE step_s >= :same_run_s
GROUP BY user_id, automation_key
"""


async def cadences(
    conn: AsyncConnection, user_id: int | None = None
) -> dict[tuple[int, str], tuple[float, int]]:
    """(user, automation) → (median seconds between runs, how many intervals it is from)."""
    user_filter = "" if user_id is None else "AND user_id = :user_id"
    result = await conn.execute(
        text(_CADENCE.format(user_filter=user_filter)),
        {"days": HISTORY_DAYS, "same_run_s": SAME_RUN_S, "user_id": user_id},
    )
    return {
        (int(row.user_id), str(row.automation_key)): (float(row.cadence_s), int(row.intervals))
        for row in result
    }


async def latest_runs(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every automation active in the history window: its user, name, last request and the
    outcomes of its latest requests, newest first."""
    result = await conn.execute(
        text(
            """
            SELECT user_id, automation_key, max(received_at) AS last_seen,
                   (array_agg(automation_name ORDER BY received_at DESC)
                      FILTER (WHERE automation_name IS NOT NULL))[1] AS automation_name,
                   (array_agg(outcome ORDER BY received_at DESC))[1:10] AS outcomes,
                   (array_agg(http_status ORDER BY received_at DESC))[1:10] AS statuses,
                   max(received_at) FILTER (WHERE outcome = 'processed') AS last_processed
            FROM sync_requests WHERE received_at > now() - make_interval(days => :days)
            GROUP BY user_id, automation_key
            """
        ),
        {"days": HISTORY_DAYS},
    )
    return [dict(row) for row in result.mappings()]


_LOCAL = "(({t}.start_at AT TIME ZONE 'UTC') + {t}.utc_offset_min * interval '1 minute')"
# A night is named by its wake-up day: 12 hours after any time from noon to noon.
_NIGHT = f"({_LOCAL} + interval '12 hours')::date"


async def metric_newest(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """Each point metric of the user with its newest sample (time and the sender's offset)."""
    result = await conn.execute(
        text(
            f"""
            SELECT m.id AS metric_id, m.name, newest.start_at, newest.utc_offset_min,
                   {_LOCAL.format(t="newest")}::date AS last_day
            FROM (SELECT DISTINCT metric_id FROM metric_sources WHERE user_id = :user_id) ms
            JOIN metric_types m ON m.id = ms.metric_id
            CROSS JOIN LATERAL (
                SELECT s.start_at, s.utc_offset_min FROM metric_samples s
                WHERE s.user_id = :user_id AND s.metric_id = ms.metric_id
                ORDER BY s.start_at DESC LIMIT 1
            ) newest
            ORDER BY m.name
            """
        ),
        {"user_id": user_id},
    )
    return [dict(row) for row in result.mappings()]


async def metric_day_counts(
    conn: AsyncConnection, user_id: int, since: dict[int, datetime]
) -> dict[int, dict[Any, int]]:
    """Samples per local day of each metric, from its own ``since`` on."""
    if not since:
        return {}
    result = await conn.execute(
        text(
            f"""
            SELECT s.metric_id, {_LOCAL.format(t="s")}::date AS day, count(*) AS n
            FROM metric_samples s
            JOIN unnest(CAST(:ids AS integer[]), CAST(:sinces AS timestamptz[]))
                 AS w(metric_id, since)
              ON s.metric_id = w.metric_id AND s.start_at >= w.since
            WHERE s.user_id = :user_id
            GROUP BY s.metric_id, day
            """
        ),
        {"user_id": user_id, "ids": list(since), "sinces": list(since.values())},
    )
    counts: dict[int, dict[Any, int]] = {}
    for row in result:
        counts.setdefault(int(row.metric_id), {})[row.day] = int(row.n)
    return counts


async def sleep_newest(conn: AsyncConnection, user_id: int) -> dict[str, Any] | None:
    """The newest night or stage segment of the user (None without any sleep)."""
    result = await conn.execute(
        text(
            f"""
            SELECT start_at, utc_offset_min, last_day FROM (
                (SELECT start_at, utc_offset_min, {_NIGHT.format(t="a")} AS last_day
                   FROM sleep_sessions a WHERE user_id = :user_id
                   ORDER BY start_at DESC LIMIT 1)
                UNION ALL
                (SELECT start_at, utc_offset_min, {_NIGHT.format(t="b")}
                   FROM sleep_stages b WHERE user_id = :user_id
                   ORDER BY start_at DESC LIMIT 1)
            ) newest ORDER BY start_at DESC LIMIT 1
            """
        ),
        {"user_id": user_id},
    )
    row = result.mappings().first()
    return dict(row) if row else None


async def sleep_night_counts(
    conn: AsyncConnection, user_id: int, since: datetime
) -> dict[Any, int]:
    """Nights and stage segments per wake-up day since ``since``."""
    result = await conn.execute(
        text(
            f"""
            SELECT day, sum(n)::bigint AS n FROM (
                SELECT {_NIGHT.format(t="a")} AS day, count(*) AS n FROM sleep_sessions a
                WHERE a.user_id = :user_id AND a.start_at >= :since GROUP BY 1
                UNION ALL
                SELECT {_NIGHT.format(t="b")}, count(*) FROM sleep_stages b
                WHERE b.user_id = :user_id AND b.start_at >= :since GROUP BY 1
            ) nights GROUP BY day
            """
        ),
        {"user_id": user_id, "since": since},
    )
    return {row.day: int(row.n) for row in result}


async def drift_seen(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """Unknown keys, new metric names and new fields per app version, with when seen."""
    result = await conn.execute(
        text(
            """
            SELECT app_version, kind, name, count(*) AS requests,
                   min(received_at) AS first_seen, max(received_at) AS last_seen
            FROM (
                SELECT app_version, received_at, 'unknown_key' AS kind, unnest(unknown_keys) AS name
                  FROM sync_requests WHERE user_id = :user_id AND unknown_keys IS NOT NULL
                UNION ALL
                SELECT app_version, received_at, 'new_metric', unnest(new_metrics)
                  FROM sync_requests WHERE user_id = :user_id AND new_metrics IS NOT NULL
                UNION ALL
                SELECT app_version, received_at, 'new_field', unnest(new_fields)
                  FROM sync_requests WHERE user_id = :user_id AND new_fields IS NOT NULL
            ) found
            GROUP BY app_version, kind, name
            ORDER BY min(received_at) DESC, kind, name
            """
        ),
        {"user_id": user_id},
    )
    return [dict(row) for row in result.mappings()]


async def open_incidents(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    """The user's incidents not resolved yet."""
    result = await conn.execute(
        text(
            "SELECT id, kind, subject, automation_key, summary, opened_at FROM sync_incidents "
            "WHERE user_id = :user_id AND resolved_at IS NULL ORDER BY opened_at DESC"
        ),
        {"user_id": user_id},
    )
    return [dict(row) for row in result.mappings()]

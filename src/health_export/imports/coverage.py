"""GET /api/v1/imports/{id}/coverage: per metric and local day, the archive against the feed.

``archive`` is what the archive held that day (counted while parsing, kept in
``import_day_counts``); ``feed`` the rows the app's feed stored for that metric and day;
``only_in_archive`` the rows only an archive delivered (``attrs.origin = "archive"``,
see ``imports/apple_health/provenance.py``). A day is flagged ``feed_incomplete`` when
the feed lacks samples the archive has, i.e. ``only_in_archive > 0``: exactly the data
the app never delivered, which a comparison of counts alone would misjudge when the
archive repeats a sample (an exact duplicate is stored once).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_COVERAGE = text(
    "WITH archive AS ("
    " SELECT metric, day, samples FROM import_day_counts WHERE import_id = :import_id"
    " AND (CAST(:metric AS text) IS NULL OR metric = CAST(:metric AS text))"
    " AND day >= :first AND day < :after),"
    " bounds AS (SELECT min(day) AS lo, max(day) AS hi FROM archive),"
    " stored AS ("
    " SELECT mt.name AS metric,"
    " CAST(m.start_at AT TIME ZONE 'UTC' + make_interval(mins => m.utc_offset_min) AS date) AS day,"
    " count(*) FILTER (WHERE m.attrs ->> 'origin' IS DISTINCT FROM 'archive') AS feed,"
    " count(*) FILTER (WHERE m.attrs ->> 'origin' = 'archive') AS only_in_archive"
    " FROM metric_samples m JOIN metric_types mt ON mt.id = m.metric_id CROSS JOIN bounds"
    " WHERE m.user_id = :user_id"
    " AND m.metric_id IN (SELECT id FROM metric_types WHERE name IN (SELECT metric FROM archive))"
    # Every UTC offset (-12:00 to +14:00) fits in a day's margin on each side.
    " AND m.start_at >= CAST(bounds.lo - 1 AS timestamp) AT TIME ZONE 'UTC'"
    " AND m.start_at < CAST(bounds.hi + 2 AS timestamp) AT TIME ZONE 'UTC'"
    " GROUP BY 1, 2)"
    " SELECT a.metric, a.day, a.samples AS archive, COALESCE(s.feed, 0) AS feed,"
    " COALESCE(s.only_in_archive, 0) AS only_in_archive"
    " FROM archive a LEFT JOIN stored s USING (metric, day) ORDER BY a.metric, a.day"
)


async def coverage(
    conn: AsyncConnection,
    import_id: uuid.UUID,
    user_id: int,
    *,
    metric: str | None,
    first: date,
    after: date,
) -> dict[str, Any]:
    """The coverage answer of one done import."""
    rows = await conn.execute(
        _COVERAGE,
        {
            "import_id": import_id,
            "user_id": user_id,
            "metric": metric,
            "first": first,
            "after": after,
        },
    )
    days = [
        {
            "metric": row.metric,
            "date": row.day.isoformat(),
            "archive": row.archive,
            "feed": row.feed,
            "only_in_archive": row.only_in_archive,
            "feed_incomplete": row.only_in_archive > 0,
        }
        for row in rows
    ]
    return {
        "import_id": str(import_id),
        "days": days,
        "days_feed_incomplete": sum(1 for day in days if day["feed_incomplete"]),
    }

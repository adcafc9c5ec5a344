"""A metric's newest stored samples, newest first (the explore page's raw rows).

The raw-sample route pages forward from the oldest; a person exploring a metric wants
the last few readings, which a backward scan of the primary key gives directly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.core.db import driver_connection
from health_export.health_data.metrics import service
from health_export.health_data.params import TimeRange

_NEWEST = """
SELECT ms.start_at, ms.end_at, ms.utc_offset_min, ms.source_id, src.name AS source, ms.unit,
       ms.qty, ms.min, ms.avg, ms.max, ms.systolic, ms.diastolic, ms.attrs::text AS attrs
FROM metric_samples ms JOIN sources src ON src.id = ms.source_id
WHERE ms.user_id = $1 AND ms.metric_id = $2 AND ms.start_at >= $3 AND ms.start_at < $4
ORDER BY ms.start_at DESC, ms.source_id DESC
LIMIT $5
"""


async def newest_samples(
    session: AsyncSession,
    user_id: int,
    name: str,
    span: TimeRange,
    *,
    limit: int,
    unit: str | None,
) -> dict[str, Any]:
    """Up to ``limit`` samples of ``name`` in ``span``, the newest first."""
    metric_id = await service.metric_id_of(session, user_id, name)
    answer_unit, change = service.unit_change(name, unit)
    rows: list[Any] = []
    if metric_id is not None:
        apg = await driver_connection(session)
        bounds = (span.lower, span.upper)
        rows = list(await apg.fetch(_NEWEST, user_id, metric_id, *bounds, limit + 1))
    samples = [service.sample_out(row, change, answer_unit) for row in rows[:limit]]
    return {
        "metric": name,
        "unit": answer_unit,
        "samples": samples,
        "truncated": len(rows) > limit,
    }

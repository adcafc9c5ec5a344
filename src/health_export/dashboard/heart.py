"""Heart by local day: resting heart rate, HRV, and the day's heart-rate low, mean and high."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.health_data.metrics import service
from health_export.health_data.metrics.schemas import Agg
from health_export.health_data.params import TimeRange

# Answer field -> (stored metric, aggregate of the day), as /metrics/{name}/series gives it.
HEART_FIELDS: dict[str, tuple[str, Agg]] = {
    "resting_hr": ("resting_heart_rate", "avg"),
    "hrv_ms": ("heart_rate_variability", "avg"),
    "hr_min": ("heart_rate", "min"),
    "hr_avg": ("heart_rate", "avg"),
    "hr_max": ("heart_rate", "max"),
}


async def heart_daily(
    session: AsyncSession, user_id: int, span: TimeRange, zone: ZoneInfo | None
) -> dict[str, Any]:
    """One entry per local day with any of the values (null where a value is missing)."""
    days: dict[date, dict[str, float | None]] = defaultdict(dict)
    for field, (metric, agg) in HEART_FIELDS.items():
        answer = await service.series(
            session,
            user_id,
            metric,
            span,
            bucket="day",
            agg=agg,
            zone=zone,
            source=None,
            unit=None,
        )
        for point in answer["points"]:
            days[point["start"].date()][field] = point["value"]
    rows = [
        {"date": day, **{field: found.get(field) for field in HEART_FIELDS}}
        for day, found in sorted(days.items())
    ]
    return {"tz": zone.key if zone is not None else None, "unit": "count/min", "days": rows}

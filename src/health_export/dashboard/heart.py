"""Heart by local day: resting heart rate, HRV, the day's heart-rate low, mean and high,
blood pressure, and the heart-rate notifications of the range."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.health_data.metrics import service
from health_export.health_data.metrics.schemas import Agg
from health_export.health_data.params import TimeRange
from health_export.health_data.records import record_types

# Rows of local day D start within [D-1, D+2) UTC: a window this much wider holds them all.
MARGIN = timedelta(days=1)
PAGE = 1000
MAX_NOTIFICATIONS = 1000

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
    return {
        "tz": zone.key if zone is not None else None,
        "unit": "count/min",
        "days": rows,
        "blood_pressure": await blood_pressure_days(session, user_id, span, zone),
        "notifications": await notifications(session, user_id, span, zone),
    }


def _widened(span: TimeRange) -> TimeRange:
    return TimeRange(
        span.start - MARGIN if span.start else None, span.end + MARGIN if span.end else None
    )


def local_day(moment: datetime, zone: ZoneInfo | None) -> date:
    """The local day of a stored time: at its own offset, or in ``zone``."""
    return (moment.astimezone(zone) if zone is not None else moment).date()


def is_within(moment: datetime, span: TimeRange, zone: ZoneInfo | None) -> bool:
    """Whether ``moment`` is in ``span``: a bare-date end by local day, else by instant."""
    day = local_day(moment, zone)
    if span.start_day is not None and day < span.start_day:
        return False
    if span.start_day is None and span.start is not None and moment < span.start:
        return False
    if span.end_day is not None:
        return day < span.end_day
    return span.end is None or moment < span.end


async def blood_pressure_days(
    session: AsyncSession, user_id: int, span: TimeRange, zone: ZoneInfo | None
) -> list[dict[str, Any]]:
    """Per local day: the mean systolic and diastolic of its readings (mmHg)."""
    readings: dict[date, list[tuple[float, float]]] = defaultdict(list)
    cursor: str | None = None
    while True:
        page = await service.sample_page(
            session,
            user_id,
            "blood_pressure",
            _widened(span),
            source=None,
            limit=PAGE,
            cursor=cursor,
            unit=None,
        )
        for sample in page["samples"]:
            if sample["systolic"] is None or sample["diastolic"] is None:
                continue
            if is_within(sample["start"], span, zone):
                day = local_day(sample["start"], zone)
                readings[day].append((sample["systolic"], sample["diastolic"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return [
        {
            "date": day,
            "systolic": statistics.fmean(high for high, _ in pairs),
            "diastolic": statistics.fmean(low for _, low in pairs),
            "readings": len(pairs),
        }
        for day, pairs in sorted(readings.items())
    ]


async def notifications(
    session: AsyncSession, user_id: int, span: TimeRange, zone: ZoneInfo | None
) -> list[dict[str, Any]]:
    """The range's heart-rate notifications (high, low, irregular), oldest first."""
    listed = await record_types.list_records(
        session, user_id, "heart_rate_notifications", _widened(span), MAX_NOTIFICATIONS
    )
    return [
        {
            "date": local_day(item["start"], zone),
            "start": item["start"],
            "end": item["end"],
            "kind": item["kind"],
            "threshold": item["threshold"],
        }
        for item in listed["items"]
        if is_within(item["start"], span, zone)
    ]

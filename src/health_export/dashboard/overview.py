"""The overview's cards: per key number, its latest value, the range against the period
before it, the daily values for a sparkline, and the person's typical range.

Every number comes from the read API's own services, so a card agrees with
`/api/v1/activity/daily`, `/api/v1/metrics/{name}/series?bucket=day` and `/api/v1/sleep`
for the same days.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.dashboard.rings import day_rings
from health_export.health_data.metrics import service, typed_views
from health_export.health_data.params import TimeRange
from health_export.health_data.records import sleep

Reader = Literal["activity", "series", "sleep"]
DayValue = tuple[date, float]


@dataclass(frozen=True, slots=True)
class CardSpec:
    """One card: where its daily values come from, and the app's name of its data type."""

    key: str
    label: str
    unit: str
    reader: Reader
    field: str
    hae_name: str


CARDS = (
    CardSpec("steps", "Steps", "count", "activity", "steps", "Step Count"),
    CardSpec(
        "active_energy", "Active energy", "kcal", "activity", "active_energy_kcal", "Active Energy"
    ),
    CardSpec("exercise", "Exercise", "min", "activity", "exercise_min", "Apple Exercise Time"),
    CardSpec("stand", "Stand hours", "h", "activity", "stand_hours", "Apple Stand Hour"),
    CardSpec(
        "resting_hr",
        "Resting heart rate",
        "count/min",
        "series",
        "resting_heart_rate",
        "Resting Heart Rate",
    ),
    CardSpec(
        "hrv",
        "Heart rate variability",
        "ms",
        "series",
        "heart_rate_variability",
        "Heart Rate Variability",
    ),
    CardSpec("sleep", "Sleep last night", "h", "sleep", "total_sleep_h", "Sleep Analysis"),
    CardSpec("weight", "Weight", "kg", "series", "weight_body_mass", "Weight & Body Mass"),
)


@dataclass(frozen=True, slots=True)
class Periods:
    """The range asked for, the one before it of the same length, and both together."""

    both: TimeRange
    first_day: date | None  # days before it belong to the previous period


def periods_of(span: TimeRange) -> Periods:
    """The previous period exists only for a range closed at both ends."""
    if span.start is None or span.end is None:
        return Periods(span, None)
    earlier = span.start - (span.end - span.start)
    earlier_day = None
    if span.start_day is not None and span.end_day is not None:
        earlier_day = span.start_day - (span.end_day - span.start_day)
    both = TimeRange(earlier, span.end, earlier_day, span.end_day)
    return Periods(both, span.start_day or span.start.date())


async def _daily_values(
    session: AsyncSession, user_id: int, span: TimeRange, zone: ZoneInfo | None
) -> tuple[dict[str, list[DayValue]], list[dict[str, Any]]]:
    """Each card's (day, value) pairs over ``span``, oldest first, and the activity days."""
    values: dict[str, list[DayValue]] = {}
    activity = await typed_views.activity_daily(session, user_id, span, zone)
    nights = (await sleep.nights(session, user_id, span))["nights"]
    for card in CARDS:
        if card.reader == "activity":
            rows = [(day["date"], day[card.field]) for day in activity["days"]]
        elif card.reader == "sleep":
            rows = [(night["date"], night[card.field]) for night in nights]
        else:
            answer = await service.series(
                session,
                user_id,
                card.field,
                span,
                bucket="day",
                agg="avg",
                zone=zone,
                source=None,
                unit=None,
            )
            rows = [(point["start"].date(), point["value"]) for point in answer["points"]]
        values[card.key] = [(day, value) for day, value in rows if value is not None]
    return values, activity["days"]


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _typical(values: list[float]) -> dict[str, float] | None:
    """The middle half of the daily values (25th to 75th percentile), from four days on."""
    if len(values) < 4:
        return None
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return {"low": low, "high": high}


def card_answer(card: CardSpec, rows: list[DayValue], first_day: date | None) -> dict[str, Any]:
    """One card from its daily values over both periods."""
    current = [(day, value) for day, value in rows if first_day is None or day >= first_day]
    previous = [value for day, value in rows if first_day is not None and day < first_day]
    mean, before = _mean([value for _, value in current]), _mean(previous)
    change = mean - before if mean is not None and before is not None else None
    latest = current[-1] if current else None
    return {
        "key": card.key,
        "label": card.label,
        "unit": card.unit,
        "hae_name": card.hae_name,
        "latest": {"date": latest[0], "value": latest[1]} if latest else None,
        "mean": mean,
        "previous_mean": before,
        "change": change,
        "change_pct": change / before * 100 if change is not None and before else None,
        "typical": _typical([value for _, value in rows]),
        "days": [{"date": day, "value": value} for day, value in current],
    }


async def overview(
    session: AsyncSession, user_id: int, span: TimeRange, zone: ZoneInfo | None
) -> dict[str, Any]:
    """The overview's cards for ``span`` (local days of ``zone`` or the stored offsets)."""
    chosen = periods_of(span)
    values, activity = await _daily_values(session, user_id, chosen.both, zone)
    cards = [card_answer(card, values[card.key], chosen.first_day) for card in CARDS]
    current = [
        day for day in activity if chosen.first_day is None or day["date"] >= chosen.first_day
    ]
    rings = await day_rings(session, user_id, current)
    return {"tz": zone.key if zone is not None else None, "cards": cards, "rings": rings}

"""The Activity rings: one row per user and calendar day, as the Health app keeps them.

Apple Health's export writes one ``<ActivitySummary>`` per day (move, exercise and stand
with their goals); the app's feed has no equivalent, so they live in a table of their
own, keyed by (user, day). The day is Apple's own ``dateComponents``: a calendar date
with no zone, the day the phone counted the rings for.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.health_data.params import TimeRange

# Units the values are stored in (energy converted from Apple's Cal/kcal/kJ).
RING_UNITS = {
    "active_energy": "kcal",
    "move_time": "min",
    "exercise_time": "min",
    "stand_hours": "h",
}

# Open ends: before and after any day a phone can have counted rings for.
_FIRST_DAY = date(1900, 1, 1)
_LAST_DAY = date(2400, 1, 1)


def day_bounds(span: TimeRange) -> tuple[date, date]:
    """[first, after) calendar days of a range: a date-time counts as its own date."""
    first = span.start_day or (span.start.date() if span.start else _FIRST_DAY)
    if span.end_day is not None:
        after = span.end_day
    else:
        after = span.end.date() + timedelta(days=1) if span.end else _LAST_DAY
    return first, after


_RINGS_SQL = text(
    "SELECT day, active_energy_kcal, active_energy_goal_kcal, move_time_min, "
    "move_time_goal_min, exercise_time_min, exercise_time_goal_min, stand_hours, "
    "stand_hours_goal FROM activity_summaries "
    "WHERE user_id = :user_id AND day >= :first AND day < :after ORDER BY day"
)


def _ring(value: Any, goal: Any, unit: str) -> dict[str, Any]:
    return {"value": value, "goal": goal, "unit": unit}


def ring_day(row: Any) -> dict[str, Any]:
    """One stored day as the API answers it."""
    return {
        "date": row.day.isoformat(),
        "active_energy": _ring(
            row.active_energy_kcal, row.active_energy_goal_kcal, RING_UNITS["active_energy"]
        ),
        "move_time": _ring(row.move_time_min, row.move_time_goal_min, RING_UNITS["move_time"]),
        "exercise_time": _ring(
            row.exercise_time_min, row.exercise_time_goal_min, RING_UNITS["exercise_time"]
        ),
        "stand_hours": _ring(row.stand_hours, row.stand_hours_goal, RING_UNITS["stand_hours"]),
    }


async def rings_between(
    session: AsyncSession, user_id: int, first: date, after: date
) -> dict[str, Any]:
    """The user's rings of the days in [first, after)."""
    rows = (
        await session.execute(_RINGS_SQL, {"user_id": user_id, "first": first, "after": after})
    ).all()
    return {"days": [ring_day(row) for row in rows]}

"""The overview's Activity rings: one day's move, exercise and stand from the feed's
daily activity, against the goals of the person's imported archive where known.

The app's feed has no goals; an imported Apple Health archive has one per day
(``activity_summaries``). A goal holds from the day it was set until it changes, so a
day after the archive's last one takes the last goal known. Without an archive the
exercise and stand rings use Apple's fixed goals (30 minutes, 12 hours); Apple has no
fixed move goal, so the move ring then shows its value without one.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

GoalFrom = Literal["archive", "default"]
# Ring → (the activity day's field, the archive's goal column, Apple's fixed goal).
RINGS: dict[str, tuple[str, str, float | None]] = {
    "move": ("active_energy_kcal", "active_energy_goal_kcal", None),
    "exercise": ("exercise_min", "exercise_time_goal_min", 30.0),
    "stand": ("stand_hours", "stand_hours_goal", 12.0),
}
UNITS = {"move": "kcal", "exercise": "min", "stand": "h"}


def _goal_sql(column: str) -> str:
    return (
        f"(SELECT {column} FROM activity_summaries WHERE user_id = :user_id "  # noqa: S608
        f"AND day <= :day AND {column} IS NOT NULL ORDER BY day DESC LIMIT 1) AS {column}"
    )


_GOALS_SQL = text("SELECT " + ", ".join(_goal_sql(column) for _, column, _ in RINGS.values()))


async def goals_on(session: AsyncSession, user_id: int, day: date) -> dict[str, Any]:
    """The archive's goal of each ring in force on ``day`` (None where never set)."""
    row = (await session.execute(_GOALS_SQL, {"user_id": user_id, "day": day})).one()
    return {ring: getattr(row, column) for ring, (_, column, _) in RINGS.items()}


def _ring(value: float | None, archived: float | None, default: float | None) -> dict[str, Any]:
    goal, goal_from = (archived, "archive") if archived is not None else (default, "default")
    return {
        "value": value,
        "goal": goal,
        "goal_from": goal_from if goal is not None else None,
        "fraction": value / goal if value is not None and goal else None,
    }


async def day_rings(
    session: AsyncSession, user_id: int, activity_days: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The rings of the last day with any ring value, or None when no day has one."""
    fields = [field for field, _, _ in RINGS.values()]
    days = [day for day in activity_days if any(day[field] is not None for field in fields)]
    if not days:
        return None
    last = days[-1]
    goals = await goals_on(session, user_id, last["date"])
    rings = {
        ring: {**_ring(last[field], goals[ring], default), "unit": UNITS[ring]}
        for ring, (field, _, default) in RINGS.items()
    }
    return {"date": last["date"], **rings}

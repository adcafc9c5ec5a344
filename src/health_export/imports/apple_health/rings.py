"""``<ActivitySummary>`` → one ``activity_summaries`` row per calendar day (the rings).

``dateComponents`` is a bare date (no time, no zone): the day the phone counted the
rings for, stored as it is. Energy comes in the user's unit (``Cal``, ``kcal``, ``kJ``)
and is stored in kcal, Apple's unit kept in ``attrs.source_unit``; the times are in
minutes and stand in hours. iOS 14 renamed ``appleMoveMinutes``/``appleMoveMinutesGoal``
to ``appleMoveTime``/``appleMoveTimeGoal``: both spellings are read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from health_export.imports.apple_health.records import RecordRejected
from health_export.imports.apple_health.units import stored_unit
from health_export.imports.apple_health.xml_stream import Node
from health_export.ingest.records import NormalisedPayload

# (stored column, export attribute names in order of preference)
_TIMES = (
    ("move_time_min", ("appleMoveTime", "appleMoveMinutes")),
    ("move_time_goal_min", ("appleMoveTimeGoal", "appleMoveMinutesGoal")),
    ("exercise_time_min", ("appleExerciseTime",)),
    ("exercise_time_goal_min", ("appleExerciseTimeGoal",)),
    ("stand_hours", ("appleStandHours",)),
    ("stand_hours_goal", ("appleStandHoursGoal",)),
)
_ENERGY_METRIC = "active_energy"  # its catalogue unit is kcal


def _number(attrs: dict[str, str], name: str) -> float | None:
    text = attrs.get(name)
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise RecordRejected(f"{name} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise RecordRejected(f"{name} is not a finite, non-negative number")
    return value


def _first_number(attrs: dict[str, str], names: tuple[str, ...]) -> float | None:
    for name in names:
        value = _number(attrs, name)
        if value is not None:
            return value
    return None


def ring_row(node: Node) -> tuple[Any, ...]:
    """The row of one ActivitySummary; RecordRejected with the reason when unusable."""
    attrs = node.attrs
    try:
        day = date.fromisoformat(attrs.get("dateComponents", ""))
    except ValueError:
        raise RecordRejected("dateComponents is not a date (yyyy-MM-dd)") from None
    unit = attrs.get("activeEnergyBurnedUnit") or "kcal"
    conversion = stored_unit(_ENERGY_METRIC, unit)
    if not conversion.rule.is_checked:  # the catalogue knows no conversion to kcal
        raise RecordRejected(f"unknown energy unit {unit[:20]!r}")
    energy, goal = (
        _number(attrs, name) for name in ("activeEnergyBurned", "activeEnergyBurnedGoal")
    )
    times = tuple(_first_number(attrs, names) for _, names in _TIMES)
    extra = {"source_unit": unit} if unit != conversion.unit else None
    return (
        day,
        None if energy is None else conversion.convert(energy),
        None if goal is None else conversion.convert(goal),
        *times,
        extra,
    )


def add_activity_summary(payload: NormalisedPayload, node: Node) -> None:
    """Add one day's rings to ``payload``."""
    payload.add("activity_summaries", ring_row(node))

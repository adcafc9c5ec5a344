"""``<Workout>`` elements → ``workouts`` rows (and their routes).

Totals come from ``WorkoutStatistics`` first (iOS 16 stopped filling the attributes),
then from the ``totalDistance``/``totalEnergyBurned`` attributes, then from the
statistics of ``WorkoutActivity`` children; third-party workouts may have none of them.
The export has no workout UUID, so a workout is identified like an app workout without
one (name and start, ``parsing/workouts.py::workout_id``): re-imports land on the same
row, and the app's own copy of the same run (same name, start and end, with its id)
is kept in its place by the writer's workout-twin rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from health_export.catalog.units import conversion
from health_export.imports.apple_health import mapping
from health_export.imports.apple_health.clock import ExportClock
from health_export.imports.apple_health.gpx import GpxRefused, add_gpx_route, add_location_route
from health_export.imports.apple_health.records import ImportCounts
from health_export.imports.apple_health.stamps import (
    RecordRejected,
    Stamp,
    read_stamp,
    record_attrs,
)
from health_export.imports.apple_health.units import quantity_with_unit
from health_export.imports.apple_health.xml_stream import Node
from health_export.ingest.parsing.workouts import typed_value, workout_id, workout_row
from health_export.ingest.records import NormalisedPayload

ACTIVITY_PREFIX = "HKWorkoutActivityType"
RouteReader = Callable[[str], bytes | None]
# Statistics type suffix -> (summary key as the app names it, typed column).
_SUM_STATISTICS = {
    "ActiveEnergyBurned": ("activeEnergyBurned", "active_energy_kcal"),
    "BasalEnergyBurned": ("basalEnergyBurned", None),
    "DistanceWalkingRunning": ("distance", "distance_km"),
    "DistanceCycling": ("distance", "distance_km"),
    "DistanceSwimming": ("distance", "distance_km"),
    "DistanceWheelchair": ("distance", "distance_km"),
    "DistanceDownhillSnowSports": ("distance", "distance_km"),
    "StepCount": ("stepCount", None),
    "FlightsClimbed": ("flightsClimbed", None),
    "SwimmingStrokeCount": ("totalSwimmingStrokeCount", None),
}
# Weather humidity was "96 %" in 2016 and "9600 %" later: a value over 100 is ×100.
_HUMIDITY_SCALE_ABOVE = 100.0


def workout_name(activity_type: str) -> str:
    """``HKWorkoutActivityTypeTraditionalStrengthTraining`` → the app's name for it."""
    return mapping.words(activity_type.removeprefix(ACTIVITY_PREFIX)) or "Workout"


class WorkoutMapper:
    """Turns each ``<Workout>`` into a workouts row and its route."""

    def __init__(
        self,
        payload: NormalisedPayload,
        clock: ExportClock,
        counts: ImportCounts,
        read_route: RouteReader,
    ) -> None:
        self.payload = payload
        self.clock = clock
        self.counts = counts
        self.read_route = read_route

    def add_workout(self, node: Node) -> None:
        """One workout; rejected with a counted reason when its window is unusable."""
        try:
            stamp = read_stamp(node, self.clock)
        except RecordRejected as exc:
            self.counts.rejected[f"Workout: {exc}"] += 1
            return
        name = workout_name(node.attrs.get("workoutActivityType", ""))
        workout = workout_id(None, name, stamp.start_at)
        summaries, typed = _totals(node)
        summaries.update(_metadata_summaries(stamp.metadata))
        indoor = stamp.metadata.get("HKIndoorWorkout")
        is_indoor = None if indoor is None else indoor == "1"
        location = None if is_indoor is None else ("Indoor" if is_indoor else "Outdoor")
        metadata = {
            "source": stamp.source,
            "events": [event.attrs for event in node.each("WorkoutEvent")] or None,
            **(record_attrs(node, stamp) or {}),
        }
        self.payload.add(
            "workouts",
            workout_row(
                workout,
                None,
                name,
                (stamp.start_at, stamp.end_at, stamp.offset_min),
                _duration_s(node, stamp),
                (location, is_indoor),
                typed,
                summaries,
                metadata,
            ),
        )
        self.counts.workouts += 1
        self._add_routes(node, workout, stamp)

    def _add_routes(self, node: Node, workout: Any, stamp: Stamp) -> None:
        window = (stamp.start_at, stamp.end_at)
        for route in node.each("WorkoutRoute"):
            locations = [child.attrs for child in route.each("Location")]
            if locations:
                stored = add_location_route(self.payload, workout, window, locations)
                self.counts.routes += stored
            for reference in route.each("FileReference"):
                self._add_route_file(workout, window, reference.attrs.get("path", ""))

    def _add_route_file(self, workout: Any, window: Any, path: str) -> None:
        data = self.read_route(path)
        if data is None:
            self.counts.skipped["route file named by a workout is not in the archive"] += 1
            return
        try:
            stored = add_gpx_route(self.payload, workout, window, data, path)
        except GpxRefused as exc:
            self.counts.rejected[f"route file: {exc}"] += 1
            return
        self.counts.routes += stored


def _duration_s(node: Node, stamp: Stamp) -> float:
    duration = node.attrs.get("duration")
    unit = node.attrs.get("durationUnit", "min")
    change = conversion(unit, "s")
    try:
        if duration is not None and change is not None:
            return change.apply(float(duration))
    except ValueError:
        pass
    return (stamp.end_at - stamp.start_at).total_seconds()


def _totals(node: Node) -> tuple[dict[str, Any], dict[str, float]]:
    """Summaries and typed columns: statistics, then attributes, then activities."""
    summaries: dict[str, Any] = {}
    typed: dict[str, float] = {}
    _from_statistics(node.each("WorkoutStatistics"), summaries, typed)
    _from_attributes(node.attrs, summaries, typed)
    for activity in node.each("WorkoutActivity"):
        _from_statistics(activity.each("WorkoutStatistics"), summaries, typed)
    return summaries, typed


def _from_statistics(
    statistics: list[Node], summaries: dict[str, Any], typed: dict[str, float]
) -> None:
    for statistic in statistics:
        attrs = statistic.attrs
        suffix = attrs.get("type", "").removeprefix(mapping.QUANTITY_PREFIX)
        unit = attrs.get("unit", "")
        if suffix == "HeartRate":
            _heart_rate(attrs, unit, summaries, typed)
            continue
        known = _SUM_STATISTICS.get(suffix)
        qty = _float(attrs.get("sum"))
        if known is None or qty is None:
            continue
        key, column = known
        if key in summaries:
            continue  # the parent's statistics come first
        summaries[key] = {"qty": qty, "units": unit}
        if column is not None:
            _set_typed(typed, column, qty, unit)


def _heart_rate(
    attrs: dict[str, str], unit: str, summaries: dict[str, Any], typed: dict[str, float]
) -> None:
    if "heartRate" in summaries:
        return
    parts = {part: _float(attrs.get(source)) for part, source in _HEART_RATE_PARTS}
    summaries["heartRate"] = {
        part: {"qty": value, "units": unit} for part, value in parts.items() if value is not None
    }
    if parts["avg"] is not None:
        _set_typed(typed, "avg_heart_rate", parts["avg"], unit)
    if parts["max"] is not None:
        _set_typed(typed, "max_heart_rate", parts["max"], unit)


_HEART_RATE_PARTS = (("min", "minimum"), ("avg", "average"), ("max", "maximum"))


def _from_attributes(
    attrs: dict[str, str], summaries: dict[str, Any], typed: dict[str, float]
) -> None:
    for value_key, unit_key, summary_key, column in (
        ("totalDistance", "totalDistanceUnit", "distance", "distance_km"),
        ("totalEnergyBurned", "totalEnergyBurnedUnit", "activeEnergyBurned", "active_energy_kcal"),
    ):
        qty = _float(attrs.get(value_key))
        if qty is None or summary_key in summaries:
            continue
        unit = attrs.get(unit_key, "")
        summaries[summary_key] = {"qty": qty, "units": unit}
        _set_typed(typed, column, qty, unit)


def _set_typed(typed: dict[str, float], column: str, qty: float, unit: str) -> None:
    converted = typed_value(column, qty, unit)
    if converted is not None:
        typed.setdefault(column, converted)


def _metadata_summaries(metadata: dict[str, str]) -> dict[str, Any]:
    """The app's summary keys that export.xml keeps in metadata."""
    summaries: dict[str, Any] = {}
    for key, summary_key in (
        ("HKElevationAscended", "elevationUp"),
        ("HKWeatherTemperature", "temperature"),
        ("HKWeatherHumidity", "humidity"),
        ("HKAverageMETs", "intensity"),
    ):
        parsed = quantity_with_unit(metadata.get(key, ""))
        if parsed is None:
            continue
        qty, unit = parsed
        if summary_key == "humidity" and qty > _HUMIDITY_SCALE_ABOVE:
            qty /= 100
        summaries[summary_key] = {"qty": qty, "units": unit}
    return summaries


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value else None

"""Conversation-sized views of large answers: workout series, routes, period statistics.

Each is computed from the JSON the REST API returns, so it can be recomputed from there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from health_export.assistants.schemas import Change, RouteSummary, SeriesSummary

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def series_summary(points: Sequence[dict[str, Any]]) -> SeriesSummary:
    """Count, time span, lowest, mean and highest value of one workout series."""
    values = [_value(p) for p in points]
    known = [v for v in values if v is not None]
    lows = [v for v in (_first_of(p, "min", "qty", "avg") for p in points) if v is not None]
    highs = [v for v in (_first_of(p, "max", "qty", "avg") for p in points) if v is not None]
    return SeriesSummary(
        unit=next((p["unit"] for p in points if p.get("unit")), None),
        points=len(points),
        first=points[0]["start"] if points else None,
        last=points[-1]["start"] if points else None,
        min=min(lows, default=None),
        avg=sum(known) / len(known) if known else None,
        max=max(highs, default=None),
    )


def _value(point: dict[str, Any]) -> float | None:
    return _first_of(point, "qty", "avg")


def _first_of(point: dict[str, Any], *names: str) -> float | None:
    for name in names:
        if point.get(name) is not None:
            return float(point[name])
    return None


def great_circle_km(a: Sequence[float], b: Sequence[float]) -> float:
    """Haversine distance between two [lon, lat] positions."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def route_summary(feature: dict[str, Any], url: str) -> RouteSummary:
    """Length, altitudes, climb, bounding box and ends of a GeoJSON route Feature."""
    coordinates: list[list[float]] = feature["geometry"]["coordinates"]
    times: list[str] = feature["properties"].get("times") or []
    altitudes = [a for a in feature["properties"].get("altitude_m") or [] if a is not None]
    if len(times) == 1:
        coordinates = coordinates[:1]  # a one-point route is stored as a zero-length line
    pairs = zip(coordinates, coordinates[1:], strict=False)
    climbs = [b - a for a, b in zip(altitudes, altitudes[1:], strict=False) if b > a]
    lons = [c[0] for c in coordinates]
    lats = [c[1] for c in coordinates]
    return RouteSummary(
        source_url=url,
        points=len(coordinates),
        first_time=times[0] if times else None,
        last_time=times[-1] if times else None,
        length_km=round(sum(great_circle_km(a, b) for a, b in pairs), 3),
        min_altitude_m=min(altitudes, default=None),
        max_altitude_m=max(altitudes, default=None),
        ascent_m=round(sum(climbs), 2) if altitudes else None,
        bbox=[min(lons), min(lats), max(lons), max(lats)],
        start_point=coordinates[0][:2],
        end_point=coordinates[-1][:2],
    )


def metric_stats(points: Sequence[dict[str, Any]], kind: str) -> dict[str, int | float | None]:
    """Statistics of a daily series: total and mean per day (sum metrics), or the mean."""
    days = [p for p in points if p["value"] is not None]
    values = sum(p["count"] for p in days)
    stats: dict[str, int | float | None] = {"days_with_data": len(days), "values": values}
    if kind == "sum":
        total = sum(p["value"] for p in days)
        stats["total"] = total if days else None
        stats["mean_per_day"] = total / len(days) if days else None
    else:
        # Each day's value is its mean of `count` values: weighting by count gives the
        # mean of every value in the period, not a mean of daily means.
        weighted = sum(p["value"] * p["count"] for p in days)
        stats["mean"] = weighted / values if values else None
    return stats


SLEEP_STATS = ("total_sleep_h", "in_bed_h", "efficiency", "deep_h", "rem_h", "core_h", "awake_h")


def sleep_stats(nights: Sequence[dict[str, Any]]) -> dict[str, int | float | None]:
    """Number of nights and the mean per night of each sleep measure."""
    stats: dict[str, int | float | None] = {"nights": len(nights)}
    for name in SLEEP_STATS:
        values = [n[name] for n in nights if n.get(name) is not None]
        stats[f"mean_{name}"] = sum(values) / len(values) if values else None
    return stats


def changes(
    period: dict[str, int | float | None], baseline: dict[str, int | float | None]
) -> dict[str, Change]:
    """Period minus baseline, absolute and in percent, for every statistic."""
    moved: dict[str, Change] = {}
    for name, now in period.items():
        before = baseline.get(name)
        if now is None or before is None:
            moved[name] = Change(absolute=None, percent=None)
            continue
        percent = (now - before) / before * 100 if before else None
        moved[name] = Change(absolute=now - before, percent=percent)
    return moved

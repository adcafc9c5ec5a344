"""Workout routes as GeoJSON Features and GPX 1.1 tracks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import orjson

from health_export.health_data.clock import at_offset

GPX_MEDIA_TYPE = "application/gpx+xml"
_PER_POINT = (
    "altitude_m",
    "speed",
    "course",
    "horizontal_accuracy",
    "vertical_accuracy",
    "speed_accuracy",
    "course_accuracy",
)


def _coordinates(route: Any) -> list[list[float]]:
    """[lon, lat] or [lon, lat, altitude] per point (altitude where it was recorded)."""
    points: list[list[float]] = orjson.loads(route["geometry"])["coordinates"]
    altitudes = route["altitude_m"] or []
    for index, point in enumerate(points):
        if index < len(altitudes) and altitudes[index] is not None:
            point.append(altitudes[index])
    return points


def route_feature(workout_id: str, route: Any) -> dict[str, Any]:
    """A GeoJSON Feature: the LineString, and point times, speeds, ... in properties."""
    off = route["utc_offset_min"]
    times = [at_offset(moment, off) for moment in route["times"] or []]
    properties: dict[str, Any] = {
        "workout_id": workout_id,
        "name": route["name"],
        "start": at_offset(route["start_at"], off),
        "times": times,
    }
    properties.update({name: route[name] for name in _PER_POINT})
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": _coordinates(route)},
        "properties": properties,
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def _track_point(point: list[float], moment: datetime | None) -> str:
    lon, lat = point[0], point[1]
    inner = f"<ele>{point[2]!r}</ele>" if len(point) > 2 else ""
    if moment is not None:
        inner += f"<time>{_utc(moment)}</time>"
    return f'<trkpt lat="{lat!r}" lon="{lon!r}">{inner}</trkpt>'


def route_gpx(route: Any) -> bytes:
    """A GPX 1.1 document with one track of the route's points (times in UTC)."""
    points = _coordinates(route)
    times: list[datetime | None] = list(route["times"] or [])
    times += [None] * (len(points) - len(times))
    if len(route["times"] or []) == 1:
        points = points[:1]  # a one-point route is stored as a zero-length line
    track = "".join(
        _track_point(point, moment) for point, moment in zip(points, times, strict=False)
    )
    name = escape(route["name"] or "workout")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="health-export" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<metadata><name>{name}</name><time>{_utc(route['start_at'])}</time></metadata>"
        f"<trk><name>{name}</name><type>{escape(route['name'] or '')}</type><trkseg>{track}"
        "</trkseg></trk></gpx>\n"
    ).encode()


def download_name(workout_id: str, extension: str) -> str:
    """A Content-Disposition value for a route file."""
    return f"attachment; filename={quoteattr(f'workout-{workout_id}.{extension}')}"

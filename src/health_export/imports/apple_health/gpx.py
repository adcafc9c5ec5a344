"""Workout routes: the GPX files of ``workout-routes/`` and pre-iOS 13 inline locations.

Points become the same ``workout_routes`` row the app's routes do (``add_route``). GPX
files come from the untrusted archive: a document type declaration (the only place
entities could be declared) is refused rather than processed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from xml.parsers import expat

from health_export.ingest.parsing.dates import parse_date
from health_export.ingest.parsing.workouts import RouteKeys, add_route
from health_export.ingest.records import NormalisedPayload

# Per-point values under <trkpt> (GPX 1.1 plus Apple's <extensions>).
_POINT_VALUES = frozenset({"ele", "time", "speed", "course", "hAcc", "vAcc"})
GPX_ROUTE_KEYS = RouteKeys(
    lat=("lat",),
    lon=("lon",),
    time=("time",),
    altitude=("ele",),
    speed=("speed",),
    course=("course",),
    horizontal_accuracy=("hAcc",),
    vertical_accuracy=("vAcc",),
    course_accuracy=("courseAccuracy",),
    speed_accuracy=("speedAccuracy",),
)
# <WorkoutRoute><Location .../></WorkoutRoute>, written up to iOS 12.
LOCATION_ROUTE_KEYS = RouteKeys(
    lat=("latitude",),
    lon=("longitude",),
    time=("date",),
    altitude=("altitude",),
    speed=("speed",),
    course=("course",),
    horizontal_accuracy=("horizontalAccuracy",),
    vertical_accuracy=("verticalAccuracy",),
    course_accuracy=("courseAccuracy",),
    speed_accuracy=("speedAccuracy",),
)


class GpxRefused(ValueError):
    """A GPX file that is not usable (malformed, or declares a DTD)."""


class _GpxPoints:
    def __init__(self) -> None:
        self.points: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.field: str | None = None
        self.text: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = tag.rpartition(":")[2]
        if name == "trkpt":
            self.current = {key: _number(value) for key, value in attrs.items()}
        elif self.current is not None and name in _POINT_VALUES:
            self.field, self.text = name, []

    def end(self, tag: str) -> None:
        name = tag.rpartition(":")[2]
        if name == "trkpt" and self.current is not None:
            self.points.append(self.current)
            self.current = None
        elif self.current is not None and name == self.field:
            text = "".join(self.text).strip()
            self.current[name] = text if name == "time" else _number(text)
            self.field = None

    def characters(self, data: str) -> None:
        if self.field is not None:
            self.text.append(data)


def _refuse_doctype(*_: object) -> None:
    raise GpxRefused("declares a document type")


def gpx_points(data: bytes) -> list[dict[str, Any]]:
    """Every ``trkpt`` of a GPX file as a point dict (lat, lon, time, ele, speed, ...)."""
    reader = _GpxPoints()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.characters
    parser.StartDoctypeDeclHandler = _refuse_doctype
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise GpxRefused(f"not well-formed ({expat.ErrorString(exc.code or 0)})") from None
    return reader.points


def add_gpx_route(
    payload: NormalisedPayload,
    workout: uuid.UUID,
    window: tuple[datetime, datetime],
    data: bytes,
    name: str,
) -> bool:
    """Store a GPX file's points as the workout's route; True when a route was stored."""
    before = payload.row_count("workout_routes")
    points = gpx_points(data)
    add_route(payload, workout, window, points, name, GPX_ROUTE_KEYS, parse_date)
    return payload.row_count("workout_routes") > before


def add_location_route(
    payload: NormalisedPayload,
    workout: uuid.UUID,
    window: tuple[datetime, datetime],
    locations: list[dict[str, str]],
) -> bool:
    """Store inline ``Location`` elements (iOS 12 and older) as the workout's route."""
    before = payload.row_count("workout_routes")
    points = [
        {key: value if key == "date" else _number(value) for key, value in item.items()}
        for item in locations
    ]
    add_route(payload, workout, window, points, "WorkoutRoute", LOCATION_ROUTE_KEYS, parse_date)
    return payload.row_count("workout_routes") > before


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # add_route rejects the point with a reason

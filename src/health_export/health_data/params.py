"""Query parameters of the read API: their declarations, shared by the routes and documented
once, and their parsing (time ranges, zones, cursors, bounding boxes, types).

Every parsing failure is a problem+json 400 that names the offending parameter.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from fastapi import Query

from health_export.core.errors import BadRequest

# Open ends of a range: far outside any plausible health record, inside PostgreSQL's range.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2400, 1, 1, tzinfo=UTC)
_LOST_PLUS = re.compile(r"(?<=\d) (\d{2}:?\d{2})$")


ECHO_LIMIT = 64  # characters of a caller's value an error message repeats


def quoted(value: str) -> str:
    """A caller's value quoted for an error message; a long one is cut, not sent back whole."""
    if len(value) <= ECHO_LIMIT:
        return repr(value)
    return f"{value[:ECHO_LIMIT]!r}… ({len(value)} characters)"


def bad_parameter(name: str, reason: str) -> BadRequest:
    """A 400 naming the query parameter ``name`` and why it was refused."""
    return BadRequest(
        f"query parameter {name!r}: {reason}", errors=[{"path": f"query.{name}", "reason": reason}]
    )


def parse_zone(name: str | None) -> ZoneInfo | None:
    """An IANA zone (``tz=Europe/Paris``), or None when not given."""
    if name is None or name == "":
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad_parameter("tz", "not an IANA time zone (e.g. America/New_York)") from exc


def parse_instant(name: str, value: str | None, zone: ZoneInfo | None) -> datetime | None:
    """ISO 8601 with an offset (or Z), or a date (midnight in ``tz``, else UTC)."""
    if value is None or value == "":
        return None
    # An unencoded "+" in a query string arrives as a space: "…T00:00:00 04:00".
    text = _LOST_PLUS.sub(r"+\1", value.strip())
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=zone or UTC)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise bad_parameter(name, "not an ISO 8601 date or date-time") from exc
    if moment.tzinfo is None:
        raise bad_parameter(name, "a date-time needs an offset, e.g. 2024-03-14T00:00:00-04:00")
    return moment


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open range [start, end) of instants; open ends are None.

    ``start_day``/``end_day`` keep the dates of ends given as a bare date: answers by
    local day read them as whole local days of the sender (or of ``tz=``).
    """

    start: datetime | None = None
    end: datetime | None = None
    start_day: date | None = None
    end_day: date | None = None

    @property
    def lower(self) -> datetime:
        """The start, or the earliest instant we store."""
        return self.start or EARLIEST

    @property
    def upper(self) -> datetime:
        """The end, or the latest instant we store."""
        return self.end or LATEST

    @property
    def span(self) -> timedelta | None:
        """Its length when both ends are given."""
        return self.end - self.start if self.start and self.end else None

    def widened(self, margin: timedelta) -> TimeRange:
        """The range with ``margin`` added on both sides (open ends stay open)."""
        return TimeRange(
            self.start - margin if self.start else None,
            self.end + margin if self.end else None,
            self.start_day,
            self.end_day,
        )

    def holds(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in the range."""
        return self.lower <= moment < self.upper

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready ends."""
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


def parse_range(start: str | None, end: str | None, zone: ZoneInfo | None = None) -> TimeRange:
    """The [start, end) range of a request; an inverted or empty range is refused."""
    lower = parse_instant("start", start, zone)
    upper = parse_instant("end", end, zone)
    if lower is not None and upper is not None and upper <= lower:
        raise bad_parameter("end", "must be after start")
    return TimeRange(lower, upper, _day_of(lower, start), _day_of(upper, end))


def _day_of(moment: datetime | None, value: str | None) -> date | None:
    """The date of an end given as a bare date (``2024-03-14``), else None."""
    is_bare_date = moment is not None and value is not None and len(value.strip()) == 10
    return moment.date() if moment is not None and is_bare_date else None


def encode_cursor(*parts: Any) -> str:
    """An opaque page cursor (url-safe base64 of the keyset position)."""
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode().rstrip("=")


def decode_cursor(value: str | None, shape: tuple[type, ...]) -> list[Any] | None:
    """The keyset position in a cursor made by :func:`encode_cursor`."""
    if value is None or value == "":
        return None
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise bad_parameter("cursor", "not a cursor this API made") from exc
    if not isinstance(parts, list) or len(parts) != len(shape):
        raise bad_parameter("cursor", "not a cursor this API made")
    if not all(isinstance(part, kind) for part, kind in zip(parts, shape, strict=True)):
        raise bad_parameter("cursor", "not a cursor this API made")
    return parts


def cursor_instant(value: str) -> datetime:
    """An instant stored in a cursor."""
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise bad_parameter("cursor", "not a cursor this API made") from exc


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """``bbox=minLon,minLat,maxLon,maxLat`` in WGS 84 degrees."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def parse_bbox(value: str | None) -> BoundingBox | None:
    """A bounding box, checked for order and for degrees on the globe."""
    if value is None or value == "":
        return None
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError as exc:
        raise bad_parameter("bbox", "expected minLon,minLat,maxLon,maxLat as numbers") from exc
    if len(numbers) != 4:
        raise bad_parameter("bbox", "expected four numbers: minLon,minLat,maxLon,maxLat")
    box = BoundingBox(*numbers)
    if not (-180 <= box.min_lon < box.max_lon <= 180):
        raise bad_parameter("bbox", "longitudes must satisfy -180 <= minLon < maxLon <= 180")
    if not (-90 <= box.min_lat < box.max_lat <= 90):
        raise bad_parameter("bbox", "latitudes must satisfy -90 <= minLat < maxLat <= 90")
    return box


def parse_types(value: str | None, known: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated subset of ``known`` (all of them when not given)."""
    if value is None or value.strip() == "":
        return known
    wanted = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        names = ", ".join(quoted(name) for name in unknown[:3]) or "none"
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise bad_parameter("types", f"unknown type(s) {names}{more}; known: {', '.join(known)}")
    return wanted


# Declarations shared by the read routes.
MAX_PAGE = 10_000
_INSTANT = (
    "ISO 8601 date-time with an offset (2024-03-14T00:00:00-04:00, or Z), or a date: the "
    "whole local day in answers by local day (day/week/month series, daily activity, "
    "sleep), else midnight in tz=, else UTC."
)
StartQuery = Annotated[
    str | None, Query(description=f"Inclusive start. {_INSTANT}", examples=["2024-03-01"])
]
EndQuery = Annotated[
    str | None, Query(description=f"Exclusive end. {_INSTANT}", examples=["2024-04-01"])
]
TzQuery = Annotated[
    str | None,
    Query(
        description="IANA zone for local days; default: each sample's stored UTC offset.",
        examples=["America/New_York"],
    ),
]
SourceQuery = Annotated[
    str | None, Query(description="Only samples of this source (device/app name).")
]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size (max {MAX_PAGE}).")]
CursorQuery = Annotated[str | None, Query(description="next_cursor of the previous page (opaque).")]
UnitQuery = Annotated[
    str | None,
    Query(description="Answer in this unit (e.g. mi, lb, degF) when the catalogue converts it."),
]

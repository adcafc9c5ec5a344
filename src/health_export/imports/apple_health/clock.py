"""Instants and local offsets of export.xml dates.

Every date is ``yyyy-MM-dd HH:mm:ss ±hhmm``: the instant is right, but the offset is the
exporting phone's at export time on every row, summer and winter alike. So the offset
stored beside each instant (which the read API uses for local days) comes from the
row's ``HKTimeZone`` metadata when it has one, else from the zone the import was given,
at that instant: never from the string.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MAX_CACHED = 200_000
# Offsets are constant for hours at a time; one lookup per zone and UTC hour.
_HOUR_S = 3600


class DateRejected(ValueError):
    """A date that is missing or not in the export's format."""


class ExportClock:
    """Parses export dates (cached: timestamps repeat across records) and local offsets."""

    def __init__(self, default_zone: ZoneInfo) -> None:
        self.default_zone = default_zone
        self._instants: dict[str, tuple[datetime, int]] = {}
        self._zones: dict[str, ZoneInfo] = {}
        self._offsets: dict[tuple[str, int], int] = {}

    def instant(self, text: str | None) -> datetime:
        """The aware instant of one date attribute."""
        return self.instant_and_seconds(text)[0]

    def instant_and_seconds(self, text: str | None) -> tuple[datetime, int]:
        """The aware instant of one date attribute, and its Unix time in seconds."""
        if text is None:
            raise DateRejected("missing date")
        cached = self._instants.get(text)
        if cached is None:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise DateRejected("date not in the export's format") from None
            if moment.tzinfo is None:
                raise DateRejected("date without a UTC offset")
            if len(self._instants) >= _MAX_CACHED:
                self._instants.clear()
            cached = self._instants[text] = (moment, int(moment.timestamp()))
        return cached

    def zone(self, name: str | None) -> ZoneInfo:
        """The zone a row's ``HKTimeZone`` names, else the import's zone."""
        if not name:
            return self.default_zone
        zone = self._zones.get(name)
        if zone is None:
            try:
                zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                zone = self.default_zone  # an unknown name: the user's zone is the best guess
            self._zones[name] = zone
        return zone

    def offset_min(self, moment: datetime, zone: ZoneInfo) -> int:
        """The zone's offset from UTC at ``moment``, in minutes."""
        return self.offset_min_at(int(moment.timestamp()), zone)

    def offset_min_at(self, unix_s: int, zone: ZoneInfo) -> int:
        """The zone's offset from UTC at Unix time ``unix_s``, in minutes."""
        key = (zone.key, unix_s // _HOUR_S)
        cached = self._offsets.get(key)
        if cached is None:
            moment = datetime.fromtimestamp(unix_s, zone)
            cached = int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)
            if len(self._offsets) >= _MAX_CACHED:
                self._offsets.clear()
            self._offsets[key] = cached
        return cached


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError with a one-line reason when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Paris)") from None

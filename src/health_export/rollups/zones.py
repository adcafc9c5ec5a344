"""Whether a zone keeps every UTC hour inside one local day, so hourly rollups regroup exactly.

That holds over a year when all of the zone's offsets in it are whole hours and each
change of offset falls on a UTC hour (America/New_York, Europe/Paris, UTC: yes;
Asia/Kolkata at +05:30, Asia/Kathmandu at +05:45, Australia/Adelaide at +09:30/+10:30,
Australia/Lord_Howe's half-hour DST: no; those ``tz=`` answers read the rows). Each
year is looked at once per process: offsets every 6 hours (no zone changes twice that
fast), and each change bisected to the second.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_STEP = timedelta(hours=6)
_HOUR_S = 3600


def _offset_s(zone: ZoneInfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _change_at(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first instant in (before, after] at the offset of ``after`` (to the second)."""
    wanted = _offset_s(zone, after)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if _offset_s(zone, middle) == wanted:
            after = middle
        else:
            before = middle
    return after.replace(microsecond=0)


@lru_cache(maxsize=1024)
def _year_is_whole_hours(key: str, year: int) -> bool:
    zone = ZoneInfo(key)
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    offset = _offset_s(zone, moment)
    while moment < end:
        if offset % _HOUR_S:
            return False
        later = min(moment + _STEP, end)
        next_offset = _offset_s(zone, later)
        if next_offset != offset:
            change = _change_at(zone, moment, later)
            if change.minute or change.second:
                return False
        moment, offset = later, next_offset
    return offset % _HOUR_S == 0


def keeps_hours_in_days(zone: ZoneInfo, lower: datetime, upper: datetime) -> bool:
    """Whether every UTC hour in [lower, upper) lies within one local day of ``zone``."""
    first, last = lower.astimezone(UTC).year, upper.astimezone(UTC).year
    return all(_year_is_whole_hours(zone.key, year) for year in range(first, last + 1))

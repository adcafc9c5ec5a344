"""Parse every date form the senders use into (aware datetime, UTC offset in minutes).

Forms (docs/hae-format.md §3): ``2024-03-14 15:04:00 -0400`` (the main form, parsed by
slicing), the same with a 12-hour clock and am/pm (the space before it may be U+202F or
U+00A0), with fractional seconds, ISO 8601 (``T``, ``Z`` or ``+hh:mm``), date only, and
epoch seconds. The main path is hot (935k points, each timestamp repeated across ~10
metrics), so string results are cached.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone

_MAX_CACHE_ENTRIES = 200_000
_MAX_ECHO_CHARS = 40
# Real offsets lie within -12:00..+14:00; anything beyond a day is garbage.
_MAX_OFFSET_MIN = 24 * 60 - 1

_cache: dict[str, tuple[datetime, int]] = {}
_zones: dict[int, timezone] = {0: UTC}

# Everything except the main form: optional time, 12-hour clock, fractions, offsets.
_GENERAL = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r" ?(?:([aApP])\.?[mM]\.?)?"
    r" ?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_EPOCH_TEXT = re.compile(r"\d{9,11}(?:\.\d+)?")
_ODD_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " "})


class DateParseError(ValueError):
    """A value that is not a date in any form we accept."""


def parse_date(value: object, default_offset_min: int | None = 0) -> tuple[datetime, int]:
    """Parse a date value into (aware datetime, UTC offset in minutes).

    Values without an offset (date only, a time without zone, epoch seconds) get
    ``default_offset_min``; with ``None`` such strings are refused (epoch stays UTC).
    """
    if value.__class__ is str:
        hit = _cache.get(value)
        if hit is not None:
            return hit
        return _parse_text(value, default_offset_min)
    if value.__class__ is float or value.__class__ is int:
        return _parse_epoch(value, default_offset_min or 0)
    raise DateParseError(f"not a date: {type(value).__name__}")


def parse_date_with_offset(value: object) -> tuple[datetime, int]:
    """Parse a timestamp string that must carry its UTC offset (our standard format)."""
    if value.__class__ is not str:
        raise DateParseError("timestamp must be an ISO 8601 string with an offset")
    return parse_date(value, None)


def utc_iso(moment: datetime) -> str:
    """Format an instant as UTC ISO 8601 (used in natural keys)."""
    return moment.astimezone(UTC).isoformat()


def _parse_text(text: str, default_offset_min: int | None) -> tuple[datetime, int]:
    parsed = _parse_main_form(text) if len(text) == 25 else None
    if parsed is None:
        parsed, has_offset = _parse_other_forms(text, default_offset_min)
        if not has_offset:  # the result depends on the default offset: do not cache
            return parsed
    if len(_cache) >= _MAX_CACHE_ENTRIES:
        _cache.clear()
    _cache[text] = parsed
    return parsed


def _parse_main_form(text: str) -> tuple[datetime, int] | None:
    """Slice ``YYYY-MM-DD HH:MM:SS ±HHMM``; None if the text is not exactly that."""
    if (
        text[4] != "-"
        or text[7] != "-"
        or text[10] != " "
        or text[13] != ":"
        or text[16] != ":"
        or text[19] != " "
        or text[20] not in "+-"
    ):
        return None
    digits = (
        text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19] + text[21:25]
    )
    if not (digits.isascii() and digits.isdigit()):
        return None
    zone_minutes = int(text[23:25])
    if zone_minutes >= 60:
        raise DateParseError(f"invalid UTC offset in {_echo(text)}")
    offset_min = int(text[21:23]) * 60 + zone_minutes
    if text[20] == "-":
        offset_min = -offset_min
    return _build(
        int(text[0:4]),
        int(text[5:7]),
        int(text[8:10]),
        int(text[11:13]),
        int(text[14:16]),
        int(text[17:19]),
        0,
        offset_min,
        text,
    )


def _parse_other_forms(
    text: str, default_offset_min: int | None
) -> tuple[tuple[datetime, int], bool]:
    """Parse the slower forms; also say whether the text carried its own offset."""
    match = _GENERAL.fullmatch(text.translate(_ODD_SPACES).strip())
    if match is None:
        if _EPOCH_TEXT.fullmatch(text):
            return _parse_epoch(float(text), default_offset_min or 0), False
        raise DateParseError(f"unrecognised date {_echo(text)}")
    year, month, day, hour, minute, second, fraction, meridiem, zone = match.groups()
    if zone is not None:
        offset_min = _zone_minutes(zone, text)
    elif default_offset_min is None:
        raise DateParseError(f"date without UTC offset {_echo(text)}")
    else:
        offset_min = default_offset_min
    parsed = _build(
        int(year),
        int(month),
        int(day),
        _to_24_hour(int(hour or 0), meridiem, text),
        int(minute or 0),
        int(second or 0),
        int(fraction[:6].ljust(6, "0")) if fraction else 0,
        offset_min,
        text,
    )
    return parsed, zone is not None


def _to_24_hour(hour: int, meridiem: str | None, text: str) -> int:
    """12 AM is midnight and 12 PM is noon."""
    if meridiem is None:
        return hour
    if not 1 <= hour <= 12:
        raise DateParseError(f"hour {hour} invalid with am/pm in {_echo(text)}")
    is_pm = meridiem in "pP"
    return (hour % 12) + (12 if is_pm else 0)


def _zone_minutes(zone: str, text: str) -> int:
    if zone in "Zz":
        return 0
    digits = zone[1:].replace(":", "")
    minutes = int(digits[0:2]) * 60 + (int(digits[2:4]) if len(digits) == 4 else 0)
    if len(digits) == 4 and int(digits[2:4]) >= 60:
        raise DateParseError(f"invalid UTC offset in {_echo(text)}")
    return -minutes if zone[0] == "-" else minutes


def _build(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    micro: int,
    offset_min: int,
    text: str,
) -> tuple[datetime, int]:
    if not -_MAX_OFFSET_MIN <= offset_min <= _MAX_OFFSET_MIN:
        raise DateParseError(f"invalid UTC offset in {_echo(text)}")
    try:
        moment = datetime(year, month, day, hour, minute, second, micro, _zone(offset_min))
    except ValueError as error:
        raise DateParseError(f"{error} in {_echo(text)}") from None
    return moment, offset_min


def _parse_epoch(seconds: float, offset_min: int) -> tuple[datetime, int]:
    if not math.isfinite(seconds):
        raise DateParseError("epoch seconds not finite")
    try:
        moment = datetime.fromtimestamp(seconds, _zone(offset_min))
    except (OverflowError, OSError, ValueError):
        raise DateParseError(f"epoch seconds out of range: {seconds:g}") from None
    return moment, offset_min


def _zone(offset_min: int) -> timezone:
    zone = _zones.get(offset_min)
    if zone is None:
        zone = _zones[offset_min] = timezone(timedelta(minutes=offset_min))
    return zone


def _echo(text: str) -> str:
    """Quote user input for an error message without echoing huge strings."""
    if len(text) > _MAX_ECHO_CHARS:
        return repr(text[:_MAX_ECHO_CHARS] + "…")
    return repr(text)

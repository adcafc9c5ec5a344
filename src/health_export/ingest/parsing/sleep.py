"""Sleep: aggregated nights (``sleep_sessions``) and unaggregated segments (``sleep_stages``)
(docs/hae-format.md §4).

Field names are the app's; our standard format reads the same code through aliases.
"""

from __future__ import annotations

from datetime import datetime

from health_export.catalog.units import conversion
from health_export.ingest.parsing.fields import FieldRejected, ItemReader, fmt
from health_export.ingest.parsing.points import Row

_DAY_H = 24.0
_SESSION_DURATIONS = ("asleep", "core", "deep", "rem", "awake", "inBed", "totalSleep")
_SESSION_TIMES = ("sleepStart", "sleepEnd", "inBedStart", "inBedEnd")
# Stage spellings seen ("In Bed" and "InBed" are the same stage), keyed by a folded form.
_STAGES = {
    "core": "Core",
    "deep": "Deep",
    "rem": "REM",
    "awake": "Awake",
    "asleep": "Asleep",
    "inbed": "InBed",
    "unspecified": "Unspecified",
}


def hours_factor(unit: str) -> float | None:
    """Multiplier from the sent duration unit to hours; None if the unit is unknown."""
    change = conversion(unit or "hr", "hr")
    return None if change is None else change.factor


def sleep_session_row(reader: ItemReader, factor: float | None, unit: str) -> Row:
    """One aggregated night: durations in hours, efficiency = asleep / in bed."""
    times = [reader.optional_date(name) for name in _SESSION_TIMES]
    known_offsets = [stamp[1] for stamp in reversed(times) if stamp is not None]
    # An old-style date-only ``date`` is the local day of the night's own offset.
    start_at, offset_min = reader.local_date("date", known_offsets[0] if known_offsets else 0)
    asleep, core, deep, rem, awake, in_bed, total = (
        _hours(reader, name, factor) for name in _SESSION_DURATIONS
    )
    if total is None and any(part is not None for part in (asleep, core, deep, rem)):
        total = sum(part for part in (asleep, core, deep, rem) if part is not None)
    efficiency = total / in_bed if total is not None and in_bed else None
    source = reader.source()
    if not source and reader.raw("sleepSource") is not None:
        source = reader.source("sleepSource")
    attrs = reader.extras()
    if factor is None:  # durations kept in the unit as sent: say which
        attrs = {**(attrs or {}), "units": unit}
    sleep_start, sleep_end, bed_start, bed_end = (
        stamp[0] if stamp is not None else None for stamp in times
    )
    return (
        source,
        start_at,
        offset_min,
        sleep_start,
        sleep_end,
        bed_start,
        bed_end,
        asleep,
        core,
        deep,
        rem,
        awake,
        in_bed,
        total,
        efficiency,
        attrs,
    )


def sleep_stage_row(reader: ItemReader, factor: float | None) -> Row:
    """One sleep segment; its length comes from ``qty`` or else from its dates."""
    start_at, offset_min = reader.date("startDate")
    end_at, _ = reader.date("endDate")
    if end_at < start_at:
        raise FieldRejected(reader.key("endDate"), "end before start")
    stage_text = reader.text("value", required=True) or ""
    stage = _STAGES.get(stage_text.replace(" ", "").replace("_", "").lower(), stage_text)
    length_h = _hours(reader, "qty", factor)
    if length_h is None:
        length_h = _length_h(start_at, end_at)
    source = reader.source()
    return (source, start_at, end_at, offset_min, stage, length_h, reader.extras())


def _hours(reader: ItemReader, name: str, factor: float | None) -> float | None:
    """A duration field in hours: not negative, not over a day (in a known unit)."""
    value = reader.number(name, low=0.0)
    if value is None or factor is None:
        return value
    hours = value * factor
    if hours > _DAY_H:
        raise FieldRejected(reader.key(name), f"{fmt(hours)} h is over 24 h")
    return hours


def _length_h(start_at: datetime, end_at: datetime) -> float:
    hours = (end_at - start_at).total_seconds() / 3600
    if hours > _DAY_H:
        raise FieldRejected("", f"segment of {fmt(hours)} h is over 24 h")
    return hours

"""Nights of sleep: aggregated sessions and unaggregated segments, presented the same way.

A night is named by the local date one wakes up. An aggregated session belongs to the
local date of its sleep end (the app's own ``date`` field is sometimes the evening the
night began, so it cannot name the night); a segment belongs to the night of the local
date six hours after it starts (18:00 to 18:00). Sessions of one source on one date are
one night: apart (a nap, then the night) they add up, overlapping (the same sleep sent
again under another ``date``) the one with the most sleep stands. When several sources
recorded the same night, the one with the most sleep is shown (sources are never added
up); in-bed segments come from the source with the most time in bed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.health_data.clock import at_offset, local_date
from health_export.health_data.local_days import holds_day
from health_export.health_data.params import TimeRange
from health_export.health_data.records import repository as repository
from health_export.health_data.records.sleep_sessions import session_nights, sleep_of

NIGHT_SHIFT = timedelta(hours=6)
NIGHT_MARGIN = timedelta(days=2)
ASLEEP_STAGES = {"Core": "core_h", "Deep": "deep_h", "REM": "rem_h", "Asleep": "asleep_h"}
_UNSPECIFIED_AS = "asleep_h"  # "Unspecified" sleep is sleep of no known stage
_DURATIONS = ("core_h", "deep_h", "rem_h", "asleep_h", "awake_h", "total_sleep_h", "in_bed_h")


def _session_night(row: Any) -> dict[str, Any]:
    off = row["utc_offset_min"]
    # Rows of a bare ``date`` and no times keep that date, stored as its local midnight.
    woke_at = row["sleep_end"] or row["in_bed_end"] or row["start_at"]
    night = {
        "date": local_date(woke_at, off),
        "sources": [row["source"]],
        "origin": "aggregated",
        "sleep_start": at_offset(row["sleep_start"], off),
        "sleep_end": at_offset(row["sleep_end"], off),
        "in_bed_start": at_offset(row["in_bed_start"], off),
        "in_bed_end": at_offset(row["in_bed_end"], off),
        **{name: row[name] for name in _DURATIONS},
        "efficiency": row["efficiency"],
        "segments": [],
        "_start": row["sleep_start"] or row["in_bed_start"] or woke_at,
        "_end": woke_at,
    }
    return night


def _night_of_segment(row: Any) -> date:
    return local_date(row["start_at"] + NIGHT_SHIFT, row["utc_offset_min"])


def _hours(rows: Iterable[Any]) -> float:
    return sum(row["qty_h"] or 0.0 for row in rows)


def _best_source(rows: list[Any], stages: set[str]) -> list[Any]:
    """The rows of the source with the most hours in ``stages`` (sources are not added)."""
    by_source: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_source[row["source"]].append(row)
    scored = {
        source: _hours(r for r in found if r["stage"] in stages)
        for source, found in by_source.items()
    }
    best = max(scored, key=lambda source: scored[source], default=None)
    return by_source[best] if best is not None else []


def _segment(row: Any) -> dict[str, Any]:
    off = row["utc_offset_min"]
    return {
        "stage": row["stage"],
        "start": at_offset(row["start_at"], off),
        "end": at_offset(row["end_at"], off),
        "hours": row["qty_h"],
    }


def _segments_night(day: date, rows: list[Any]) -> dict[str, Any]:
    in_bed = _best_source([r for r in rows if r["stage"] == "InBed"], {"InBed"})
    sleep_stages = set(ASLEEP_STAGES) | {"Unspecified", "Awake"}
    stages = _best_source([r for r in rows if r["stage"] != "InBed"], sleep_stages - {"Awake"})
    kept = sorted(in_bed + stages, key=lambda r: (r["start_at"], r["stage"]))
    totals = {name: 0.0 for name in ("core_h", "deep_h", "rem_h", "asleep_h", "awake_h")}
    for row in stages:
        field = ASLEEP_STAGES.get(row["stage"])
        if row["stage"] == "Awake":
            field = "awake_h"
        elif row["stage"] == "Unspecified":
            field = _UNSPECIFIED_AS
        if field is not None:
            totals[field] += row["qty_h"] or 0.0
    total = sum(totals[name] for name in ("core_h", "deep_h", "rem_h", "asleep_h"))
    asleep_rows = [r for r in stages if r["stage"] != "Awake"]
    first, last = kept[0], max(kept, key=lambda r: r["end_at"])
    span_h = (last["end_at"] - first["start_at"]).total_seconds() / 3600
    in_bed_h = _hours(in_bed) if in_bed else span_h
    return {
        "date": day,
        "sources": sorted({r["source"] for r in kept}),
        "origin": "segments",
        "sleep_start": _edge(asleep_rows, "start_at", min),
        "sleep_end": _edge(asleep_rows, "end_at", max),
        "in_bed_start": _edge(in_bed, "start_at", min),
        "in_bed_end": _edge(in_bed, "end_at", max),
        **totals,
        "total_sleep_h": total,
        "in_bed_h": in_bed_h,
        "efficiency": total / in_bed_h if in_bed_h else None,
        "segments": [_segment(row) for row in kept],
        "_end": last["end_at"],
    }


def _edge(rows: list[Any], column: str, pick: Any) -> datetime | None:
    if not rows:
        return None
    row = pick(rows, key=lambda r: r[column])
    return at_offset(row[column], row["utc_offset_min"])


def _most_sleep(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    return max(candidates, key=sleep_of)


def _ends_in(night: dict[str, Any], span: TimeRange) -> bool:
    """Whether the night's sleep ended in ``span`` (its wake-up date, for bare dates)."""
    return holds_day(span, night["date"], night["_end"])


async def nights(session: AsyncSession, user_id: int, span: TimeRange) -> dict[str, Any]:
    """Nights whose sleep ended in ``span``: stages, totals, efficiency, segments."""
    # A night is fetched whole: it may start a day before the range and, when the end
    # is a bare date, end up to a day after it in UTC.
    wide = span.widened(NIGHT_MARGIN)
    sessions = await repository.sleep_sessions(session, user_id, (wide.lower, wide.upper))
    stages = await repository.sleep_stages(session, user_id, (wide.lower, wide.upper))
    candidates: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for night in session_nights(_session_night(row) for row in sessions):
        candidates[night["date"]].append(night)
    by_night: dict[date, list[Any]] = defaultdict(list)
    for row in stages:
        by_night[_night_of_segment(row)].append(row)
    for day, rows in by_night.items():
        candidates[day].append(_segments_night(day, rows))
    chosen = [_most_sleep(found) for _, found in sorted(candidates.items())]
    shown = [night for night in chosen if _ends_in(night, span)]
    for night in shown:
        night.pop("_start", None)
        night.pop("_end")
    return {"nights": shown}

"""Aggregated sleep sessions of one source and one wake-up date, made into one night.

The app may send several sessions for one morning: a nap and the night (apart in
time), or the same night again under another ``date`` after an app update changed how
it fills that field (stored under another key, overlapping in time). Apart, they are
different sleep and add up; overlapping, they are one sleep and the one with the most
sleep stands, so nothing is counted twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

_ADDED = ("core_h", "deep_h", "rem_h", "asleep_h", "awake_h", "total_sleep_h", "in_bed_h")


def session_nights(sessions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One night per (wake-up date, source) from the sessions of ``_session_night``."""
    grouped: dict[tuple[Any, str], list[dict[str, Any]]] = defaultdict(list)
    for night in sessions:
        grouped[(night["date"], night["sources"][0])].append(night)
    return [_one_night(found) for found in grouped.values()]


def sleep_of(night: dict[str, Any]) -> float:
    """Hours of sleep of a night (``asleep_h`` where no total was sent)."""
    return float(night["total_sleep_h"] or night["asleep_h"] or 0.0)


def _one_night(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    kept: list[dict[str, Any]] = []
    for session in sorted(sessions, key=lambda night: night["_start"]):
        if kept and session["_start"] < kept[-1]["_end"]:
            kept[-1] = max(kept[-1], session, key=sleep_of)
        else:
            kept.append(session)
    night = kept[0]
    for later in kept[1:]:
        night = _added(night, later)
    return night


def _added(first: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """Two sessions apart in time as one night: durations add, the span covers both."""
    night = {**first, **{name: _sum(first[name], later[name]) for name in _ADDED}}
    for edge, pick in (("sleep_start", min), ("in_bed_start", min)):
        night[edge] = _edge(first[edge], later[edge], pick)
    for edge, pick in (("sleep_end", max), ("in_bed_end", max)):
        night[edge] = _edge(first[edge], later[edge], pick)
    total, in_bed = night["total_sleep_h"], night["in_bed_h"]
    night["efficiency"] = total / in_bed if total is not None and in_bed else None
    night["_end"] = max(first["_end"], later["_end"])
    return night


def _sum(one: float | None, other: float | None) -> float | None:
    if one is None and other is None:
        return None
    return (one or 0.0) + (other or 0.0)


def _edge(one: Any, other: Any, pick: Any) -> Any:
    present = [moment for moment in (one, other) if moment is not None]
    return pick(present) if present else None

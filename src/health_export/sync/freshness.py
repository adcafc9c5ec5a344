"""Per metric: the newest sample, the last day with data, and its gaps with their repair."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from health_export.sync import repository
from health_export.sync.advice import AutomationFacts, fix_for_status
from health_export.sync.gaps import Gap, find_gaps

SLEEP = "sleep_analysis"
_FAILED = ("refused", "rejected", "failed")
_SINCE_LAST_SYNC = {"since last sync", "lastsync"}


def _zone(offset_min: int) -> timezone:
    return timezone(timedelta(minutes=offset_min))


def repair_of(metric: str, gap: Gap) -> str:
    """What to do by hand: the exact range to export again."""
    span = str(gap.start) if gap.start == gap.end else f"{gap.start} to {gap.end}"
    return (
        f"Export {metric} again for {span} (in Health Auto Export, an export of that date "
        "range to this server); re-sent samples are matched, never doubled."
    )


def _days_of(requests: list[dict[str, Any]], zone: timezone) -> dict[date, list[dict[str, Any]]]:
    by_day: dict[date, list[dict[str, Any]]] = {}
    for request in requests:
        by_day.setdefault(request["received_at"].astimezone(zone).date(), []).append(request)
    return by_day


def cause_of(gap: Gap, carrier: AutomationFacts, zone: timezone) -> str | None:
    """The failure or setting behind a gap, when what was received shows it."""
    by_day = _days_of(carrier.requests, zone)
    # The day after counts too: a run early the next morning sends the day before.
    days = [gap.start + timedelta(d) for d in range(gap.days + 1)]
    failed = [r for day in days for r in by_day.get(day, []) if r["outcome"] in _FAILED]
    if failed:
        status = failed[-1]["http_status"]
        return (
            f"{len(failed)} request(s) of '{carrier.label}' failed then "
            f"({status or 'unusable body'}): {fix_for_status(status)}"
        )
    known_from = min((r["received_at"] for r in carrier.requests), default=None)
    if known_from is not None and known_from.astimezone(zone).date() < gap.start:
        if not any(by_day.get(day) for day in days):
            return (
                f"no request of '{carrier.label}' arrived from {gap.start} to "
                f"{days[-1]}: the automation did not run, or its requests never reached "
                "this server (iOS runs it in the background only while the phone is "
                "unlocked now and then)"
            )
    if (carrier.period or "").strip().lower() in _SINCE_LAST_SYNC:
        return (
            f"'{carrier.label}' uses Since Last Sync, which never re-sends samples that "
            "reached Apple Health after a run"
        )
    return None


def _gaps_out(
    metric: str, counts: Mapping[date, int], carriers: list[AutomationFacts], zone: timezone
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    coverage = find_gaps(counts)
    carrier = carriers[0] if carriers else None
    gaps = [
        {
            "start": gap.start,
            "end": gap.end,
            "days": gap.days,
            "kind": gap.kind,
            "samples": gap.samples,
            "repair": repair_of(metric, gap),
            "cause": cause_of(gap, carrier, zone) if carrier else None,
            "automation": carrier.label if carrier else None,
        }
        for gap in coverage.gaps
    ]
    summary = {
        "days_with_data": coverage.days_with_data,
        "usual_per_day": coverage.usual_per_day,
        "is_daily": coverage.is_daily,
    }
    return summary, gaps


def _metric_out(
    name: str,
    newest: dict[str, Any],
    counts: Mapping[date, int],
    automations: list[AutomationFacts],
) -> dict[str, Any]:
    zone = _zone(int(newest["utc_offset_min"]))
    # The automation that sent this metric most recently is the one to fix.
    carriers = sorted(
        (a for a in automations if name in a.metrics),
        key=lambda a: a.metrics[name].last_at,
        reverse=True,
    )
    summary, gaps = _gaps_out(name, counts, carriers, zone)
    return {
        "name": name,
        "newest_sample": newest["start_at"].astimezone(zone),
        "last_day": newest["last_day"],
        **summary,
        "gaps": gaps,
    }


def _window_start(last_day: date, offset_min: int, window_days: int) -> datetime:
    return datetime.combine(last_day - timedelta(days=window_days), time(0), _zone(offset_min))


async def metric_freshness(
    conn: AsyncConnection, user_id: int, automations: list[AutomationFacts], window_days: int
) -> list[dict[str, Any]]:
    """Every point metric of the user, and sleep, with freshness and gaps."""
    newest = await repository.metric_newest(conn, user_id)
    since = {
        int(row["metric_id"]): _window_start(row["last_day"], row["utc_offset_min"], window_days)
        for row in newest
    }
    counts = await repository.metric_day_counts(conn, user_id, since)
    found = [
        _metric_out(row["name"], row, counts.get(int(row["metric_id"]), {}), automations)
        for row in newest
        if row["name"] != SLEEP
    ]
    sleep = await repository.sleep_newest(conn, user_id)
    if sleep is not None:
        # Nights are named by their wake-up day, so the window starts at the noon before.
        start = _window_start(sleep["last_day"], sleep["utc_offset_min"], window_days)
        nights = await repository.sleep_night_counts(conn, user_id, start - timedelta(hours=12))
        found.append(_metric_out(SLEEP, sleep, nights, automations))
    return sorted(found, key=lambda metric: str(metric["name"]))

"""Setting advice from what each automation sent (every rule is in docs/sync.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# A metric an automation carried on at least this many days, then not for this long
# while the automation kept sending, "stopped".
STOPPED_MIN_DAYS = 3
STOPPED_AFTER = timedelta(days=3)
STOPPED_MIN_REQUESTS_SINCE = 3
_SINCE_LAST_SYNC = {"since last sync", "lastsync"}
_ONCE_A_DAY = {"previous 7 days": "Previous 7 Days", "previous7days": "Previous 7 Days",
               "yesterday": "Yesterday"}  # fmt: skip
_FIX_OF_STATUS = {
    413: "turn on Batch requests in the automation (or raise MAX_PAYLOAD_BYTES on the server)",
    415: "set the automation's Export Format to JSON",
    408: "the body stopped arriving: raise the request timeout, keep Batch requests on",
    400: "the body was not valid JSON (or broken gzip): export again",
    422: "the body had no Health Auto Export envelope: export as JSON, not CSV",
}


@dataclass(frozen=True, slots=True)
class Advice:
    """One piece of advice about one automation."""

    rule: str
    severity: str
    automation: str
    message: str
    evidence: str


@dataclass(slots=True)
class Carried:
    """One metric, table or workout feature an automation sent."""

    total: int
    last_at: datetime
    days: int


@dataclass(slots=True)
class AutomationFacts:
    """What one automation sent, as the rules need it."""

    key: str
    label: str
    period: str | None
    last_seen: datetime
    tables: dict[str, Carried] = field(default_factory=dict)
    metrics: dict[str, Carried] = field(default_factory=dict)
    features: dict[str, Carried] = field(default_factory=dict)
    # This automation's requests of the history window, oldest first.
    requests: list[dict[str, Any]] = field(default_factory=list)


Rule = Callable[[AutomationFacts], list[Advice]]


def fix_for_status(status: int | None) -> str:
    """What to change when the server refused a request with ``status``."""
    return _FIX_OF_STATUS.get(status or 0, "see the error stored with the request")


def _since_last_sync(facts: AutomationFacts) -> list[Advice]:
    if (facts.period or "").strip().lower() not in _SINCE_LAST_SYNC:
        return []
    return [
        Advice(
            "since_last_sync_misses_late_samples",
            "warning",
            facts.label,
            "Since Last Sync never re-sends samples that reach Apple Health after a run "
            "(a Watch that syncs late, a manual entry dated earlier). Choose the period "
            "Default (yesterday and today, every run): re-sent samples are matched, never doubled.",
            f"automation-period: {facts.period}",
        )
    ]


def _once_a_day(facts: AutomationFacts) -> list[Advice]:
    period = _ONCE_A_DAY.get((facts.period or "").strip().lower())
    if period is None:
        return []
    return [
        Advice(
            "period_excludes_today",
            "warning",
            facts.label,
            f"{period} never includes today and runs once a day, so today's data arrives "
            "tomorrow at the earliest. Choose Default (yesterday and today) to have it "
            "the same day.",
            f"automation-period: {facts.period}",
        )
    ]


def _aggregated_sleep(facts: AutomationFacts) -> list[Advice]:
    nights = facts.tables.get("sleep_sessions")
    if nights is None or "sleep_stages" in facts.tables:
        return []
    return [
        Advice(
            "aggregated_sleep_hides_stages",
            "info",
            facts.label,
            "Sleep arrives aggregated (one summary per night), which hides when each stage "
            "(Core, Deep, REM, Awake) happened. Turn off sleep aggregation in this automation "
            "to receive the stage segments.",
            f"{nights.total} aggregated night(s), no stage segment",
        )
    ]


def _workouts_v1(facts: AutomationFacts) -> list[Advice]:
    v1 = facts.features.get("workouts:v1")
    if v1 is None:
        return []
    return [
        Advice(
            "workouts_export_version_1",
            "warning",
            facts.label,
            "Workouts arrive in export version 1: no workout id (re-sends are matched by "
            "name and start only) and routes without course, speed and accuracies. Set the "
            "automation's export version to 2.",
            f"{v1.total} workout(s) without an id, last on {v1.last_at.date()}",
        )
    ]


def _routes_arriving(facts: AutomationFacts) -> list[Advice]:
    routes = facts.features.get("workouts:route")
    if routes is None:
        return []
    return [
        Advice(
            "routes_arriving",
            "info",
            facts.label,
            "Workout routes arrive with this automation. If its route option is off, the "
            "app sends them anyway (a known app bug): they are stored all the same. Routes "
            "make bodies large: keep Batch requests on.",
            f"{routes.total} workout(s) with a route, last on {routes.last_at.date()}",
        )
    ]


def _metric_stopped(facts: AutomationFacts) -> list[Advice]:
    found = []
    for name, carried in sorted(facts.metrics.items()):
        if carried.days < STOPPED_MIN_DAYS or facts.last_seen - carried.last_at < STOPPED_AFTER:
            continue
        since = [
            r
            for r in facts.requests
            if r["outcome"] == "processed" and r["received_at"] > carried.last_at
        ]
        if len(since) < STOPPED_MIN_REQUESTS_SINCE:
            continue
        found.append(
            Advice(
                "metric_stopped",
                "warning",
                facts.label,
                f"{name} stopped arriving after {carried.last_at.date()} although this "
                "automation kept sending. Check that the metric is still selected in the "
                "automation, that Health Auto Export may still read it (Settings → Health → "
                "Data Access & Devices), and that the device recording it still syncs.",
                f"{len(since)} request(s) since {carried.last_at.isoformat()} without {name}",
            )
        )
    return found


def _refused(facts: AutomationFacts) -> list[Advice]:
    refused: dict[int, list[datetime]] = {}
    for request in facts.requests:
        if request["outcome"] in ("refused", "rejected", "failed"):
            status = int(request["http_status"] or 422)
            refused.setdefault(status, []).append(request["received_at"])
    return [
        Advice(
            f"requests_refused_{status}",
            "warning",
            facts.label,
            f"The server refused {len(times)} request(s) of this automation with {status}: "
            f"{fix_for_status(status)}.",
            f"last on {max(times).isoformat()}",
        )
        for status, times in sorted(refused.items())
    ]


RULES: tuple[Rule, ...] = (
    _since_last_sync,
    _once_a_day,
    _aggregated_sleep,
    _workouts_v1,
    _routes_arriving,
    _metric_stopped,
    _refused,
)


def advise(facts: AutomationFacts) -> list[Advice]:
    """Every rule's advice about one automation."""
    return [advice for rule in RULES for advice in rule(facts)]

"""GET /api/v1/sync: automations with their advice, metrics with their gaps, drift."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from health_export.core.config import Settings
from health_export.sync import repository
from health_export.sync.advice import Advice, AutomationFacts, Carried, advise
from health_export.sync.cadence import cadence_of, silence_threshold_s
from health_export.sync.freshness import metric_freshness


def label_of(summary: dict[str, Any]) -> str:
    """How a person recognises an automation: its name, else its key."""
    name: str | None = summary.get("automation_name")
    return name or str(summary["automation_key"])


async def automation_facts(
    conn: AsyncConnection, user_id: int, now: datetime
) -> tuple[list[dict[str, Any]], dict[str, AutomationFacts]]:
    """Each automation's summary row, and the facts the advice rules and gaps look at."""
    summaries = await repository.automation_summaries(conn, user_id)
    since = now - timedelta(days=repository.HISTORY_DAYS)
    requests = await repository.recent_requests(conn, user_id, since)
    facts = {
        row["automation_key"]: AutomationFacts(
            row["automation_key"], label_of(row), row["period"], row["last_seen"]
        )
        for row in summaries
    }
    for item in await repository.carried(conn, user_id):
        carried = Carried(int(item["total"]), item["last_at"], int(item["days"]))
        fact = facts[item["automation_key"]]
        {"table": fact.tables, "metric": fact.metrics, "feature": fact.features}[item["kind"]][
            item["name"]
        ] = carried
    for request in requests:
        facts[request["automation_key"]].requests.append(request)
    return summaries, facts


def _automation_out(
    summary: dict[str, Any],
    facts: AutomationFacts,
    cadence: tuple[float, int] | None,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    cadence_s = cadence_of(cadence)
    silent_for_s = (now - summary["last_seen"]).total_seconds()
    threshold = silence_threshold_s(settings, cadence_s)
    return {
        "name": summary["automation_name"],
        "id": summary["automation_id"],
        "key": summary["automation_key"],
        "requests": summary["requests"],
        "points": summary["points"],
        "rejected_points": summary["rejected_points"],
        "failures": summary["failures"],
        "aggregation": summary["aggregation"],
        "period": summary["period"],
        "app_version": summary["app_version"],
        "first_seen": summary["first_seen"],
        "last_seen": summary["last_seen"],
        "cadence_s": cadence_s,
        "silent_for_s": round(silent_for_s, 1),
        "is_silent": threshold is not None and silent_for_s > threshold,
        "data_types": sorted(facts.tables),
        "metrics": sorted(facts.metrics),
        "advice": [_advice_dict(advice) for advice in advise(facts)],
    }


def _advice_dict(advice: Advice) -> dict[str, Any]:
    return asdict(advice)


async def sync_report(
    conn: AsyncConnection, user_id: int, settings: Settings, gap_window_days: int
) -> dict[str, Any]:
    """The whole sync view of one user."""
    now = datetime.now(UTC)
    summaries, facts = await automation_facts(conn, user_id, now)
    cadences = await repository.cadences(conn, user_id)
    automations = [
        _automation_out(
            row,
            facts[row["automation_key"]],
            cadences.get((user_id, row["automation_key"])),
            settings,
            now,
        )
        for row in summaries
    ]
    return {
        "generated_at": now,
        "gap_window_days": gap_window_days,
        "automations": automations,
        "metrics": await metric_freshness(conn, user_id, list(facts.values()), gap_window_days),
        "drift": await repository.drift_seen(conn, user_id),
        "incidents": await repository.open_incidents(conn, user_id),
    }

"""The alert check: silent automations, repeated failures, new gaps (docs/sync.md).

Runs in the background worker every ALERT_CHECK_SECONDS. An incident is opened once
(a unique index on the open ones) and resolved once, each in the transaction that
queues its announcements; several processes checking at once take turns on an
advisory lock, so none announces what another just did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.core.config import Settings
from health_export.sync import repository
from health_export.sync.advice import advise, fix_for_status
from health_export.sync.cadence import cadence_of, silence_threshold_s
from health_export.sync.freshness import metric_freshness
from health_export.sync.gaps import GAP_WINDOW_DAYS
from health_export.sync.incidents import all_open, open_incident, open_subjects, resolve_incident
from health_export.sync.service import automation_facts

# pg_try_advisory_xact_lock key of the check ("sync" in ASCII).
CHECK_LOCK_KEY = 0x73796E63
_FAILED = ("refused", "rejected", "failed")


@dataclass(slots=True)
class CheckMemory:
    """What this process saw at its last check: each user's newest processed request, so
    gaps are looked for again only when data arrived (a gap needs data after it)."""

    gaps_checked_at: dict[int, datetime] = field(default_factory=dict)


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 120:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


def _automation(run: dict[str, Any]) -> dict[str, Any]:
    key = str(run["automation_key"])
    return {
        "name": run["automation_name"],
        "id": key.removeprefix("id:") if key.startswith("id:") else None,
        "key": key,
    }


def _label(run: dict[str, Any]) -> str:
    return str(run["automation_name"] or run["automation_key"])


async def _check_silence(
    conn: AsyncConnection,
    settings: Settings,
    run: dict[str, Any],
    cadence: tuple[float, int] | None,
    now: datetime,
    is_open: bool,
) -> None:
    cadence_s = cadence_of(cadence)
    threshold = silence_threshold_s(settings, cadence_s)
    if threshold is None:
        return
    silent_s = (now - run["last_seen"]).total_seconds()
    user, subject = int(run["user_id"]), str(run["automation_key"])
    if silent_s <= threshold:
        if is_open:
            note = f"a request arrived at {run['last_seen']}"
            await resolve_incident(conn, settings, user, "silent", subject, note)
        return
    if is_open:
        return  # announced already
    usual = f" (it usually runs every {_duration(cadence_s)})" if cadence_s else ""
    await open_incident(
        conn,
        settings,
        {
            "user_id": user,
            "kind": "silent",
            "subject": subject,
            "automation_key": subject,
            "summary": f"'{_label(run)}' has sent nothing for {_duration(silent_s)}{usual}",
            "details": {
                "automation": _automation(run),
                "last_seen": run["last_seen"].isoformat(),
                "cadence_s": cadence_s,
                "threshold_s": threshold,
                "advice": [
                    "Open Health Auto Export on the phone: iOS runs automations in the "
                    "background only while the phone is unlocked now and then; the app's "
                    "widget helps. Check that the automation is still enabled.",
                ],
            },
        },
    )


async def _check_failing(
    conn: AsyncConnection, settings: Settings, run: dict[str, Any], is_open: bool
) -> None:
    outcomes: list[str] = list(run["outcomes"] or [])
    statuses: list[int | None] = list(run["statuses"] or [])
    user, subject = int(run["user_id"]), str(run["automation_key"])
    if outcomes and outcomes[0] not in _FAILED:
        if is_open:
            await resolve_incident(conn, settings, user, "failing", subject, "a request succeeded")
        return
    count = settings.alert_failure_count
    if is_open or len(outcomes) < count or any(o not in _FAILED for o in outcomes[:count]):
        return
    status = statuses[0]
    why = status or "unusable body"
    await open_incident(
        conn,
        settings,
        {
            "user_id": user,
            "kind": "failing",
            "subject": subject,
            "automation_key": subject,
            "summary": f"the last {count} requests of '{_label(run)}' failed ({why})",
            "details": {
                "automation": _automation(run),
                "outcomes": outcomes[:count],
                "http_status": status,
                "advice": [fix_for_status(status)],
            },
        },
    )


async def _check_gaps(
    conn: AsyncConnection, settings: Settings, user_id: int, now: datetime
) -> None:
    _, facts = await automation_facts(conn, user_id, now)
    metrics = await metric_freshness(conn, user_id, list(facts.values()), GAP_WINDOW_DAYS)
    recent_from = (now - timedelta(days=settings.alert_gap_days)).date()
    present: set[str] = set()
    for metric in metrics:
        for gap in metric["gaps"]:
            present.add(f"{metric['name']}|{gap['start']}")
            if gap["end"] >= recent_from:  # old holes are listed in /api/v1/sync only
                await open_incident(conn, settings, _gap_opening(user_id, metric, gap, facts))
    for subject in await open_subjects(conn, user_id, "gap") - present:
        await resolve_incident(conn, settings, user_id, "gap", subject, "the days were filled")


def _gap_opening(
    user_id: int, metric: dict[str, Any], gap: dict[str, Any], facts: dict[str, Any]
) -> dict[str, Any]:
    carrier = next((f for f in facts.values() if f.label == gap["automation"]), None)
    span = str(gap["start"]) if gap["days"] == 1 else f"{gap['start']} to {gap['end']}"
    what = "nothing" if gap["kind"] == "none" else "unusually few samples"
    advice = [gap["repair"]] + ([gap["cause"]] if gap["cause"] else [])
    if carrier is not None:
        advice += [a.message for a in advise(carrier) if a.severity == "warning"]
    return {
        "user_id": user_id,
        "kind": "gap",
        "subject": f"{metric['name']}|{gap['start']}",
        "automation_key": carrier.key if carrier else None,
        "summary": f"{metric['name']}: {what} on {span}",
        "details": {
            "automation": {"name": gap["automation"], "key": carrier.key if carrier else None},
            "metric": metric["name"],
            "gap": {k: str(v) for k, v in gap.items() if k in ("start", "end", "days", "kind")},
            "advice": advice,
        },
    }


async def _locked(conn: AsyncConnection) -> bool:
    result = await conn.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CHECK_LOCK_KEY}
    )
    return bool(result.scalar_one())


async def check_once(engine: AsyncEngine, settings: Settings, memory: CheckMemory) -> bool:
    """One round of checks; False when another process is checking right now."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        if not await _locked(conn):
            return False
        runs = await repository.latest_runs(conn)
        cadences = await repository.cadences(conn)
        # One query for what is open, so a steady state costs no statement per automation.
        opened = await all_open(conn, ("silent", "failing"))
        for run in runs:
            user, subject = int(run["user_id"]), str(run["automation_key"])
            silent_open = (user, "silent", subject) in opened
            await _check_silence(
                conn, settings, run, cadences.get((user, subject)), now, silent_open
            )
            await _check_failing(conn, settings, run, (user, "failing", subject) in opened)
        for user_id, newest in _users_with_new_data(runs, memory).items():
            await _check_gaps(conn, settings, user_id, now)
            memory.gaps_checked_at[user_id] = newest
    return True


def _users_with_new_data(runs: list[dict[str, Any]], memory: CheckMemory) -> dict[int, datetime]:
    newest: dict[int, datetime] = {}
    for run in runs:
        at = run["last_processed"]
        if at is not None and (run["user_id"] not in newest or at > newest[run["user_id"]]):
            newest[int(run["user_id"])] = at
    return {
        user: at
        for user, at in newest.items()
        if memory.gaps_checked_at.get(user) is None or at > memory.gaps_checked_at[user]
    }

"""SQL of incidents and their deliveries: opened once, resolved once, each announced."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from health_export.core.config import Settings


def channels(settings: Settings) -> list[str]:
    """Where incidents are announced."""
    found = []
    if settings.alert_webhook_url:
        found.append("webhook")
    if settings.alert_ntfy_url:
        found.append("ntfy")
    return found


async def _enqueue(conn: AsyncConnection, incident_id: int, event: str, settings: Settings) -> None:
    # In the transaction that opens or resolves the incident: announced exactly when it
    # happened, even if the process stops before delivering (the next one delivers).
    for channel in channels(settings):
        await conn.execute(
            text(
                "INSERT INTO sync_alert_deliveries (incident_id, event, channel) "
                "VALUES (:incident_id, :event, :channel)"
            ),
            {"incident_id": incident_id, "event": event, "channel": channel},
        )


async def open_incident(
    conn: AsyncConnection, settings: Settings, opening: dict[str, Any]
) -> int | None:
    """Open an incident unless the same one is open already; its id when it was opened."""
    result = await conn.execute(
        text(
            "INSERT INTO sync_incidents (user_id, kind, subject, automation_key, summary, "
            "details) VALUES (:user_id, :kind, :subject, :automation_key, :summary, "
            "CAST(:details AS jsonb)) ON CONFLICT (user_id, kind, subject) "
            "WHERE resolved_at IS NULL DO NOTHING RETURNING id"
        ),
        {**opening, "details": orjson.dumps(opening["details"]).decode()},
    )
    incident_id: int | None = result.scalar_one_or_none()
    if incident_id is not None:
        await _enqueue(conn, incident_id, "opened", settings)
    return incident_id


async def resolve_incident(
    conn: AsyncConnection, settings: Settings, user_id: int, kind: str, subject: str, note: str
) -> int | None:
    """Resolve the open incident of this subject, if any; its id when one was resolved."""
    result = await conn.execute(
        text(
            "UPDATE sync_incidents SET resolved_at = now(), "
            "details = details || jsonb_build_object('resolution', CAST(:note AS text)) "
            "WHERE user_id = :user_id AND kind = :kind AND subject = :subject "
            "AND resolved_at IS NULL RETURNING id"
        ),
        {"user_id": user_id, "kind": kind, "subject": subject, "note": note},
    )
    incident_id: int | None = result.scalar_one_or_none()
    if incident_id is not None:
        await _enqueue(conn, incident_id, "resolved", settings)
    return incident_id


async def all_open(conn: AsyncConnection, kinds: tuple[str, ...]) -> set[tuple[int, str, str]]:
    """(user, kind, subject) of every open incident of these kinds."""
    result = await conn.execute(
        text(
            "SELECT user_id, kind, subject FROM sync_incidents "
            "WHERE resolved_at IS NULL AND kind = ANY(:kinds)"
        ),
        {"kinds": list(kinds)},
    )
    return {(int(row.user_id), str(row.kind), str(row.subject)) for row in result}


async def open_subjects(conn: AsyncConnection, user_id: int, kind: str) -> set[str]:
    """Subjects of the user's open incidents of one kind."""
    result = await conn.execute(
        text(
            "SELECT subject FROM sync_incidents WHERE user_id = :user_id AND kind = :kind "
            "AND resolved_at IS NULL"
        ),
        {"user_id": user_id, "kind": kind},
    )
    return set(result.scalars())


_DUE = """
SELECT d.id, d.event, d.channel, d.attempts, i.id AS incident_id, i.kind, i.subject,
       i.summary, i.details, i.opened_at, i.resolved_at, u.name AS user_name
FROM sync_alert_deliveries d
JOIN sync_incidents i ON i.id = d.incident_id
JOIN users u ON u.id = i.user_id
WHERE d.status = 'pending' AND d.next_attempt_at <= now()
  -- a recovery never overtakes the announcement it follows
  AND NOT (d.event = 'resolved' AND EXISTS (
      SELECT 1 FROM sync_alert_deliveries o
      WHERE o.incident_id = d.incident_id AND o.channel = d.channel
        AND o.event = 'opened' AND o.status = 'pending'))
ORDER BY d.id
LIMIT :limit
FOR UPDATE OF d SKIP LOCKED
"""


async def lock_due(conn: AsyncConnection, limit: int) -> list[dict[str, Any]]:
    """Deliveries due now, locked for this transaction (another process skips them)."""
    result = await conn.execute(text(_DUE), {"limit": limit})
    return [dict(row) for row in result.mappings()]


async def mark_sent(conn: AsyncConnection, delivery_id: int, status: int) -> None:
    """A delivery the receiver accepted."""
    await conn.execute(
        text(
            "UPDATE sync_alert_deliveries SET status = 'sent', attempts = attempts + 1, "
            "last_status = :status, last_error = NULL, sent_at = now() WHERE id = :id"
        ),
        {"id": delivery_id, "status": status},
    )


async def mark_retry(
    conn: AsyncConnection,
    delivery_id: int,
    *,
    status: int | None,
    error: str,
    retry_in_s: float | None,
) -> None:
    """A failed attempt: tried again in ``retry_in_s``, or given up (None)."""
    await conn.execute(
        text(
            "UPDATE sync_alert_deliveries SET attempts = attempts + 1, last_status = :status, "
            "last_error = :error, status = CASE WHEN CAST(:retry AS float8) IS NULL "
            "THEN 'failed' ELSE 'pending' END, next_attempt_at = clock_timestamp() + "
            "make_interval(secs => coalesce(CAST(:retry AS float8), 0)) WHERE id = :id"
        ),
        {"id": delivery_id, "status": status, "error": error[:300], "retry": retry_in_s},
    )


async def seconds_to_next_due(conn: AsyncConnection) -> float | None:
    """Seconds until the next pending delivery is due (None: none pending)."""
    result = await conn.execute(
        text(
            "SELECT extract(epoch FROM min(next_attempt_at) - now()) FROM sync_alert_deliveries "
            "WHERE status = 'pending'"
        )
    )
    value = result.scalar_one_or_none()
    return None if value is None else max(0.0, float(value))

"""Announce incidents: a JSON webhook and/or an ntfy topic, retried with backoff.

Every attempt is recorded on its ``sync_alert_deliveries`` row. Bodies carry the user's
name, the automation, what happened and the advice, never a key, token or URL secret.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export import __version__
from health_export.core.config import Settings
from health_export.core.logging import get_logger
from health_export.sync import incidents

BATCH = 20
log = get_logger("health_export.sync.alerts")


def webhook_body(row: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The JSON a webhook receives for one delivery."""
    details = dict(row["details"] or {})
    return {
        "event": f"incident.{row['event']}",
        "incident_id": row["incident_id"],
        "kind": row["kind"],
        "user": row["user_name"],
        "automation": details.get("automation"),
        "summary": row["summary"],
        "advice": details.get("advice", []),
        "details": {k: v for k, v in details.items() if k not in ("automation", "advice")},
        "opened_at": row["opened_at"].isoformat(),
        "resolved_at": row["resolved_at"].isoformat() if row["resolved_at"] else None,
        "server": settings.app_name,
    }


def _ascii(value: str) -> str:
    # HTTP header values are Latin-1 at most; ntfy's title is a header.
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()


def ntfy_message(row: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The text and ntfy headers (Title, Priority, Tags) of one delivery."""
    details = dict(row["details"] or {})
    resolved = row["event"] == "resolved"
    title = f"{'Resolved' if resolved else 'Health data'}: {row['summary']}"
    lines = [f"{row['user_name']}: {row['summary']}"]
    if resolved:
        lines.append(f"Resolved: {details.get('resolution', 'data flows again')}.")
    else:
        lines += [f"- {advice}" for advice in details.get("advice", [])]
    headers = {
        "Title": _ascii(title)[:200],
        "Priority": "default" if resolved else "high",
        "Tags": "white_check_mark" if resolved else "warning",
    }
    return "\n".join(lines), headers


class ChannelNotConfigured(Exception):  # noqa: N818 - reads as the reason recorded
    """A delivery queued for a channel that is no longer configured (given up at once)."""


async def _send(client: httpx.AsyncClient, row: dict[str, Any], settings: Settings) -> int:
    """One attempt; the receiver's status code."""
    base = {"User-Agent": f"health-export/{__version__}", "X-Delivery-Id": str(row["id"])}
    if row["channel"] == "webhook":
        if settings.alert_webhook_url is None:
            raise ChannelNotConfigured("ALERT_WEBHOOK_URL is not set in this process")
        response = await client.post(
            settings.alert_webhook_url, json=webhook_body(row, settings), headers=base
        )
    else:
        if settings.alert_ntfy_url is None:
            raise ChannelNotConfigured("ALERT_NTFY_URL is not set in this process")
        text, headers = ntfy_message(row)
        if settings.alert_ntfy_token:
            headers["Authorization"] = f"Bearer {settings.alert_ntfy_token}"
        response = await client.post(
            settings.alert_ntfy_url, content=text.encode(), headers={**base, **headers}
        )
    return response.status_code


def backoff_s(settings: Settings, attempts_made: int) -> float | None:
    """Seconds before the next attempt after ``attempts_made`` failed ones (None: give up)."""
    if attempts_made >= settings.alert_max_attempts:
        return None
    return float(settings.alert_retry_base_seconds * 2 ** (attempts_made - 1))


async def deliver_due(
    engine: AsyncEngine, settings: Settings, client: httpx.AsyncClient
) -> float | None:
    """Send every delivery that is due; seconds until the next one is (None: none left)."""
    async with engine.begin() as conn:
        for row in await incidents.lock_due(conn, BATCH):
            await _attempt(conn, client, row, settings)
        return await incidents.seconds_to_next_due(conn)


async def _attempt(
    conn: AsyncConnection, client: httpx.AsyncClient, row: dict[str, Any], settings: Settings
) -> None:
    status: int | None = None
    try:
        status = await _send(client, row, settings)
    except ChannelNotConfigured as exc:
        # Every process shares one configuration: the channel was turned off since.
        await incidents.mark_retry(conn, row["id"], status=None, error=str(exc), retry_in_s=None)
        return
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    else:
        if 200 <= status < 300:
            await incidents.mark_sent(conn, row["id"], status)
            log.info("alert_delivered", channel=row["channel"], change=row["event"], status=status)
            return
        error = f"HTTP {status}"
    retry = backoff_s(settings, row["attempts"] + 1)
    await incidents.mark_retry(conn, row["id"], status=status, error=error, retry_in_s=retry)
    log.warning("alert_delivery_failed", channel=row["channel"], error=error, retry_in_s=retry)

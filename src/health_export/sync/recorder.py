"""Remember each request of an automation (called by the ingest side, never per point).

A processed or rejected ingestion is recorded in its processing transaction (so a
replay updates the same row); a request refused before its body was stored, or answered
as a byte-identical re-send, is recorded on its own.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.core.errors import AppError
from health_export.core.logging import get_logger
from health_export.sync import drift
from health_export.sync.models import sync_requests

# "<product>/<version>" at the start of a User-Agent: the app's format is undocumented,
# so the version is whatever its first product token says (e.g. "Health Auto Export/8.1.2").
_PRODUCT = re.compile(r"^\s*(?P<product>[^/]{1,80})/(?P<version>[0-9][\w.\-]{0,40})")

log = get_logger("health_export.sync")


@dataclass(frozen=True, slots=True)
class Requester:
    """Who sent a request and which automation headers came with it."""

    user_id: int
    key_id: uuid.UUID | None
    headers: dict[str, str]


def app_version_of(user_agent: str | None) -> str | None:
    """The app and version a User-Agent names first, or None."""
    if not user_agent:
        return None
    match = _PRODUCT.match(user_agent)
    if match is None:
        return None
    return f"{unquote(match['product']).strip()}/{match['version']}"


def automation_key(requester: Requester) -> str:
    """How requests of one automation are told apart."""
    headers = requester.headers
    if headers.get("automation-id"):
        return f"id:{headers['automation-id']}"
    if headers.get("automation-name"):
        return f"name:{headers['automation-name']}"
    return f"key:{requester.key_id}"


def _identity(requester: Requester) -> dict[str, Any]:
    headers = requester.headers
    agent = headers.get("user-agent")
    return {
        "user_id": requester.user_id,
        "key_id": requester.key_id,
        "automation_key": automation_key(requester),
        "automation_id": headers.get("automation-id"),
        "automation_name": headers.get("automation-name"),
        "aggregation": headers.get("automation-aggregation"),
        "period": headers.get("automation-period"),
        "session_id": headers.get("session-id"),
        "user_agent": agent,
        "app_version": app_version_of(agent),
    }


def _empty_counts() -> dict[str, Any]:
    return {
        "points": 0,
        "rejected_points": 0,
        "tables": None,
        "metrics": None,
        "features": None,
        "unknown_keys": None,
        "new_metrics": None,
        "new_fields": None,
    }


def _counts(result: dict[str, Any], seen: dict[str, int]) -> dict[str, Any]:
    tables = {
        table: sum(int(n) for n in counts.values())
        for table, counts in (result.get("by_type") or {}).items()
    }
    metrics = {k.removeprefix("metric:"): n for k, n in seen.items() if k.startswith("metric:")}
    features = {k: n for k, n in seen.items() if k.startswith("workouts:")}
    return {
        "points": int(result.get("received", 0)),
        "rejected_points": int(result.get("rejected", 0)),
        "tables": tables,
        "metrics": metrics,
        "features": features,
        "unknown_keys": drift.unknown_keys(result.get("ignored") or []) or None,
        "new_metrics": drift.new_metrics(seen) or None,
        "new_fields": drift.new_fields(seen) or None,
    }


async def _stored(conn: AsyncConnection, ingestion_id: uuid.UUID) -> dict[str, Any]:
    """The ingestion's id, time and requester, from its raw row."""
    found = await conn.execute(
        text("SELECT id, received_at, user_id, key_id, headers FROM raw_ingestions WHERE id = :id"),
        {"id": ingestion_id},
    )
    raw = found.mappings().one()
    requester = Requester(int(raw["user_id"]), raw["key_id"], dict(raw["headers"] or {}))
    return {"id": raw["id"], "received_at": raw["received_at"], **_identity(requester)}


async def _write(conn: AsyncConnection, values: dict[str, Any]) -> None:
    statement = insert(sync_requests).values(values)
    replaced = {name: statement.excluded[name] for name in values if name != "id"}
    await conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=replaced))
    drift.count_drift(
        values["app_version"],
        {
            "unknown_key": values["unknown_keys"],
            "new_metric": values["new_metrics"],
            "new_field": values["new_fields"],
        },
    )


async def record_processed(
    conn: AsyncConnection, ingestion_id: uuid.UUID, result: dict[str, Any], seen: dict[str, int]
) -> None:
    """A processed ingestion (in its processing transaction)."""
    values = await _stored(conn, ingestion_id)
    values.update(outcome="processed", http_status=None, error=None, **_counts(result, seen))
    await _write(conn, values)


async def record_unusable(
    conn: AsyncConnection, ingestion_id: uuid.UUID, outcome: str, error: str | None
) -> None:
    """A stored body that could not be used: ``rejected`` (no envelope) or ``failed``."""
    values = await _stored(conn, ingestion_id)
    values.update(outcome=outcome, http_status=None, error=error, **_empty_counts())
    await _write(conn, values)


async def record_request(
    engine: AsyncEngine,
    requester: Requester,
    *,
    outcome: str,
    http_status: int,
    error: str | None = None,
) -> None:
    """A request refused before its body was stored, or answered as a re-send."""
    values = {"id": uuid.uuid4(), "received_at": datetime.now(UTC), **_identity(requester)}
    values.update(outcome=outcome, http_status=http_status, error=error, **_empty_counts())
    async with engine.begin() as conn:
        await _write(conn, values)


async def record_refusal(engine: AsyncEngine, requester: Requester, refused: AppError) -> None:
    """A request refused before its body was stored (413, 415, 400, 408), when the database
    can take it: the refusal itself is answered whatever happens here."""
    try:
        await record_request(
            engine, requester, outcome="refused", http_status=refused.status, error=refused.detail
        )
    except Exception as exc:  # noqa: BLE001 - never turn a 413 into a 500
        log.warning("sync_refusal_not_recorded", exc_type=type(exc).__name__)

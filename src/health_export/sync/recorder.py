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

from sqlalchemy import bindparam, text
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


_STORED = text(
    "SELECT id, received_at, user_id, key_id, headers FROM raw_ingestions WHERE id = :id"
)
_STORED_IN_MONTH = text(
    "SELECT id, received_at, user_id, key_id, headers FROM raw_ingestions "
    "WHERE id = :id AND received_at = :at"
)


async def _stored(
    conn: AsyncConnection, ingestion_id: uuid.UUID, received_at: datetime | None
) -> dict[str, Any]:
    """The ingestion's id, time and requester, from its raw row (its time, when known,
    lets PostgreSQL look in one monthly partition only)."""
    if received_at is None:
        found = await conn.execute(_STORED, {"id": ingestion_id})
    else:
        found = await conn.execute(_STORED_IN_MONTH, {"id": ingestion_id, "at": received_at})
    raw = found.mappings().one()
    requester = Requester(int(raw["user_id"]), raw["key_id"], dict(raw["headers"] or {}))
    return {"id": raw["id"], "received_at": raw["received_at"], **_identity(requester)}


def _upsert() -> Any:
    # Built once with a bind parameter per column, so SQLAlchemy compiles it once (a
    # statement built per call compiled in ~4 ms, as long as the round trip).
    columns = [column.name for column in sync_requests.columns]
    statement = insert(sync_requests).values(
        {name: bindparam(name, type_=sync_requests.c[name].type) for name in columns}
    )
    replaced = {name: statement.excluded[name] for name in columns if name != "id"}
    return statement.on_conflict_do_update(index_elements=["id"], set_=replaced)


_UPSERT = _upsert()


async def _write(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(_UPSERT, values)
    drift.count_drift(
        values["app_version"],
        {
            "unknown_key": values["unknown_keys"],
            "new_metric": values["new_metrics"],
            "new_field": values["new_fields"],
        },
    )


async def record_processed(
    conn: AsyncConnection, row: dict[str, Any], result: dict[str, Any], seen: dict[str, int]
) -> None:
    """A processed ingestion (in its processing transaction; ``row`` is its locked row)."""
    values = await _stored(conn, row["id"], row["received_at"])
    values.update(outcome="processed", http_status=None, error=None, **_counts(result, seen))
    await _write(conn, values)


async def record_unusable(
    conn: AsyncConnection,
    ingestion_id: uuid.UUID,
    outcome: str,
    error: str | None,
    received_at: datetime | None = None,
) -> None:
    """A stored body that could not be used: ``rejected`` (no envelope) or ``failed``."""
    values = await _stored(conn, ingestion_id, received_at)
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
    """A request refused before its body was stored, or answered as a re-send. Recorded
    when the database can take it: the answer is decided already, whatever happens here."""
    values = {"id": uuid.uuid4(), "received_at": datetime.now(UTC), **_identity(requester)}
    values.update(outcome=outcome, http_status=http_status, error=error, **_empty_counts())
    try:
        async with engine.begin() as conn:
            await _write(conn, values)
    except Exception as exc:  # noqa: BLE001 - never turn a 413 or a 200 into a 500
        log.warning("sync_request_not_recorded", outcome=outcome, exc_type=type(exc).__name__)


async def record_refusal(engine: AsyncEngine, requester: Requester, refused: AppError) -> None:
    """A request refused before its body was stored (413, 415, 400, 408)."""
    await record_request(
        engine, requester, outcome="refused", http_status=refused.status, error=refused.detail
    )

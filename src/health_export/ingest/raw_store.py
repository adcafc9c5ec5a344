"""The raw store: every body made durable, committed before anything is acknowledged.

A byte-identical re-send of the user's latest ingestion is answered from its stored
answer instead (``dedupe.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.auth.principal import Principal
from health_export.core.db import connections_of
from health_export.ingest import dedupe, repository
from health_export.ingest.body import Body, ReceivedBody
from health_export.schema.partitions import ensure_partitions_exist, month_of

# Bodies above this are hashed and compressed off the event loop (SHA-256 runs at ~1 GB/s).
_IN_THREAD_BYTES = 1024 * 1024


async def sha256_of(data: Body) -> bytes:
    """The body's SHA-256 (the re-send check's key)."""
    if len(data) < _IN_THREAD_BYTES:
        return hashlib.sha256(data).digest()
    return await asyncio.to_thread(lambda: hashlib.sha256(data).digest())


def _duplicate_answer(row: dict[str, Any]) -> dict[str, Any]:
    return dedupe.duplicate_answer(row["id"], row["result"])


async def find_duplicate(
    engine: AsyncEngine, principal: Principal, digest: bytes
) -> dict[str, Any] | None:
    """The earlier answer when these exact bytes are the user's latest ingestion."""
    async with engine.connect() as conn:
        row = await dedupe.find_current_answer(conn, principal.user_id, digest)
    return None if row is None else _duplicate_answer(row)


async def store_raw(
    engine: AsyncEngine,
    principal: Principal,
    received: ReceivedBody,
    headers: dict[str, str],
    digest: bytes,
    ingestion_id: uuid.UUID,
) -> uuid.UUID:
    """Make the body durable: committed before anything is acknowledged."""
    now = datetime.now(UTC)
    await ensure_partitions_exist(connections_of(engine), "raw_ingestions", {month_of(now)})
    async with engine.begin() as conn:
        await _insert_raw(conn, principal, received, headers, digest, ingestion_id, now)
    return ingestion_id


async def store_unless_duplicate(
    engine: AsyncEngine,
    principal: Principal,
    received: ReceivedBody,
    headers: dict[str, str],
    digest: bytes,
) -> uuid.UUID | dict[str, Any]:
    """The earlier answer for the same bytes, else the body stored: one transaction."""
    now = datetime.now(UTC)
    await ensure_partitions_exist(connections_of(engine), "raw_ingestions", {month_of(now)})
    async with engine.begin() as conn:
        row = await dedupe.find_current_answer(conn, principal.user_id, digest)
        if row is not None:
            return _duplicate_answer(row)
        ingestion_id = uuid.uuid4()
        await _insert_raw(conn, principal, received, headers, digest, ingestion_id, now)
    return ingestion_id


async def _insert_raw(
    conn: AsyncConnection,
    principal: Principal,
    received: ReceivedBody,
    headers: dict[str, str],
    digest: bytes,
    ingestion_id: uuid.UUID,
    now: datetime,
) -> None:
    data = received.data
    body = (
        repository.compress_body(data)
        if len(data) < _IN_THREAD_BYTES
        else (await asyncio.to_thread(repository.compress_body, data))
    )
    await repository.insert_raw(
        conn,
        {
            "id": ingestion_id,
            "received_at": now,
            "user_id": principal.user_id,
            "key_id": principal.key_id,
            "sha256": digest,
            "body": body,
            "body_bytes": len(received.data),
            "content_encoding": received.content_encoding,
            "headers": orjson.dumps(headers).decode(),
        },
    )

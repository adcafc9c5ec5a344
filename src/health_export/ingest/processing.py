"""One ingestion's transaction: claim its row, write its rows, record the outcome.

The claim (locking the ingestion's row, once the raw body is committed) is a named stage:
a large body's batches are staged while it is parsed, before the claim, and nothing reaches
a real table before it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.core.logging import get_logger
from health_export.ingest import repository
from health_export.ingest.body import Body
from health_export.ingest.outcome import finish_processed, finish_rejected
from health_export.ingest.parse_stage import ParseLost, RejectedPayload, parse_body
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.write.feeder import BatchSource
from health_export.ingest.write.writer import PayloadWriter, WriteResult, write_payload

MAX_ERRORS_LISTED = 100
PARSE_INLINE_BELOW_BYTES = 64 * 1024
log = get_logger("health_export.ingest")


def build_result(
    ingestion_id: uuid.UUID, payload: NormalisedPayload, written: WriteResult
) -> dict[str, Any]:
    """The 200 answer of a processed ingestion."""
    errors = payload.errors
    return {
        "ingestion_id": str(ingestion_id),
        "status": "processed",
        "duplicate_payload": False,
        "received": payload.received,
        "inserted": written.total("inserted"),
        "updated": written.total("updated"),
        "unchanged": written.total("unchanged"),
        "rejected": payload.rejected,
        "by_type": {table: counts.as_dict() for table, counts in written.by_table.items()},
        "errors": [{"path": e.path, "reason": e.reason} for e in errors[:MAX_ERRORS_LISTED]],
        "errors_truncated": payload.rejected > MAX_ERRORS_LISTED,
        "ignored": payload.ignored,
    }


@dataclass(slots=True)
class ParseInProgress:
    """A large body being parsed (and its batches staged) while its raw copy is stored."""

    payload: NormalisedPayload
    batches: BatchSource
    # Done once the parser process holds its own copy of the body (None: a thread here).
    handed_over: asyncio.Future[None] | None = None
    is_used: bool = False


@dataclass(slots=True)
class _Staged:
    """What a first attempt prepared before the ingestion row was locked."""

    writer: PayloadWriter
    payload: NormalisedPayload | None = None
    rejected: RejectedPayload | None = None


@dataclass(slots=True)
class _Claim:
    """The ingestion's row, locked once: before the first write, or before processing."""

    conn: AsyncConnection
    ingestion_id: uuid.UUID
    stored: Awaitable[Any] | None
    _row: dict[str, Any] | None = None
    _locked: bool = False

    async def row(self) -> dict[str, Any] | None:
        """The locked row (None: no such ingestion), once the raw body is committed."""
        if not self._locked:
            if self.stored is not None:
                await self.stored
            self._row = await repository.lock_for_processing(
                self.conn, self.ingestion_id, skip_locked=False
            )
            self._locked = True
        return self._row

    async def user_to_write_for(self) -> int | None:
        """Whose rows may be written now; None when another attempt already finished it."""
        row = await self.row()
        return None if row is None or row["status"] != "received" else int(row["user_id"])


async def _stage_while_parsing(staged: _Staged, parsing: ParseInProgress, claim: _Claim) -> None:
    # A parse in progress serves one attempt only: a retried attempt starts afresh,
    # since the failed one took rows out of the payload into its rolled-back staging.
    parsing.is_used = True
    await staged.writer.start()
    try:
        await staged.writer.stage_while_parsing(parsing.batches, claim.user_to_write_for)
    except RejectedPayload as exc:
        # Raised before the parser produced any row (the envelope is unusable), so
        # nothing was written.
        staged.rejected = exc


async def _write(
    engine: AsyncEngine,
    conn: AsyncConnection,
    row: dict[str, Any],
    body: Body | None,
    staged: _Staged | None,
) -> tuple[NormalisedPayload, WriteResult]:
    if staged is not None:
        if staged.rejected is not None:
            raise staged.rejected
        assert staged.payload is not None  # noqa: S101 - set whenever not rejected
        return staged.payload, await staged.writer.finish(row["user_id"], staged.payload)
    data = body if body is not None else await repository.load_body(conn, row["id"])
    # A thread hop costs more than parsing a small body (100 points: ~0.3 ms).
    if len(data) < PARSE_INLINE_BELOW_BYTES:
        payload = parse_body(data)
    else:
        payload = await asyncio.to_thread(parse_body, data)
    return payload, await write_payload(engine, conn, row["user_id"], payload)


async def process_locked(
    engine: AsyncEngine,
    conn: AsyncConnection,
    row: dict[str, Any],
    body: Body | None,
    *,
    staged: _Staged | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Process one ingestion whose row ``conn``'s transaction has locked."""
    if row["status"] == "processed" and not force:
        result: dict[str, Any] = row["result"]
        return result
    if row["status"] == "rejected" and not force:
        raise RejectedPayload("unusable", row["error"] or "the payload was rejected")
    try:
        payload, written = await _write(engine, conn, row, body, staged)
    except RejectedPayload as rejected:
        await finish_rejected(conn, row, rejected.reason)
        raise
    result = build_result(row["id"], payload, written)
    await finish_processed(conn, row, result, payload.seen)
    return result


async def process(
    engine: AsyncEngine,
    ingestion_id: uuid.UUID,
    body: Body | None = None,
    *,
    parsing: ParseInProgress | None = None,
    stored: Awaitable[Any] | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Process one stored ingestion in one transaction; waits for another holder's lock.

    With a parse in progress, rows are staged while it runs, even before the raw body's
    commit (``stored``) lands; nothing reaches a real table before that commit. When the
    parser process is lost, the transaction rolls back and the body is parsed here.
    """
    try:
        return await _process_once(engine, ingestion_id, body, parsing, stored, force)
    except ParseLost:
        log.warning("parser_process_lost", ingestion_id=str(ingestion_id))
        return await _process_once(engine, ingestion_id, body, None, stored, force)


async def _process_once(
    engine: AsyncEngine,
    ingestion_id: uuid.UUID,
    body: Body | None,
    parsing: ParseInProgress | None,
    stored: Awaitable[Any] | None,
    force: bool,
) -> dict[str, Any]:
    rejected: RejectedPayload | None = None
    staged: _Staged | None = None
    committed = False
    try:
        async with engine.connect() as conn:
            async with conn.begin():
                claim = _Claim(conn, ingestion_id, stored)
                if parsing is not None and not parsing.is_used:
                    staged = _Staged(PayloadWriter(engine, conn), parsing.payload)
                    await _stage_while_parsing(staged, parsing, claim)
                row = await claim.row()
                if row is None:
                    raise LookupError(f"no ingestion {ingestion_id}")
                try:
                    result = await process_locked(
                        engine, conn, row, body, staged=staged, force=force
                    )
                except RejectedPayload as exc:
                    rejected = exc  # commit the 'rejected' mark, then answer with it
            committed = True
    finally:
        if parsing is not None:
            # A parse whose rows nobody took (this attempt failed first) must not wait
            # for room forever.
            parsing.payload.abandon()
        if staged is not None:
            await staged.writer.close(committed=committed)
    if rejected is not None:
        raise rejected
    return result

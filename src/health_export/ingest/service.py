"""The ingest pipeline: store the raw body, then parse, normalise and upsert it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.auth.principal import Principal
from health_export.core.db import is_database_unavailable, with_transient_retry
from health_export.core.errors import ServiceUnavailable, Unprocessable
from health_export.core.logging import get_logger
from health_export.ingest import dedupe, repository
from health_export.ingest.body import Body, ReceivedBody
from health_export.ingest.outcome import finish_processed, finish_rejected
from health_export.ingest.parse_stage import ParseLost, RejectedPayload, parse_body
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.writer import (
    BatchSource,
    PayloadWriter,
    WriteResult,
    feed_from_thread,
    write_payload,
)
from health_export.schema.partitions import ensure_partitions_exist, month_of

if TYPE_CHECKING:
    from health_export.ingest.parser_process import ParserProcess

MAX_ERRORS_LISTED = 100
# From this size a body is parsed and staged while its raw copy is being committed;
# below it, storing then processing sequentially needs fewer connections and round trips.
STREAM_FROM_BYTES = 1024 * 1024
PARSE_INLINE_BELOW_BYTES = 64 * 1024
# Bodies above this are hashed off the event loop (SHA-256 runs at ~1 GB/s).
_HASH_IN_THREAD_BYTES = 1024 * 1024
log = get_logger("health_export.ingest")
T = TypeVar("T")


@dataclass(slots=True)
class Ingestion:
    """What one POST produced: the HTTP status and its JSON answer."""

    status_code: int
    body: dict[str, Any]


@dataclass(slots=True)
class IngestRuntime:
    """What the pipeline needs from the running app."""

    engine: AsyncEngine
    sync_budget_s: float
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    parser: ParserProcess | None = None


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


async def _sha256(data: Body) -> bytes:
    if len(data) < _HASH_IN_THREAD_BYTES:
        return hashlib.sha256(data).digest()
    return await asyncio.to_thread(lambda: hashlib.sha256(data).digest())


def _duplicate_answer(row: dict[str, Any]) -> Ingestion:
    return Ingestion(200, dedupe.duplicate_answer(row["id"], row["result"]))


async def find_duplicate(
    engine: AsyncEngine, principal: Principal, digest: bytes
) -> Ingestion | None:
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
    await ensure_partitions_exist(engine, "raw_ingestions", {month_of(now)})
    async with engine.begin() as conn:
        await _insert_raw(conn, principal, received, headers, digest, ingestion_id, now)
    return ingestion_id


async def store_unless_duplicate(
    engine: AsyncEngine,
    principal: Principal,
    received: ReceivedBody,
    headers: dict[str, str],
    digest: bytes,
) -> uuid.UUID | Ingestion:
    """The earlier answer for the same bytes, else the body stored: one transaction."""
    now = datetime.now(UTC)
    await ensure_partitions_exist(engine, "raw_ingestions", {month_of(now)})
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
        if len(data) < _HASH_IN_THREAD_BYTES
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
        raise RejectedPayload(Unprocessable(row["error"] or "the payload was rejected"))
    try:
        payload, written = await _write(engine, conn, row, body, staged)
    except RejectedPayload as rejected:
        await finish_rejected(conn, row, rejected.error.detail)
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
        raise rejected.error
    return result


def _start_parsing(runtime: IngestRuntime, data: Body) -> ParseInProgress:
    """Parse while the raw body is being stored (nothing is written from it before the
    raw body is committed): in the parser process when it is free, else in a thread."""
    payload = NormalisedPayload()
    if runtime.parser is not None and runtime.parser.available:
        return ParseInProgress(payload, *runtime.parser.start_body(data, payload))
    done = asyncio.ensure_future(asyncio.to_thread(parse_body, data, payload))
    # Retrieved here too, so an unused failure (raw store failed) is never reported as lost.
    done.add_done_callback(lambda future: future.cancelled() or future.exception())
    return ParseInProgress(payload, feed_from_thread(runtime.engine, payload, done))


async def ingest(
    runtime: IngestRuntime, principal: Principal, received: ReceivedBody, headers: dict[str, str]
) -> Ingestion:
    """Store, then process within the sync budget; past it, answer 202 and finish later."""
    engine = runtime.engine
    digest = await _sha256(received.data)
    if len(received.data) < STREAM_FROM_BYTES:
        stored = None
        found = await _unavailable_is_503(
            with_transient_retry(
                lambda: store_unless_duplicate(engine, principal, received, headers, digest)
            )
        )
        if isinstance(found, Ingestion):
            return found
        ingestion_id = found
        task = asyncio.create_task(
            with_transient_retry(lambda: process(engine, ingestion_id, received.data))
        )
    else:
        duplicate = await _unavailable_is_503(
            with_transient_retry(lambda: find_duplicate(engine, principal, digest))
        )
        if duplicate is not None:
            return duplicate
        ingestion_id = uuid.uuid4()
        parsing = _start_parsing(runtime, received.data)
        stored = asyncio.ensure_future(
            with_transient_retry(
                lambda: store_raw(engine, principal, received, headers, digest, ingestion_id)
            )
        )
        # With a parser process the body is not needed here once it is stored and handed
        # over (a retry loads it back), so it is freed then: 90 MB less while it parses.
        body = received.data if parsing.handed_over is None else None
        if parsing.handed_over is not None:
            _keep(runtime, _free_when_done(received.data, stored, parsing.handed_over))
        task = asyncio.create_task(
            with_transient_retry(
                lambda: process(engine, ingestion_id, body, parsing=parsing, stored=stored)
            )
        )
    done, _ = await asyncio.wait({task}, timeout=runtime.sync_budget_s)
    if task in done:
        return _finished(task, ingestion_id)
    runtime.background.add(task)
    task.add_done_callback(_forget(runtime, ingestion_id))
    if stored is not None:
        # A 202 acknowledges too: only once the raw body is committed.
        await _unavailable_is_503(stored)
    log.info("ingest_continues_in_background", ingestion_id=str(ingestion_id))
    return Ingestion(
        202,
        {
            "ingestion_id": str(ingestion_id),
            "status": "accepted",
            "status_url": f"/api/v1/ingestions/{ingestion_id}",
        },
    )


async def _free_when_done(
    data: Body, stored: asyncio.Future[Any], handed_over: asyncio.Future[None]
) -> None:
    await asyncio.wait({stored, handed_over}, return_when=asyncio.ALL_COMPLETED)
    if isinstance(data, bytearray):
        # A view still open on it (none is expected) keeps it instead of failing.
        with contextlib.suppress(BufferError):
            data.clear()


def _keep(runtime: IngestRuntime, coroutine: Awaitable[None]) -> None:
    task = asyncio.ensure_future(coroutine)
    runtime.background.add(task)
    task.add_done_callback(runtime.background.discard)


async def _unavailable_is_503(operation: Awaitable[T]) -> T:
    try:
        return await operation
    except Exception as exc:
        if is_database_unavailable(exc):
            raise ServiceUnavailable("the database is unavailable; retry later") from exc
        raise


def _finished(task: asyncio.Task[dict[str, Any]], ingestion_id: uuid.UUID) -> Ingestion:
    exc = task.exception()
    if exc is None:
        return Ingestion(200, task.result())
    if is_database_unavailable(exc):
        # If the body was stored, the worker finishes it when the database is back.
        raise ServiceUnavailable("the database is unavailable; retry later") from exc
    raise exc


def _forget(runtime: IngestRuntime, ingestion_id: uuid.UUID) -> Any:
    def done(task: asyncio.Task[Any]) -> None:
        runtime.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning(
                "background_ingest_failed",
                ingestion_id=str(ingestion_id),
                exc_type=type(task.exception()).__name__,
            )

    return done

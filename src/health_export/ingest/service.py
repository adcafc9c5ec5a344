"""The ingest request: dedupe, store the raw body while parsing, then process it within
the sync budget, or answer 202 and finish in the background.

The parse stage's domain rejections become HTTP errors here, at the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.auth.principal import Principal
from health_export.core.db import is_database_unavailable, with_transient_retry
from health_export.core.errors import AppError, BadRequest, ServiceUnavailable, Unprocessable
from health_export.core.logging import get_logger
from health_export.ingest.body import Body, ReceivedBody
from health_export.ingest.parse_stage import RejectedPayload, parse_body
from health_export.ingest.processing import ParseInProgress, process
from health_export.ingest.raw_store import (
    find_duplicate,
    sha256_of,
    store_raw,
    store_unless_duplicate,
)
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.write.writer import feed_from_thread

if TYPE_CHECKING:
    from health_export.ingest.parser_process import ParserProcess

# From this size a body is parsed and staged while its raw copy is being committed;
# below it, storing then processing sequentially needs fewer connections and round trips.
STREAM_FROM_BYTES = 1024 * 1024
log = get_logger("health_export.ingest")
T = TypeVar("T")
# A body nothing can be read from is the client's 400; one of no known shape is a 422.
_REJECTION_STATUS: dict[str, type[AppError]] = {"unreadable": BadRequest, "unusable": Unprocessable}


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


def as_http_error(rejected: RejectedPayload) -> AppError:
    """The problem+json error a rejected body is answered with."""
    return _REJECTION_STATUS[rejected.kind](rejected.reason)


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
    digest = await sha256_of(received.data)
    if len(received.data) < STREAM_FROM_BYTES:
        stored = None
        found = await _unavailable_is_503(
            with_transient_retry(
                lambda: store_unless_duplicate(engine, principal, received, headers, digest)
            )
        )
        if isinstance(found, dict):
            return Ingestion(200, found)
        ingestion_id = found
        task = asyncio.create_task(
            with_transient_retry(lambda: process(engine, ingestion_id, received.data))
        )
    else:
        duplicate = await _unavailable_is_503(
            with_transient_retry(lambda: find_duplicate(engine, principal, digest))
        )
        if duplicate is not None:
            return Ingestion(200, duplicate)
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
    if isinstance(exc, RejectedPayload):
        raise as_http_error(exc) from None
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

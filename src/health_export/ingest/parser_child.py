"""The parser process itself: one body after another until its worker closes the pipe.

Started by ``parser_process.py`` (the worker's side), which sends everything it needs as
plain data first (:class:`Setup`). It imports what parsing and the feeder need and no more: no web
framework, no Redis, no SQLAlchemy (its connections are an asyncpg pool), no pydantic
settings. ``tests/ingest/test_parser_process_imports.py`` holds that boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import asyncpg

from health_export.core.driver import Connections, register_codecs
from health_export.core.logging import configure_logging, get_logger
from health_export.ingest.parse_stage import RejectedPayload, parse_body
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.write.batches import Batch
from health_export.ingest.write.feeder import Feeder
from health_export.ingest.write.tables import TableWrite

# The first rejected points travel back whole; beyond them only their number.
ERRORS_SENT = 1000
log = get_logger("health_export.ingest")


@dataclass(frozen=True, slots=True)
class Setup:
    """What the parser process is started with (pickled to it)."""

    logging: Mapping[str, Any]  # configure_logging's arguments
    database: Mapping[str, Any]  # asyncpg.create_pool's arguments
    writes: Mapping[str, TableWrite]  # every written table's plan (``plans.WRITES``)


def _receive_body(conn: Connection) -> bytearray:
    size = conn.recv()
    data = bytearray(size)
    received = 0
    while received < size:
        received += conn.recv_bytes_into(data, received)
    return data


def main(fd: int) -> None:
    """The parser process, on its end ``fd`` of the socket pair: first its :class:`Setup`,
    then one body after another until the worker closes the pipe."""
    conn = Connection(fd)
    setup: Setup = conn.recv()
    configure_logging(**setup.logging)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(conn, setup))


async def _serve(conn: Connection, setup: Setup) -> None:
    # Connections are opened when first needed, each with our jsonb codec.
    pool = await asyncpg.create_pool(init=register_codecs, **setup.database)
    db = Connections(pool.acquire)
    conn.send(("ready",))
    try:
        while True:
            try:
                data = await asyncio.to_thread(_receive_body, conn)
            except (EOFError, OSError):
                return
            answer = await _one_body(db, setup.writes, conn, data)
            del data  # before the next body is received, not after
            conn.send(answer)
    finally:
        await pool.close()


async def _one_body(
    db: Connections, writes: Mapping[str, TableWrite], conn: Connection, data: bytearray
) -> tuple[Any, ...]:
    payload = NormalisedPayload()
    parsing = asyncio.ensure_future(asyncio.to_thread(parse_body, data, payload))
    del data

    def deliver(batch: Batch) -> None:
        conn.send(("batch", batch.write.table, batch.table, batch.rows, batch.metric_sources))

    try:
        await Feeder(db, writes).feed(payload, parsing, deliver)
    except RejectedPayload as rejected:
        return ("rejected", rejected.kind, rejected.reason)
    except Exception as exc:  # noqa: BLE001 - reported to the worker, which fails the body
        log.warning("parser_process_failed", exc_type=type(exc).__name__)
        return ("failed", type(exc).__name__)
    errors = [(error.path, error.reason) for error in payload.errors[:ERRORS_SENT]]
    more = len(payload.errors) - len(errors)
    return ("done", errors, more, payload.ignored, dict(payload.taken), payload.seen)

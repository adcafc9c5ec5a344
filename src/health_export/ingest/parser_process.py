"""Large bodies are parsed and staged in a helper process, off the worker's event loop.

Parsing a 90 MB body is seconds of Python work. In a thread of the worker it holds the
GIL that the worker's event loop needs for every other request: small syncs served by
the same worker waited for it (p99 of 1-1.5 s beside a bulk ingest, measured). Here
each worker process has one parser process (spawned at start-up, reused): it receives
the body through a pipe, parses it, COPYs batches into batch tables on its own
connection (:class:`~health_export.ingest.write.writer.Feeder`, the same code as in-process),
and sends each batch's name back; the worker's ingest transaction writes them.

A parser process serves one body at a time. When it is busy, not started, or gone, the
worker parses in a thread as before; a retried attempt always does.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from health_export.core.config import Settings
from health_export.core.db import create_engine
from health_export.core.logging import configure_logging_for, get_logger
from health_export.ingest.body import Body
from health_export.ingest.parse_stage import ParseLost, RejectedPayload, parse_body
from health_export.ingest.records import NormalisedPayload, PointError
from health_export.ingest.write.batches import Batch
from health_export.ingest.write.tables import WRITES
from health_export.ingest.write.writer import BatchSource, Deliver, Feeder

# A body crosses the pipe in pieces of this size.
PIECE_BYTES = 4 * 1024 * 1024
# The first rejected points travel back whole; beyond them only their number.
ERRORS_SENT = 1000
log = get_logger("health_export.ingest")


class ParserProcess:
    """The worker's side of its parser process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._busy = False
        self._stopped = False
        self._ready = False

    def start(self) -> None:
        """Spawn the process (it imports and connects on its own; this returns at once)."""
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_main, args=(theirs, self.settings), name="health-export-parser", daemon=True
        )
        process.start()
        theirs.close()
        self._process, self._conn, self._ready = process, ours, False

    @property
    def available(self) -> bool:
        """Whether a body can be handed over now (the process has said it is ready)."""
        if self._busy or self._process is None or not self._process.is_alive():
            return False
        if not self._ready and self._conn is not None and self._conn.poll(0):
            self._ready = self._conn.recv() == ("ready",)
        return self._ready

    def start_body(
        self, data: Body, payload: NormalisedPayload
    ) -> tuple[BatchSource, asyncio.Future[None]]:
        """Hand ``data`` over now: the batches as they are staged there, and a future
        done once the process has its own copy of ``data``. ``payload`` gets the parse's
        counts and rejected points at the end (its rows stay empty).

        The body runs to its end even if nobody takes its batches (the ingest failed
        first); their tables are then left to the housekeeping sweep.
        """
        self._busy = True
        arrived: asyncio.Queue[Batch | BaseException | None] = asyncio.Queue()
        handed_over: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                await self._run(data, payload, arrived.put_nowait, handed_over)
            except BaseException as exc:
                arrived.put_nowait(exc)
                if not handed_over.done():
                    handed_over.set_exception(ParseLost("the body was not handed over"))
                raise
            finally:
                self._busy = False
            arrived.put_nowait(None)

        job = asyncio.ensure_future(run())
        job.add_done_callback(lambda done: done.cancelled() or done.exception())

        async def batches(deliver: Deliver) -> None:
            while (item := await arrived.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                deliver(item)

        handed_over.add_done_callback(lambda done: done.cancelled() or done.exception())
        return batches, handed_over

    async def _run(
        self,
        data: Body,
        payload: NormalisedPayload,
        deliver: Deliver,
        handed_over: asyncio.Future[None],
    ) -> None:
        conn = self._conn
        assert conn is not None  # noqa: S101 - available() was checked
        finished = False
        try:
            await asyncio.to_thread(_send_body, conn, data)
            handed_over.set_result(None)
            while True:
                message = await asyncio.to_thread(conn.recv)
                kind = message[0]
                if kind == "batch":
                    _, table, name, rows, pairs = message
                    deliver(Batch(WRITES[table], name, rows, pairs))
                    continue
                finished = True
                if kind == "done":
                    _fill(payload, *message[1:])
                    return
                if kind == "rejected":
                    raise RejectedPayload(message[1], message[2])
                raise ParseLost(f"the parser failed ({message[1]})")
        except (EOFError, OSError) as exc:
            raise ParseLost("the parser process is gone") from exc
        finally:
            if not finished and not self._stopped:
                # Cut off mid-body (or gone): a fresh process for the next body, so no
                # message of this one is ever read as the next one's.
                self._end()
                self.start()

    def stop(self) -> None:
        """End the process for good (at shutdown)."""
        self._stopped = True
        self._end()

    def _end(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None and process.is_alive():
            process.terminate()
            process.join(timeout=5)


def _send_body(conn: Connection, data: Body) -> None:
    """Its size, then the body in pieces (one message for the whole would be buffered
    twice on the receiving side: 180 MB for a 90 MB body)."""
    conn.send(len(data))
    with memoryview(data) as view:
        for start in range(0, len(view), PIECE_BYTES):
            conn.send_bytes(view[start : start + PIECE_BYTES])


def _receive_body(conn: Connection) -> bytearray:
    size = conn.recv()
    data = bytearray(size)
    received = 0
    while received < size:
        received += conn.recv_bytes_into(data, received)
    return data


def _fill(
    payload: NormalisedPayload,
    errors: list[tuple[str, str]],
    more_errors: int,
    ignored: list[str],
    taken: dict[str, int],
    seen: dict[str, int],
) -> None:
    payload.errors = [PointError(path, reason) for path, reason in errors]
    payload.more_errors = more_errors
    payload.ignored = ignored
    payload.taken = taken
    payload.seen = seen


def _main(conn: Connection, settings: Settings) -> None:
    """The parser process: one body after another until the worker closes the pipe."""
    configure_logging_for(settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(conn, settings))


async def _serve(conn: Connection, settings: Settings) -> None:
    # Two connections at most: the feeder's, and a short one for names and partitions.
    engine = create_engine(settings.model_copy(update={"database_pool_size": 2}))
    conn.send(("ready",))
    try:
        while True:
            try:
                data = await asyncio.to_thread(_receive_body, conn)
            except (EOFError, OSError):
                return
            answer = await _one_body(engine, conn, data)
            del data  # before the next body is received, not after
            conn.send(answer)
    finally:
        await engine.dispose()


async def _one_body(engine: Any, conn: Connection, data: Body) -> tuple[Any, ...]:
    payload = NormalisedPayload()
    parsing = asyncio.ensure_future(asyncio.to_thread(parse_body, data, payload))
    del data

    def deliver(batch: Batch) -> None:
        conn.send(("batch", batch.write.table, batch.table, batch.rows, batch.metric_sources))

    try:
        await Feeder(engine).feed(payload, parsing, deliver)
    except RejectedPayload as rejected:
        return ("rejected", rejected.kind, rejected.reason)
    except Exception as exc:  # noqa: BLE001 - reported to the worker, which fails the body
        log.warning("parser_process_failed", exc_type=type(exc).__name__)
        return ("failed", type(exc).__name__)
    errors = [(error.path, error.reason) for error in payload.errors[:ERRORS_SENT]]
    more = len(payload.errors) - len(errors)
    return ("done", errors, more, payload.ignored, dict(payload.taken), payload.seen)

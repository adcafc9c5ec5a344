"""Large bodies are parsed and staged in a helper process, off the worker's event loop.

Parsing a 90 MB body is seconds of Python work. In a thread of the worker it holds the
GIL that the worker's event loop needs for every other request: small syncs served by
the same worker waited for it (p99 of 1-1.5 s beside a bulk ingest, measured). Here
each worker process has one parser process (spawned at start-up, reused): it receives
the body through a pipe, parses it, COPYs batches into batch tables on its own
connection (:class:`~health_export.ingest.write.feeder.Feeder`, the same code as in-process),
and sends each batch's name back; the worker's ingest transaction writes them.

This module is the worker's side; the process itself runs ``parser_child.py``, which
imports no web framework and no SQLAlchemy (it gets its write plans and settings as
plain data from here).

A parser process serves one body at a time. When it is busy, not started, or gone, the
worker parses in a thread as before; a retried attempt always does.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from multiprocessing.connection import Connection

from health_export.core.config import Settings
from health_export.core.logging import logging_options
from health_export.ingest import parser_child
from health_export.ingest.body import Body
from health_export.ingest.parse_stage import ParseLost, RejectedPayload
from health_export.ingest.records import NormalisedPayload, PointError
from health_export.ingest.write.batches import Batch
from health_export.ingest.write.feeder import BatchSource, Deliver
from health_export.ingest.write.plans import WRITES

# A body crosses the pipe in pieces of this size.
PIECE_BYTES = 4 * 1024 * 1024
# The parser process's connections: the feeder's, and a short one for names and partitions.
PARSER_CONNECTIONS = 2
# An unused connection of the parser process is closed after this long (the engine
# recycles its connections after as long).
PARSER_CONNECTION_IDLE_S = 1800.0


# What the parser process runs: its end of the socket pair is inherited as ``fd``.
_CHILD_MAIN = "from health_export.ingest.parser_child import main; main({fd})"


class ParserProcess:
    """The worker's side of its parser process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._busy = False
        self._stopped = False
        self._ready = False

    def start(self) -> None:
        """Spawn the process (it imports and connects on its own; this returns at once).

        A fresh interpreter that imports ``parser_child`` only. Not a multiprocessing
        "spawn": that first runs the worker's main module again in the child (the
        console script, which imports the whole app: 100 MB PSS at idle, measured).
        """
        ours, theirs = socket.socketpair()
        with theirs:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-c", _CHILD_MAIN.format(fd=theirs.fileno())],
                pass_fds=(theirs.fileno(),),
            )
        conn = Connection(ours.detach())
        conn.send(child_setup(self.settings))
        self._process, self._conn, self._ready = process, conn, False

    @property
    def available(self) -> bool:
        """Whether a body can be handed over now (the process has said it is ready)."""
        if self._busy or self._process is None or self._process.poll() is not None:
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
        if process is not None and process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


def child_setup(settings: Settings) -> parser_child.Setup:
    """What the parser process needs of ``settings`` and of the schema, as plain data."""
    return parser_child.Setup(
        logging=logging_options(settings),
        database={
            "dsn": settings.driver_database_url,
            "min_size": 0,
            "max_size": PARSER_CONNECTIONS,
            "max_inactive_connection_lifetime": PARSER_CONNECTION_IDLE_S,
            "timeout": settings.database_connect_timeout_seconds,
            "server_settings": {"application_name": settings.app_name},
        },
        writes=WRITES,
    )


def _send_body(conn: Connection, data: Body) -> None:
    """Its size, then the body in pieces (one message for the whole would be buffered
    twice on the receiving side: 180 MB for a 90 MB body)."""
    conn.send(len(data))
    with memoryview(data) as view:
        for start in range(0, len(view), PIECE_BYTES):
            conn.send_bytes(view[start : start + PIECE_BYTES])


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

"""`health-export worker`: a process that runs the background jobs and nothing else.

Workers and API servers may run on different hosts; they coordinate only through
PostgreSQL (`background/claims.py`, `FOR UPDATE SKIP LOCKED` in the queue jobs).
SIGTERM or SIGINT stops taking work; what is in hand gets SHUTDOWN_GRACE_SECONDS.
A database at another schema than this release's is refused at start (exit 2): the
jobs' SQL would fail on every round. A database that is down is waited for.
"""

from __future__ import annotations

import asyncio
import signal

from sqlalchemy.ext.asyncio import AsyncEngine

from health_export import __version__
from health_export.background.runner import BackgroundRunner
from health_export.core.config import Settings
from health_export.core.db import create_engine
from health_export.core.logging import configure_logging_for, get_logger
from health_export.ops.service import database_state

log = get_logger("health_export.worker")


class SchemaMismatch(RuntimeError):
    """The database is not at the schema this release expects."""


async def run_worker_process(settings: Settings) -> None:
    """Run every job until SIGTERM/SIGINT, then stop within the grace period."""
    configure_logging_for(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    engine = create_engine(settings)
    runner = BackgroundRunner(engine, settings)
    try:
        await _check_schema(engine)
        runner.start()
        log.info("worker_started", version=__version__, worker=runner.context.name)
        await stop.wait()
        log.info("worker_stopping", worker=runner.context.name)
        await runner.stop(settings.shutdown_grace_seconds)
    finally:
        await engine.dispose()
    log.info("worker_stopped", worker=runner.context.name)


async def _check_schema(engine: AsyncEngine) -> None:
    state = await database_state(engine)
    if state == "not_migrated":
        raise SchemaMismatch(
            "the database is not at this release's schema: run `health-export migrate`"
        )
    if state == "unavailable":  # it may come up; the jobs retry every round
        log.warning("database_unavailable_at_start")

"""`health-export worker`: a process that runs the background jobs and nothing else.

Workers and API servers may run on different hosts; they coordinate only through
PostgreSQL (`background/claims.py`, `FOR UPDATE SKIP LOCKED` in the queue jobs).
SIGTERM or SIGINT stops taking work; what is in hand gets SHUTDOWN_GRACE_SECONDS.
"""

from __future__ import annotations

import asyncio
import signal

from health_export import __version__
from health_export.background.runner import BackgroundRunner
from health_export.core.config import Settings
from health_export.core.db import create_engine
from health_export.core.logging import configure_logging_for, get_logger

log = get_logger("health_export.worker")


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
        runner.start()
        log.info("worker_started", version=__version__, worker=runner.context.name)
        await stop.wait()
        log.info("worker_stopping", worker=runner.context.name)
        await runner.stop(settings.shutdown_grace_seconds)
    finally:
        await engine.dispose()
    log.info("worker_stopped", worker=runner.context.name)

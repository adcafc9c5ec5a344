"""Start and stop the ingest side of the app: the runtime and its parser process.

The background work (pending ingestions, housekeeping) is a set of jobs
(`background/jobs.py`), run by `serve`'s embedded worker or by `health-export worker`.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request

from health_export.core.state import CoreState
from health_export.ingest.parser_process import ParserProcess
from health_export.ingest.service import IngestRuntime


def start_ingest(core: CoreState) -> IngestRuntime:
    """The ingest runtime (with its parser process started when configured)."""
    parser = None
    if core.settings.ingest_parser_process:
        parser = ParserProcess(core.settings)
        parser.start()
    return IngestRuntime(
        engine=core.engine, sync_budget_s=core.settings.ingest_sync_budget_seconds, parser=parser
    )


def ingest_runtime(request: Request) -> IngestRuntime:
    """The ingest runtime of the app serving ``request``."""
    return ingest_runtime_of(request.app)


def ingest_runtime_of(app: FastAPI) -> IngestRuntime:
    """The ingest runtime of a started ``app``."""
    runtime = getattr(app.state, "ingest_runtime", None)
    if not isinstance(runtime, IngestRuntime):
        raise RuntimeError("the app has not started: its lifespan did not run")
    return runtime


async def stop_ingest(runtime: IngestRuntime, grace_s: float) -> None:
    """Give background ingests the grace period to finish.

    Whatever is still running after that is cancelled: its raw body is stored and a
    worker (embedded in the next start, or `health-export worker`) finishes it.
    """
    pending = set(runtime.background)
    if pending:
        _, unfinished = await asyncio.wait(pending, timeout=grace_s)
        for task in unfinished:
            task.cancel()
    if runtime.parser is not None:
        runtime.parser.stop()

"""Start and stop the ingest side of the app: the runtime and its parser process.

The background work (pending ingestions, housekeeping) is a set of jobs
(`background/jobs.py`), run by `serve`'s embedded worker or by `health-export worker`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from health_export.ingest.parser_process import ParserProcess
from health_export.ingest.service import IngestRuntime


async def start_ingest(state: Any) -> None:
    """Attach the runtime (and start the parser process when configured)."""
    parser = None
    if state.settings.ingest_parser_process:
        parser = ParserProcess(state.settings)
        parser.start()
    state.ingest_runtime = IngestRuntime(
        engine=state.engine,
        sync_budget_s=state.settings.ingest_sync_budget_seconds,
        parser=parser,
    )


async def stop_ingest(state: Any, grace_s: float) -> None:
    """Give background ingests the grace period to finish.

    Whatever is still running after that is cancelled: its raw body is stored and a
    worker (embedded in the next start, or `health-export worker`) finishes it.
    """
    pending = set(state.ingest_runtime.background)
    if pending:
        _, unfinished = await asyncio.wait(pending, timeout=grace_s)
        for task in unfinished:
            task.cancel()
    if state.ingest_runtime.parser is not None:
        state.ingest_runtime.parser.stop()

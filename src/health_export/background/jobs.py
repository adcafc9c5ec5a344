"""Every background job, in one registry: what `health-export worker` and `serve`'s
embedded worker run.

Three kinds:

- A **queue job** runs in every worker, in a loop: each call takes one unit of work
  that no other worker holds (the job claims it with ``FOR UPDATE SKIP LOCKED``) and
  returns True when it did something (called again at once) or False when the queue is
  empty (called again after WORKER_POLL_SECONDS).
- A **periodic job** runs once per period across all workers, whichever claims the
  period first (``background/claims.py``); what it returns is ignored.
- A **loop job** is a coroutine of its own that runs in every worker until
  ``context.shutting_down`` and coordinates with other workers itself (row locks); it
  is cancelled at once on stop, as its sleeps may not notice the stop soon. It is the
  way in for a loop written before this registry, e.g. an alert loop taking
  ``(engine, settings, shutting_down)`` from its argument.

A new job is one line in ``JOBS``, e.g.
``PeriodicJob("sync_alerts", check_alerts, every_s=lambda s: s.alert_check_seconds)``,
``QueueJob("history_imports", import_next_archive)`` or
``LoopJob("sync_alerts", run_alerts)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from health_export.background.context import WorkerContext
from health_export.core.config import Settings
from health_export.imports.jobs import import_next_archive
from health_export.ingest.housekeeping import (
    HOUSEKEEPING_INTERVAL_S,
    create_partitions_ahead,
    drop_abandoned_batches,
    drop_expired_raw_bodies,
)
from health_export.ingest.worker import process_next_pending
from health_export.sync.alert_worker import run_alerts


@dataclass(frozen=True)
class QueueJob:
    """Runs in every worker; each call takes one unit of work (True) or finds none."""

    name: str
    run: Callable[[WorkerContext], Awaitable[bool]]


@dataclass(frozen=True)
class PeriodicJob:
    """Runs once per period (``every_s`` of the settings) across all workers."""

    name: str
    run: Callable[[WorkerContext], Awaitable[object]]
    every_s: Callable[[Settings], float]


@dataclass(frozen=True)
class LoopJob:
    """Runs in every worker as one coroutine, until the worker stops (then cancelled)."""

    name: str
    run: Callable[[WorkerContext], Awaitable[None]]


Job = QueueJob | PeriodicJob | LoopJob


def hourly(_: Settings) -> float:
    """The period of the ingest housekeeping."""
    return HOUSEKEEPING_INTERVAL_S


async def finish_pending_ingestion(context: WorkerContext) -> bool:
    """One ingestion a 202, a crash or a restart left unprocessed (ingest/worker.py)."""
    return await process_next_pending(context.engine)


JOBS: tuple[Job, ...] = (
    QueueJob("ingest_pending", finish_pending_ingestion),
    # Uploaded archives (claimed FOR UPDATE SKIP LOCKED; a stale heartbeat is re-run).
    QueueJob("history_imports", import_next_archive),
    PeriodicJob("partitions_ahead", create_partitions_ahead, every_s=hourly),
    PeriodicJob("batch_table_sweep", drop_abandoned_batches, every_s=hourly),
    PeriodicJob("raw_retention", drop_expired_raw_bodies, every_s=hourly),
    # Its incidents are claimed under an advisory lock, so every worker may run it.
    LoopJob("sync_alerts", run_alerts),
)

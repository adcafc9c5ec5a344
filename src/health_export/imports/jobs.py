"""The background job of uploaded imports: claim a queued import, run it, record it.

``import_next_archive`` is a queue job of the background worker (`background/jobs.py`:
`serve`'s embedded worker or `health-export worker`), polled every WORKER_POLL_SECONDS;
``run_import_jobs_once`` runs every queued import at once (tests, tools). A crash
mid-import rolls back the part being written and stops the heartbeat, and the next
claim runs it again; the import is idempotent by natural keys, so a re-run meets the
committed parts unchanged and stores each row once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.background.context import WorkerContext
from health_export.core.config import Settings
from health_export.core.errors import AppError
from health_export.core.logging import get_logger
from health_export.imports import repository
from health_export.imports.apple_health.archive import ImportLimits
from health_export.imports.apple_health.clock import zone_named
from health_export.imports.apple_health.errors import ArchiveRefused, ImportErased
from health_export.imports.apple_health.importer import ImportProgress, import_apple_health
from health_export.imports.upload import remove_upload

HEARTBEAT_S = 2.0
# A running import whose heartbeat is this old has no live worker.
STALE_AFTER_S = 30.0
# Unexpected failures (the database went away...) are retried this often, then failed.
MAX_ATTEMPTS = 3
log = get_logger("health_export.imports")


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """A problem+json document, as the status route shows a failure."""
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}


def refusal_problem(exc: AppError) -> dict[str, Any]:
    """Why an archive was refused: a corrupt or unreadable archive is the sender's 400."""
    if isinstance(exc, ArchiveRefused):
        return problem(400, "Bad Request", exc.detail or str(exc))
    return problem(exc.status, exc.title, exc.detail or str(exc))


class _Progress:
    """The parse's latest progress, written by the heartbeat."""

    def __init__(self) -> None:
        self.latest: dict[str, Any] = {"bytes_read": 0, "bytes_total": 0, "records": 0}

    def report(self, progress: ImportProgress) -> None:
        # Called by the parse between chunks: one dict assignment.
        self.latest = {
            "bytes_read": progress.bytes_read,
            "bytes_total": progress.bytes_total,
            "records": progress.records,
        }


async def _beat_until_cancelled(
    engine: AsyncEngine, import_id: uuid.UUID, progress: _Progress
) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        try:
            await repository.beat(engine, import_id, progress.latest)
        except Exception as exc:  # noqa: BLE001 - a missed beat is retried on the next one
            log.warning("import_heartbeat_failed", exc_type=type(exc).__name__)


async def _run_one(engine: AsyncEngine, settings: Settings, job: dict[str, Any]) -> None:
    import_id: uuid.UUID = job["id"]
    path = Path(job["file_path"])
    progress = _Progress()
    beating = asyncio.create_task(_beat_until_cancelled(engine, import_id, progress))
    limits = ImportLimits(settings.import_max_inflated_bytes, settings.import_max_elements)
    try:
        summary = await import_apple_health(
            engine,
            job["user_id"],
            path,
            zone_named(job["tz"]),
            limits=limits,
            on_progress=progress.report,
            still_wanted=lambda conn: repository.hold_if_listed(conn, import_id),
        )
    except ImportErased:
        # Its row and upload went with the erase: nothing is left to record.
        remove_upload(path)
        log.info("import_erased", import_id=str(import_id))
        return
    except AppError as refused:
        await _finish(engine, import_id, "failed", progress, error=refusal_problem(refused))
        remove_upload(path)
        log.info("import_refused", import_id=str(import_id), status=refused.status)
        return
    except asyncio.CancelledError:
        # Shutting down: queued again at once, so the next start runs it.
        await asyncio.shield(_finish(engine, import_id, "queued", progress))
        raise
    except Exception as exc:
        await _failed_unexpectedly(engine, job, progress, exc)
        return
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
    async with engine.begin() as conn:
        await repository.store_day_counts(conn, import_id, summary.day_counts)
        await repository.finish(
            conn, import_id, status="done", progress=progress.latest, result=summary.as_dict()
        )
    remove_upload(path)
    log.info("import_done", import_id=str(import_id), records=summary.records)


async def _failed_unexpectedly(
    engine: AsyncEngine, job: dict[str, Any], progress: _Progress, exc: Exception
) -> None:
    log.warning("import_failed", import_id=str(job["id"]), exc_type=type(exc).__name__)
    if job["attempts"] < MAX_ATTEMPTS:
        await _finish(engine, job["id"], "queued", progress)
        return
    detail = f"{type(exc).__name__} in {job['attempts']} attempts; the archive is kept for a retry"
    await _finish(
        engine, job["id"], "failed", progress, error=problem(500, "Import failed", detail)
    )


async def _finish(
    engine: AsyncEngine,
    import_id: uuid.UUID,
    status: str,
    progress: _Progress,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    async with engine.begin() as conn:
        await repository.finish(
            conn, import_id, status=status, progress=progress.latest, result=result, error=error
        )


async def run_import_jobs_once(engine: AsyncEngine, settings: Settings) -> int:
    """Claim and run queued imports until none is left; how many ran."""
    ran = 0
    while (job := await repository.claim_next(engine, STALE_AFTER_S)) is not None:
        log.info("import_started", import_id=str(job["id"]), attempt=job["attempts"])
        await _run_one(engine, settings, job)
        ran += 1
    return ran


async def import_next_archive(context: WorkerContext) -> bool:
    """A queue job of the background worker: one queued (or abandoned) import, if any."""
    job = await repository.claim_next(context.engine, STALE_AFTER_S)
    if job is None:
        return False
    log.info("import_started", import_id=str(job["id"]), attempt=job["attempts"])
    await _run_one(context.engine, context.settings, job)
    return True

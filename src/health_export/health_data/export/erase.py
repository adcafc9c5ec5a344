"""The owner's right to erase: delete a user's data in a range, raw bodies, the Activity
rings and uploaded archives (rows and files) included."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from health_export.core.db import driver_connection
from health_export.health_data.export import repository as data_repository
from health_export.health_data.params import TimeRange
from health_export.health_data.rings.repository import day_bounds
from health_export.replica.fences import advance_read_fence

ERASE_TYPES = tuple(data_repository.ERASE_TABLES)


async def erase(
    session: AsyncSession, user_id: int, span: TimeRange, types: tuple[str, ...]
) -> dict[str, int]:
    """Delete the user's rows of ``types`` in ``span``; rows deleted per table."""
    apg = await driver_connection(session)
    deleted: dict[str, int] = {}
    archives: list[str] = []
    # Uploads first: a running import holds its row while it writes a part, so the
    # erase waits for that part to commit and then erases its rows with the rest; the
    # import sees its row gone and stops (imports/jobs.py).
    for kind in sorted(types, key=lambda kind: kind != "imports"):
        for table in data_repository.ERASE_TABLES[kind]:
            if table == "activity_summaries":
                first, after = day_bounds(span)
                deleted[table] = await data_repository.erase_activity_days(
                    apg, user_id, first, after
                )
            elif table == "imports":
                archives = await data_repository.erase_imports(apg, user_id, span.lower)
                deleted[table] = len(archives)
            else:
                deleted[table] = await data_repository.erase(
                    apg, table, user_id, span.lower, span.upper
                )
    # Before the commit: a stored archive must not outlive its erase. A commit that then
    # fails leaves import rows without a file, which their job fails as unreadable.
    await asyncio.to_thread(_remove_files, archives)
    await advance_read_fence(apg, user_id)  # a replica lagging behind it must not answer
    # Whatever went, an earlier ingest answer may now count rows that are gone. Last, so
    # this row lock is taken after the rows', as an ingest takes it.
    await data_repository.forget_latest_ingestion(apg, user_id)
    return deleted


def _remove_files(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            Path(path).unlink()


def erase_answer(
    user_id: int, span: TimeRange, types: tuple[str, ...], deleted: dict[str, int]
) -> dict[str, Any]:
    """What the DELETE answers (and the audit event records)."""
    return {
        "user_id": user_id,
        **span.as_dict(),
        "types": list(types),
        "deleted": deleted,
        "total": sum(deleted.values()),
    }

"""Import test helpers: run an import for a fresh user and read the stored rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from health_export.core.state import state_of
from health_export.imports.apple_health.archive import ImportLimits
from health_export.imports.apple_health.importer import ImportSummary, import_apple_health
from health_export.imports.apple_health.parts import PART_ROWS
from tests.ingest.conftest import count_rows, fetch

__all__ = ["count_rows", "fetch", "run_import"]


async def run_import(
    app: FastAPI,
    user_id: int,
    path: Path,
    *,
    tz: str = "Europe/Paris",
    limits: ImportLimits | None = None,
    part_rows: int = PART_ROWS,
) -> ImportSummary:
    """Import ``path`` for ``user_id`` into the test database."""
    engine: Any = state_of(app).engine
    return await import_apple_health(
        engine, user_id, path, ZoneInfo(tz), limits=limits, part_rows=part_rows
    )

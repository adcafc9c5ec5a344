"""Answers of the import routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from health_export.health_data.metrics.schemas import example

ImportState = Literal["queued", "running", "done", "failed"]


class ImportAccepted(BaseModel):
    """The upload is stored; the worker imports it."""

    model_config = example(
        {
            "id": "0b6c0ad4-4f8e-4b7e-9a51-3c1e1c0a4f10",
            "status_url": "/api/v1/imports/0b6c0ad4-4f8e-4b7e-9a51-3c1e1c0a4f10",
        }
    )

    id: str
    status_url: str


class ImportProgressView(BaseModel):
    """How far the parse is: inflated bytes of export.xml read, and records."""

    bytes_read: int
    bytes_total: int
    records: int


class ImportProblem(BaseModel):
    """Why an import failed, as problem+json (a corrupt archive is a 400)."""

    type: str
    title: str
    status: int
    detail: str


class ImportStatus(BaseModel):
    """One import: its state, progress, and the CLI's summary once done."""

    model_config = example(
        {
            "id": "0b6c0ad4-4f8e-4b7e-9a51-3c1e1c0a4f10",
            "kind": "apple-health",
            "status": "done",
            "tz": "Europe/Paris",
            "file_bytes": 9_104_233,
            "attempts": 1,
            "created_at": "2026-12-01T10:00:00Z",
            "started_at": "2026-12-01T10:00:01Z",
            "finished_at": "2026-12-01T10:00:04Z",
            "progress": {"bytes_read": 74_500_000, "bytes_total": 74_500_000, "records": 8038},
            "result": {"records": 8038, "inserted": 8035, "updated": 0, "unchanged": 0},
            "error": None,
            "coverage_url": "/api/v1/imports/0b6c0ad4-4f8e-4b7e-9a51-3c1e1c0a4f10/coverage",
        }
    )

    id: str
    kind: str
    status: ImportState
    tz: str
    file_bytes: int
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: ImportProgressView | None
    # The CLI's --json summary: records, inserted, updated, unchanged, skipped, rejected,
    # workouts, routes, ecg, activity_summaries, seconds, by_table...
    result: dict[str, Any] | None
    error: ImportProblem | None
    coverage_url: str


class ImportList(BaseModel):
    """Your imports, newest first."""

    imports: list[ImportStatus]


def status_document(row: dict[str, Any]) -> dict[str, Any]:
    """The status answer of one ``imports`` row."""
    url = f"/api/v1/imports/{row['id']}"
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "status": row["status"],
        "tz": row["tz"],
        "file_bytes": row["file_bytes"],
        "attempts": row["attempts"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "progress": row["progress"],
        "result": row["result"],
        "error": row["error"],
        "coverage_url": f"{url}/coverage",
    }


class CoverageDay(BaseModel):
    """One metric on one local day: the archive's samples against the feed's."""

    metric: str
    date: date
    archive: int
    feed: int
    only_in_archive: int
    feed_incomplete: bool


class ImportCoverage(BaseModel):
    """Per metric and local day of the archive, what the app's feed holds of it."""

    model_config = example(
        {
            "import_id": "0b6c0ad4-4f8e-4b7e-9a51-3c1e1c0a4f10",
            "days": [
                {
                    "metric": "step_count",
                    "date": "2024-03-01",
                    "archive": 96,
                    "feed": 60,
                    "only_in_archive": 36,
                    "feed_incomplete": True,
                }
            ],
            "days_feed_incomplete": 1,
        }
    )

    import_id: str
    days: list[CoverageDay]
    days_feed_incomplete: int

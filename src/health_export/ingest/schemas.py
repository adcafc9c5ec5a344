"""The ingest API's answers, as documented in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TypeCounts(BaseModel):
    """Outcome of one storage table."""

    inserted: int
    updated: int
    unchanged: int


class PointErrorOut(BaseModel):
    """One rejected point."""

    path: str = Field(examples=["data.metrics[3].data[17].Avg"])
    reason: str = Field(examples=["heart rate 500 outside 15..300"])


class IngestResult(BaseModel):
    """What was stored: counts overall and per table, and each rejected point."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "ingestion_id": "0b9e4f7e-4a8e-4f57-9a0e-6f3f1c2d8a11",
                "status": "processed",
                "duplicate_payload": False,
                "received": 1234,
                "inserted": 1200,
                "updated": 10,
                "unchanged": 20,
                "rejected": 4,
                "by_type": {"metric_samples": {"inserted": 1200, "updated": 10, "unchanged": 20}},
                "errors": [
                    {
                        "path": "data.metrics[3].data[17].Avg",
                        "reason": "heart rate 500 outside 15..300",
                    }
                ],
                "errors_truncated": False,
                "ignored": ["data.someNewKey"],
            }
        }
    )

    ingestion_id: str
    status: Literal["processed"]
    duplicate_payload: bool
    received: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    by_type: dict[str, TypeCounts]
    errors: list[PointErrorOut]
    errors_truncated: bool
    ignored: list[str]


class IngestAccepted(BaseModel):
    """Processing goes on in the background; poll the status URL."""

    ingestion_id: str
    status: Literal["accepted"]
    status_url: str


class IngestionStatus(BaseModel):
    """One ingestion's state and, once processed, its result."""

    ingestion_id: str
    status: Literal["received", "processed", "rejected", "failed"]
    received_at: datetime
    processed_at: datetime | None
    attempts: int
    result: dict[str, Any] | None
    error: str | None

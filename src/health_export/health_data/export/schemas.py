"""The export's row: one NDJSON line (or CSV row) of GET /api/v1/export.

The export is rendered by PostgreSQL (COPY), never by this model; the model documents
the line in OpenAPI (``itemSchema`` of ``application/x-ndjson``) and the tests hold every
exported line to it. NDJSON leaves null columns out, hence the defaults.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

ExportRowType = Literal[
    "metric",
    "sleep_session",
    "sleep_stage",
    "workout",
    "workout_series",
    "workout_route",
    "ecg",
    "symptom",
    "cycle_tracking",
    "state_of_mind",
    "medication",
    "heart_rate_notification",
]


class ExportRow(BaseModel):
    """One exported record; every type has the same columns (null ones left out)."""

    type: ExportRowType
    name: str | None = Field(
        default=None, description="Metric, stage, series or workout name, or the record's kind"
    )
    start: AwareDatetime = Field(description="At the sender's offset")
    end: AwareDatetime | None = None
    utc_offset_min: int = Field(description="The sender's UTC offset at start, in minutes")
    source: str | None = None
    unit: str | None = None
    qty: float | None = None
    min: float | None = None
    avg: float | None = None
    max: float | None = None
    systolic: float | None = None
    diastolic: float | None = None
    details: dict[str, Any] | None = Field(
        default=None, description="The record's other fields (times at the sender's offset)"
    )


def ndjson_item_schema() -> dict[str, Any]:
    """The OpenAPI ``itemSchema`` of an NDJSON export line."""
    return ExportRow.model_json_schema(mode="serialization")

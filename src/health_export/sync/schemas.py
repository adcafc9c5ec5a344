"""The answer of GET /api/v1/sync (its shape is documented in docs/sync.md and docs/api.md)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class AdviceOut(BaseModel):
    """A setting to change, from what an automation sent."""

    rule: str = Field(description="Which rule (docs/sync.md)")
    severity: str = Field(description="warning or info")
    automation: str = Field(description="The automation it is about")
    message: str
    evidence: str = Field(description="What was received that triggered it")


class AutomationOut(BaseModel):
    """One automation of the app, as its requests show it."""

    name: str | None = Field(description="automation-name, as last sent")
    id: str | None = Field(description="automation-id, as last sent")
    key: str = Field(description="How its requests are grouped: id:…, name:… or key:…")
    requests: int
    points: int = Field(description="Records received in its processed requests")
    rejected_points: int
    failures: int = Field(description="Requests refused, rejected or failed")
    aggregation: str | None
    period: str | None
    app_version: str | None = Field(description="First product/version of its User-Agent")
    first_seen: datetime
    last_seen: datetime
    cadence_s: float | None = Field(
        description="Median seconds between its runs over 30 days (None: too few runs yet)"
    )
    silent_for_s: float = Field(description="Seconds since its last request")
    is_silent: bool = Field(description="Silent for longer than the alert threshold")
    data_types: list[str] = Field(description="Storage tables its requests filled")
    metrics: list[str] = Field(description="Metric names its requests carried")
    advice: list[AdviceOut]


class GapOut(BaseModel):
    """Days without, or with unusually few, samples inside a metric's usual coverage."""

    start: date
    end: date
    days: int
    kind: str = Field(description="none, few or mixed")
    samples: int = Field(description="Samples those days do have")
    repair: str = Field(description="What to export again by hand")
    cause: str | None = Field(description="The setting or failure behind it, when knowable")
    automation: str | None = Field(description="The automation that carries this metric")


class MetricOut(BaseModel):
    """Freshness and gaps of one metric."""

    name: str
    newest_sample: datetime = Field(description="With the sender's UTC offset")
    last_day: date = Field(description="Local day of the newest sample (wake-up day for sleep)")
    days_with_data: int = Field(description="Within the gap window")
    usual_per_day: float | None = Field(description="Median samples on a day with data")
    is_daily: bool = Field(description="Whether gaps are looked for (docs/sync.md)")
    gaps: list[GapOut]


class DriftOut(BaseModel):
    """Something the app sent that this server does not know."""

    app_version: str | None
    kind: str = Field(description="unknown_key, new_metric or new_field")
    name: str
    requests: int
    first_seen: datetime
    last_seen: datetime


class IncidentOut(BaseModel):
    """An open alert incident."""

    kind: str = Field(description="silent, failing or gap")
    subject: str
    summary: str
    opened_at: datetime


class SyncOut(BaseModel):
    """Automations, freshness, gaps with their repair, drift and open incidents."""

    generated_at: datetime
    gap_window_days: int
    automations: list[AutomationOut]
    metrics: list[MetricOut]
    drift: list[DriftOut]
    incidents: list[IncidentOut]

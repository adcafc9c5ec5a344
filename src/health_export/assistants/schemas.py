"""Structured output of the tools (their MCP output schemas).

Times are the read API's own strings (ISO 8601 at the sender's offset), numbers its own
floats: a tool answer and the REST answer at its ``source_url`` agree digit for digit.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

SOURCE_URL = (
    "REST path and query (GET, same API key) returning the same numbers, so a person can "
    "check this answer"
)


class Checkable(BaseModel):
    """An answer that names the REST query it came from."""

    source_url: str = Field(description=SOURCE_URL)


class MetricInfo(BaseModel):
    """One metric the user has."""

    name: str
    unit: str | None
    kind: str = Field(
        description="sum: cumulative (steps, energy); discrete: readings (heart rate)"
    )
    count: int = Field(description="stored samples")
    first: str
    last: str
    sources: list[str] = Field(description="devices and apps that recorded it")
    read_at: str = Field(
        description="the REST route that reads it; sleep_analysis is read with get_sleep"
    )


class MetricsAnswer(Checkable):
    """Every metric the user has."""

    server_time: str = Field(description="now on the server (UTC), to anchor relative dates")
    metrics: list[MetricInfo]


class SeriesPoint(BaseModel):
    """One bucket."""

    start: str = Field(description="local start of the bucket")
    value: float | None
    count: int = Field(description="values in the bucket (one per period where sources overlap)")


class SeriesAnswer(Checkable):
    """Time-bucketed values of one metric."""

    metric: str
    unit: str | None
    bucket: str
    agg: str
    tz: str | None
    points: list[SeriesPoint]
    requested_bucket: str | None = Field(
        default=None, description="the bucket asked for, when it was coarsened"
    )
    note: str | None = Field(default=None, description="why the answer differs from the request")


class ActivityDay(BaseModel):
    """One local day of activity totals (null: nothing recorded)."""

    date: str
    steps: float | None
    distance_km: float | None
    active_energy_kcal: float | None
    basal_energy_kcal: float | None
    exercise_min: float | None
    stand_hours: float | None
    flights_climbed: float | None


class DailyActivityAnswer(Checkable):
    """Daily activity totals."""

    tz: str | None
    days: list[ActivityDay]


class SleepNight(BaseModel):
    """One night, named by the local date one wakes up (stage segments left out)."""

    date: str
    sources: list[str]
    origin: str
    sleep_start: str | None
    sleep_end: str | None
    in_bed_start: str | None
    in_bed_end: str | None
    core_h: float | None
    deep_h: float | None
    rem_h: float | None
    asleep_h: float | None = Field(description="sleep of no known stage")
    awake_h: float | None
    total_sleep_h: float | None
    in_bed_h: float | None
    efficiency: float | None = Field(description="total sleep / time in bed")
    segment_count: int = Field(description="stage segments behind the night (at source_url)")


class SleepAnswer(Checkable):
    """Nights whose sleep ended in the range."""

    nights: list[SleepNight]


class WorkoutSummary(BaseModel):
    """One workout's summary."""

    id: str
    start: str
    end: str | None
    app_id: str | None
    name: str
    duration_s: float | None
    location: str | None
    is_indoor: bool | None
    distance_km: float | None
    active_energy_kcal: float | None
    total_energy_kcal: float | None
    avg_heart_rate: float | None
    max_heart_rate: float | None
    has_route: bool


class WorkoutsAnswer(Checkable):
    """Workouts in time order."""

    workouts: list[WorkoutSummary]
    truncated: bool = Field(description="more workouts matched than limit; narrow the range")


class SeriesSummary(BaseModel):
    """One of the workout's time series, summarised."""

    unit: str | None
    points: int
    first: str | None
    last: str | None
    min: float | None = Field(description="lowest value (a point's Min where recorded)")
    avg: float | None = Field(description="mean of the points' values")
    max: float | None = Field(description="highest value (a point's Max where recorded)")


class RouteSummary(BaseModel):
    """The GPS route, summarised (every point is at source_url)."""

    source_url: str = Field(description="REST path of the full route (GeoJSON; ?format=gpx)")
    points: int
    first_time: str | None
    last_time: str | None
    length_km: float = Field(description="along the points (great-circle)")
    min_altitude_m: float | None
    max_altitude_m: float | None
    ascent_m: float | None = Field(description="sum of the climbs between points")
    bbox: list[float] = Field(description="minLon, minLat, maxLon, maxLat")
    start_point: list[float] = Field(description="lon, lat")
    end_point: list[float] = Field(description="lon, lat")


class WorkoutAnswer(Checkable):
    """One workout: summary, the app's summaries and metadata, series and route summarised."""

    workout: WorkoutSummary
    summaries: dict[str, Any] | None
    metadata: dict[str, Any] | None
    series: dict[str, SeriesSummary]
    route: RouteSummary | None


class RecordsAnswer(Checkable):
    """Records of one type in time order."""

    type: str
    items: list[dict[str, Any]]
    truncated: bool = Field(description="more records matched than limit; narrow the range")
    omitted_fields: list[str] = Field(description="fields left out here (kept at source_url)")


class Period(Checkable):
    """One side of a comparison."""

    start: str
    end: str
    stats: dict[str, int | float | None]


class Change(BaseModel):
    """How a statistic moved from the baseline to the period."""

    absolute: int | float | None = Field(description="period minus baseline")
    percent: float | None = Field(description="relative to the baseline (null when it is 0)")


class CompareAnswer(BaseModel):
    """A period and its baseline side by side (each with its own source_url)."""

    subject: str = Field(description="the metric compared, or 'sleep'")
    unit: str | None
    method: str = Field(description="how the statistics were computed from the REST answers")
    period: Period
    baseline: Period
    change: dict[str, Change]

"""The tools: each reads through the read API's own service functions and says where.

Every answer is the REST answer at its ``source_url`` (rendered the same way), made
conversation-sized where that answer would be large: sleep without its segments, a
workout with its series and route summarised, series coarsened past a few thousand points.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.assistants import comparisons
from health_export.assistants.arguments import (
    Agg,
    End,
    Metric,
    Source,
    Start,
    Tz,
    check_metric,
    period,
)
from health_export.assistants.calls import as_json, reads_rollups, rest_url, run_tool
from health_export.assistants.schemas import (
    DailyActivityAnswer,
    MetricsAnswer,
    RecordsAnswer,
    SeriesAnswer,
    SleepAnswer,
    SleepNight,
    WorkoutAnswer,
    WorkoutsAnswer,
    WorkoutSummary,
)
from health_export.assistants.sizing import Bucket, check_days, choose_bucket
from health_export.assistants.summaries import route_summary, series_summary
from health_export.health_data.metrics import service, typed_views
from health_export.health_data.params import parse_zone
from health_export.health_data.records import record_types, sleep, workouts
from health_export.health_data.records.geo import route_feature

API = "/api/v1"
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
RecordType = Literal[
    "symptoms", "state_of_mind", "medications", "cycle_tracking", "ecg", "heart_rate_notifications"
]
RECORD_PATHS: dict[str, str] = {
    "symptoms": "/symptoms",
    "state_of_mind": "/state-of-mind",
    "medications": "/medications",
    "cycle_tracking": "/cycle-tracking",
    "ecg": "/ecg",
    "heart_rate_notifications": "/heart-rate-notifications",
}
# Bulky fields a conversation does not need (the REST answer keeps them).
OMITTED_FIELDS: dict[str, list[str]] = {"heart_rate_notifications": ["raw"]}


async def list_metrics(ctx: Context) -> Annotated[CallToolResult, MetricsAnswer]:
    """List every health metric this person has: name, unit, kind, how many samples, the
    first and last time recorded, and the devices/apps (sources) that recorded it. Call
    this first to learn the metric names the other tools take and the dates data exists
    for; server_time tells today's date."""

    async def work(session: AsyncSession, user_id: int) -> MetricsAnswer:
        listed = as_json(await service.list_metrics(session, user_id))
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return MetricsAnswer(source_url=f"{API}/metrics", server_time=now, **listed)

    return await run_tool(ctx, "list_metrics", {}, work)


async def get_series(
    ctx: Context,
    metric: Metric,
    start: Start,
    end: End,
    bucket: Annotated[Bucket, Field(description="Bucket width; day/week/month are local.")] = "day",
    agg: Annotated[
        Agg | None, Field(description="Default: sum for cumulative metrics, else avg.")
    ] = None,
    tz: Tz = None,
    source: Source = None,
    unit: Annotated[str | None, Field(description="Convert, e.g. mi, lb, degF.")] = None,
) -> Annotated[CallToolResult, SeriesAnswer]:
    """Values of one metric over time, one point per bucket (value, and the number of
    samples in it). Cumulative metrics (steps, energy, distance) are summed without
    counting the Watch and the iPhone twice: within one period the larger source counts.
    Days are the person's local days. A request for more than 3000 points is answered
    with a coarser bucket, and the note says so."""
    arguments = {"metric": metric, "start": start, "end": end, "bucket": bucket, "agg": agg}
    arguments |= {"tz": tz, "source": source, "unit": unit}

    async def work(session: AsyncSession, user_id: int) -> SeriesAnswer:
        await check_metric(session, user_id, metric)
        zone = parse_zone(tz)
        span = period(start, end, zone, ("start", "end"))
        choice = choose_bucket(span, bucket)
        answer = await service.series(
            session, user_id, metric, span,
            bucket=choice.bucket, agg=agg, zone=zone, source=source, unit=unit,
            rollups=reads_rollups(ctx),
        )  # fmt: skip
        query = {**arguments, "metric": None, "bucket": choice.bucket}
        return SeriesAnswer(
            **as_json(answer),
            requested_bucket=bucket if choice.note else None,
            note=choice.note,
            source_url=rest_url(f"{API}/metrics/{quote(metric, safe='')}/series", query),
        )

    return await run_tool(ctx, "get_series", arguments, work)


async def get_daily_activity(
    ctx: Context, start: Start, end: End, tz: Tz = None
) -> Annotated[CallToolResult, DailyActivityAnswer]:
    """Activity per local day: steps, walking/running distance (km), active and basal
    energy (kcal), exercise minutes, stand hours, flights climbed; null when nothing was
    recorded. The Watch and the iPhone are never added up for the same period. At most 93
    days per call (use get_series with bucket=week or month for longer)."""
    arguments = {"start": start, "end": end, "tz": tz}

    async def work(session: AsyncSession, user_id: int) -> DailyActivityAnswer:
        zone = parse_zone(tz)
        span = period(start, end, zone, ("start", "end"))
        check_days(span, "get_daily_activity")
        answer = await typed_views.activity_daily(
            session, user_id, span, zone, rollups=reads_rollups(ctx)
        )
        url = rest_url(f"{API}/activity/daily", arguments)
        return DailyActivityAnswer(**as_json(answer), source_url=url)

    return await run_tool(ctx, "get_daily_activity", arguments, work)


async def get_sleep(ctx: Context, start: Start, end: End) -> Annotated[CallToolResult, SleepAnswer]:
    """Nights of sleep whose sleep ended in [start, end), each named by the local date one
    woke up: hours of core, deep, REM, unspecified sleep and awake, total sleep, time in
    bed, efficiency (sleep / in bed), and when sleep started and ended. When several
    devices recorded a night, the one with the most sleep is shown (never added up).
    Stage segments are left out (segment_count says how many). At most 93 days per call."""
    arguments = {"start": start, "end": end}

    async def work(session: AsyncSession, user_id: int) -> SleepAnswer:
        span = period(start, end, None, ("start", "end"))
        check_days(span, "get_sleep")
        answer = as_json(await sleep.nights(session, user_id, span))
        nights = [SleepNight.model_validate(_without_segments(n)) for n in answer["nights"]]
        return SleepAnswer(nights=nights, source_url=rest_url(f"{API}/sleep", arguments))

    return await run_tool(ctx, "get_sleep", arguments, work)


def _without_segments(night: dict[str, Any]) -> dict[str, Any]:
    segments = night.pop("segments")
    return {**night, "segment_count": len(segments)}


async def get_workouts(
    ctx: Context,
    start: Start,
    end: End,
    type: Annotated[  # noqa: A002 - the REST parameter's name
        str | None, Field(description="Only this kind, as the app names it: Outdoor Run, ...")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=200, description="At most this many.")] = 50,
) -> Annotated[CallToolResult, WorkoutsAnswer]:
    """Workouts that started in [start, end), in time order: kind, start/end, duration (s),
    distance (km), active and total energy (kcal), average and maximum heart rate, and
    whether a GPS route exists. Pass an id to get_workout for its details."""
    arguments = {"start": start, "end": end, "type": type, "limit": limit}

    async def work(session: AsyncSession, user_id: int) -> WorkoutsAnswer:
        span = period(start, end, None, ("start", "end"))
        answer = await workouts.list_workouts(
            session, user_id, span, kind=type, bbox=None, limit=limit
        )
        return WorkoutsAnswer(**as_json(answer), source_url=rest_url(f"{API}/workouts", arguments))

    return await run_tool(ctx, "get_workouts", arguments, work)


async def get_workout(
    ctx: Context,
    workout_id: Annotated[str, Field(description="A workout id from get_workouts.")],
) -> Annotated[CallToolResult, WorkoutAnswer]:
    """One workout in detail: its summary, the app's own summaries and metadata, each time
    series (heart rate, energy, steps, ...) summarised as count, time span, min, mean and
    max, and the GPS route summarised (length, altitudes, climb, bounding box, start and
    end) rather than listed point by point."""

    async def work(session: AsyncSession, user_id: int) -> WorkoutAnswer:
        detail = as_json(await workouts.workout_detail(session, user_id, workout_id))
        url = f"{API}/workouts/{detail['id']}"
        route = None
        if detail["has_route"]:
            stored = await workouts.workout_route(session, user_id, detail["id"])
            route = route_summary(as_json(route_feature(detail["id"], stored)), f"{url}/route")
        return WorkoutAnswer(
            workout=WorkoutSummary.model_validate(detail),
            summaries=detail["summaries"],
            metadata=detail["metadata"],
            series={name: series_summary(points) for name, points in detail["series"].items()},
            route=route,
            source_url=url,
        )

    return await run_tool(ctx, "get_workout", {"workout_id": workout_id}, work)


async def get_records(
    ctx: Context,
    type: Annotated[RecordType, Field(description="Which records.")],  # noqa: A002
    start: Start,
    end: End,
    limit: Annotated[int, Field(ge=1, le=1000, description="At most this many.")] = 100,
) -> Annotated[CallToolResult, RecordsAnswer]:
    """Logged records in [start, end), in time order: symptoms (name, severity), state of
    mind (labels, associations, valence), medications (name, dose, status), cycle tracking
    (flow, cycle starts), ECG recordings (classification, average heart rate; never the
    voltages) or heart-rate notifications (kind, threshold). Names are as the phone's
    language wrote them."""
    arguments = {"type": type, "start": start, "end": end, "limit": limit}

    async def work(session: AsyncSession, user_id: int) -> RecordsAnswer:
        span = period(start, end, None, ("start", "end"))
        answer = as_json(await record_types.list_records(session, user_id, type, span, limit))
        omitted = OMITTED_FIELDS.get(type, [])
        items = [{k: v for k, v in item.items() if k not in omitted} for item in answer["items"]]
        url = rest_url(f"{API}{RECORD_PATHS[type]}", {"start": start, "end": end, "limit": limit})
        return RecordsAnswer(
            type=type,
            items=items,
            truncated=answer["truncated"],
            omitted_fields=omitted,
            source_url=url,
        )

    return await run_tool(ctx, "get_records", arguments, work)


def register_tools(server: MCPServer) -> None:
    """Add every tool to ``server``."""
    for tool in (
        list_metrics,
        get_series,
        get_daily_activity,
        get_sleep,
        get_workouts,
        get_workout,
        get_records,
        comparisons.compare_periods,
    ):
        server.add_tool(tool, annotations=READ_ONLY)

"""Read API: metrics, raw samples, series, typed views, daily activity (scope ``read``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from health_export.core.state import core_state
from health_export.health_data.access import ReadSessionDep, TargetUser
from health_export.health_data.metrics import service, typed_views
from health_export.health_data.metrics.schemas import (
    ActivityDaily,
    Agg,
    BloodPressurePage,
    Bucket,
    HeartRatePage,
    MetricList,
    SamplePage,
    Series,
)
from health_export.health_data.params import (
    CursorQuery,
    EndQuery,
    LimitQuery,
    SourceQuery,
    StartQuery,
    TzQuery,
    UnitQuery,
    parse_range,
    parse_zone,
)
from health_export.health_data.responses import READ_ERRORS, json_response

router = APIRouter(prefix="/api/v1", tags=["read"])
NOT_FOUND: dict[int | str, dict[str, str]] = {
    404: {"description": "Unknown metric (GET /api/v1/metrics lists yours)"}
}
MetricName = Annotated[str, Path(description="Metric name, e.g. heart_rate, step_count")]


@router.get("/metrics", response_model=MetricList, responses=READ_ERRORS)
async def list_metrics(request: Request, user_id: TargetUser, session: ReadSessionDep) -> Response:
    """Every metric you have: unit, kind, sample count, first and last time, sources."""
    return await json_response(request, await service.list_metrics(session, user_id))


@router.get("/metrics/{name}", response_model=SamplePage, responses={**READ_ERRORS, **NOT_FOUND})
async def metric_samples(
    request: Request,
    name: MetricName,
    user_id: TargetUser,
    session: ReadSessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    source: SourceQuery = None,
    limit: LimitQuery = 1000,
    cursor: CursorQuery = None,
    unit: UnitQuery = None,
) -> Response:
    """Raw samples in time order, keyset-paginated: follow ``next_cursor``."""
    page = await service.sample_page(
        session,
        user_id,
        name,
        parse_range(start, end),
        source=source,
        limit=limit,
        cursor=cursor,
        unit=unit,
    )
    return await json_response(request, page)


@router.get("/metrics/{name}/series", response_model=Series, responses={**READ_ERRORS, **NOT_FOUND})
async def metric_series(
    request: Request,
    name: MetricName,
    user_id: TargetUser,
    session: ReadSessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    bucket: Annotated[Bucket, Query(description="Bucket width")] = "day",
    agg: Annotated[
        Agg | None, Query(description="Default: sum for steps/energy/distance, else avg")
    ] = None,
    tz: TzQuery = None,
    source: SourceQuery = None,
    unit: UnitQuery = None,
) -> Response:
    """Time-bucketed aggregates; day, week and month are the user's local days."""
    zone = parse_zone(tz)
    answer = await service.series(
        session,
        user_id,
        name,
        parse_range(start, end, zone),
        bucket=bucket,
        agg=agg,
        zone=zone,
        source=source,
        unit=unit,
        rollups=core_state(request).settings.rollups_read,
    )
    return await json_response(request, answer)


@router.get("/heart-rate", response_model=HeartRatePage, responses=READ_ERRORS)
async def heart_rate(
    request: Request,
    user_id: TargetUser,
    session: ReadSessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    source: SourceQuery = None,
    limit: LimitQuery = 1000,
    cursor: CursorQuery = None,
) -> Response:
    """Heart-rate samples: min, avg and max per point (count/min)."""
    span = parse_range(start, end)
    page = await typed_views.heart_rate(
        session, user_id, span, source=source, limit=limit, cursor=cursor
    )
    return await json_response(request, page)


@router.get("/blood-pressure", response_model=BloodPressurePage, responses=READ_ERRORS)
async def blood_pressure(
    request: Request,
    user_id: TargetUser,
    session: ReadSessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    source: SourceQuery = None,
    limit: LimitQuery = 1000,
    cursor: CursorQuery = None,
) -> Response:
    """Blood-pressure readings: systolic and diastolic (mmHg)."""
    span = parse_range(start, end)
    page = await typed_views.blood_pressure(
        session, user_id, span, source=source, limit=limit, cursor=cursor
    )
    return await json_response(request, page)


@router.get("/activity/daily", response_model=ActivityDaily, responses=READ_ERRORS)
async def activity_daily(
    request: Request,
    user_id: TargetUser,
    session: ReadSessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    tz: TzQuery = None,
) -> Response:
    """Per local day: steps, distance, energy, exercise, stand hours, flights (no double count)."""
    zone = parse_zone(tz)
    span = parse_range(start, end, zone)
    rollups: bool = core_state(request).settings.rollups_read
    answer = await typed_views.activity_daily(session, user_id, span, zone, rollups=rollups)
    return await json_response(request, answer)

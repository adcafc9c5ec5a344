"""Read endpoints the dashboard's pages need, one request per page (scope ``read``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from health_export.core.db import SessionDep
from health_export.dashboard.heart import heart_daily
from health_export.dashboard.newest import newest_samples
from health_export.dashboard.overview import overview
from health_export.dashboard.schemas import HeartDaily, NewestSamples, Overview
from health_export.health_data.access import TargetUser
from health_export.health_data.params import (
    EndQuery,
    StartQuery,
    TzQuery,
    UnitQuery,
    parse_range,
    parse_zone,
)
from health_export.health_data.responses import READ_ERRORS, json_response

MAX_NEWEST = 1000
NEWEST_ERRORS: dict[int | str, dict[str, str]] = {
    **READ_ERRORS,
    404: {"description": "Unknown metric (GET /api/v1/metrics lists yours)"},
}

router = APIRouter(prefix="/api/v1", tags=["read"])


@router.get("/overview", response_model=Overview, responses=READ_ERRORS)
async def overview_cards(
    request: Request,
    user_id: TargetUser,
    session: SessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    tz: TzQuery = None,
) -> Response:
    """Key numbers by local day: latest, mean, change against the period before, sparkline."""
    zone = parse_zone(tz)
    answer = await overview(session, user_id, parse_range(start, end, zone), zone)
    return await json_response(request, answer)


@router.get("/heart/daily", response_model=HeartDaily, responses=READ_ERRORS)
async def heart_by_day(
    request: Request,
    user_id: TargetUser,
    session: SessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    tz: TzQuery = None,
) -> Response:
    """Per local day: resting heart rate, HRV, and heart rate's low, mean and high."""
    zone = parse_zone(tz)
    answer = await heart_daily(session, user_id, parse_range(start, end, zone), zone)
    return await json_response(request, answer)


@router.get("/metrics/{name}/newest", response_model=NewestSamples, responses=NEWEST_ERRORS)
async def newest(
    request: Request,
    name: Annotated[str, Path(description="Metric name, e.g. heart_rate, weight_body_mass")],
    user_id: TargetUser,
    session: SessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    tz: TzQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_NEWEST, description="How many (max 1000)")] = 50,
    unit: UnitQuery = None,
) -> Response:
    """The newest stored samples in the range, newest first (a bare date: midnight in tz=)."""
    span = parse_range(start, end, parse_zone(tz))
    answer = await newest_samples(session, user_id, name, span, limit=limit, unit=unit)
    return await json_response(request, answer)

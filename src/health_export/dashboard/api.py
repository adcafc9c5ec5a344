"""Read endpoints the dashboard's pages need, one request per page (scope ``read``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from health_export.core.db import SessionDep
from health_export.dashboard.heart import heart_daily
from health_export.dashboard.overview import overview
from health_export.dashboard.schemas import HeartDaily, Overview
from health_export.samples.access import TargetUser
from health_export.samples.params import parse_range, parse_zone
from health_export.samples.queries import EndQuery, StartQuery, TzQuery
from health_export.samples.responses import READ_ERRORS, json_response

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

"""GET /api/v1/activity/rings: the daily Activity rings from an Apple Health archive."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from health_export.core.db import SessionDep
from health_export.health_data.access import TargetUser
from health_export.health_data.metrics.schemas import example
from health_export.health_data.params import EndQuery, StartQuery, parse_range
from health_export.health_data.responses import READ_ERRORS, json_response
from health_export.health_data.rings.repository import day_bounds, rings_between

router = APIRouter(prefix="/api/v1", tags=["read"])


class Ring(BaseModel):
    """One ring of one day: what was done, the goal (null when Apple wrote none), the unit."""

    value: float | None
    goal: float | None
    unit: str


class RingDay(BaseModel):
    """The rings of one calendar day, as the Health app counted them."""

    date: date
    active_energy: Ring
    move_time: Ring
    exercise_time: Ring
    stand_hours: Ring


class ActivityRings(BaseModel):
    """Every day with rings in the range, oldest first."""

    model_config = example(
        {
            "days": [
                {
                    "date": "2024-07-01",
                    "active_energy": {"value": 512.5, "goal": 500.0, "unit": "kcal"},
                    "move_time": {"value": 0.0, "goal": None, "unit": "min"},
                    "exercise_time": {"value": 31.0, "goal": 30.0, "unit": "min"},
                    "stand_hours": {"value": 11.0, "goal": 12.0, "unit": "h"},
                }
            ]
        }
    )

    days: list[RingDay]


@router.get("/activity/rings", response_model=ActivityRings, responses=READ_ERRORS)
async def activity_rings(
    request: Request,
    user_id: TargetUser,
    session: SessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """Per day: active energy, move time, exercise time and stand hours, each with its goal."""
    first, after = day_bounds(parse_range(start, end))
    return await json_response(request, await rings_between(session, user_id, first, after))

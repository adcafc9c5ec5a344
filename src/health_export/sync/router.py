"""GET /api/v1/sync (scope ``read``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from health_export.core.db import SessionDep
from health_export.core.state import core_state
from health_export.health_data.access import TargetUser
from health_export.sync.gaps import GAP_WINDOW_DAYS
from health_export.sync.schemas import SyncOut
from health_export.sync.service import sync_report

router = APIRouter(prefix="/api/v1", tags=["sync"])
WindowQuery = Annotated[
    int,
    Query(ge=7, le=730, description="Days before each metric's newest sample to look for gaps"),
]


@router.get(
    "/sync",
    response_model=SyncOut,
    summary="Automations, freshness, gaps with their repair, setting advice, schema drift",
    responses={403: {"description": "The key lacks scope read, or user_id without an admin key"}},
)
async def get_sync(
    request: Request, user_id: TargetUser, session: SessionDep, days: WindowQuery = GAP_WINDOW_DAYS
) -> dict[str, Any]:
    """What each automation sent and how often, which metric stopped or has holes, and what
    to change in the app; see docs/sync.md."""
    conn = await session.connection()
    return await sync_report(conn, user_id, core_state(request).settings, days)

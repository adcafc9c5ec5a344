"""The alert loop of the background worker: check every ALERT_CHECK_SECONDS, deliver as due."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import httpx

from health_export.background.context import WorkerContext
from health_export.core.logging import get_logger
from health_export.sync.alerts import CheckMemory, check_once
from health_export.sync.delivery import deliver_due

# The loop never sleeps less than this (a delivery due "now" that keeps failing to lock).
MIN_SLEEP_S = 0.05
log = get_logger("health_export.sync.alerts")


async def run_alerts(state: WorkerContext) -> None:
    """Until shutdown: check for incidents, deliver their announcements."""
    settings = state.settings
    memory = CheckMemory()
    next_check = 0.0
    async with httpx.AsyncClient(timeout=settings.alert_timeout_seconds) as client:
        while not state.shutting_down:
            if time.monotonic() >= next_check:
                await _guarded("alert_check_failed", check_once(state.engine, settings, memory))
                next_check = time.monotonic() + settings.alert_check_seconds
            due_in = await _guarded(
                "alert_delivery_loop_failed", deliver_due(state.engine, settings, client)
            )
            wait = next_check - time.monotonic()
            if isinstance(due_in, float):
                wait = min(wait, due_in)
            await asyncio.sleep(max(MIN_SLEEP_S, wait if math.isfinite(wait) else MIN_SLEEP_S))


async def _guarded(event: str, work: Any) -> Any:
    try:
        return await work
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the database may be down; the next round tries again
        log.warning(event, exc_type=type(exc).__name__)
        return None

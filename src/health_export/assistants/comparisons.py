"""compare_periods: a period and its baseline side by side, from two REST answers each."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.assistants.arguments import End, Source, Start, Tz, check_metric, period
from health_export.assistants.calls import as_json, rest_url, run_tool
from health_export.assistants.schemas import CompareAnswer, Period
from health_export.assistants.summaries import changes, metric_stats, sleep_stats
from health_export.catalog.metrics import kind_of
from health_export.health_data.metrics import service
from health_export.health_data.params import parse_zone
from health_export.health_data.records import sleep

API = "/api/v1"
SLEEP = "sleep"
SUM_METHOD = (
    "daily series (bucket=day) of each range: total = sum of the days, mean_per_day = "
    "total / days_with_data, values = sum of the counts"
)
MEAN_METHOD = (
    "daily series (bucket=day, agg=avg) of each range: mean = the days' values weighted "
    "by their counts (the mean of every value), values = sum of the counts"
)
SLEEP_METHOD = "nights of each range (/sleep): mean_* = the mean per night of that measure"

Subject = Annotated[
    str,
    Field(description="A metric name from list_metrics (step_count, heart_rate, ...) or 'sleep'."),
]


async def compare_periods(
    ctx: Context,
    metric: Subject,
    start: Start,
    end: End,
    baseline_start: Annotated[str, Field(description="Start of the range compared with.")],
    baseline_end: Annotated[str, Field(description="End of the range compared with.")],
    tz: Tz = None,
    source: Source = None,
) -> Annotated[CallToolResult, CompareAnswer]:
    """Compare a period [start, end) with a baseline [baseline_start, baseline_end), e.g.
    this month with last month. For cumulative metrics: total, mean per day with data,
    days with data; for other metrics: the mean of all values; for 'sleep': nights and
    the mean per night of total sleep, time in bed, efficiency and each stage. change is
    period minus baseline, absolute and in percent. Each side has its own source_url."""
    arguments = {"metric": metric, "start": start, "end": end, "tz": tz, "source": source}
    arguments |= {"baseline_start": baseline_start, "baseline_end": baseline_end}

    async def work(session: AsyncSession, user_id: int) -> CompareAnswer:
        zone = parse_zone(tz)
        sides = [(start, end, ("start", "end"))]
        sides.append((baseline_start, baseline_end, ("baseline_start", "baseline_end")))
        periods: list[tuple[Period, str | None]]
        unit: str | None
        if metric == SLEEP:
            periods = [await _sleep_side(session, user_id, *side) for side in sides]
            unit, method = "h", SLEEP_METHOD
        else:
            await check_metric(session, user_id, metric)
            periods = [
                await _metric_side(session, user_id, metric, zone, tz, source, *side)
                for side in sides
            ]
            unit = periods[0][1]
            method = SUM_METHOD if kind_of(metric) == "sum" else MEAN_METHOD
        now, before = periods[0][0], periods[1][0]
        return CompareAnswer(
            subject=metric,
            unit=unit,
            method=method,
            period=now,
            baseline=before,
            change=changes(now.stats, before.stats),
        )

    return await run_tool(ctx, "compare_periods", arguments, work)


async def _sleep_side(
    session: AsyncSession, user_id: int, start: str, end: str, names: tuple[str, str]
) -> tuple[Period, str | None]:
    answer = as_json(await sleep.nights(session, user_id, period(start, end, None, names)))
    url = rest_url(f"{API}/sleep", {"start": start, "end": end})
    side = Period(start=start, end=end, stats=sleep_stats(answer["nights"]), source_url=url)
    return side, "h"


async def _metric_side(
    session: AsyncSession,
    user_id: int,
    metric: str,
    zone: ZoneInfo | None,
    tz: str | None,
    source: str | None,
    start: str,
    end: str,
    names: tuple[str, str],
) -> tuple[Period, str | None]:
    span = period(start, end, zone, names)
    answer = as_json(
        await service.series(
            session, user_id, metric, span, bucket="day", agg=None, zone=zone, source=source,
            unit=None,
        )
    )  # fmt: skip
    query = {"start": start, "end": end, "bucket": "day", "tz": tz, "source": source}
    url = rest_url(f"{API}/metrics/{quote(metric, safe='')}/series", query)
    stats = metric_stats(answer["points"], kind_of(metric))
    return Period(start=start, end=end, stats=stats, source_url=url), answer["unit"]

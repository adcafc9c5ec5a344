"""Tool arguments: described for a model, parsed exactly as the REST query parameters are."""

from __future__ import annotations

import difflib
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.catalog.metrics import METRICS
from health_export.core.errors import BadRequest
from health_export.health_data.metrics import service
from health_export.health_data.params import TimeRange, parse_range

_WHEN = (
    "a date (2024-03-01: midnight in tz when given, else UTC) or an ISO 8601 date-time "
    "with an offset (2024-03-01T00:00:00-05:00)"
)
Start = Annotated[str, Field(description=f"Inclusive start: {_WHEN}.")]
End = Annotated[str, Field(description=f"Exclusive end: {_WHEN}.")]
Tz = Annotated[
    str | None,
    Field(
        description="IANA time zone for local days (America/New_York); default: each "
        "sample's own UTC offset, i.e. the days the person lived."
    ),
]
Source = Annotated[
    str | None,
    Field(description="Only this device or app (a name from list_metrics); default: all."),
]
Metric = Annotated[
    str, Field(description="Metric name from list_metrics, e.g. step_count, heart_rate.")
]
Agg = Literal["avg", "sum", "min", "max", "count"]
NEAREST = 5


def period(start: str, end: str, zone: ZoneInfo | None, names: tuple[str, str]) -> TimeRange:
    """The [start, end) range; a refusal names the tool's own arguments ``names``."""
    try:
        return parse_range(start, end, zone)
    except BadRequest as exc:
        detail = exc.detail or "not a valid range"
        for rest_name, own in zip(("'start'", "'end'"), names, strict=True):
            detail = detail.replace(f"query parameter {rest_name}", f"argument {own!r}")
        raise ToolError(detail) from exc


async def check_metric(session: AsyncSession, user_id: int, name: str) -> None:
    """Refuse a metric the user cannot have, naming the nearest ones they might mean."""
    if name in METRICS:
        return
    listed = await service.list_metrics(session, user_id)
    mine = [metric["name"] for metric in listed["metrics"]]
    if name in mine:
        return
    near = difflib.get_close_matches(name, mine, n=NEAREST, cutoff=0.5)
    near += difflib.get_close_matches(name, sorted(METRICS), n=NEAREST, cutoff=0.5)
    nearest = list(dict.fromkeys(near))[:NEAREST]
    hint = f"nearest: {', '.join(nearest)}" if nearest else "no similar name"
    raise ToolError(f"unknown metric {name!r} ({hint}); list_metrics lists the metrics you have")

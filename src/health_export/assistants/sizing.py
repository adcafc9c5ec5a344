"""How much an answer may hold: a context window is not a database export."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

from mcp.server.mcpserver.exceptions import ToolError

from health_export.health_data.params import TimeRange

# "A few thousand": a day of minutes is 1,440 points, a year of days 366.
MAX_SERIES_POINTS = 3000
# Day-by-day answers (activity, sleep): a quarter; longer ranges go through get_series.
MAX_DAYS = 93
Bucket = Literal["minute", "hour", "day", "week", "month"]
BUCKET_WIDTH: dict[str, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=28),  # the shortest month: never undercounts
}
COARSER: tuple[Bucket, ...] = get_args(Bucket)


@dataclass(frozen=True, slots=True)
class BucketChoice:
    """The bucket answered with, and why it differs from the one asked for."""

    bucket: Bucket
    note: str | None = None


def buckets_in(span: timedelta, bucket: str) -> int:
    """How many buckets of ``bucket`` a range of ``span`` can touch."""
    return math.ceil(span / BUCKET_WIDTH[bucket]) + 1


def choose_bucket(span: TimeRange, requested: Bucket) -> BucketChoice:
    """``requested``, or the finest coarser bucket keeping the series to MAX_SERIES_POINTS."""
    length = _length(span)
    wanted = buckets_in(length, requested)
    if wanted <= MAX_SERIES_POINTS:
        return BucketChoice(requested)
    for bucket in COARSER[COARSER.index(requested) + 1 :]:
        if buckets_in(length, bucket) <= MAX_SERIES_POINTS:
            note = (
                f"{requested} buckets over this range would be up to {wanted} points, more than "
                f"the {MAX_SERIES_POINTS} an answer holds; answered with {bucket} buckets. "
                f"Narrow start/end for {requested} detail."
            )
            return BucketChoice(bucket, note)
    raise ToolError(
        f"this range is too long for any bucket (more than {MAX_SERIES_POINTS} months); "
        "narrow start/end"
    )


def check_days(span: TimeRange, what: str) -> None:
    """Refuse a day-by-day answer longer than MAX_DAYS, pointing at the coarser tools."""
    if _length(span) > timedelta(days=MAX_DAYS):
        raise ToolError(
            f"{what} answers at most {MAX_DAYS} days at a time; narrow start/end, or use "
            "get_series with bucket=week or month (or compare_periods) for longer ranges"
        )


def _length(span: TimeRange) -> timedelta:
    # Both ends are required by the tools, so the range is bounded.
    return span.upper - span.lower

"""Annotated query parameters shared by the read routes (documented once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_PAGE = 10_000
_INSTANT = (
    "ISO 8601 date-time with an offset (2024-03-14T00:00:00-04:00, or Z), or a date: the "
    "whole local day in answers by local day (day/week/month series, daily activity, "
    "sleep), else midnight in tz=, else UTC."
)
StartQuery = Annotated[
    str | None, Query(description=f"Inclusive start. {_INSTANT}", examples=["2024-03-01"])
]
EndQuery = Annotated[
    str | None, Query(description=f"Exclusive end. {_INSTANT}", examples=["2024-04-01"])
]
TzQuery = Annotated[
    str | None,
    Query(
        description="IANA zone for local days; default: each sample's stored UTC offset.",
        examples=["America/New_York"],
    ),
]
SourceQuery = Annotated[
    str | None, Query(description="Only samples of this source (device/app name).")
]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size (max {MAX_PAGE}).")]
CursorQuery = Annotated[str | None, Query(description="next_cursor of the previous page (opaque).")]
UnitQuery = Annotated[
    str | None,
    Query(description="Answer in this unit (e.g. mi, lb, degF) when the catalogue converts it."),
]

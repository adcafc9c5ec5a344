"""Bare dates in day-or-coarser answers: ``start=2024-03-14`` means that whole local day.

A day of the sender at −04:00 runs from 04:00 to 04:00 UTC, so UTC midnights would cut
it. Answers by local day read a bare date as the day itself: rows are fetched in a
range widened by a day (every UTC offset, −12:00 to +14:00, fits in it) and kept when
their local date is in the range, so a day has the same total whatever range it is
asked in.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from health_export.health_data.params import TimeRange

DAY_MARGIN = timedelta(days=1)


def instant_bounds(span: TimeRange) -> tuple[datetime, datetime]:
    """The instants to fetch: each end given as a date widened by a day."""
    lower = span.lower - DAY_MARGIN if span.start_day is not None else span.lower
    upper = span.upper + DAY_MARGIN if span.end_day is not None else span.upper
    return lower, upper


def local_midnights(span: TimeRange) -> tuple[datetime | None, datetime | None]:
    """Wall-clock midnights (naive) of the ends given as dates, for SQL on local times."""
    return _midnight(span.start_day), _midnight(span.end_day)


def holds_day(span: TimeRange, day: date, moment: datetime) -> bool:
    """Whether a row of local date ``day`` at instant ``moment`` is in ``span``."""
    after_start = span.start_day <= day if span.start_day is not None else span.lower <= moment
    before_end = day < span.end_day if span.end_day is not None else moment < span.upper
    return after_start and before_end


def _midnight(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day) if day is not None else None

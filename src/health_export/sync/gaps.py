"""Gaps: local days inside a metric's usual coverage with no, or unusually few, samples.

Pure functions over "samples per local day"; the evidence for each threshold is in
docs/sync.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

# How far back from a metric's newest sample gaps are looked for.
GAP_WINDOW_DAYS = 90
# Fewer days with data than this: too little history to call anything usual.
MIN_DAYS_WITH_DATA = 7
# A metric present on fewer of its days than this is not a daily one (a weight taken now
# and then, a VO2 max estimate): its empty days are normal, not gaps.
MIN_COVERAGE = 0.75
# A day with fewer samples than this share of the usual day's is "unusually few"...
FEW_FRACTION = 0.25
# ...when the usual day has at least this many (day-grouped metrics have one a day,
# where "few" means nothing).
FEW_MIN_USUAL = 24


@dataclass(frozen=True, slots=True)
class Gap:
    """Consecutive local days without (``none``) or with too few (``few``) samples."""

    start: date
    end: date
    kind: str
    samples: int

    @property
    def days(self) -> int:
        """How many days the gap spans."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class Coverage:
    """A metric's days with data in the window and the gaps inside them."""

    days_with_data: int
    span_days: int
    usual_per_day: float | None
    is_daily: bool
    gaps: list[Gap] = field(default_factory=list)


def find_gaps(counts: Mapping[date, int]) -> Coverage:
    """The gaps of one metric, from its samples per local day."""
    days = sorted(day for day, n in counts.items() if n > 0)
    if not days:
        return Coverage(0, 0, None, False)
    first, last = days[0], days[-1]
    span = (last - first).days + 1
    usual = float(statistics.median(counts[day] for day in days))
    is_daily = len(days) >= MIN_DAYS_WITH_DATA and len(days) / span >= MIN_COVERAGE
    if not is_daily:
        return Coverage(len(days), span, usual, False)
    short = [_shortfall(first + timedelta(d), counts, usual, (first, last)) for d in range(span)]
    gaps = [_with_samples(gap, counts) for gap in _merge(first, short)]
    return Coverage(len(days), span, usual, True, gaps)


def _shortfall(
    day: date, counts: Mapping[date, int], usual: float, ends: tuple[date, date]
) -> str | None:
    n = counts.get(day, 0)
    if n == 0:
        return "none"
    # The newest day may still be filling up, the first may start mid-day: never "few".
    if day not in ends and usual >= FEW_MIN_USUAL and n < FEW_FRACTION * usual:
        return "few"
    return None


def _merge(first: date, short: list[str | None]) -> list[Gap]:
    gaps: list[Gap] = []
    run: list[tuple[date, str]] = []
    for offset, kind in enumerate(short + [None]):
        if kind is not None:
            run.append((first + timedelta(offset), kind))
            continue
        if run:
            kinds = {k for _, k in run}
            gaps.append(Gap(run[0][0], run[-1][0], kinds.pop() if len(kinds) == 1 else "mixed", 0))
            run = []
    return gaps


def _with_samples(gap: Gap, counts: Mapping[date, int]) -> Gap:
    total = sum(counts.get(gap.start + timedelta(d), 0) for d in range(gap.days))
    return Gap(gap.start, gap.end, gap.kind, total)

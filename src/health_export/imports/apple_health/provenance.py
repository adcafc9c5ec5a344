"""Which metric rows came from an archive, and how many samples it held per day.

Each ``metric_samples`` row an archive import writes carries ``attrs.origin =
"archive"`` (a few bytes a row, no new column on the largest table). A database
trigger (migration 0011) keeps an archive from replacing a row the app's feed stored,
and the feed replaces an archive row when it sends that sample (same metric, start
and source), so a marked row is exactly a sample only an archive delivered. Beside it,
the import counts its samples per (metric, local day) as it parses, for the coverage
report (``imports/coverage.py``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from health_export.ingest.records import NormalisedPayload

ORIGIN_KEY = "origin"
ARCHIVE_ORIGIN = "archive"
_MARK = {ORIGIN_KEY: ARCHIVE_ORIGIN}
_SECONDS_PER_DAY = 86_400
_ATTRS = -1  # attrs are the last column of metric_samples rows
_METRIC, _START, _OFFSET = 0, 2, 4


class ArchivePayload(NormalisedPayload):
    """A payload whose metric rows are marked as the archive's and counted per day."""

    def __init__(self) -> None:
        super().__init__()
        # (metric, local day as days since 1970-01-01) -> samples in the archive
        self.day_counts: Counter[tuple[str, int]] = Counter()

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """Append one row; a metric row is marked and counted first."""
        if table == "metric_samples":
            attrs = row[_ATTRS]
            marked = _MARK if attrs is None else {**attrs, **_MARK}
            row = (*row[:_ATTRS], marked)
            local_s = int(row[_START].timestamp()) + row[_OFFSET] * 60
            self.day_counts[(row[_METRIC], local_s // _SECONDS_PER_DAY)] += 1
        super().add(table, row)

    def add_metric(self, row: tuple[Any, ...], local_day: int) -> None:
        """Append one metric row whose attrs are marked already (:func:`marked_attrs_text`),
        counted on ``local_day`` (days since 1970-01-01)."""
        key = (row[_METRIC], local_day)
        self.day_counts[key] = self.day_counts.get(key, 0) + 1
        self.rows["metric_samples"].append(row)


def marked_attrs_text(attrs: dict[str, Any]) -> str:
    """``attrs`` with the archive's mark, as the JSON text a jsonb column takes."""
    return orjson.dumps({**attrs, **_MARK}).decode()

"""The schema drift sentinel: what a request had that this server does not know.

Computed from what the parser already counted per metric (``NormalisedPayload.seen``)
and the keys it ignored, so a format change by the app is visible the day it happens:
in ``GET /api/v1/sync`` (per app version) and in Prometheus (``schema_drift_total``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter

from health_export.catalog.metrics import METRICS

# Keys a metric point may carry (docs/hae-format.md §4), by metric where they differ.
_COMMON_POINT_FIELDS = frozenset(
    {"date", "qty", "Min", "Avg", "Max", "source", "systolic", "diastolic", "units"}
)
_POINT_FIELDS_OF: dict[str, frozenset[str]] = {
    "blood_glucose": frozenset({"mealTime"}),
    "insulin_delivery": frozenset({"reason"}),
    "handwashing": frozenset({"value"}),
    "toothbrushing": frozenset({"value"}),
    "sexual_activity": frozenset({"Unspecified", "Protection Used", "Protection Not Used"}),
    "sleep_analysis": frozenset(
        {
            # aggregated nights, every generation
            "asleep", "core", "deep", "rem", "awake", "inBed", "totalSleep",
            "sleepStart", "sleepEnd", "sleepSource", "inBedStart", "inBedEnd", "inBedSource",
            # unaggregated segments
            "startDate", "endDate", "value",
        }
    ),
}  # fmt: skip
_INDEX = re.compile(r"\[\d+\]")
KINDS = ("unknown_key", "new_metric", "new_field")

# Its own registry, exposed by ops/metrics.py next to the request metrics; in
# multiprocess mode the counter's values are shared through files like the others.
DRIFT_REGISTRY = CollectorRegistry(auto_describe=True)
SCHEMA_DRIFT = Counter(
    "schema_drift_total",
    "Requests carrying something the server does not know, by app version and kind "
    "(unknown_key, new_metric, new_field).",
    ("app_version", "kind"),
    registry=DRIFT_REGISTRY,
)


def unknown_keys(ignored: Iterable[str]) -> list[str]:
    """Ignored key paths without their list indexes (``data.metrics[].newKey``), once each."""
    return sorted({_INDEX.sub("[]", path) for path in ignored})


def new_metrics(seen: Mapping[str, int]) -> list[str]:
    """Metric names the catalogue does not know (stored generically all the same)."""
    names = (key.removeprefix("metric:") for key in seen if key.startswith("metric:"))
    return sorted(name for name in names if name not in METRICS)


def new_fields(seen: Mapping[str, int]) -> list[str]:
    """``metric.key`` for each key of a metric's first point that no shape documents."""
    found = []
    for key in seen:
        if not key.startswith("field:"):
            continue
        metric, _, field = key.removeprefix("field:").rpartition(":")
        if field not in _COMMON_POINT_FIELDS and field not in _POINT_FIELDS_OF.get(metric, ()):
            found.append(f"{metric}.{field}")
    return sorted(found)


def count_drift(app_version: str | None, drift: Mapping[str, list[str]]) -> None:
    """Count one request in Prometheus for each kind of drift it carried."""
    version = app_version or "unknown"
    for kind in KINDS:
        if drift.get(kind):
            SCHEMA_DRIFT.labels(version, kind).inc()

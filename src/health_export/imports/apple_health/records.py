"""``<Record>`` and ``<Correlation>`` elements → rows in the writer's layout.

Rows go to the tables and natural keys the HAE feed uses (``ingest/records.py``), so
the same sample from both is one row: metric points keyed by (metric, start, source),
sleep segments by (start, stage, source), symptoms by (start, name, source), and so on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from health_export.imports.apple_health import mapping
from health_export.imports.apple_health.clock import ExportClock
from health_export.imports.apple_health.provenance import ArchivePayload, marked_attrs_text
from health_export.imports.apple_health.stamps import (
    QuantityPlan,
    RecordRejected,
    Stamp,
    read_stamp,
    record_attrs,
)
from health_export.imports.apple_health.units import quantity_with_unit
from health_export.imports.apple_health.xml_stream import Node

__all__ = ["ImportCounts", "RecordMapper", "RecordRejected"]

_CATEGORY_VALUE = "HKCategoryValue"
_SECONDS_PER_DAY = 86_400
_ATTRS_TEXTS_MAX = 10_000


@dataclass(slots=True)
class ImportCounts:
    """What an import read, stored elsewhere, skipped and rejected."""

    records: int = 0
    correlations: int = 0
    workouts: int = 0
    routes: int = 0
    ecg: int = 0
    activity_summaries: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)


def enum_value(value: str | None, type_suffix: str) -> str | None:
    """``HKCategoryValueMenstrualFlowLight`` → ``Light``; ``…SeverityMild`` → ``Mild``."""
    if value is None:
        return None
    text = value.removeprefix(_CATEGORY_VALUE)
    for prefix in (type_suffix, "Severity"):
        if text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix) :]
    return text


class BloodPressurePairs:
    """Systolic and diastolic halves, paired by source and window.

    A blood-pressure correlation holds both halves, and both are also written as
    top-level records: the correlation gives the pair and the top-level copies are not
    counted again. A top-level half no correlation claimed is still stored at the end.
    """

    def __init__(self) -> None:
        self.loose: dict[tuple[str, datetime, datetime], dict[str, Any]] = {}
        self.paired: set[tuple[str, datetime, datetime]] = set()

    def add_loose(self, stamp: Stamp, field_name: str, value: float, attrs: Any) -> None:
        """Remember a top-level half until the end."""
        key = (stamp.source, stamp.start_at, stamp.end_at)
        entry = self.loose.setdefault(key, {"stamp": stamp, "attrs": attrs})
        entry[field_name] = value

    def claim(self, stamp: Stamp) -> None:
        """A correlation stored this pair: its top-level halves are not stored again."""
        self.paired.add((stamp.source, stamp.start_at, stamp.end_at))


class RecordMapper:
    """Turns each top-level Record or Correlation into rows of ``payload``."""

    def __init__(self, payload: ArchivePayload, clock: ExportClock, counts: ImportCounts):
        self.payload = payload
        self.clock = clock
        self.counts = counts
        self.pressure = BloodPressurePairs()
        self._plans: dict[tuple[str, str], QuantityPlan] = {}
        self._attrs_texts: dict[tuple[Any, ...], str] = {}

    def add_record(self, node: Node) -> None:
        """One top-level Record (rejected with a counted reason when unusable)."""
        self.counts.records += 1
        kind = node.attrs.get("type", "")
        skipped = mapping.SKIPPED_TYPES.get(kind)
        if skipped is not None:
            self.counts.skipped[skipped] += 1
            return
        try:
            stamp = read_stamp(node, self.clock)
            if kind.startswith(mapping.CATEGORY_PREFIX):
                self._add_category(node, stamp, kind[len(mapping.CATEGORY_PREFIX) :])
            elif kind in (mapping.SYSTOLIC, mapping.DIASTOLIC):
                value = self._number(node)
                half = "systolic" if kind == mapping.SYSTOLIC else "diastolic"
                self.pressure.add_loose(stamp, half, value, record_attrs(node, stamp))
            else:
                self._add_quantity(node, stamp, kind)
        except RecordRejected as exc:
            self.counts.rejected[f"{_short_type(kind)}: {exc}"] += 1

    def add_correlation(self, node: Node) -> None:
        """A Correlation: blood pressure becomes one point; food members are top level."""
        self.counts.correlations += 1
        kind = node.attrs.get("type", "")
        if kind == mapping.FOOD_CORRELATION:
            # Its nutrients are also top-level records, stored once from there.
            self.counts.skipped["food correlation (its nutrients are stored as records)"] += 1
            return
        if kind != mapping.BLOOD_PRESSURE_CORRELATION:
            self.counts.skipped[f"correlation {kind or 'without a type'}"] += 1
            return
        try:
            stamp = read_stamp(node, self.clock)
            halves: dict[str, float] = {}
            for member in node.each("Record"):
                member_type = member.attrs.get("type")
                if member_type == mapping.SYSTOLIC:
                    halves["systolic"] = self._number(member)
                elif member_type == mapping.DIASTOLIC:
                    halves["diastolic"] = self._number(member)
                self.pressure.claim(read_stamp(member, self.clock))
            self._add_pressure(stamp, halves, record_attrs(node, stamp))
        except RecordRejected as exc:
            self.counts.rejected[f"BloodPressure: {exc}"] += 1

    def finish(self) -> None:
        """Store the blood-pressure halves no correlation claimed."""
        for key, entry in self.pressure.loose.items():
            if key in self.pressure.paired:
                continue
            halves: dict[str, float] = {
                half: entry[half] for half in ("systolic", "diastolic") if half in entry
            }
            try:
                self._add_pressure(entry["stamp"], halves, entry["attrs"])
            except RecordRejected as exc:
                self.counts.rejected[f"BloodPressure: {exc}"] += 1
        self.pressure = BloodPressurePairs()

    def _number(self, node: Node) -> float:
        try:
            value = float(node.attrs["value"])
        except (KeyError, ValueError):
            raise RecordRejected("value is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise RecordRejected("value is not finite")
        return value

    def _add_quantity(self, node: Node, stamp: Stamp, kind: str) -> None:
        apple_unit = node.attrs.get("unit", "")
        plan = self._plans.get((kind, apple_unit))
        if plan is None:
            plan = self._plans[(kind, apple_unit)] = QuantityPlan.of(kind, apple_unit)
        value = self._number(node) * plan.factor + plan.offset
        if not plan.low <= value <= plan.high:
            raise RecordRejected(plan.out_of_range)
        end_at = stamp.end_at if stamp.end_at != stamp.start_at else None
        row = (plan.metric, stamp.source, stamp.start_at, end_at, stamp.offset_min, plan.unit)
        # The shape of the app's heart-rate points: Min/Avg/Max, no qty.
        values = (None, value, value, value) if plan.is_heart_rate else (value, None, None, None)
        self.payload.add_metric(
            (*row, *values, None, None, self._marked_attrs(node, stamp, plan)),
            stamp.local_s // _SECONDS_PER_DAY,
        )

    def _marked_attrs(self, node: Node, stamp: Stamp, plan: QuantityPlan) -> str:
        """The row's attrs as JSON text with the archive's mark, one text per distinct
        set of metadata, device and version (they repeat on nearly every row)."""
        attrs = node.attrs
        key = (
            tuple(stamp.metadata.items()) if stamp.metadata else (),
            attrs.get("device"),
            attrs.get("sourceVersion"),
            plan.source_unit,
        )
        text = self._attrs_texts.get(key)
        if text is None:
            extra = record_attrs(node, stamp) or {}
            if plan.source_unit is not None:
                extra["source_unit"] = plan.source_unit
            text = marked_attrs_text(extra)
            if len(self._attrs_texts) >= _ATTRS_TEXTS_MAX:
                self._attrs_texts.clear()  # metadata unique per row (sync ids): no reuse
            self._attrs_texts[key] = text
        return text

    def _add_pressure(self, stamp: Stamp, halves: dict[str, float], attrs: Any) -> None:
        systolic, diastolic = halves.get("systolic"), halves.get("diastolic")
        if systolic is None and diastolic is None:
            raise RecordRejected("correlation without systolic or diastolic")
        if systolic is not None and diastolic is not None and systolic <= diastolic:
            raise RecordRejected("systolic not above diastolic")
        self.payload.add(
            "metric_samples",
            (
                "blood_pressure",
                stamp.source,
                stamp.start_at,
                stamp.end_at if stamp.end_at != stamp.start_at else None,
                stamp.offset_min,
                "mmHg",
                None,
                None,
                None,
                None,
                systolic,
                diastolic,
                attrs,
            ),
        )

    def _add_category(self, node: Node, stamp: Stamp, suffix: str) -> None:
        value = node.attrs.get("value")
        attrs = record_attrs(node, stamp)
        if suffix == mapping.SLEEP_ANALYSIS:
            self._add_sleep_stage(stamp, enum_value(value, "SleepAnalysis") or "", attrs)
        elif suffix in mapping.CATEGORY_METRICS:
            self._add_category_metric(stamp, mapping.CATEGORY_METRICS[suffix], value, attrs)
        elif suffix in mapping.HEART_RATE_NOTIFICATIONS:
            self._add_notification(node, stamp, mapping.HEART_RATE_NOTIFICATIONS[suffix])
        elif suffix in mapping.SYMPTOMS:
            self._add_symptom(stamp, suffix, enum_value(value, suffix), attrs)
        elif suffix in mapping.CYCLE_TRACKING:
            self._add_cycle_entry(stamp, suffix, enum_value(value, suffix), attrs)
        else:
            # No HAE home: one event under the snake_case fallback, its value kept.
            extra = {**(attrs or {}), "value": enum_value(value, suffix)}
            self._add_point(stamp, mapping.snake_case(suffix), "count", 1.0, extra)

    def _add_point(
        self, stamp: Stamp, metric: str, unit: str, qty: float, attrs: dict[str, Any] | None
    ) -> None:
        self.payload.add(
            "metric_samples",
            (
                metric,
                stamp.source,
                stamp.start_at,
                stamp.end_at if stamp.end_at != stamp.start_at else None,
                stamp.offset_min,
                unit,
                qty,
                None,
                None,
                None,
                None,
                None,
                attrs,
            ),
        )

    def _add_sleep_stage(self, stamp: Stamp, value: str, attrs: Any) -> None:
        stage = mapping.SLEEP_STAGES.get(value, value or "Unspecified")
        hours = (stamp.end_at - stamp.start_at).total_seconds() / 3600
        if hours > 24:
            raise RecordRejected("sleep segment over 24 h")
        row = (stamp.source, stamp.start_at, stamp.end_at, stamp.offset_min, stage, hours, attrs)
        self.payload.add("sleep_stages", row)

    def _add_category_metric(
        self, stamp: Stamp, metric: str, value: str | None, attrs: dict[str, Any] | None
    ) -> None:
        seconds = (stamp.end_at - stamp.start_at).total_seconds()
        if metric == "apple_stand_hour":
            stood = value == "HKCategoryValueAppleStandHourStood"
            self._add_point(stamp, metric, "count", 1.0 if stood else 0.0, attrs)
        elif metric == "mindful_minutes":
            self._add_point(stamp, metric, "min", seconds / 60, attrs)
        elif metric == "sexual_activity":
            protection = stamp.metadata.get("HKSexualActivityProtectionUsed")
            label = {"1": "Protection Used", "0": "Protection Not Used"}.get(
                protection or "", "Unspecified"
            )
            self._add_point(stamp, metric, "count", 1.0, {**(attrs or {}), label: 1})
        else:  # handwashing, toothbrushing: the length of the event
            self._add_point(stamp, metric, "s", seconds, attrs)

    def _add_notification(self, node: Node, stamp: Stamp, kind: str) -> None:
        threshold_text = stamp.metadata.get("HKHeartRateEventThreshold")
        parsed = quantity_with_unit(threshold_text) if threshold_text else None
        raw = {
            "type": node.attrs.get("type"),
            "source": stamp.source,
            "metadata": stamp.metadata or None,
        }
        row = (
            kind,
            stamp.start_at,
            stamp.end_at,
            stamp.offset_min,
            None if parsed is None else parsed[0],
            raw,
        )
        self.payload.add("heart_rate_notifications", row)

    def _add_symptom(self, stamp: Stamp, suffix: str, severity: str | None, attrs: Any) -> None:
        entered = stamp.metadata.get("HKWasUserEntered")
        row = (
            stamp.source,
            stamp.start_at,
            stamp.end_at,
            stamp.offset_min,
            mapping.words(suffix),
            severity,
            None if entered is None else entered == "1",
            attrs,
        )
        self.payload.add("symptoms", row)

    def _add_cycle_entry(self, stamp: Stamp, suffix: str, value: str | None, attrs: Any) -> None:
        start_flag = stamp.metadata.get("HKMenstrualCycleStart")
        row = (
            stamp.start_at,
            stamp.end_at,
            stamp.offset_min,
            mapping.words(suffix),
            value,
            None if start_flag is None else start_flag == "1",
            {**(attrs or {}), "source": stamp.source},
        )
        self.payload.add("cycle_tracking", row)


def _short_type(kind: str) -> str:
    for prefix in (mapping.QUANTITY_PREFIX, mapping.CATEGORY_PREFIX):
        if kind.startswith(prefix):
            return kind[len(prefix) :]
    return kind or "record without a type"

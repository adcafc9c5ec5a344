"""What every record shares: its source, window and local offset (a :class:`Stamp`), its
attributes, and how a quantity type's values are stored (a :class:`QuantityPlan`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from health_export.imports.apple_health import mapping
from health_export.imports.apple_health.clock import DateRejected, ExportClock
from health_export.imports.apple_health.devices import parse_device
from health_export.imports.apple_health.units import stored_unit
from health_export.imports.apple_health.xml_stream import Node

_TIME_ZONE_KEY = "HKTimeZone"


class RecordRejected(ValueError):
    """A record that cannot be stored; the message is the (value-free) reason."""


@dataclass(slots=True)
class Stamp:
    """A record's source, window and local offset, read once."""

    source: str
    start_at: datetime
    end_at: datetime
    offset_min: int
    zone: ZoneInfo
    metadata: dict[str, str]
    # Unix time of start_at, local time of start_at (both in seconds)
    start_s: int = 0
    local_s: int = 0


def metadata_of(node: Node) -> dict[str, str]:
    """A node's ``MetadataEntry`` children (a repeated key keeps its last value)."""
    return {
        entry.attrs.get("key", ""): entry.attrs.get("value", "")
        for entry in node.children
        if entry.tag == "MetadataEntry"
    }


def read_stamp(node: Node, clock: ExportClock) -> Stamp:
    """Source, window and offset of a Record, Correlation or Workout."""
    attrs = node.attrs
    metadata = metadata_of(node) if node.children else {}
    start_text = attrs.get("startDate")
    end_text = attrs.get("endDate") or start_text
    try:
        start_at, start_s = clock.instant_and_seconds(start_text)
        end_at, end_s = (
            (start_at, start_s) if end_text == start_text else clock.instant_and_seconds(end_text)
        )
    except DateRejected as exc:
        raise RecordRejected(str(exc)) from None
    if end_s <= start_s and end_at < start_at:
        raise RecordRejected("end before start")
    zone = clock.zone(metadata.get(_TIME_ZONE_KEY)) if metadata else clock.default_zone
    offset_min = clock.offset_min_at(start_s, zone)
    source = attrs.get("sourceName", "")
    local_s = start_s + offset_min * 60
    return Stamp(source, start_at, end_at, offset_min, zone, metadata, start_s, local_s)


def record_attrs(node: Node, stamp: Stamp) -> dict[str, Any] | None:
    """What a record carries besides its value: metadata, device, source version."""
    attrs: dict[str, Any] = {}
    if stamp.metadata:
        attrs["metadata"] = stamp.metadata
    device = node.attrs.get("device")
    parsed = parse_device(device) if device else None
    if parsed is not None:
        attrs["device"] = parsed
    version = node.attrs.get("sourceVersion")
    if version:
        attrs["source_version"] = version
    return attrs or None


@dataclass(frozen=True, slots=True)
class QuantityPlan:
    """How the values of one (quantity type, Apple unit) are stored, worked out once."""

    metric: str
    unit: str
    factor: float
    offset: float
    low: float
    high: float
    out_of_range: str
    is_heart_rate: bool
    # The unit as written, kept in attrs when it is not the stored one.
    source_unit: str | None

    @classmethod
    def of(cls, kind: str, apple_unit: str) -> QuantityPlan:
        """The plan of ``kind`` values written in ``apple_unit`` (RecordRejected if none)."""
        metric = mapping.quantity_metric(kind)
        conversion = stored_unit(metric, apple_unit)
        rule = conversion.rule
        return cls(
            metric,
            rule.unit,
            conversion.factor,
            conversion.offset,
            rule.low,
            rule.high,
            f"value outside {rule.low:g}..{rule.high:g} {rule.unit}",
            metric == "heart_rate",
            None if apple_unit == rule.unit else apple_unit,
        )

"""The metric point loop: the hot path (hundreds of thousands of points per payload).

One loop serves HAE metrics, HAE workout series and our standard format; the key
names differ (:class:`PointKeys`), the checks are the same. The unit rule (conversion
and plausible range) is resolved once per metric, not per point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from health_export.catalog.metrics import (
    ANY_FINITE,
    DIASTOLIC_RANGE,
    SYSTOLIC_RANGE,
    UnitRule,
    unit_rule,
)
from health_export.ingest.parsing.dates import DateParseError
from health_export.ingest.parsing.decode import not_an_object_reason
from health_export.ingest.parsing.fields import (
    DateReader,
    FieldRejected,
    echo,
    fmt,
    number_reason,
    read_date_field,
)

Row = tuple[Any, ...]
Reject = Callable[[str, str], None]
# Tolerance for Min <= Avg <= Max: the app computes Avg in floating point.
_ORDER_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class PointKeys:
    """The key names of one point format."""

    date: str
    qty: str
    min: str
    avg: str
    max: str
    systolic: str
    diastolic: str
    source: str
    end: str | None = None  # end timestamp, if the format has one
    unit: str | None = None  # per-point unit key (workout series)
    attrs: str | None = None  # key holding an explicit attrs object

    known: frozenset[str] = field(init=False)  # every key with a column of its own

    def __post_init__(self) -> None:
        names = (
            self.date,
            self.qty,
            self.min,
            self.avg,
            self.max,
            self.systolic,
            self.diastolic,
            self.source,
            self.end,
            self.unit,
            self.attrs,
        )
        known = frozenset(name for name in names if name is not None)
        object.__setattr__(self, "known", known)


HAE_POINT_KEYS = PointKeys("date", "qty", "Min", "Avg", "Max", "systolic", "diastolic", "source")


def parse_metric_points(
    rows: list[Row],
    reject: Reject,
    metric: str,
    unit: str,
    points: list[Any],
    path: str,
    keys: PointKeys,
    read_date: DateReader,
) -> None:
    """Append one ``metric_samples`` row per valid point; reject the others with a path."""
    rule = unit_rule(metric, unit)
    factor, offset, low, high = rule.factor, rule.offset, rule.low, rule.high
    append = rows.append
    date_key, source_key, qty_key = keys.date, keys.source, keys.qty
    unit_key = keys.unit
    for index, point in enumerate(points):
        try:
            if point.__class__ is not dict:
                raise FieldRejected("", not_an_object_reason(point))
            if unit_key is not None:
                rule = _rule_for_point(metric, unit, point.get(unit_key), unit_key)
                factor, offset, low, high = rule.factor, rule.offset, rule.low, rule.high
            raw_date = point.get(date_key)
            try:
                start_at, offset_min = read_date(raw_date)
            except DateParseError as error:
                raise FieldRejected(date_key, _date_reason(raw_date, error)) from None
            present = 1
            source = point.get(source_key)
            if source.__class__ is str:
                present += 1
            elif source is None:
                source = ""
            else:
                raise FieldRejected(source_key, "source is not text")
            qty = point.get(qty_key)
            if qty is not None:
                present += 1
                if qty.__class__ is float or qty.__class__ is int:
                    qty = qty * factor + offset
                    if not low <= qty <= high:
                        raise _range_rejection(qty_key, metric, qty, rule)
                else:
                    raise FieldRejected(qty_key, number_reason(qty))
            if len(point) > present:  # Min/Avg/Max, blood pressure, end or extras
                append(
                    _rich_row(
                        point,
                        keys,
                        metric,
                        rule,
                        source,
                        start_at,
                        offset_min,
                        qty,
                        present,
                        read_date,
                    )
                )
            elif qty is not None:
                append(
                    (
                        metric,
                        source,
                        start_at,
                        None,
                        offset_min,
                        rule.unit,
                        qty,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    )
                )
            else:
                raise FieldRejected("", "point has no value")
        except FieldRejected as rejection:
            reject(rejection.path_in(f"{path}[{index}]"), rejection.reason)


def _rich_row(
    point: dict[str, Any],
    keys: PointKeys,
    metric: str,
    rule: UnitRule,
    source: str,
    start_at: datetime,
    offset_min: int,
    qty: float | None,
    present: int,
    read_date: DateReader,
) -> Row:
    """The slower part of a point: Min/Avg/Max, blood pressure, end time, extra keys."""
    low = avg = high = systolic = diastolic = end_at = attrs = None
    if keys.min in point or keys.avg in point or keys.max in point:
        low, avg, high, count = _min_avg_max(
            point.get(keys.min), point.get(keys.avg), point.get(keys.max), keys, metric, rule
        )
        present += count
    if keys.systolic in point or keys.diastolic in point:
        systolic, diastolic, count = _blood_pressure(
            point.get(keys.systolic), point.get(keys.diastolic), keys, rule
        )
        present += count
    if qty is None and low is None and avg is None and high is None and systolic is None:
        if diastolic is None:
            raise FieldRejected("", "point has no value")
    if keys.end is not None and point.get(keys.end) is not None:
        end_at = _end_after(point, keys.end, start_at, read_date)
        present += 1
    if len(point) > present:
        attrs = extra_attrs(point, keys.known, keys.attrs)
    return (
        metric,
        source,
        start_at,
        end_at,
        offset_min,
        rule.unit,
        qty,
        low,
        avg,
        high,
        systolic,
        diastolic,
        attrs,
    )


def extra_attrs(
    point: dict[str, Any], known: frozenset[str], attrs_key: str | None
) -> dict[str, Any] | None:
    """Keys without a column (mealTime, reason, value, ...), kept as sent."""
    attrs = {key: value for key, value in point.items() if key not in known}
    explicit = point.get(attrs_key) if attrs_key is not None else None
    if isinstance(explicit, dict):
        attrs = {**explicit, **attrs}
    elif explicit is not None:
        raise FieldRejected(attrs_key or "", "attrs is not an object")
    return attrs or None


def _rule_for_point(metric: str, default_unit: str, unit: object, unit_key: str) -> UnitRule:
    if unit is None:
        return unit_rule(metric, default_unit)
    if not isinstance(unit, str):
        raise FieldRejected(unit_key, "unit is not text")
    return unit_rule(metric, unit)


def _date_reason(raw: object, error: DateParseError) -> str:
    return "missing date" if raw is None else str(error)


def _range_rejection(key: str, metric: str, value: float, rule: UnitRule) -> FieldRejected:
    if value != value or value in (float("inf"), float("-inf")):
        return FieldRejected(key, "value is not finite")
    return FieldRejected(
        key, f"{echo(metric)} {fmt(value)} {rule.unit} outside {fmt(rule.low)}..{fmt(rule.high)}"
    )


def _checked(value: object, key: str, metric: str, rule: UnitRule) -> float:
    if value.__class__ is not float and value.__class__ is not int:
        raise FieldRejected(key, number_reason(value))
    converted: float = value * rule.factor + rule.offset
    if not rule.low <= converted <= rule.high:
        raise _range_rejection(key, metric, converted, rule)
    return converted


def _min_avg_max(
    low: object, avg: object, high: object, keys: PointKeys, metric: str, rule: UnitRule
) -> tuple[float | None, float | None, float | None, int]:
    """Check Min/Avg/Max (any may be missing) and their order."""
    checked = [
        None if value is None else _checked(value, key, metric, rule)
        for value, key in ((low, keys.min), (avg, keys.avg), (high, keys.max))
    ]
    present = [value for value in checked if value is not None]
    for before, after in zip(present, present[1:], strict=False):
        if before > after + _ORDER_SLACK * (abs(after) + 1):
            order = "/".join(fmt(value) for value in present)
            raise FieldRejected("", f"min/avg/max out of order: {order}")
    return checked[0], checked[1], checked[2], len(present)


def _blood_pressure(
    systolic: object, diastolic: object, keys: PointKeys, rule: UnitRule
) -> tuple[float | None, float | None, int]:
    """Check systolic/diastolic against their own ranges and each other."""
    systolic_rule = _field_rule(rule, SYSTOLIC_RANGE)
    diastolic_rule = _field_rule(rule, DIASTOLIC_RANGE)
    high = (
        None if systolic is None else _checked(systolic, keys.systolic, "systolic", systolic_rule)
    )
    low = (
        None
        if diastolic is None
        else _checked(diastolic, keys.diastolic, "diastolic", diastolic_rule)
    )
    if high is not None and low is not None and high <= low:
        raise FieldRejected("", f"systolic {fmt(high)} not above diastolic {fmt(low)}")
    return high, low, (high is not None) + (low is not None)


def _field_rule(rule: UnitRule, bounds: tuple[float, float]) -> UnitRule:
    low, high = bounds if rule.is_checked else ANY_FINITE
    return UnitRule(rule.unit, rule.factor, rule.offset, low, high, rule.is_checked)


def _end_after(
    point: dict[str, Any], end_key: str, start_at: datetime, read_date: DateReader
) -> datetime:
    end_at, _ = read_date_field(point, end_key, read_date)
    if end_at < start_at:
        raise FieldRejected(end_key, "end before start")
    return end_at

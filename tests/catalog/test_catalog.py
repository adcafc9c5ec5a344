"""The metric catalogue: kinds, canonical units, conversions, plausible ranges."""

from __future__ import annotations

import pytest

from health_export.catalog.metrics import (
    METRICS,
    canonical_unit,
    kind_of,
    normalise,
    unit_rule,
)
from health_export.catalog.units import conversion
from tests.fixtures.captures import DAY_GROUPED_METRICS, Origin


@pytest.mark.parametrize(
    ("metric", "kind"),
    [
        ("step_count", "sum"),
        ("active_energy", "sum"),
        ("walking_running_distance", "sum"),
        ("dietary_water", "sum"),
        ("apple_exercise_time", "sum"),
        ("flights_climbed", "sum"),
        ("vitamin_c", "sum"),
        ("heart_rate", "discrete"),
        ("weight_body_mass", "discrete"),
        ("blood_oxygen_saturation", "discrete"),
        ("some_future_metric", "discrete"),
    ],
)
def test_kind_of_metric(metric: str, kind: str) -> None:
    assert kind_of(metric) == kind


def test_canonical_units_of_known_and_unknown_metrics() -> None:
    assert canonical_unit("walking_running_distance") == "km"
    assert canonical_unit("weight_body_mass") == "kg"
    assert canonical_unit("dietary_water") == "mL"
    assert canonical_unit("heart_rate") == "count/min"
    assert canonical_unit("some_future_metric") is None


@pytest.mark.parametrize(
    ("metric", "unit", "value", "expected_unit", "expected"),
    [
        ("active_energy", "kJ", 4.184, "kcal", 1.0),
        ("walking_running_distance", "mi", 1.0, "km", 1.609344),
        ("walking_running_distance", "m", 1500.0, "km", 1.5),
        ("height", "in", 70.0, "cm", 177.8),
        ("height", "ft", 6.0, "cm", 182.88),
        ("weight_body_mass", "lb", 220.0, "kg", 99.79032140000001),
        ("protein", "oz", 1.0, "g", 28.349523125),
        ("body_temperature", "degF", 98.6, "degC", 37.0),
        ("apple_sleeping_wrist_temperature", "degF", 32.0, "degC", 0.0),
        ("dietary_water", "fl_oz_us", 1.0, "mL", 29.5735295625),
        ("dietary_water", "L", 1.5, "mL", 1500.0),
        ("stair_speed_up", "ft/s", 1.0, "m/s", 0.3048),
        ("walking_speed", "mi/hr", 1.0, "km/hr", 1.609344),
        ("walking_speed", "m/s", 1.0, "km/hr", 3.6),
        ("blood_glucose", "mmol<180.1558800000541>/L", 5.5, "mg/dL", 99.0858),
        ("heart_rate", "count/min", 72.0, "count/min", 72.0),
    ],
)
def test_normalise_converts_to_canonical_unit(
    metric: str, unit: str, value: float, expected_unit: str, expected: float
) -> None:
    stored_unit, stored = normalise(metric, unit, value)
    assert stored_unit == expected_unit
    assert stored == pytest.approx(expected)


def test_unknown_unit_of_known_metric_is_stored_as_sent_without_range() -> None:
    rule = unit_rule("heart_rate", "beats per fortnight")
    assert (rule.unit, rule.factor, rule.offset, rule.is_checked) == (
        "beats per fortnight",
        1.0,
        0.0,
        False,
    )
    assert rule.low <= 1e300 <= rule.high


def test_unknown_metric_is_stored_as_sent() -> None:
    assert normalise("some_future_metric", "furlong", 3.0) == ("furlong", 3.0)


def test_ranges_of_the_brief() -> None:
    heart = unit_rule("heart_rate", "count/min")
    assert (heart.low, heart.high) == (15.0, 300.0)
    assert unit_rule("step_count", "count").high == 1e6
    assert unit_rule("blood_oxygen_saturation", "%").high == 100.0


def test_every_spec_is_consistent() -> None:
    for name, spec in METRICS.items():
        assert spec.low < spec.high, name
        assert spec.kind in ("sum", "discrete"), name
        if spec.kind == "sum":
            assert spec.low == 0.0, name
        assert conversion(spec.unit, spec.unit) is not None, name


def test_every_metric_of_a_day_grouped_export_is_known_in_its_unit(origin: Origin) -> None:
    doc = DAY_GROUPED_METRICS.doc(origin)
    for metric in doc["data"]["metrics"]:
        assert unit_rule(metric["name"], metric["units"]).is_checked, metric["name"]


def test_incompatible_units_do_not_convert() -> None:
    assert conversion("kg", "km") is None
    assert conversion("degF", "kcal") is None

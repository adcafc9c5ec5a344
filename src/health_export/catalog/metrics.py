"""The metrics we know: how they aggregate, their canonical unit, their plausible range.

Ranges are in the canonical unit and only catch absurd magnitudes (a sensor glitch,
a unit mix-up); they are deliberately generous. Unknown metrics are stored as sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from health_export.catalog.units import conversion

Kind = Literal["sum", "discrete"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """How one known metric is stored: aggregation kind, canonical unit, plausible range."""

    kind: Kind
    unit: str
    low: float
    high: float


def _sum(unit: str, high: float) -> MetricSpec:
    return MetricSpec("sum", unit, 0.0, high)


def _discrete(unit: str, low: float, high: float) -> MetricSpec:
    return MetricSpec("discrete", unit, low, high)


_PERCENT = _discrete("%", 0.0, 100.0)
_HEART_RATE = _discrete("count/min", 15.0, 300.0)
_DAY_MIN = 24 * 60.0  # minutes in a day: the most any per-point duration can be

# Nutrients (all cumulative); bounds are far above any real single entry.
_NUTRIENTS: dict[str, MetricSpec] = {
    **{
        name: _sum("g", 10_000.0)
        for name in (
            "carbohydrates",
            "protein",
            "total_fat",
            "fiber",
            "dietary_sugar",
            "saturated_fat",
            "monounsaturated_fat",
            "polyunsaturated_fat",
        )
    },
    **{
        name: _sum("mg", 1_000_000.0)
        for name in (
            "dietary_caffeine",
            "sodium",
            "potassium",
            "calcium",
            "iron",
            "magnesium",
            "phosphorus",
            "zinc",
            "copper",
            "manganese",
            "chloride",
            "cholesterol",
            "niacin",
            "riboflavin",
            "thiamin",
            "pantothenic_acid",
            "vitamin_b6",
            "vitamin_c",
            "vitamin_e",
        )
    },
    **{
        name: _sum("mcg", 100_000_000.0)
        for name in (
            "vitamin_a",
            "vitamin_d",
            "vitamin_k",
            "vitamin_b12",
            "folate",
            "biotin",
            "iodine",
            "selenium",
            "chromium",
            "molybdenum",
        )
    },
    "dietary_energy": _sum("kcal", 100_000.0),
    "dietary_water": _sum("mL", 100_000.0),
}

METRICS: dict[str, MetricSpec] = {
    **_NUTRIENTS,
    # Activity (cumulative)
    "active_energy": _sum("kcal", 100_000.0),
    "basal_energy_burned": _sum("kcal", 100_000.0),
    "step_count": _sum("count", 1_000_000.0),
    "flights_climbed": _sum("count", 100_000.0),
    "walking_running_distance": _sum("km", 2_000.0),
    "cycling_distance": _sum("km", 5_000.0),
    "swimming_distance": _sum("km", 500.0),
    "wheelchair_distance": _sum("km", 2_000.0),
    "distance_downhill_snow_sports": _sum("km", 2_000.0),
    "swimming_stroke_count": _sum("count", 1_000_000.0),
    "push_count": _sum("count", 1_000_000.0),
    "apple_exercise_time": _sum("min", _DAY_MIN * 31),
    "apple_move_time": _sum("min", _DAY_MIN * 31),
    "apple_stand_time": _sum("min", _DAY_MIN * 31),
    "apple_stand_hour": _sum("count", 24 * 31),
    "time_in_daylight": _sum("min", _DAY_MIN * 31),
    "mindful_minutes": _sum("min", _DAY_MIN * 31),
    "handwashing": _sum("s", 86_400.0 * 31),
    "toothbrushing": _sum("s", 86_400.0 * 31),
    "number_of_times_fallen": _sum("count", 10_000.0),
    "number_of_alcoholic_beverages": _sum("count", 10_000.0),
    "sexual_activity": _sum("count", 10_000.0),
    "insulin_delivery": _sum("IU", 10_000.0),
    "inhaler_usage": _sum("count", 10_000.0),
    "uv_exposure": _discrete("count", 0.0, 100.0),  # UV index
    # Heart
    "heart_rate": _HEART_RATE,
    "resting_heart_rate": _HEART_RATE,
    "walking_heart_rate_average": _HEART_RATE,
    "cardio_recovery": _discrete("count/min", 0.0, 300.0),  # a drop in bpm
    "heart_rate_variability": _discrete("ms", 0.0, 5_000.0),
    "atrial_fibrillation_burden": _PERCENT,
    "peripheral_perfusion_index": _PERCENT,
    "blood_pressure": _discrete("mmHg", 30.0, 250.0),  # fields checked separately
    "vo2_max": _discrete("ml/(kg·min)", 1.0, 120.0),
    "physical_effort": _discrete("kcal/hr·kg", 0.0, 100.0),  # METs
    # Respiration and blood
    "respiratory_rate": _discrete("count/min", 1.0, 150.0),
    "breathing_disturbances": _discrete("count", 0.0, 1_000.0),
    "blood_oxygen_saturation": _PERCENT,  # may arrive as a 0-1 fraction: kept as sent
    "blood_glucose": _discrete("mg/dL", 5.0, 2_000.0),
    "blood_alcohol_content": _PERCENT,
    "forced_vital_capacity": _discrete("L", 0.0, 15.0),
    "forced_expiratory_volume_1": _discrete("L", 0.0, 15.0),
    "peak_expiratory_flow_rate": _discrete("L/min", 0.0, 1_500.0),
    # Body
    "weight_body_mass": _discrete("kg", 0.5, 700.0),
    "lean_body_mass": _discrete("kg", 0.5, 700.0),
    "body_mass_index": _discrete("count", 5.0, 250.0),
    "body_fat_percentage": _PERCENT,
    "height": _discrete("cm", 20.0, 300.0),
    "waist_circumference": _discrete("cm", 10.0, 500.0),
    "body_temperature": _discrete("degC", 20.0, 50.0),
    "basal_body_temperature": _discrete("degC", 20.0, 50.0),
    "apple_sleeping_wrist_temperature": _discrete("degC", 20.0, 50.0),
    "water_temperature": _discrete("degC", -5.0, 60.0),
    "underwater_depth": _discrete("m", 0.0, 500.0),
    "sleep_analysis": _discrete("hr", 0.0, 24.0),
    # Mobility
    "walking_speed": _discrete("km/hr", 0.0, 50.0),
    "walking_step_length": _discrete("cm", 0.0, 500.0),
    "walking_asymmetry_percentage": _PERCENT,
    "walking_double_support_percentage": _PERCENT,
    "stair_speed_up": _discrete("m/s", 0.0, 20.0),
    "stair_speed_down": _discrete("m/s", 0.0, 20.0),
    "six_minute_walking_test_distance": _discrete("m", 0.0, 5_000.0),
    "running_speed": _discrete("km/hr", 0.0, 100.0),
    "running_power": _discrete("W", 0.0, 3_000.0),
    "running_stride_length": _discrete("m", 0.0, 10.0),
    "running_vertical_oscillation": _discrete("cm", 0.0, 100.0),
    "running_ground_contact_time": _discrete("ms", 0.0, 5_000.0),
    "cycling_speed": _discrete("km/hr", 0.0, 200.0),
    "cycling_power": _discrete("W", 0.0, 3_000.0),
    "cycling_functional_threshold_power": _discrete("W", 0.0, 3_000.0),
    "cycling_cadence": _discrete("count/min", 0.0, 300.0),
    # Hearing
    "environmental_audio_exposure": _discrete("dBASPL", 0.0, 200.0),
    "headphone_audio_exposure": _discrete("dBASPL", 0.0, 200.0),
}

# Blood pressure fields have their own ranges (mmHg).
SYSTOLIC_RANGE = (50.0, 250.0)
DIASTOLIC_RANGE = (30.0, 150.0)
# Widest finite range: rejects only NaN and infinities (unknown metric or unit).
ANY_FINITE = (-1.7976931348623157e308, 1.7976931348623157e308)


@dataclass(frozen=True, slots=True)
class UnitRule:
    """Resolved once per metric list: how to store each value of (metric, sent unit)."""

    unit: str
    factor: float
    offset: float
    low: float
    high: float
    is_checked: bool  # False: unknown metric or unit, values stored as sent

    def convert(self, value: float) -> float:
        """Convert one value to the stored unit."""
        return value * self.factor + self.offset


@lru_cache(maxsize=4096)
def unit_rule(metric: str, unit: str) -> UnitRule:
    """How to store ``metric`` values sent in ``unit`` (as sent when we do not know)."""
    spec = METRICS.get(metric)
    change = conversion(unit, spec.unit) if spec is not None else None
    if spec is None or change is None:
        low, high = ANY_FINITE
        return UnitRule(unit, 1.0, 0.0, low, high, is_checked=False)
    return UnitRule(spec.unit, change.factor, change.offset, spec.low, spec.high, True)


def normalise(metric: str, unit: str, value: float) -> tuple[str, float]:
    """Convert one value to the metric's canonical unit: (stored unit, stored value)."""
    rule = unit_rule(metric, unit)
    return rule.unit, rule.convert(value)


def kind_of(metric: str) -> Kind:
    """``sum`` for cumulative metrics (steps, energy, ...), ``discrete`` otherwise."""
    spec = METRICS.get(metric)
    return spec.kind if spec is not None else "discrete"


def canonical_unit(metric: str) -> str | None:
    """The unit a known metric is stored in; None for unknown metrics (stored as sent)."""
    spec = METRICS.get(metric)
    return spec.unit if spec is not None else None

"""Unit conversion: each unit's size relative to the base of its dimension.

Unit spellings are those of HealthKit as the app sends them (``kcal``, ``fl_oz_us``,
``degF``, ``count/min``), plus common aliases other clients use.
"""

from __future__ import annotations

from dataclasses import dataclass

# For every dimension: unit -> how many base units one of it is.
DIMENSIONS: dict[str, dict[str, float]] = {
    "length_m": {
        "km": 1000.0,
        "m": 1.0,
        "cm": 0.01,
        "mm": 0.001,
        "mi": 1609.344,
        "yd": 0.9144,
        "ft": 0.3048,
        "in": 0.0254,
    },
    "mass_g": {
        "kg": 1000.0,
        "g": 1.0,
        "mg": 0.001,
        "mcg": 1e-6,
        "µg": 1e-6,
        "ug": 1e-6,
        "lb": 453.59237,
        "oz": 28.349523125,
        "st": 6350.29318,
    },
    "energy_kcal": {
        "kcal": 1.0,
        "Cal": 1.0,  # HealthKit's "large calorie" is a kilocalorie
        "kJ": 1 / 4.184,
        "J": 1 / 4184.0,
    },
    "volume_ml": {
        "mL": 1.0,
        "ml": 1.0,
        "dL": 100.0,
        "L": 1000.0,
        "l": 1000.0,
        "fl_oz_us": 29.5735295625,
        "fl_oz_imp": 28.4130625,
        "cup_us": 236.5882365,
    },
    "speed_m_per_s": {
        "m/s": 1.0,
        "km/hr": 1 / 3.6,
        "km/h": 1 / 3.6,
        "mi/hr": 0.44704,
        "mph": 0.44704,
        "ft/s": 0.3048,
    },
    "time_s": {
        "ms": 0.001,
        "s": 1.0,
        "min": 60.0,
        "hr": 3600.0,
        "h": 3600.0,
        "d": 86400.0,
    },
    "rate_per_min": {
        "count/min": 1.0,
        "bpm": 1.0,
        "beats/min": 1.0,
        "spm": 1.0,  # steps per minute (workout cadence)
        "rpm": 1.0,
        "count/s": 60.0,
    },
    "count": {"count": 1.0, "steps": 1.0},
    "pressure_mmhg": {"mmHg": 1.0, "kPa": 7.500615758456563},
    "glucose_mg_per_dl": {
        "mg/dL": 1.0,
        "mmol/L": 18.0156,  # molar mass of glucose / 10
        "mmol<180.1558800000541>/L": 18.0156,  # HealthKit's spelling of glucose mmol/L
    },
    "vo2_ml_per_kg_min": {
        "ml/(kg·min)": 1.0,
        "mL/(kg·min)": 1.0,
        "mL/min·kg": 1.0,
        "ml/kg/min": 1.0,
    },
}

_DIMENSION_OF_UNIT = {unit: name for name, sizes in DIMENSIONS.items() for unit in sizes}
# Temperatures are affine: celsius = kelvin-like scale * factor + offset.
_TO_CELSIUS: dict[str, tuple[float, float]] = {
    "degC": (1.0, 0.0),
    "°C": (1.0, 0.0),
    "degF": (5 / 9, -32 * 5 / 9),
    "°F": (5 / 9, -32 * 5 / 9),
    "K": (1.0, -273.15),
}


@dataclass(frozen=True, slots=True)
class Conversion:
    """``to = value * factor + offset``."""

    factor: float
    offset: float = 0.0

    def apply(self, value: float) -> float:
        """Convert one value."""
        return value * self.factor + self.offset


IDENTITY = Conversion(1.0)


def conversion(from_unit: str, to_unit: str) -> Conversion | None:
    """The conversion between two units, or None if they are not comparable."""
    if from_unit == to_unit:
        return IDENTITY
    if from_unit in _TO_CELSIUS and to_unit in _TO_CELSIUS:
        return _temperature_conversion(from_unit, to_unit)
    dimension = _DIMENSION_OF_UNIT.get(from_unit)
    if dimension is None or dimension != _DIMENSION_OF_UNIT.get(to_unit):
        return None
    sizes = DIMENSIONS[dimension]
    return Conversion(sizes[from_unit] / sizes[to_unit])


def _temperature_conversion(from_unit: str, to_unit: str) -> Conversion:
    to_c_factor, to_c_offset = _TO_CELSIUS[from_unit]
    from_c_factor, from_c_offset = _TO_CELSIUS[to_unit]
    # value -> celsius -> target: invert the target's celsius mapping.
    factor = to_c_factor / from_c_factor
    offset = (to_c_offset - from_c_offset) / from_c_factor
    return Conversion(factor, offset)

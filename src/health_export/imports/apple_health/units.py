"""Apple's unit spellings brought to the ones the catalogue converts from.

export.xml writes each value in the user's preferred unit (``Cal``/``kJ``, ``mi``/``km``,
``lb``/``kg``, ``degF``/``degC``); the catalogue (``catalog/units.py``) converts those.
Two spellings need a step first: HealthKit's percent is a fraction (0.97 = 97 %, HAE
sends 97), and molar concentrations name their molar mass (``mmol<180.1558800000541>/L``
for glucose, spelt with more or fewer digits by different iOS builds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from health_export.catalog.metrics import UnitRule, unit_rule

_MOLAR = re.compile(r"mmol<(\d+(?:\.\d+)?)>/L")
# 1 mmol/L of a substance of molar mass M g/mol is M/10 mg/dL.
_MG_PER_DL_PER_MMOL_PER_L_PER_MOLAR_MASS = 0.1


@dataclass(frozen=True, slots=True)
class StoredUnit:
    """How to store values of one (metric, Apple unit): ``value * factor + offset``."""

    rule: UnitRule
    factor: float
    offset: float

    def convert(self, value: float) -> float:
        """The stored value."""
        return value * self.factor + self.offset

    @property
    def unit(self) -> str:
        """The unit the value is stored in."""
        return self.rule.unit


@lru_cache(maxsize=4096)
def stored_unit(metric: str, apple_unit: str) -> StoredUnit:
    """The conversion of ``metric`` values written in ``apple_unit`` (cached)."""
    unit, pre_factor = _catalogue_spelling(apple_unit)
    rule = unit_rule(metric, unit)
    return StoredUnit(rule, pre_factor * rule.factor, rule.offset)


def _catalogue_spelling(apple_unit: str) -> tuple[str, float]:
    """(unit the catalogue knows, factor to apply first)."""
    if apple_unit == "%":
        return "%", 100.0
    molar = _MOLAR.fullmatch(apple_unit)
    if molar is not None:
        return "mg/dL", float(molar.group(1)) * _MG_PER_DL_PER_MMOL_PER_L_PER_MOLAR_MASS
    return apple_unit, 1.0


def quantity_with_unit(text: str) -> tuple[float, str] | None:
    """A metadata value such as ``"120 count/min"`` or ``"418 cm"``: (number, unit)."""
    number, _, unit = text.strip().partition(" ")
    try:
        return float(number), unit.strip()
    except ValueError:
        return None

"""Each built whole export has every shape of the real capture it stands in for.

The capture-based tests also run on built twins, so that a clone without the captures
still exercises every shape; this proves the twins keep up with the captures: every
key path and value type, metric and unit, sleep stage, UTC offset and kind of source
of a capture appears in its twin.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.fixtures.captures import DAY_GROUPED_METRICS, SLEEP_STAGES, V1_WORKOUTS, Export

_APP_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} ([+-]\d{4})")


def shapes(value: Any, path: str = "") -> set[str]:
    """Every shape in a body: key paths with value types, and the telling values."""
    if isinstance(value, dict):
        found = {f"{path}:object"}
        for key, item in value.items():
            found |= shapes(item, f"{path}.{key}")
        return found
    if isinstance(value, list):
        found = {f"{path}:list"}
        for item in value:
            found |= shapes(item, f"{path}[{_item_label(item)}]")
        return found
    return {f"{path}:{_kind(value)}", *_telling_values(path, value)}


def _item_label(item: Any) -> str:
    """A metric is told by its name and unit; other list items are alike."""
    if isinstance(item, dict) and "name" in item and "units" in item and "data" in item:
        return f"{item['name']} in {item['units']}"
    return ""


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return "number"  # the app mixes integers and floats within one series
    return type(value).__name__


def _telling_values(path: str, value: Any) -> set[str]:
    if not isinstance(value, str):
        return set()
    telling = set()
    date = _APP_DATE.fullmatch(value)
    if date is not None:
        telling.add(f"offset {date.group(1)}")
    if path.endswith(".value"):  # a sleep stage
        telling.add(f"stage {value}")
    if path.endswith(".units"):
        telling.add(f"{path} {value}")
    if path.endswith(".source") and "|" in value:
        names = value.split("|")
        telling.add("source repeated" if len(set(names)) < len(names) else "source joined")
    return telling


@pytest.mark.parametrize(
    "export", [DAY_GROUPED_METRICS, SLEEP_STAGES, V1_WORKOUTS], ids=lambda e: e.capture
)
def test_built_twin_has_every_shape_of_its_capture(export: Export) -> None:
    captured = shapes(export.doc("captured"))
    built = shapes(export.doc("built"))
    assert captured - built == set()

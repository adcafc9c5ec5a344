"""The record types of docs/hae-format.md §6: symptoms, cycle tracking, ECG, heart-rate
notifications, state of mind and medications.

Builders take an :class:`ItemReader`, so the standard format reuses them via aliases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from health_export.ingest.parsing.dates import DateParseError, parse_date, utc_iso
from health_export.ingest.parsing.fields import (
    FieldRejected,
    ItemReader,
    fmt,
    for_each_object,
    is_number,
)
from health_export.ingest.parsing.points import Row
from health_export.ingest.records import NormalisedPayload

RowBuilder = Callable[[ItemReader], Row]
ReaderFactory = Callable[[dict[str, Any]], ItemReader]
DEFAULT_NOTIFICATION_KIND = "heart_rate_notification"
# Voltage units -> microvolts; "mcV" is what the app sends.
_MICROVOLTS_PER_UNIT = {"mcV": 1.0, "µV": 1.0, "uV": 1.0, "mV": 1e3, "V": 1e6}
# An ECG lead reads millivolts; anything beyond 10 V is a glitch, not a heart.
_MAX_ABS_VOLTAGE_UV = 1e7


def add_records(
    payload: NormalisedPayload,
    items: list[Any],
    path: str,
    table: str,
    build: RowBuilder,
    make_reader: ReaderFactory = ItemReader,
) -> None:
    """Build one row per item; reject the items that fail, with their path."""
    for_each_object(
        payload.reject,
        items,
        path,
        "item",
        lambda item, _path: payload.add(table, build(make_reader(item))),
    )


def symptom_row(reader: ItemReader) -> Row:
    """A symptom; name and severity are localised and stored as sent."""
    start_at, offset_min = reader.date("start")
    end_at = _end(reader, start_at)
    name = reader.text("name", required=True)
    return (
        reader.source(),
        start_at,
        end_at,
        offset_min,
        name,
        reader.text("severity"),
        reader.boolean("userEntered"),
        reader.extras(),
    )


def cycle_tracking_row(reader: ItemReader) -> Row:
    """A cycle tracking entry (menstrual flow, ovulation test, ...), localised."""
    start_at, offset_min = reader.date("start")
    end_at = _end(reader, start_at)
    name = reader.text("name", required=True)
    return (
        start_at,
        end_at,
        offset_min,
        name,
        reader.text("value"),
        reader.boolean("isCycleStart"),
        reader.extras(),
    )


def ecg_row(reader: ItemReader) -> Row:
    """An ECG recording with its voltage samples in microvolts."""
    start_at, offset_min = reader.date("start")
    # Keyed by its whole second, as the archive's CSV dates it (the first sample's own
    # time stays exact in first_sample_at).
    start_at = start_at.replace(microsecond=0)
    end_at = _end(reader, start_at)
    classification = reader.text("classification")
    severity = reader.text("severity")
    heart_rate = reader.number("averageHeartRate", low=0.0, high=300.0)
    frequency_hz = reader.number("samplingFrequency", low=0.0)
    count = reader.number("numberOfVoltageMeasurements", low=0.0)
    voltages, first_sample_at = _voltages(
        reader.raw("voltageMeasurements"), reader.key("voltageMeasurements")
    )
    return (
        reader.source(),
        start_at,
        end_at,
        offset_min,
        classification,
        severity,
        heart_rate,
        frequency_hz,
        None if count is None else int(count),
        voltages,
        first_sample_at,
        reader.extras(),
    )


def heart_rate_notification_row(reader: ItemReader) -> Row:
    """A high/low/irregular heart rate notification; the item is kept whole in ``raw``."""
    start_at, offset_min = reader.date("start")
    end_at = _end(reader, start_at)
    kind = reader.raw("heartNotification")
    threshold = reader.raw("threshold")
    return (
        kind if isinstance(kind, str) and kind else DEFAULT_NOTIFICATION_KIND,
        start_at,
        end_at,
        offset_min,
        float(threshold) if is_number(threshold) else None,
        reader.item,
    )


def state_of_mind_row(reader: ItemReader) -> Row:
    """A mood or emotion log; keyed by the app's id, else kind and start."""
    start_at, offset_min = reader.date("start")
    end_at = _end(reader, start_at)
    kind = reader.text("kind") or ""
    entry_id = reader.text("id") or f"{kind}|{utc_iso(start_at)}"
    labels = _text_list(reader, "labels")
    associations = _text_list(reader, "associations")
    valence = reader.number("valence", low=-1.0, high=1.0)
    classification = reader.text("valenceClassification")
    metadata = _merge_extras(reader.raw("metadata"), reader.extras())
    return (
        entry_id,
        start_at,
        end_at,
        offset_min,
        kind,
        labels,
        associations,
        valence,
        classification,
        metadata,
    )


def medication_row(reader: ItemReader) -> Row:
    """A logged medication dose."""
    display_text = reader.text("displayText", required=True)
    start_at, offset_min = reader.date("start")
    end_at = _end(reader, start_at)
    scheduled = reader.optional_date("scheduledDate")
    codings = reader.raw("codings")
    if codings is not None and not isinstance(codings, list):
        raise FieldRejected(reader.key("codings"), "codings is not a list")
    return (
        display_text,
        reader.text("nickname"),
        start_at,
        end_at,
        offset_min,
        None if scheduled is None else scheduled[0],
        reader.text("form"),
        reader.text("status"),
        reader.boolean("isArchived"),
        reader.number("dosage", low=0.0),
        reader.number("scheduledDosage", low=0.0),
        reader.text("units"),
        codings,
        reader.extras(),
    )


def _end(reader: ItemReader, start_at: datetime) -> datetime | None:
    stamp = reader.optional_date("end")
    if stamp is None:
        return None
    if stamp[0] < start_at:
        raise FieldRejected(reader.key("end"), "end before start")
    return stamp[0]


def _voltages(samples: object, key: str) -> tuple[list[float] | None, datetime | None]:
    """Voltages in microvolts, in order; a bad sample rejects the recording (timing)."""
    if samples is None:
        return None, None
    if not isinstance(samples, list):
        raise FieldRejected(key, "voltage measurements are not a list")
    voltages: list[float] = []
    append = voltages.append
    last_units: object = None
    factor = 1.0
    for index, sample in enumerate(samples):
        if sample.__class__ is not dict:
            raise FieldRejected(f"{key}[{index}]", "sample is not an object")
        units = sample.get("units")
        if units != last_units:
            factor = _voltage_factor(units, f"{key}[{index}].units")
            last_units = units
        value = sample.get("voltage")
        if value.__class__ is not float and value.__class__ is not int:
            raise FieldRejected(f"{key}[{index}].voltage", "voltage is not a number")
        microvolts = value * factor
        if not -_MAX_ABS_VOLTAGE_UV <= microvolts <= _MAX_ABS_VOLTAGE_UV:
            raise FieldRejected(f"{key}[{index}].voltage", f"voltage {fmt(microvolts)} µV absurd")
        append(microvolts)
    return voltages, _first_sample_at(samples, key)


def _voltage_factor(units: object, path: str) -> float:
    if units is None:
        return 1.0  # the app always sends microvolts
    factor = _MICROVOLTS_PER_UNIT.get(units) if isinstance(units, str) else None
    if factor is None:
        raise FieldRejected(path, "unknown voltage unit")
    return factor


def _first_sample_at(samples: list[Any], key: str) -> datetime | None:
    if not samples or samples[0].get("date") is None:
        return None
    try:
        return parse_date(samples[0]["date"])[0]
    except DateParseError as error:
        raise FieldRejected(f"{key}[0].date", str(error)) from None


def _text_list(reader: ItemReader, name: str) -> list[str]:
    values = reader.raw(name)
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise FieldRejected(reader.key(name), "not a list of text")
    return values


def _merge_extras(metadata: object, extras: dict[str, Any] | None) -> dict[str, Any] | None:
    """Keep the app's metadata object and any unknown keys beside it."""
    merged: dict[str, Any] = {}
    if isinstance(metadata, dict):
        merged.update(metadata)
    elif metadata is not None:
        merged["metadata"] = metadata
    if extras:
        merged["extra"] = extras
    return merged or None

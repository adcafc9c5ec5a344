"""``electrocardiograms/ecg_*.csv`` → ``ecg_recordings`` rows.

Each file is a key/value header (``Recorded Date``, ``Classification``, ``Sample Rate``,
``Device``, ``Unit``...), a blank line, then one voltage per line. The decimal separator
follows the phone's locale (``-265,868`` in Portuguese). The header's name and date of
birth are personal data the recording does not need: they are not stored.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import Any

from health_export.imports.apple_health.clock import DateRejected, ExportClock
from health_export.imports.apple_health.provenance import ARCHIVE_ORIGIN, ORIGIN_KEY
from health_export.ingest.records import NormalisedPayload

_UNIT_FACTORS_UV = {"µV": 1.0, "μV": 1.0, "uV": 1.0, "mcV": 1.0, "mV": 1e3}
_NOT_STORED = frozenset({"Name", "Date of Birth"})
# Microvolts beyond ±10 V are no heart.
_MAX_ABS_UV = 1e7


class EcgRejected(ValueError):
    """An ECG file that cannot be stored; the message says why."""


def _header_and_voltages(text: str) -> tuple[dict[str, str], list[str]]:
    lines = text.splitlines()
    header: dict[str, str] = {}
    index = 0
    for index, line in enumerate(lines):  # noqa: B007 - the index is used after the loop
        if not line.strip():
            break
        fields = next(csv.reader([line]), [])
        if len(fields) >= 2:
            header[fields[0].strip()] = ",".join(fields[1:]).strip()
    return header, [line.strip() for line in lines[index:] if line.strip()]


def _voltage(text: str) -> float:
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise EcgRejected("a voltage line is not a number") from None
    if not -_MAX_ABS_UV <= value <= _MAX_ABS_UV:
        raise EcgRejected("a voltage is out of range")
    return value


def _sample_rate_hz(text: str | None) -> float:
    number = (text or "").split(" ")[0].replace(",", ".")
    try:
        rate = float(number)
    except ValueError:
        raise EcgRejected("no Sample Rate") from None
    if not 0 < rate <= 100_000:
        raise EcgRejected("Sample Rate out of range")
    return rate


def add_ecg(payload: NormalisedPayload, clock: ExportClock, data: bytes) -> None:
    """Store one ECG file as an ``ecg_recordings`` row; EcgRejected when unusable."""
    header, lines = _header_and_voltages(data.decode("utf-8-sig", errors="replace"))
    try:
        start_at = clock.instant(header.get("Recorded Date"))
    except DateRejected as exc:
        raise EcgRejected(f"Recorded Date: {exc}") from None
    factor = _UNIT_FACTORS_UV.get(header.get("Unit", "µV"))
    if factor is None:
        raise EcgRejected("unknown voltage unit")
    rate = _sample_rate_hz(header.get("Sample Rate"))
    voltages = [_voltage(line) * factor for line in lines]
    if not voltages:
        raise EcgRejected("no voltages")
    offset_min = clock.offset_min(start_at, clock.default_zone)
    end_at = start_at + timedelta(seconds=len(voltages) / rate)
    attrs: dict[str, Any] = {
        key: value for key, value in header.items() if key not in _NOT_STORED and value
    }
    # The app's copy of this recording is the same row (same user and start second) and
    # is kept: marked, an archive's copy never replaces it (migration 0014).
    attrs[ORIGIN_KEY] = ARCHIVE_ORIGIN
    payload.add(
        "ecg_recordings",
        (
            "",  # the CSV names no source app or device name, only a model in ``Device``
            start_at,
            end_at,
            offset_min,
            header.get("Classification") or None,
            None,
            None,
            rate,
            len(voltages),
            voltages,
            start_at,
            attrs,
        ),
    )

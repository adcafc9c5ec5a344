"""Other record types: symptoms, state of mind, medications, cycles, ECG, notifications."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.core.errors import NotFound
from health_export.health_data.clock import at_offset
from health_export.health_data.params import TimeRange
from health_export.health_data.records import repository as repository

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ECG_ID = re.compile(r"(?P<micros>[0-9]{1,18})-(?P<source>[0-9]{1,10})", re.ASCII)
_LATEST_MICROS = (datetime(9999, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_SOURCE_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class RecordType:
    """How one record table is listed: its columns (beyond times) and which are jsonb."""

    table: str
    columns: tuple[str, ...]
    json_columns: frozenset[str] = frozenset()

    @property
    def sql(self) -> str:
        """The listing query."""
        return repository.record_sql(self.table, self.columns, self.json_columns)


RECORD_TYPES: dict[str, RecordType] = {
    "symptoms": RecordType(
        "symptoms", ("name", "severity", "user_entered", "source_id", "attrs"), frozenset({"attrs"})
    ),
    "state_of_mind": RecordType(
        "state_of_mind",
        (
            "entry_id",
            "kind",
            "labels",
            "associations",
            "valence",
            "valence_classification",
            "metadata",
        ),
        frozenset({"metadata"}),
    ),
    "medications": RecordType(
        "medications",
        (
            "display_text",
            "nickname",
            "scheduled_at",
            "form",
            "status",
            "is_archived",
            "dosage",
            "scheduled_dosage",
            "units",
            "codings",
            "attrs",
        ),
        frozenset({"codings", "attrs"}),
    ),
    "cycle_tracking": RecordType(
        "cycle_tracking", ("name", "value", "is_cycle_start", "attrs"), frozenset({"attrs"})
    ),
    "ecg": RecordType(
        "ecg_recordings",
        (
            "classification",
            "severity",
            "average_heart_rate",
            "sampling_frequency_hz",
            "number_of_measurements",
            "source_id",
            "attrs",
        ),
        frozenset({"attrs"}),
    ),
    "heart_rate_notifications": RecordType(
        "heart_rate_notifications", ("kind", "threshold", "raw"), frozenset({"raw"})
    ),
}


def ecg_id(start_at: datetime, source_id: int) -> str:
    """The public id of an ECG recording: its start (µs since the epoch) and source."""
    micros = (start_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{source_id}"


def parse_ecg_id(value: str) -> tuple[datetime, int]:
    """(start_at, source_id) of an id made by :func:`ecg_id`; 404 if malformed.

    ASCII digits only (``str.isdigit`` also takes "¹²³", which ``int`` refuses), a start
    before the year 10000 and a source id within PostgreSQL's ``integer``.
    """
    found = _ECG_ID.fullmatch(value)
    if found is None:
        raise NotFound("no such ECG recording")
    micros, source = int(found["micros"]), int(found["source"])
    if micros > _LATEST_MICROS or source > _MAX_SOURCE_ID:
        raise NotFound("no such ECG recording")
    return _EPOCH + timedelta(microseconds=micros), source


def record_item(kind: RecordType, row: Any) -> dict[str, Any]:
    """One listed record: times at the stored offset, jsonb passed through."""
    off = row["utc_offset_min"]
    item: dict[str, Any] = {}
    if kind.table == "ecg_recordings":
        item["id"] = ecg_id(row["start_at"], row["source_id"])
    item["start"] = at_offset(row["start_at"], off)
    item["end"] = at_offset(row["end_at"], off)
    for name in kind.columns:
        if name == "source_id":
            item["source"] = row["source"]
        elif name in kind.json_columns:
            item[name] = orjson.Fragment(row[name]) if row[name] is not None else None
        elif name.endswith("_at"):
            item[name.removesuffix("_at")] = at_offset(row[name], off)
        else:
            item[name] = row[name]
    return item


async def list_records(
    session: AsyncSession, user_id: int, name: str, span: TimeRange, limit: int
) -> dict[str, Any]:
    """Records of one type in time order; ``truncated`` when more than ``limit`` exist."""
    kind = RECORD_TYPES[name]
    rows = await repository.records(session, kind.sql, user_id, (span.lower, span.upper), limit + 1)
    items = [record_item(kind, row) for row in rows[:limit]]
    return {"items": items, "truncated": len(rows) > limit}


async def ecg_detail(session: AsyncSession, user_id: int, recording_id: str) -> dict[str, Any]:
    """One ECG recording with its voltage samples (µV)."""
    start_at, source_id = parse_ecg_id(recording_id)
    row = await repository.ecg(session, user_id, start_at, source_id)
    if row is None:
        raise NotFound("no such ECG recording")
    off = row["utc_offset_min"]
    return {
        "id": recording_id,
        "start": at_offset(row["start_at"], off),
        "end": at_offset(row["end_at"], off),
        "source": row["source"],
        "classification": row["classification"],
        "severity": row["severity"],
        "average_heart_rate": row["average_heart_rate"],
        "sampling_frequency_hz": row["sampling_frequency_hz"],
        "number_of_measurements": row["number_of_measurements"],
        "first_sample": at_offset(row["first_sample_at"], off),
        "voltages_uv": row["voltages_uv"] or [],
        "attrs": orjson.Fragment(row["attrs_text"]) if row["attrs_text"] is not None else None,
    }


def workout_uuid(value: str) -> uuid.UUID:
    """A workout id from the path; 404 when it is not a UUID."""
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise NotFound("no such workout") from exc

"""Import one export archive for one user, through the ingest writer.

export.xml is parsed on the event loop, a chunk at a time, into a
:class:`NormalisedPayload` while the writer's
feeder COPYs each batch of parsed rows into staging and the import transaction upserts
the batch before it (``ingest/write/writer.py``): parse and write overlap, memory holds a few
batches, and the natural keys and "latest wins" rules are those of the HAE feed. Rows
are committed in parts (:class:`Parts`), each under the user's ingest lock for its
own transaction only: a refusal part-way (a corrupt member, malformed XML, a cap)
keeps the parts before it and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.core.errors import AppError
from health_export.core.logging import get_logger
from health_export.imports.apple_health.archive import ExportArchive, ImportLimits
from health_export.imports.apple_health.clock import ExportClock
from health_export.imports.apple_health.ecg import EcgRejected, add_ecg
from health_export.imports.apple_health.parts import PART_ROWS, Parts, StillWanted
from health_export.imports.apple_health.provenance import ArchivePayload
from health_export.imports.apple_health.records import ImportCounts, RecordMapper, RecordRejected
from health_export.imports.apple_health.rings import add_activity_summary
from health_export.imports.apple_health.workouts import WorkoutMapper
from health_export.imports.apple_health.xml_stream import Node, StreamStats, stream_in_steps
from health_export.ingest.parse_stage import PENDING_ROWS_MAX, ParseAbandoned
from health_export.ingest.write.writer import WriteResult

# Top-level elements with no place in health-export, and why.
_NOT_STORED = {
    "Me": "personal characteristics (date of birth, sex...): not stored",
    "ClinicalRecord": "clinical record (FHIR): no equivalent in the app's feed",
    "Audiogram": "audiogram: no equivalent in the app's feed",
    "VisionPrescription": "vision prescription: no equivalent in the app's feed",
}
_IGNORED = frozenset({"ExportDate"})
log = get_logger("health_export.imports")


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """How far the parse is: inflated bytes of export.xml read, and records."""

    bytes_read: int
    bytes_total: int
    records: int


ProgressCallback = Callable[[ImportProgress], None]


@dataclass(slots=True)
class ImportSummary:
    """What one import stored, skipped and rejected."""

    records: int
    inserted: int
    updated: int
    unchanged: int
    skipped: dict[str, int]
    rejected: dict[str, int]
    workouts: int
    routes: int
    ecg: int
    seconds: float
    activity_summaries: int = 0
    control_characters_removed: int = 0
    by_table: dict[str, dict[str, int]] = field(default_factory=dict)
    # Metric samples per (metric, local day as days since 1970-01-01), for the coverage
    # report; not part of the printed summary.
    day_counts: Counter[tuple[str, int]] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return {
            "records": self.records,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "workouts": self.workouts,
            "routes": self.routes,
            "ecg": self.ecg,
            "activity_summaries": self.activity_summaries,
            "seconds": round(self.seconds, 3),
            "control_characters_removed": self.control_characters_removed,
            "by_table": self.by_table,
        }


# The parse runs on the event loop, a chunk at a time (~5 ms of Python each): in a thread
# it fought the feeder's COPY for the GIL, and every socket write of the COPY waited a
# switch interval (5 ms) to get it back (measured: 3 of 6 s of the loop's time).
PARSE_CHUNK_BYTES = 256 * 1024
ROOM_POLL_S = 0.005


def parse_steps(
    archive: ExportArchive,
    payload: ArchivePayload,
    clock: ExportClock,
    counts: ImportCounts,
) -> Generator[StreamStats, None, StreamStats]:
    """Every element of export.xml, then every ECG file, into ``payload``; yields after
    each chunk of export.xml."""
    records = RecordMapper(payload, clock, counts)
    workouts = WorkoutMapper(payload, clock, counts, archive.route_file)

    def add_rings(node: Node) -> None:
        counts.activity_summaries += 1
        try:
            add_activity_summary(payload, node)
        except RecordRejected as exc:
            counts.rejected[f"ActivitySummary: {exc}"] += 1

    handlers: dict[str, Callable[[Node], None]] = {
        "Record": records.add_record,
        "Correlation": records.add_correlation,
        "Workout": workouts.add_workout,
        "ActivitySummary": add_rings,
    }

    def on_element(node: Node) -> None:
        handler = handlers.get(node.tag)
        if handler is not None:
            handler(node)
        elif node.tag not in _IGNORED:
            reason = _NOT_STORED.get(node.tag, f"<{node.tag}>: unknown element")
            counts.skipped[reason] += 1

    stream = archive.open_xml()
    try:
        stats = yield from stream_in_steps(
            stream,
            on_element,
            max_elements=archive.limits.max_elements,
            chunk_bytes=PARSE_CHUNK_BYTES,
        )
    finally:
        stream.close()
    records.finish()
    for name, data in archive.ecg_files():
        try:
            add_ecg(payload, clock, data)
            counts.ecg += 1
        except EcgRejected as exc:
            counts.rejected[f"ECG file {name}: {exc}"] += 1
    return stats


async def parse_on_loop(
    archive: ExportArchive,
    payload: ArchivePayload,
    clock: ExportClock,
    counts: ImportCounts,
    on_progress: ProgressCallback | None = None,
) -> StreamStats:
    """:func:`parse_steps` on the event loop, letting the feeder and writer run between
    chunks, and waiting while the feeder has a batch's worth of rows to take."""
    steps = parse_steps(archive, payload, clock, counts)
    while True:
        try:
            stats = next(steps)
        except StopIteration as end:
            finished: StreamStats = end.value
            return finished
        if on_progress is not None:
            on_progress(ImportProgress(stats.bytes_read, archive.xml_size, counts.records))
        while payload.most_pending() > PENDING_ROWS_MAX:
            if payload.abandoned:
                raise ParseAbandoned
            await asyncio.sleep(ROOM_POLL_S)
        await asyncio.sleep(0)


async def import_apple_health(
    engine: AsyncEngine,
    user_id: int,
    path: Path,
    zone: ZoneInfo,
    *,
    limits: ImportLimits | None = None,
    on_progress: ProgressCallback | None = None,
    part_rows: int = PART_ROWS,
    still_wanted: StillWanted | None = None,
) -> ImportSummary:
    """Import ``path`` (export.zip or export.xml) for ``user_id``; local days in ``zone``
    where a row has no ``HKTimeZone``. Rows are committed ``part_rows`` at a time.

    Raises ArchiveRefused/ArchiveTooLarge when the archive cannot be imported whole;
    the message then says whether earlier parts were stored (a re-run of a good
    archive completes them, storing nothing twice). Raises ImportErased when
    ``still_wanted`` answers False before a part.
    """
    started = time.monotonic()
    parts = Parts(part_rows, still_wanted)
    try:
        archive = await asyncio.to_thread(ExportArchive, path, limits or ImportLimits())
    except AppError as exc:
        _note_what_was_stored(exc, parts)
        raise
    payload = ArchivePayload()
    counts = ImportCounts()
    parsing = asyncio.ensure_future(
        parse_on_loop(archive, payload, ExportClock(zone), counts, on_progress)
    )
    try:
        written = await parts.write(engine, user_id, payload, parsing)
        stats = parsing.result()
    except AppError as exc:
        _note_what_was_stored(exc, parts)
        raise
    finally:
        payload.abandon()  # a parse still waiting for room stops
        with contextlib.suppress(Exception):
            await parsing  # its error, if any, was raised by the write
        archive.close()
    return _summary(counts, payload, written, stats, time.monotonic() - started)


def _note_what_was_stored(exc: AppError, parts: Parts) -> None:
    exc.detail = f"{exc.detail or exc.title}; {parts.stored_note()}"
    exc.args = (exc.detail,)


def _summary(
    counts: ImportCounts,
    payload: ArchivePayload,
    written: WriteResult,
    stats: StreamStats,
    seconds: float,
) -> ImportSummary:
    rejected = Counter(counts.rejected)
    # Route points the shared route builder refused carry a path; count them by reason.
    rejected.update(f"route point: {error.reason}" for error in payload.errors)
    return ImportSummary(
        records=counts.records,
        inserted=written.total("inserted"),
        updated=written.total("updated"),
        unchanged=written.total("unchanged"),
        skipped=dict(sorted(counts.skipped.items())),
        rejected=dict(sorted(rejected.items())),
        workouts=counts.workouts,
        routes=counts.routes,
        ecg=counts.ecg,
        seconds=seconds,
        activity_summaries=counts.activity_summaries,
        control_characters_removed=stats.control_characters_removed,
        by_table={table: c.as_dict() for table, c in sorted(written.by_table.items())},
        day_counts=payload.day_counts,
    )

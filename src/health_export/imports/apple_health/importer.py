"""Import one export archive for one user, through the ingest writer.

export.xml is parsed on the event loop, a chunk at a time, into a
:class:`NormalisedPayload` while the writer's
feeder COPYs each batch of parsed rows into staging and the import transaction upserts
the batch before it (``ingest/write/writer.py``): parse and write overlap, memory holds a few
batches, and the natural keys and "latest wins" rules are those of the HAE feed. Rows
are committed in parts (:class:`_Parts`), each under the user's ingest lock for its
own transaction only: a refusal part-way (a corrupt member, malformed XML, a cap)
keeps the parts before it and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.core.db import connections_of, driver_connection
from health_export.core.errors import AppError
from health_export.core.logging import get_logger
from health_export.imports.apple_health.archive import ExportArchive, ImportLimits
from health_export.imports.apple_health.clock import ExportClock
from health_export.imports.apple_health.ecg import EcgRejected, add_ecg
from health_export.imports.apple_health.errors import ImportErased
from health_export.imports.apple_health.provenance import ArchivePayload
from health_export.imports.apple_health.records import ImportCounts, RecordMapper, RecordRejected
from health_export.imports.apple_health.rings import add_activity_summary
from health_export.imports.apple_health.workouts import WorkoutMapper
from health_export.imports.apple_health.xml_stream import Node, StreamStats, stream_in_steps
from health_export.ingest.parse_stage import PENDING_ROWS_MAX, ParseAbandoned
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.write.batches import Batch, drop_batch_tables
from health_export.ingest.write.feeder import Deliver, Feeder
from health_export.ingest.write.plans import WRITES
from health_export.ingest.write.upsert import TableCounts
from health_export.ingest.write.writer import PayloadWriter, WriteResult

# Top-level elements with no place in health-export, and why.
_NOT_STORED = {
    "Me": "personal characteristics (date of birth, sex...): not stored",
    "ClinicalRecord": "clinical record (FHIR): no equivalent in the app's feed",
    "Audiogram": "audiogram: no equivalent in the app's feed",
    "VisionPrescription": "vision prescription: no equivalent in the app's feed",
}
_IGNORED = frozenset({"ExportDate"})
# Rows committed per transaction (see _Parts): the feeder stages batches of at most this
# many rows, and a part is one batch, a fraction of a second of writing: the longest a
# sync of the same user waits for the import. Beside 16 phones syncing back to back, the
# importing user's own phone measured a p99 of 1.9 s with one lock per 20,000-50,000 rows
# held while the parse made them, 1.0 s with 20,000 gathered first, 0.95 s with 10,000.
PART_ROWS = 10_000
log = get_logger("health_export.imports")


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """How far the parse is: inflated bytes of export.xml read, and records."""

    bytes_read: int
    bytes_total: int
    records: int


ProgressCallback = Callable[[ImportProgress], None]
# Asked in each part's transaction before it writes: whether the import is still wanted
# (its upload not erased); it may lock what it reads until the part commits.
StillWanted = Callable[[AsyncConnection], Awaitable[bool]]


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
    parts = _Parts(part_rows, still_wanted)
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


def _note_what_was_stored(exc: AppError, parts: _Parts) -> None:
    exc.detail = f"{exc.detail or exc.title}; {parts.stored_note()}"
    exc.args = (exc.detail,)


class _Parts:
    """Writes the staged batches in transactions of about ``part_rows`` rows each.

    One transaction for a whole archive held the user's ingest lock for minutes: the
    phone's own syncs waited for the import. Each part gathers its staged batches, then
    takes the lock, writes them (and the rollups of their days) and commits. The rows
    are keyed as the feed's, so a re-run after a crash mid-import meets the committed
    parts as unchanged rows and stores the rest once.
    """

    def __init__(self, part_rows: int, still_wanted: StillWanted | None = None) -> None:
        self.part_rows = max(1, part_rows)
        self.still_wanted = still_wanted
        self.ended = False
        self.committed_parts = 0
        self.committed_rows = 0
        self._staged: asyncio.Queue[Batch | BaseException | None] = asyncio.Queue()
        # Batches taken from the queue for the part being written (dropped by the
        # writer once written; by _drop_unwritten if the import fails first).
        self._gathered: list[Batch] = []

    def stored_note(self) -> str:
        """What a failed import left stored."""
        if not self.committed_rows:
            return "nothing was stored"
        return (
            f"{self.committed_rows:,} rows of {self.committed_parts} earlier part(s) were "
            "stored; a re-run with a good archive stores the rest, nothing twice"
        )

    async def write(
        self,
        engine: AsyncEngine,
        user_id: int,
        payload: NormalisedPayload,
        parsing: asyncio.Future[StreamStats],
    ) -> WriteResult:
        """Every batch the feeder stages while ``parsing`` fills ``payload``, part by part."""
        producing = asyncio.create_task(self._produce(engine, payload, parsing))
        total = WriteResult()
        try:
            while not self.ended:
                result = await self._write_part(engine, user_id)
                if not result.by_table:
                    continue
                for table, table_counts in result.by_table.items():
                    total.by_table[table] = total.by_table.get(table, TableCounts()) + table_counts
                self.committed_parts += 1
                self.committed_rows += sum(
                    c.inserted + c.updated + c.unchanged for c in result.by_table.values()
                )
        finally:
            if not producing.done():
                producing.cancel()
            await asyncio.gather(producing, return_exceptions=True)
            await self._drop_unwritten(engine)
        return total

    async def _produce(
        self, engine: AsyncEngine, payload: NormalisedPayload, parsing: asyncio.Future[Any]
    ) -> None:
        try:
            feeder = Feeder(connections_of(engine), WRITES, batch_rows=self.part_rows)
            await feeder.feed(payload, parsing, self._staged.put_nowait)
        except Exception as exc:  # noqa: BLE001 - handed to the writing side, raised there
            self._staged.put_nowait(exc)
            return
        self._staged.put_nowait(None)

    async def _next_part(self) -> list[Batch]:
        """The staged batches of the next part (about ``part_rows`` rows), gathered before
        its transaction begins: the user's lock is then held while they are written, not
        while the parse makes them (a parse slowed by other work stages smaller batches)."""
        rows = 0
        while rows < self.part_rows:
            item = await self._staged.get()
            if item is None:
                self.ended = True
                break
            if isinstance(item, BaseException):
                raise item
            self._gathered.append(item)
            rows += item.rows
        return self._gathered

    async def _write_part(self, engine: AsyncEngine, user_id: int) -> WriteResult:
        batches = await self._next_part()
        if not batches:
            return WriteResult()

        async def part_batches(deliver: Deliver) -> None:
            for batch in batches:
                deliver(batch)

        async with engine.connect() as conn:

            async def claim() -> int:
                if self.still_wanted is not None and not await self.still_wanted(conn):
                    raise ImportErased(
                        "the import's upload was erased while it ran; "
                        f"{self.stored_note()} before the erase, and the erase removed them"
                    )
                return user_id

            writer = PayloadWriter(engine, conn)
            committed = False
            try:
                async with conn.begin():
                    await writer.start()
                    await writer.stage_while_parsing(part_batches, claim)
                    # The feeder takes every parsed row: nothing is left in the payload.
                    result = await writer.finish(user_id, NormalisedPayload())
                committed = True
            finally:
                await writer.close(committed=committed)
                self._gathered = []
        return result

    async def _drop_unwritten(self, engine: AsyncEngine) -> None:
        """Batch tables staged for a part that never came (the import failed)."""
        left = [batch.table for batch in self._gathered]
        while not self._staged.empty():
            item = self._staged.get_nowait()
            if isinstance(item, Batch):
                left.append(item.table)
        if not left:
            return
        try:
            async with engine.connect() as conn:
                await drop_batch_tables(await driver_connection(conn), left)
        except Exception as exc:  # noqa: BLE001 - the housekeeping sweep drops them later
            log.warning("batch_tables_not_dropped", exc_type=type(exc).__name__)


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

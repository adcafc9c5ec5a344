"""Store a normalised payload in one transaction, one upsert per table.

Large payloads stream: while the parser (in a thread) is still producing rows, the rows
parsed so far are taken out and COPYed into staging (``feeder.py``), so parsing and COPY
overlap and at most one drain's worth of rows is held in memory. The upsert itself is in
``upsert.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.core.db import connections_of, driver_connection
from health_export.core.logging import get_logger
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.write.batches import Batch, drop_batch_tables
from health_export.ingest.write.feeder import (
    BatchSource,
    Deliver,
    Feeder,
    months_touched,
    prepare_partitions,
)
from health_export.ingest.write.plans import WRITES
from health_export.ingest.write.upsert import TableCounts, TableWriter, write_small_or_whole
from health_export.ingest.write.workout_twins import WorkoutTwins
from health_export.replica.fences import advance_read_fence
from health_export.rollups.maintain import TouchedDays

# Advisory lock class for "one ingest per user at a time" ("HEin" in ASCII).
INGEST_LOCK_CLASS = 0x4865_696E
INGEST_WORK_MEM = "256MB"
log = get_logger("health_export.ingest")


@dataclass(slots=True)
class WriteResult:
    """Counts per table of one stored payload."""

    by_table: dict[str, TableCounts] = field(default_factory=dict)

    def total(self, name: str) -> int:
        """The sum of one count (``inserted``, ``updated``, ``unchanged``) over tables."""
        return sum(getattr(counts, name) for counts in self.by_table.values())


async def lock_user(conn: AsyncConnection, user_id: int) -> None:
    """Serialise ingests of one user (overlapping re-sends cannot deadlock)."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:cls, :uid)"),
        {"cls": INGEST_LOCK_CLASS & 0x7FFF_FFFF, "uid": user_id % 2_147_483_647},
    )


def feed_from_thread(
    engine: AsyncEngine, payload: NormalisedPayload, parsing: asyncio.Future[Any]
) -> BatchSource:
    """The batches of a parse running in a thread of this process."""

    async def source(deliver: Deliver) -> None:
        await Feeder(connections_of(engine), WRITES).feed(payload, parsing, deliver)

    return source


class PayloadWriter:
    """Writes one payload in ``conn``'s transaction, a batch at a time.

    Large bodies go through a two-stage pipeline (:meth:`stage_while_parsing`): a feeder
    (:class:`Feeder`, in this process or in the parser process) COPYs each batch of
    parsed rows into an unlogged table of its own, outside the ingest transaction (so
    nothing is visible to readers), while the ingest transaction writes the batch before
    it into its real table. COPY encoding (Python) then overlaps the write (PostgreSQL),
    and memory holds a few batches. :meth:`finish` writes what is left; :meth:`close`
    cleans up afterwards.
    """

    def __init__(self, engine: AsyncEngine, conn: AsyncConnection) -> None:
        self.engine = engine
        self.conn = conn
        self.apg: Any = None
        self.tables: dict[str, TableWriter] = {}
        # Batches staged before the ingestion was claimed, written by finish().
        self.waiting: list[Batch] = []
        self._user_id: int | None = None
        self._claimed = False
        self._batch_tables: set[str] = set()
        self._written_tables: set[str] = set()
        self.twins = WorkoutTwins()
        # The days whose rollups this write changes, recomputed while the next batch is
        # staged and at its end.
        self.touched_days = TouchedDays()

    async def start(self) -> None:
        """Begin the transaction with its settings.

        Through SQLAlchemy first: its asyncpg adapter sends BEGIN lazily, on the first
        statement, and the driver-level work after it must be inside that transaction.
        The dedupe sorts a whole batch (4 MB of work_mem spilled 88 MB to disk for 935k
        points, measured) and JIT only adds compile time to these statements.
        """
        await self.conn.execute(
            text("SELECT set_config('work_mem', :mem, true), set_config('jit', 'off', true)"),
            {"mem": INGEST_WORK_MEM},
        )
        self.apg = await driver_connection(self.conn)

    async def stage_while_parsing(
        self, source: BatchSource, claim: Callable[[], Awaitable[int | None]] | None = None
    ) -> None:
        """Write the batches of ``source`` as they are staged; re-raise its error.

        ``claim`` is awaited once, before the first row would reach a real table; it
        gives the user id to write for, or None when the ingestion was finished by
        another attempt (then nothing is written). Without a claim, batches wait for
        :meth:`finish`.
        """
        # Unbounded: a staged batch's rows wait in PostgreSQL, not in this process.
        staged: asyncio.Queue[Batch | Exception | None] = asyncio.Queue()

        async def produce() -> None:
            try:
                await source(staged.put_nowait)
            except Exception as exc:  # noqa: BLE001 - handed to the writing side, raised there
                staged.put_nowait(exc)
                return
            staged.put_nowait(None)

        producing = asyncio.create_task(produce())
        try:
            while (item := await staged.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                self._batch_tables.add(item.table)
                await self._take(item, claim)
                if staged.empty() and self._user_id is not None:
                    # PostgreSQL would wait for the next batch: summarise the days
                    # written so far meanwhile (the rest, and days a later batch
                    # changes again, at the end).
                    await self.touched_days.refresh(self.apg, self._user_id)
        finally:
            if not producing.done():
                producing.cancel()
            await asyncio.gather(producing, return_exceptions=True)

    async def finish(self, user_id: int, payload: NormalisedPayload) -> WriteResult:
        """Write every table of ``payload`` (staged or not) for ``user_id``."""
        if self.apg is None:
            await self.start()
        await prepare_partitions(connections_of(self.engine), self._months_needed(payload))
        if self._user_id is None:
            await lock_user(self.conn, user_id)
        for batch in self.waiting:
            await self._write(batch, user_id)
        self.waiting = []
        result = WriteResult()
        for table, writer in self.tables.items():
            result.by_table[table] = writer.counts
        for table, rows in payload.rows.items():
            if rows:
                counts = await self._write_rows(table, rows, user_id)
                result.by_table[table] = result.by_table.get(table, TableCounts()) + counts
        await self.twins.merge(self.apg, user_id, result.by_table)
        # In the same transaction as the rows: a committed ingest has exact rollups.
        await self.touched_days.refresh(self.apg, user_id)
        await advance_read_fence(self.apg, user_id)
        return result

    async def close(self, *, committed: bool) -> None:
        """After the ingest transaction ended: drop the batch tables it left.

        Batch tables are dropped by the transaction that writes them, so a rolled-back
        ingest leaves them behind; the housekeeping sweep catches what this misses.
        """
        left = self._batch_tables - self._written_tables if committed else self._batch_tables
        if not left:
            return
        try:
            async with self.engine.connect() as conn:
                await drop_batch_tables(await driver_connection(conn), left)
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the ingest's outcome
            log.warning("batch_tables_not_dropped", exc_type=type(exc).__name__)

    async def _take(self, batch: Batch, claim: Callable[[], Awaitable[int | None]] | None) -> None:
        if claim is not None and not self._claimed:
            self._claimed = True
            user_id = await claim()
            if user_id is not None:
                await lock_user(self.conn, user_id)
                self._user_id = user_id
        if self._user_id is None:
            self.waiting.append(batch)
        else:
            await self._write(batch, self._user_id)

    async def _write_rows(
        self, table: str, rows: list[tuple[Any, ...]], user_id: int
    ) -> TableCounts:
        if table == "workouts":
            kept = await self.twins.drop_from_rows(self.apg, user_id, rows)
            skipped, rows = len(rows) - len(kept), kept
            if not rows:
                return TableCounts(unchanged=skipped)
        else:
            skipped = 0
        counts = await write_small_or_whole(
            self.engine, self.apg, WRITES[table], user_id, rows, self.touched_days
        )
        counts.unchanged += skipped
        return counts

    async def _write(self, batch: Batch, user_id: int) -> None:
        # Its partitions were made before it was staged (Feeder._stage).
        table = batch.write.table
        if table == "workouts":
            await self.twins.drop_from_staged(self.apg, user_id, batch.table)
        writer = self.tables.setdefault(
            table, TableWriter(self.apg, batch.write, self.touched_days)
        )
        await writer.store(batch, user_id)
        self._written_tables.add(batch.table)

    def _months_needed(self, payload: NormalisedPayload) -> dict[str, set[date]]:
        needed: dict[str, set[date]] = {}
        for table, rows in payload.rows.items():
            if rows:
                needed.setdefault(table, set()).update(months_touched(WRITES[table], rows))
        return needed


async def write_payload(
    engine: AsyncEngine, conn: AsyncConnection, user_id: int, payload: NormalisedPayload
) -> WriteResult:
    """Upsert a fully parsed ``payload`` inside ``conn``'s transaction."""
    writer = PayloadWriter(engine, conn)
    await writer.start()
    return await writer.finish(user_id, payload)

"""The feeder: parsed rows out of a payload, a batch at a time, into batch tables.

Used by the ingest's parse thread, the parser process and the archive import alike; on
the driver alone (no SQLAlchemy), since the parser process imports it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import date
from operator import itemgetter
from typing import Any

from health_export.core.driver import Connections
from health_export.core.logging import get_logger
from health_export.ingest.gc_pause import PAUSE_FROM_BYTES, gc_paused
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.write.batches import (
    Batch,
    batch_table_name,
    drop_batch_tables,
    stage_batch,
)
from health_export.ingest.write.tables import TableWrite
from health_export.schema.partitions import ensure_partitions_exist, month_of, next_month

log = get_logger("health_export.ingest")
# While parsing goes on, a table's rows are taken for COPY once this many are waiting,
# at most BATCH_ROWS at a time.
DRAIN_MIN_ROWS = 20_000
BATCH_ROWS = 50_000
# A batch spanning at most this many months gets a partition for each month of its span.
CONSECUTIVE_MONTHS_MAX = 12
DRAIN_POLL_S = 0.05
COPY_SLICE_ROWS = 10_000


def months_touched(write: TableWrite, rows: Sequence[tuple[Any, ...]]) -> set[date]:
    """The UTC months a batch's rows fall in (for partitions)."""
    if write.partition_column is None:
        return set()
    moments = list(map(itemgetter(write.staging_columns.index(write.partition_column)), rows))
    if not moments:
        return set()
    # A batch usually covers a few consecutive months: every month from its first to its
    # last is exact enough (an empty partition costs nothing) and needs no Python call
    # per row (converting each of 100k moments took ~50 ms per batch, measured).
    first, last = month_of(min(moments)), month_of(max(moments))
    if (last.year - first.year) * 12 + last.month - first.month <= CONSECUTIVE_MONTHS_MAX:
        months = {first}
        while first < last:
            first = next_month(first)
            months.add(first)
        return months
    # Parsers reuse datetime objects for repeated timestamps; dedupe before converting.
    return {month_of(moment) for moment in set(moments)}


async def prepare_partitions(db: Connections, months: dict[str, set[date]]) -> None:
    """Create the months each table needs, in short transactions of their own.

    Not in the ingest transaction, so partition DDL never holds locks for a long ingest.
    """
    for table, wanted in months.items():
        if wanted:
            await ensure_partitions_exist(db, table, wanted)


Deliver = Callable[[Batch], None]
# Produces a payload's batches, handing each to the writer as it is staged.
BatchSource = Callable[[Deliver], Awaitable[None]]


class Feeder:
    """Takes parsed rows out of a payload a batch at a time and COPYs each into a batch
    table of its own, on a connection of its own in autocommit mode (see PayloadWriter).
    """

    def __init__(
        self, db: Connections, writes: Mapping[str, TableWrite], batch_rows: int = BATCH_ROWS
    ) -> None:
        self.db = db
        self.writes = writes
        # The most rows a batch takes (the history import writes one batch per part).
        self.batch_rows = batch_rows
        self._held = AsyncExitStack()  # the feeder's connection, once it has one
        self._apg: Any = None
        self._undelivered: str | None = None

    async def feed(
        self, payload: NormalisedPayload, parsing: asyncio.Future[Any], deliver: Deliver
    ) -> None:
        """Stage batches while ``parsing`` fills ``payload``, then the rest; re-raise the
        parse's error. The collector stays off until every parsed row has left this
        process: after the parse, its full collections walked the rows waiting for COPY.
        """
        try:
            with gc_paused(PAUSE_FROM_BYTES):
                while True:
                    finished = parsing.done()
                    minimum = 1 if finished else min(DRAIN_MIN_ROWS, self.batch_rows)
                    for table, rows in payload.rows.items():
                        while len(rows) >= minimum:
                            taken = payload.take(table, self.batch_rows)
                            deliver(await self._stage(table, taken))
                    if finished:
                        parsing.result()
                        return
                    await asyncio.wait({parsing}, timeout=DRAIN_POLL_S)
        finally:
            if not parsing.done():
                payload.abandon()  # a parse waiting for room must not wait forever
            await self._close()

    async def _stage(self, table: str, rows: list[tuple[Any, ...]]) -> Batch:
        if self._apg is None:
            self._apg = await self._held.enter_async_context(self.db.acquire())
        write = self.writes[table]
        # Here rather than before the write: partition DDL then overlaps earlier writes.
        await prepare_partitions(self.db, {table: months_touched(write, rows)})
        self._undelivered = name = batch_table_name()
        slices = (rows[i : i + COPY_SLICE_ROWS] for i in range(0, len(rows), COPY_SLICE_ROWS))
        batch = await stage_batch(self.db, self._apg, write, slices, name=name)
        self._undelivered = None
        return batch

    async def _close(self) -> None:
        if self._apg is None:
            return
        try:
            if self._undelivered is not None:  # cut off while COPYing
                await drop_batch_tables(self._apg, [self._undelivered])
        except Exception as exc:  # noqa: BLE001 - the sweep drops it later
            log.warning("batch_tables_not_dropped", exc_type=type(exc).__name__)
        finally:
            self._apg = None
            await self._held.aclose()

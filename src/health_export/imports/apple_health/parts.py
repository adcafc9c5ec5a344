"""An import's rows committed in parts: each part's batches gathered, then written in a
transaction of its own under the user's ingest lock (``importer.py`` parses and feeds)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.core.db import connections_of, driver_connection
from health_export.core.logging import get_logger
from health_export.imports.apple_health.errors import ImportErased
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.write.batches import Batch, drop_batch_tables
from health_export.ingest.write.feeder import Deliver, Feeder
from health_export.ingest.write.plans import WRITES
from health_export.ingest.write.upsert import TableCounts
from health_export.ingest.write.writer import PayloadWriter, WriteResult

# Rows committed per transaction (see Parts): the feeder stages batches of at most this
# many rows, and a part is one batch, a fraction of a second of writing: the longest a
# sync of the same user waits for the import. Beside 16 phones syncing back to back, the
# importing user's own phone measured a p99 of 1.9 s with one lock per 20,000-50,000 rows
# held while the parse made them, 1.0 s with 20,000 gathered first, 0.95 s with 10,000.
PART_ROWS = 10_000
log = get_logger("health_export.imports")
# Asked in each part's transaction before it writes: whether the import is still wanted
# (its upload not erased); it may lock what it reads until the part commits.
StillWanted = Callable[[AsyncConnection], Awaitable[bool]]


class Parts:
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
        parsing: asyncio.Future[Any],
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

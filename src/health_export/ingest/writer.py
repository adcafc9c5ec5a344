"""Store a normalised payload in one transaction, one upsert per table.

Large payloads stream: while the parser (in a thread) is still producing rows, the rows
parsed so far are taken out and COPYed into staging, so parsing and COPY overlap and at
most one drain's worth of rows is held in memory. The upsert itself is in ``upsert.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from health_export.ingest.records import NormalisedPayload
from health_export.ingest.tables import WRITES, TableWrite
from health_export.ingest.upsert import Staging, TableCounts, write_small_or_whole
from health_export.partitions import ensure_partitions_exist, month_of

# Advisory lock class for "one ingest per user at a time" ("HEin" in ASCII).
INGEST_LOCK_CLASS = 0x4865_696E
INGEST_WORK_MEM = "256MB"
# While parsing goes on, a table's rows are taken for COPY once this many are waiting.
DRAIN_MIN_ROWS = 50_000
DRAIN_POLL_S = 0.05
COPY_SLICE_ROWS = 25_000


@dataclass(slots=True)
class WriteResult:
    """Counts per table of one stored payload."""

    by_table: dict[str, TableCounts] = field(default_factory=dict)

    def total(self, name: str) -> int:
        """The sum of one count (``inserted``, ``updated``, ``unchanged``) over tables."""
        return sum(getattr(counts, name) for counts in self.by_table.values())


def _jsonb_encode(value: Any) -> bytes:
    # asyncpg's binary jsonb format is a version byte then the text; SQLAlchemy hands us
    # strings already serialised, the parsers hand us Python objects.
    if isinstance(value, str):
        return b"\x01" + value.encode()
    return b"\x01" + orjson.dumps(value)


def _jsonb_decode(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def driver_connection(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, with a jsonb codec that takes objects too."""
    raw = await conn.get_raw_connection()
    apg: Any = raw.driver_connection
    if apg is None:
        raise RuntimeError("the pooled connection has no driver connection")
    if not raw.info.get("health_export_codecs"):
        await apg.set_type_codec(
            "jsonb",
            encoder=_jsonb_encode,
            decoder=_jsonb_decode,
            schema="pg_catalog",
            format="binary",
        )
        raw.info["health_export_codecs"] = True
    return apg


def months_touched(write: TableWrite, rows: Sequence[tuple[Any, ...]]) -> set[date]:
    """The UTC months a batch's rows fall in (for partitions)."""
    if write.partition_column is None:
        return set()
    index = write.staging_columns.index(write.partition_column)
    # Parsers reuse datetime objects for repeated timestamps; dedupe before converting.
    moments: set[datetime] = {row[index] for row in rows}
    return {month_of(moment) for moment in moments}


async def prepare_partitions(engine: AsyncEngine, months: dict[str, set[date]]) -> None:
    """Create the months each table needs, in short transactions of their own.

    Not in the ingest transaction, so partition DDL never holds locks for a long ingest.
    """
    for table, wanted in months.items():
        if wanted:
            await ensure_partitions_exist(engine, table, wanted)


async def lock_user(conn: AsyncConnection, user_id: int) -> None:
    """Serialise ingests of one user (overlapping re-sends cannot deadlock)."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:cls, :uid)"),
        {"cls": INGEST_LOCK_CLASS & 0x7FFF_FFFF, "uid": user_id % 2_147_483_647},
    )


class PayloadWriter:
    """Writes one payload in ``conn``'s transaction: staging first, upserts at the end.

    With a parse still in progress, :meth:`stage_while_parsing` COPYs rows into staging
    as they come, so parsing and COPY overlap and at most one drain's worth of rows is in
    memory; :meth:`finish` upserts everything.
    """

    def __init__(self, engine: AsyncEngine, conn: AsyncConnection) -> None:
        self.engine = engine
        self.conn = conn
        self.apg: Any = None
        self.staged: dict[str, Staging] = {}
        self.months: dict[str, set[date]] = {}

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
        self, payload: NormalisedPayload, parsing: asyncio.Future[Any]
    ) -> None:
        """COPY rows into staging while ``parsing`` fills ``payload``; re-raise its error."""
        while not parsing.done():
            await asyncio.wait({parsing}, timeout=DRAIN_POLL_S)
            await self._drain(payload, minimum=DRAIN_MIN_ROWS)
        parsing.result()

    async def finish(self, user_id: int, payload: NormalisedPayload) -> WriteResult:
        """Upsert every table of ``payload`` (staged or not) for ``user_id``."""
        if self.apg is None:
            await self.start()
        await self._drain(payload, minimum=1, staged_only=True)
        await prepare_partitions(self.engine, self._months_needed(payload))
        await lock_user(self.conn, user_id)
        result = WriteResult()
        for table, rows in payload.rows.items():
            if table in self.staged:
                result.by_table[table] = await self.staged[table].upsert(user_id)
            elif rows:
                write = WRITES[table]
                result.by_table[table] = await write_small_or_whole(
                    self.engine, self.apg, write, user_id, rows
                )
        return result

    async def _drain(
        self, payload: NormalisedPayload, *, minimum: int, staged_only: bool = False
    ) -> None:
        for table, rows in payload.rows.items():
            if len(rows) < minimum or (staged_only and table not in self.staged):
                continue
            batch = payload.take(table)
            write = WRITES[table]
            stage = self.staged.setdefault(table, Staging(self.engine, self.apg, write))
            # In slices: encoding rows for COPY runs on the event loop, and other
            # requests must not wait behind half a million rows of it.
            for start in range(0, len(batch), COPY_SLICE_ROWS):
                piece = batch[start : start + COPY_SLICE_ROWS]
                self.months.setdefault(table, set()).update(months_touched(write, piece))
                await stage.copy(piece)

    def _months_needed(self, payload: NormalisedPayload) -> dict[str, set[date]]:
        needed = {table: set(months) for table, months in self.months.items()}
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

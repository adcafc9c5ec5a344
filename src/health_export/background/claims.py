"""Once per period across every worker: a claim row per job, and an advisory lock.

Workers on different hosts share nothing but PostgreSQL, so both the period and the
"is it running" question are answered there, by the database's clock (hosts' clocks
may differ):

- ``job_runs`` has one row per periodic job. A worker claims a period with one
  statement that succeeds only when the last claim is at least a period old; the
  row lock of ``ON CONFLICT DO UPDATE … WHERE`` makes concurrent claimers wait and then
  see the winner's claim, so exactly one worker gets each period. The claim commits
  before the job runs: a worker that dies mid-run costs that period's run, never a
  second run in the same period.
- A transaction-level advisory lock held while the job runs keeps a run that outlasts
  its period from overlapping the next period's run on another worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Column, DateTime, Table, Text, text
from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.core.db import Base

# Class of the two-key advisory locks of jobs ("HEjb"); the single-key space and the
# ingest's own class (ingest/write/writer.py) are separate lock spaces.
JOB_LOCK_CLASS = 0x4845_6A62

job_runs = Table(
    "job_runs",
    Base.metadata,
    Column("name", Text, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("worker", Text, nullable=False),
    Column("error", Text),
)

_CLAIM = text(
    "INSERT INTO job_runs AS r (name, started_at, worker) VALUES (:name, now(), :worker) "
    "ON CONFLICT (name) DO UPDATE SET started_at = now(), worker = EXCLUDED.worker, "
    "finished_at = NULL, error = NULL "
    "WHERE r.started_at <= now() - make_interval(secs => :every) RETURNING r.name"
)
_DUE_IN = text(
    "SELECT extract(epoch FROM started_at + make_interval(secs => :every) - now()) "
    "FROM job_runs WHERE name = :name"
)


async def claim_period(engine: AsyncEngine, name: str, every_s: float, worker: str) -> bool:
    """Claim this period's run of job ``name`` (committed at once); False if taken."""
    async with engine.begin() as conn:
        claimed = await conn.execute(_CLAIM, {"name": name, "worker": worker, "every": every_s})
        return claimed.first() is not None


async def seconds_until_due(engine: AsyncEngine, name: str, every_s: float) -> float:
    """How long until job ``name`` may be claimed again (0 when it may be now)."""
    async with engine.connect() as conn:
        due_in = (await conn.execute(_DUE_IN, {"name": name, "every": every_s})).scalar()
    return max(0.0, float(due_in)) if due_in is not None else 0.0


async def record_finish(engine: AsyncEngine, name: str, error: str | None) -> None:
    """Note how the run this worker claimed ended."""
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE job_runs SET finished_at = now(), error = :error WHERE name = :name"),
            {"name": name, "error": error},
        )


@asynccontextmanager
async def running_alone(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Hold job ``name``'s advisory lock while the block runs; yields False if another
    worker holds it. Transaction-level, so a crash or a cancelled run releases it too
    (a session-level lock would stay with a pooled connection). The transaction assigns
    no transaction id, so holding it open does not hold back vacuum.
    """
    async with engine.connect() as conn, conn.begin():
        locked = await conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:cls, hashtext(:name))"),
            {"cls": JOB_LOCK_CLASS & 0x7FFF_FFFF, "name": name},
        )
        yield bool(locked.scalar())

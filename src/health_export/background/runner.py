"""Run the registered jobs until told to stop (in a worker process or inside `serve`)."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.background import claims
from health_export.background.context import WorkerContext
from health_export.background.jobs import JOBS, Job, LoopJob, PeriodicJob, QueueJob
from health_export.core.config import Settings
from health_export.core.logging import get_logger

log = get_logger("health_export.background")


class BackgroundRunner:
    """A task per queue job and per loop job, and one for all periodic jobs, which run
    one at a time (a worker then holds at most two connections for them, whatever their
    number); :meth:`stop` lets the work in hand finish."""

    def __init__(
        self, engine: AsyncEngine, settings: Settings, jobs: tuple[Job, ...] = JOBS
    ) -> None:
        self.context = WorkerContext(engine, settings)
        self.jobs = jobs
        self._tasks: list[asyncio.Task[None]] = []
        self._loops: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the loops."""
        for job in self.jobs:
            if isinstance(job, QueueJob):
                task = asyncio.create_task(self._queue_loop(job), name=f"job-{job.name}")
                self._tasks.append(task)
            elif isinstance(job, LoopJob):
                task = asyncio.create_task(self._loop_job(job), name=f"job-{job.name}")
                self._loops.append(task)
        periodic = [job for job in self.jobs if isinstance(job, PeriodicJob)]
        if periodic:
            task = asyncio.create_task(self._periodic_loop(periodic), name="jobs-periodic")
            self._tasks.append(task)
        log.info("background_jobs_started", worker=self.context.name, jobs=self.job_names)

    @property
    def job_names(self) -> list[str]:
        """The names of the jobs this runner runs."""
        return [job.name for job in self.jobs]

    async def stop(self, grace_s: float) -> None:
        """No new work; what is running gets ``grace_s`` to finish, then is cancelled.

        A cancelled ingestion rolls back and stays stored, so another worker (or the next
        start) processes it.
        """
        self.context.stopping.set()
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        if not self._tasks:
            return
        _, unfinished = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in unfinished:
            task.cancel()
        for task in unfinished:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        log.info("background_jobs_stopped", worker=self.context.name, cut_off=len(unfinished))

    async def _queue_loop(self, job: QueueJob) -> None:
        while not self.context.shutting_down:
            try:
                busy = await job.run(self.context)
            except Exception as exc:  # the database may be down; try again later
                log.warning("job_failed", job=job.name, exc_type=type(exc).__name__)
                busy = False
            if not busy:
                await self._pause(self.context.settings.worker_poll_seconds)

    async def _loop_job(self, job: LoopJob) -> None:
        while not self.context.shutting_down:
            try:
                await job.run(self.context)
            except Exception as exc:  # restarted after a pause, like a failed round
                log.warning("job_failed", job=job.name, exc_type=type(exc).__name__)
                await self._pause(self.context.settings.worker_poll_seconds)

    async def _periodic_loop(self, jobs: list[PeriodicJob]) -> None:
        due_in = dict.fromkeys((job.name for job in jobs), 0.0)
        while not self.context.shutting_down:
            started = asyncio.get_running_loop().time()
            for job in jobs:
                if due_in[job.name] > 0 or self.context.shutting_down:
                    continue
                try:
                    due_in[job.name] = await self._run_if_due(job)
                except Exception as exc:  # the database may be down; try again later
                    log.warning("job_failed", job=job.name, exc_type=type(exc).__name__)
                    due_in[job.name] = self.context.settings.worker_poll_seconds
            wait_s = min(due_in.values())
            await self._pause(wait_s)
            elapsed = asyncio.get_running_loop().time() - started
            due_in = {name: left - elapsed for name, left in due_in.items()}

    async def _run_if_due(self, job: PeriodicJob) -> float:
        """Run ``job`` when this worker wins its period; seconds until it is due again."""
        engine, every_s = self.context.engine, job.every_s(self.context.settings)
        async with claims.running_alone(engine, job.name) as alone:
            if not alone:  # still running elsewhere, past its period
                return min(every_s, self.context.settings.worker_poll_seconds)
            if await claims.claim_period(engine, job.name, every_s, self.context.name):
                await self._run_claimed(job)
        return max(1.0, await claims.seconds_until_due(engine, job.name, every_s))

    async def _run_claimed(self, job: PeriodicJob) -> None:
        log.info("job_started", job=job.name, worker=self.context.name)
        error = None
        try:
            await job.run(self.context)
        except Exception as exc:  # recorded; the next period tries again
            error = type(exc).__name__
            log.warning("job_failed", job=job.name, exc_type=error)
        await claims.record_finish(self.context.engine, job.name, error)
        log.info("job_finished", job=job.name, worker=self.context.name, error=error)

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when the worker is told to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.context.stopping.wait(), timeout=seconds)

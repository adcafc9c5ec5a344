"""Ingest benchmarks: bulk, baseline, re-send, small syncs, mixed, scaling (issue targets).

Run: `.venv/bin/python -m bench.ingest [--runs 3] [--quick]`. Every figure is measured
against the real server (`health-export serve`, production settings, loopback) and a real
PostgreSQL; the baselines are bare COPY + upsert scripts on the same table.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.fixtures import payloads

from bench.harness import (
    KeepAliveClient,
    Server,
    bench_engine,
    drop_database,
    fresh_database,
    new_key,
    quantile,
    settle,
)
from health_export.ingest.parse_stage import parse_body
from health_export.ingest.write.plans import WRITES

DATABASE = "health_export_bench_ingest"
BULK_POINTS = 935_000
SMALL_SYNC_CLIENTS = 16
SMALL_SYNC_SECONDS = 30.0
SMALL_SYNC_METRICS = payloads.BENCHMARK_METRICS[:5]
# The bare baseline writes the same columns the ingest writer does.
_VALUE_COLUMNS = tuple(
    name
    for name, _ in WRITES["metric_samples"].target_columns()
    if name not in WRITES["metric_samples"].key
)


def bulk_document(points: int, year: int) -> dict[str, Any]:
    """The bulk payload: 10 metrics incl. heart rate at minute grouping, ``points`` in all."""
    start = payloads.START.replace(year=year)
    return payloads.hae_metrics(payloads.BENCHMARK_METRICS, count=points // 10, start=start)


async def post_until_stored(
    http: httpx.AsyncClient, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """POST and, on 202, follow the status URL until the rows are committed."""
    response = await http.post("/api/v1/ingest", content=body, headers=headers, timeout=600)
    if response.status_code == 200:
        answer: dict[str, Any] = response.json()
        return answer
    if response.status_code != 202:
        raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:300]}")
    status_url = response.json()["status_url"]
    while True:
        await asyncio.sleep(0.1)
        status = (await http.get(status_url, headers=headers)).json()
        if status["status"] == "processed":
            result: dict[str, Any] = status["result"]
            return result


async def row_versions(engine: AsyncEngine, user_id: int) -> tuple[int, int]:
    """(rows, sum of xmin) of a user's metric samples: unchanged when nothing was rewritten."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*), coalesce(sum(xmin::text::bigint), 0) FROM metric_samples "
                    "WHERE user_id = :u"
                ),
                {"u": user_id},
            )
        ).one()
    return int(row[0]), int(row[1])


@dataclass
class BulkRun:
    """One bulk ingest over HTTP."""

    points: int
    seconds: float
    peak_rss_mb: dict[str, float]
    peak_pss_mb: float = 0.0
    resend_seconds: float = 0.0
    resend_rewritten: bool = False


async def bulk(
    database_url: str, engine: AsyncEngine, points: int, year: int, *, resend: bool
) -> BulkRun:
    """POST one bulk payload to a fresh server; optionally re-send it in another key order."""
    doc = bulk_document(points, year)
    body = orjson.dumps(doc)
    key = await new_key(engine)
    headers = {**key.headers, "Content-Type": "application/json"}
    with Server(database_url) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            await settle()
            with server.memory_sampler() as memory:
                started = time.perf_counter()
                answer = await post_until_stored(http, headers, body)
                seconds = time.perf_counter() - started
            assert answer["inserted"] == points, answer
            run = BulkRun(points, seconds, server.peak_rss_mb(), memory.peak_mb)
            if resend:
                again = orjson.dumps(payloads.reordered(doc, random.Random(year)))
                del doc
                before = await row_versions(engine, key.user_id)
                await settle()
                with server.memory_sampler() as memory:
                    started = time.perf_counter()
                    answer = await post_until_stored(http, headers, again)
                    run.resend_seconds = time.perf_counter() - started
                run.peak_pss_mb = max(run.peak_pss_mb, memory.peak_mb)
                assert answer["unchanged"] == points, answer
                run.resend_rewritten = await row_versions(engine, key.user_id) != before
                run.peak_rss_mb = server.peak_rss_mb()
    return run


async def baseline(engine: AsyncEngine, points: int, year: int) -> tuple[float, float]:
    """Bare COPY + upsert of the same rows (no HTTP, no parsing): (insert s, re-send s)."""
    rows = parse_body(orjson.dumps(bulk_document(points, year))).rows["metric_samples"]
    key = await new_key(engine)
    async with engine.connect() as conn:
        ids = dict((await conn.execute(text("SELECT name, id FROM metric_types"))).all())
        sources = dict((await conn.execute(text("SELECT name, id FROM sources"))).all())
    records = [(key.user_id, ids[r[0]], sources[r[1]], *r[2:]) for r in rows]
    del rows
    first = await _copy_and_upsert(engine, records)
    again = await _copy_and_upsert(engine, records)
    return first, again


async def _copy_and_upsert(engine: AsyncEngine, records: list[tuple[Any, ...]]) -> float:
    await settle()
    columns = ("user_id", "metric_id", "source_id", "start_at", *_VALUE_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _VALUE_COLUMNS)
    current = ", ".join(f"t.{c}" for c in _VALUE_COLUMNS)
    incoming = ", ".join(f"EXCLUDED.{c}" for c in _VALUE_COLUMNS)
    async with engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT 1"))
        raw = await conn.get_raw_connection()
        apg: Any = raw.driver_connection
        await apg.set_type_codec(
            "jsonb",
            encoder=lambda v: b"\x01" + orjson.dumps(v),
            decoder=lambda b: orjson.loads(b[1:]),
            schema="pg_catalog",
            format="binary",
        )
        started = time.perf_counter()
        await apg.execute(
            "CREATE TEMP TABLE stage (LIKE metric_samples INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        await apg.copy_records_to_table("stage", records=records, columns=list(columns))
        await apg.execute(
            f"INSERT INTO metric_samples AS t ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(columns)} FROM stage "
            "ON CONFLICT (user_id, metric_id, start_at, source_id) DO UPDATE SET "
            f"{updates} WHERE ROW({current}) IS DISTINCT FROM ROW({incoming})"
        )
        elapsed = time.perf_counter() - started
    return elapsed


@dataclass
class SmallSyncs:
    """Latencies of concurrent 100-point syncs."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Requests per second."""
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


async def _client_bodies(client: int, count: int, year: int) -> list[bytes]:
    base = payloads.START.replace(year=year) + timedelta(days=client)
    return [
        orjson.dumps(
            payloads.hae_metrics(
                SMALL_SYNC_METRICS, count=20, seed=index, start=base + timedelta(minutes=20 * index)
            )
        )
        for index in range(count)
    ]


@dataclass
class Phones:
    """Small-sync clients ready to go: a key and pre-built bodies each (not measured)."""

    headers: list[dict[str, str]]
    bodies: list[list[bytes]]


async def prepare_phones(engine: AsyncEngine, year: int, seconds: float) -> Phones:
    """16 users with keys and enough distinct 100-point bodies for ``seconds`` of load."""
    count = int(seconds * 40) + 50  # more than a client can send (~15 requests/s measured)
    keys = [await new_key(engine) for _ in range(SMALL_SYNC_CLIENTS)]
    headers = [{**key.headers, "Content-Type": "application/json"} for key in keys]
    bodies = [await _client_bodies(i, count, year) for i in range(SMALL_SYNC_CLIENTS)]
    return Phones(headers, bodies)


async def small_syncs(
    server: Server, phones: Phones, keep_going: Callable[[float], bool]
) -> SmallSyncs:
    """16 phones posting 100-point payloads (5 metrics × 20 minutes) back to back."""
    result = SmallSyncs()
    started = time.perf_counter()

    async def phone(index: int) -> None:
        http = KeepAliveClient("127.0.0.1", server.port)
        for body in phones.bodies[index]:
            if not keep_going(time.perf_counter() - started):
                break
            sent = time.perf_counter()
            try:
                status, _ = await asyncio.wait_for(
                    http.post("/api/v1/ingest", body, phones.headers[index]), timeout=30
                )
                outcome = str(status)
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                outcome = type(exc).__name__
                await http.close()
            if outcome == "200":
                result.latencies_ms.append((time.perf_counter() - sent) * 1000)
            else:
                result.errors += 1
                result.error_kinds[outcome] = result.error_kinds.get(outcome, 0) + 1
        await http.close()

    await asyncio.gather(*(phone(i) for i in range(len(phones.headers))))
    result.seconds = time.perf_counter() - started
    return result


async def _warm_up(server: Server, phones: Phones) -> None:
    """One sync per phone, not measured: the mixed figure is about a running server's
    small syncs beside a bulk, not about a new server's first requests (pool connections
    opening, partitions of the phones' months being created)."""

    async def first_sync(index: int) -> None:
        http = KeepAliveClient("127.0.0.1", server.port)
        status, _ = await http.post(
            "/api/v1/ingest", phones.bodies[index].pop(0), phones.headers[index]
        )
        await http.close()
        if status != 200:
            raise RuntimeError(f"a warm-up sync answered {status}")

    await asyncio.gather(*(first_sync(index) for index in range(SMALL_SYNC_CLIENTS)))


async def mixed(database_url: str, engine: AsyncEngine, year: int) -> SmallSyncs:
    """Small syncs while one bulk payload is ingested on the same 2-worker server.

    The bulk is sent by curl, another process: pushing 88 MB through this process's
    event loop would delay the small syncs' own measurements.
    """
    key = await new_key(engine)
    phones = await prepare_phones(engine, year + 1, 60)
    with tempfile.NamedTemporaryFile(suffix=".json") as body_file:
        body_file.write(orjson.dumps(bulk_document(BULK_POINTS, year)))
        body_file.flush()
        with Server(database_url, workers=2) as server:
            await _warm_up(server, phones)
            curl = await asyncio.create_subprocess_exec(
                "curl",
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "300",
                "-H",
                f"Authorization: {key.headers['Authorization']}",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                f"@{body_file.name}",
                f"{server.url}/api/v1/ingest",
                stdout=asyncio.subprocess.PIPE,
            )
            waiting = asyncio.ensure_future(curl.communicate())
            syncs = await small_syncs(server, phones, lambda elapsed: not waiting.done())
            status, _ = await waiting
    if status.decode() != "200":
        raise RuntimeError(f"the bulk ingest answered {status.decode()}")
    return syncs


async def run_once(database_url: str, engine: AsyncEngine, run: int, quick: bool) -> dict[str, Any]:
    """Every scenario once; years keep runs apart (new partitions, new rows)."""
    year = 2000 + run * 5
    figures: dict[str, Any] = {}
    bulk_points = 100_000 if quick else BULK_POINTS
    big = await bulk(database_url, engine, bulk_points, year, resend=True)
    first, again = await baseline(engine, bulk_points, year)
    figures.update(
        bulk_s=big.seconds,
        bulk_rss_mb=big.peak_rss_mb["total"],
        bulk_rss_worker_mb=big.peak_rss_mb["worker"],
        bulk_rss_parser_mb=big.peak_rss_mb["parser"],
        bulk_pss_mb=big.peak_pss_mb,
        baseline_s=first,
        resend_s=big.resend_seconds,
        resend_baseline_s=again,
        resend_rewritten=big.resend_rewritten,
        points=bulk_points,
    )
    for points in (10_000, 100_000):
        scaled = await bulk(database_url, engine, points, year + 2, resend=False)
        figures[f"scale_{points}_s"] = scaled.seconds
        year += 1
    figures[f"scale_{bulk_points}_s"] = big.seconds
    seconds = 5.0 if quick else SMALL_SYNC_SECONDS
    phones = await prepare_phones(engine, year + 3, seconds)
    with Server(database_url, workers=2) as server:
        syncs = await small_syncs(server, phones, lambda elapsed: elapsed < seconds)
    figures.update(
        small_rps=syncs.rate,
        small_p50_ms=quantile(syncs.latencies_ms, 0.5),
        small_p99_ms=quantile(syncs.latencies_ms, 0.99),
        small_errors=syncs.errors,
    )
    if not quick:
        during = await mixed(database_url, engine, year + 4)
        figures.update(
            mixed_p99_ms=quantile(during.latencies_ms, 0.99),
            mixed_errors=during.errors,
            mixed_requests=len(during.latencies_ms),
        )
    return figures


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every numeric figure over runs (booleans: any)."""
    merged: dict[str, Any] = {}
    for name in runs[0]:
        values = [run[name] for run in runs if name in run]
        if isinstance(values[0], bool):
            merged[name] = any(values)
        else:
            merged[name] = statistics.median(values)
    return merged


async def measure(runs: int, quick: bool, report: Callable[[str], None] = print) -> dict[str, Any]:
    """All scenarios ``runs`` times; the medians."""
    database_url = await fresh_database(DATABASE)
    engine = bench_engine(database_url)
    try:
        results = []
        for run in range(runs):
            figures = await run_once(database_url, engine, run, quick)
            report(f"run {run + 1}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in figures.items()))
            results.append(figures)
        return median_of(results)
    finally:
        await engine.dispose()
        # Its autovacuum would otherwise run during the benchmarks that follow.
        await drop_database(DATABASE)


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> None:
    """Run from the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.runs, args.quick))
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()


TARGETS = {
    "ratio": 1.5,
    "points_per_s": 80_000,
    "rss_mb": 500,
    "small_rps": 100,
    "small_p99_ms": 300,
    "mixed_p99_ms": 1000,
    "scaling": 1.3,
}


def render(figures: dict[str, Any], machine: str, runs: int) -> str:
    """The ingest section of bench/README.md (medians of ``runs`` runs)."""
    points = figures["points"]
    bulk_s = figures["bulk_s"]
    ratio = bulk_s / figures["baseline_s"]
    resend_ratio = figures["resend_s"] / figures["resend_baseline_s"]
    per_point = {n: figures[f"scale_{n}_s"] / n for n in (10_000, 100_000, points)}
    scaling = per_point[points] / per_point[100_000]
    rows = [
        ("Bulk: seconds to the 200, every row committed", f"{bulk_s:.2f} s", ""),
        ("Bulk: points per second", f"{points / bulk_s:,.0f}", f"≥ {TARGETS['points_per_s']:,}"),
        ("Bulk: baseline (bare COPY + upsert, same rows)", f"{figures['baseline_s']:.2f} s", ""),
        ("Bulk: ingest / baseline", f"{ratio:.2f}", f"≤ {TARGETS['ratio']}"),
        (
            "Bulk: peak RSS (VmHWM), worker + its parser process",
            f"{figures['bulk_rss_worker_mb']:.0f} + {figures['bulk_rss_parser_mb']:.0f} "
            f"= {figures['bulk_rss_mb']:.0f} MB",
            "",
        ),
        (
            "Bulk: peak server memory, summed PSS of its processes (sampled every 20 ms)",
            f"{figures['bulk_pss_mb']:.0f} MB",
            f"≤ {TARGETS['rss_mb']} MB",
        ),
        ("Re-send, other key order: seconds", f"{figures['resend_s']:.2f} s", ""),
        ("Re-send: baseline upsert of unchanged rows", f"{figures['resend_baseline_s']:.2f} s", ""),
        ("Re-send / baseline", f"{resend_ratio:.2f}", f"≤ {TARGETS['ratio']}"),
        ("Re-send rewrote rows (xmin changed)", str(figures["resend_rewritten"]), "False"),
        (
            "Small syncs: requests/s (16 clients, 100 points)",
            f"{figures['small_rps']:.0f}",
            f"≥ {TARGETS['small_rps']}",
        ),
        (
            "Small syncs: p50 / p99",
            f"{figures['small_p50_ms']:.0f} / {figures['small_p99_ms']:.0f} ms",
            f"p99 ≤ {TARGETS['small_p99_ms']} ms",
        ),
        ("Small syncs: errors", f"{figures['small_errors']:.0f}", "0"),
    ]
    if "mixed_p99_ms" in figures:
        rows += [
            (
                "Mixed: small-sync p99 during a bulk ingest",
                f"{figures['mixed_p99_ms']:.0f} ms",
                f"≤ {TARGETS['mixed_p99_ms']} ms",
            ),
            ("Mixed: errors", f"{figures['mixed_errors']:.0f}", "0"),
        ]
    rows += [
        (
            f"Scaling: µs per point at 10k / 100k / {points // 1000}k",
            " / ".join(f"{v * 1e6:.2f}" for v in per_point.values()),
            "",
        ),
        ("Scaling: per point at full size / at 100k", f"{scaling:.2f}", f"≤ {TARGETS['scaling']}"),
    ]
    table = "\n".join(f"| {name} | {value} | {target} |" for name, value, target in rows)
    return (
        "## Ingest\n\n"
        f"Measured {machine}; median of {runs} runs of `make bench` "
        "(`python -m bench`), real server (`health-export serve`, production settings but "
        "per-user rate limits of 1,000,000 an hour, "
        "loopback), real PostgreSQL 15.\n\n"
        "| Figure | Measured | Target |\n|---|---|---|\n" + table + "\n"
    )

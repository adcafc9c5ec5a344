"""Three years of minute data for one user, posted through the API, then read back.

Run alone: `.venv/bin/python -m bench.scale` (about 10-15 minutes on 2 cores: the 17
ingests take most of it; `--payloads 2` for a smoke run that writes nothing). Part of
`make bench` (`python -m bench`, or `python -m bench --only scale`).

Set-up, measured too: a fresh database and the real server (`health-export serve`, one
worker, loopback); seventeen bulk payloads of 935,000 points (ten metrics at minute
grouping, built as bench/ingest.py builds them, each starting where the one before
ended: 65 days each, about three years, 15.9 million rows) POSTed one after the other,
each until its rows are committed. Then VACUUM ANALYZE and, median of 7 runs after 2
warm ones each: the daily heart-rate series over the three years and over one month,
the daily series of the last 365 days (offsets and tz=), and /activity/daily for them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures import payloads  # noqa: E402
from tests.fixtures.auth import TestKey, add_key, app_like  # noqa: E402

from bench.harness import (  # noqa: E402
    SERVER_URL,
    Server,
    bench_engine,
    drop_database,
    fresh_database,
    new_key,
)
from bench.ingest import BULK_POINTS, post_until_stored  # noqa: E402
from health_export.auth.principal import Scope  # noqa: E402

DATABASE = "health_export_bench_scale"
PAYLOADS = 17
RUNS = 7
WARM_UP = 2
FIRST = datetime(2023, 1, 1, tzinfo=timezone(timedelta(hours=-4)))
TARGETS = {"ratio": 3.0, "year_ms": 50.0, "activity_ms": 50.0}
_SIZES = """
SELECT (SELECT count(*) FROM metric_samples) AS samples,
       (SELECT sum(pg_table_size(relid)) FROM pg_partition_tree('metric_samples')
         WHERE isleaf) AS heap,
       (SELECT sum(pg_indexes_size(relid)) FROM pg_partition_tree('metric_samples')
         WHERE isleaf) AS indexes,
       (SELECT count(*) FROM metric_rollups) AS daily_rows,
       pg_total_relation_size('metric_rollups') AS daily,
       (SELECT count(*) FROM metric_hourly_rollups) AS hourly_rows,
       pg_total_relation_size('metric_hourly_rollups') AS hourly
"""


def payload(index: int, points: int) -> bytes:
    """The ``index``-th bulk body: ``points`` points, starting where the previous ended."""
    per_metric = points // len(payloads.BENCHMARK_METRICS)
    start = FIRST + timedelta(minutes=index * per_metric)
    doc = payloads.hae_metrics(payloads.BENCHMARK_METRICS, count=per_metric, start=start)
    return orjson.dumps(doc)


async def load(url: str, server: Server, headers: dict[str, str], bodies: int) -> list[float]:
    """POST every body (built one at a time); seconds each took to its committed rows."""
    seconds: list[float] = []
    async with httpx.AsyncClient(base_url=server.url) as http:
        for index in range(bodies):
            body = payload(index, BULK_POINTS)
            started = time.perf_counter()
            answer = await post_until_stored(http, headers, body)
            seconds.append(time.perf_counter() - started)
            assert answer["inserted"] == BULK_POINTS, answer
            print(f"payload {index + 1}/{bodies}: {seconds[-1]:.1f} s", flush=True)
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await apg.execute("VACUUM ANALYZE")
    finally:
        await apg.close()
    return seconds


def _median_ms(http: httpx.Client, path: str, headers: dict[str, str], **params: Any) -> float:
    timings = []
    for _ in range(WARM_UP + RUNS):
        started = time.perf_counter()
        response = http.get(path, params=params, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return statistics.median(timings[WARM_UP:])


def _points(http: httpx.Client, path: str, headers: dict[str, str], **params: Any) -> int:
    answer = http.get(path, params=params, headers=headers).json()
    return len(answer.get("points", answer.get("days", [])))


def reads(server: Server, headers: dict[str, str], last_day: date) -> dict[str, float]:
    """Every read figure, the series checked for their number of days."""
    everything = {"start": FIRST.date().isoformat(), "end": last_day.isoformat()}
    # The year before the last day, and the last whole calendar month in it.
    year = {"start": (last_day - timedelta(days=365)).isoformat(), "end": last_day.isoformat()}
    month_end = last_day.replace(day=1)
    month_start = (month_end - timedelta(days=1)).replace(day=1)
    month = {"start": month_start.isoformat(), "end": month_end.isoformat()}
    series = "/api/v1/metrics/heart_rate/series"
    figures: dict[str, float] = {}
    with httpx.Client(base_url=server.url, timeout=120) as http:
        figures["all_days"] = _points(http, series, headers, **everything)
        figures["all_ms"] = _median_ms(http, series, headers, **everything)
        figures["month_ms"] = _median_ms(http, series, headers, **month)
        figures["year_days"] = _points(http, series, headers, **year)
        figures["year_ms"] = _median_ms(http, series, headers, **year)
        figures["year_tz_ms"] = _median_ms(http, series, headers, tz="America/New_York", **year)
        figures["all_tz_ms"] = _median_ms(
            http, series, headers, tz="America/New_York", **everything
        )
        activity = "/api/v1/activity/daily"
        figures["activity_days"] = _points(http, activity, headers, **year)
        figures["activity_ms"] = _median_ms(http, activity, headers, **year)
    figures["ratio"] = figures["all_ms"] / figures["month_ms"]
    return figures


async def sizes(url: str) -> dict[str, float]:
    """Bytes per sample of the rows, their indexes and the rollups."""
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = dict(await apg.fetchrow(_SIZES))
    finally:
        await apg.close()
    return {name: float(value) for name, value in row.items()}


async def _prepare() -> tuple[str, dict[str, str]]:
    url = await fresh_database(DATABASE)
    engine = bench_engine(url)
    try:
        key = await new_key(engine, (Scope.INGEST, Scope.READ))
    finally:
        await engine.dispose()
    return url, {**key.headers, "Content-Type": "application/json"}


async def _reuse() -> tuple[str, dict[str, str]]:
    """The database a ``--keep`` run left, and a new read key of its one user."""
    url = f"{SERVER_URL}/{DATABASE}".replace("postgresql://", "postgresql+asyncpg://")
    engine = bench_engine(url)
    try:
        async with engine.connect() as conn:
            user_id, name = (await conn.execute(text("SELECT id, name FROM users"))).one()
        holder = app_like(engine)
        key = await add_key(holder, TestKey(user_id, name, "", 0), (Scope.READ,))
    finally:
        await engine.dispose()
    return url, key.headers


def measure(bodies: int = PAYLOADS, *, keep: bool = False, reuse: bool = False) -> dict[str, Any]:
    """Load ``bodies`` payloads through the server and take every figure (``reuse``: the
    reads only, on the database a ``keep`` run left)."""
    url, headers = asyncio.run(_reuse() if reuse else _prepare())
    keep = keep or reuse
    try:
        with Server(url) as server:
            seconds = [0.0] if reuse else asyncio.run(load(url, server, headers, bodies))
            per_metric = BULK_POINTS // len(payloads.BENCHMARK_METRICS)
            end = FIRST + timedelta(minutes=bodies * per_metric)
            figures: dict[str, Any] = reads(server, headers, end.date())
        figures.update(asyncio.run(sizes(url)))
    finally:
        if not keep:
            asyncio.run(drop_database(DATABASE))
    figures.update(
        bodies=bodies,
        ingest_s=sum(seconds),
        ingest_median_s=statistics.median(seconds),
        points=bodies * BULK_POINTS,
        first=FIRST.date().isoformat(),
        last=end.date().isoformat(),
    )
    return figures


def render(figures: dict[str, Any], load_average: str) -> str:
    """The scale section of bench/README.md."""
    samples = figures["samples"]
    years = figures["all_days"] / 365.25
    rows = [
        (
            f"ingest: {figures['bodies']:.0f} × 935k-point bodies over HTTP",
            "",
            f"{figures['ingest_s']:.0f} s ({figures['points'] / figures['ingest_s']:,.0f} "
            f"points/s; median body {figures['ingest_median_s']:.1f} s)"
            if figures["ingest_s"]
            else "not run (--reuse)",
        ),
        (
            f"daily series, heart_rate, {figures['all_days']:.0f} days "
            f"({figures['first']} to {figures['last']})",
            "",
            f"{figures['all_ms']:.0f} ms",
        ),
        ("daily series, heart_rate, one month", "", f"{figures['month_ms']:.0f} ms"),
        ("three years / one month", f"≤ {TARGETS['ratio']:.0f}", f"{figures['ratio']:.1f}"),
        (
            f"daily series, heart_rate, a year ({figures['year_days']:.0f} days)",
            f"≤ {TARGETS['year_ms']:.0f} ms",
            f"{figures['year_ms']:.0f} ms",
        ),
        (
            "the same with tz=America/New_York (hourly rollups)",
            "",
            f"{figures['year_tz_ms']:.0f} ms",
        ),
        ("three years with tz=America/New_York", "", f"{figures['all_tz_ms']:.0f} ms"),
        (
            f"/activity/daily, a year ({figures['activity_days']:.0f} days)",
            f"≤ {TARGETS['activity_ms']:.0f} ms",
            f"{figures['activity_ms']:.0f} ms",
        ),
        (
            f"bytes per sample ({samples:,.0f} rows): heap / indexes",
            "",
            f"{figures['heap'] / samples:.0f} / {figures['indexes'] / samples:.0f} B",
        ),
        (
            "rollups: daily / hourly (rows, size)",
            "",
            f"{figures['daily_rows']:,.0f} rows {figures['daily'] / 1e6:.1f} MB / "
            f"{figures['hourly_rows']:,.0f} rows {figures['hourly'] / 1e6:.1f} MB",
        ),
        (
            "rollups per user-year of these ten minute metrics",
            "",
            f"{(figures['daily'] + figures['hourly']) / years / 1e6:.1f} MB "
            f"({(figures['daily'] + figures['hourly']) / samples:.1f} B per sample)",
        ),
    ]
    table = "\n".join(f"| {what} | {target} | {value} |" for what, target, value in rows)
    return (
        "## Three years of minute data\n\n"
        "`bench/scale.py` (`python -m bench.scale`, alone; or `python -m bench --only scale`)\n"
        "posts seventeen 935,000-point bulk bodies (ten metrics, minute grouping, each\n"
        "starting where the one before ended) for one user through the real server, then\n"
        "times the reads, median of 7 runs after 2 warm ones.\n\n"
        f"Measured {datetime.now().date()}, load average {load_average} at the start.\n\n"
        "| what | target | measured |\n|---|---|---|\n" + table + "\n"
    )


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def bench_section(*, quick: bool = False) -> tuple[str, str]:
    """(marker name, markdown) of this benchmark for bench/README.md."""
    load_average = _load_average()
    figures = measure(2 if quick else PAYLOADS)
    return "scale", render(figures, load_average)


def main() -> None:
    """Run from the command line; print the section (written only by `python -m bench`)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payloads", type=int, default=PAYLOADS)
    parser.add_argument("--write", action="store_true", help="write the bench/README.md section")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="only the reads, on the database --keep left"
    )
    args = parser.parse_args()
    load_average = _load_average()
    figures = measure(args.payloads, keep=args.keep, reuse=args.reuse)
    section = render(figures, load_average)
    print(section)
    if args.write:
        from bench.__main__ import README, replace_section

        README.write_text(replace_section(README.read_text(), "scale", section))


if __name__ == "__main__":
    main()

"""Read API latency and export throughput over one year of minute-level data.

Run: `.venv/bin/python bench/read_api.py`. Set-up (not measured): a fresh database, one
user with 525,600 minute heart-rate samples and 525,600 minute step samples for 2024
(America/New_York offsets, DST included), COPYed straight into ``metric_samples`` (the
ingest path has its own benchmark), then VACUUM ANALYZE. Measured: HTTP requests to the
real server (`health-export serve`, one worker, loopback), median of repeated runs, and
one full NDJSON export of the metrics streamed to /dev/null with the server's RSS.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Server, bench_engine, fresh_database, new_key, settle  # noqa: E402
from health_export.auth.principal import Scope  # noqa: E402
from health_export.core.db import connections_of  # noqa: E402
from health_export.rollups.rebuild import rebuild_user  # noqa: E402
from health_export.schema.partitions import ensure_partitions_exist, month_of  # noqa: E402

DATABASE = "health_export_bench_read"
MINUTES = 525_600
YEAR_START = datetime(2024, 1, 1, 5, 0, tzinfo=UTC)  # local midnight in New York
ZONE = ZoneInfo("America/New_York")
RUNS = 15


def _rows(user_id: int, hr_id: int, steps_id: int, source_id: int) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for minute in range(MINUTES):
        start = YEAR_START + timedelta(minutes=minute)
        off = int(start.astimezone(ZONE).utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
        beat = 60.0 + (minute * 7919 % 600) / 10
        rows.append(
            (user_id, hr_id, source_id, start, off, "count/min", None, beat - 5, beat, beat + 5)
        )
        rows.append(
            (
                user_id,
                steps_id,
                source_id,
                start,
                off,
                "count",
                float(minute % 37),
                None,
                None,
                None,
            )
        )
    return rows


async def load_year(url: str, engine: Any, user_id: int) -> None:
    """COPY a year of minute heart rate and steps for ``user_id``."""
    months = {month_of(YEAR_START + timedelta(days=day)) for day in range(367)}
    await ensure_partitions_exist(connections_of(engine), "metric_samples", months)
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        ids = {}
        for name in ("heart_rate", "step_count"):
            ids[name] = await apg.fetchval(
                "INSERT INTO metric_types (name) VALUES ($1) ON CONFLICT (name) DO UPDATE "
                "SET name = EXCLUDED.name RETURNING id",
                name,
            )
        source = await apg.fetchval(
            "INSERT INTO sources (name) VALUES ('Bench Watch') RETURNING id"
        )
        rows = _rows(user_id, ids["heart_rate"], ids["step_count"], source)
        columns = [
            "user_id",
            "metric_id",
            "source_id",
            "start_at",
            "utc_offset_min",
            "unit",
            "qty",
            "min",
            "avg",
            "max",
        ]
        await apg.copy_records_to_table("metric_samples", records=rows, columns=columns)
        # What the ingest writer records alongside the samples.
        await apg.execute(
            "INSERT INTO metric_sources SELECT DISTINCT user_id, metric_id, source_id "
            "FROM metric_samples ON CONFLICT DO NOTHING"
        )
        await apg.execute("VACUUM ANALYZE metric_samples")
    finally:
        await apg.close()
    # The rollups the ingest writer keeps beside the rows (the COPY above bypassed it).
    await rebuild_user(engine, user_id, "bench")
    await settle()


_STORAGE = """
SELECT (SELECT count(*) FROM metric_samples) AS samples,
       (SELECT sum(pg_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c
          ON c.oid = i.inhrelid WHERE i.inhparent = 'metric_samples'::regclass) AS heap,
       (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c
          ON c.oid = i.inhrelid WHERE i.inhparent = 'metric_samples'::regclass) AS total,
       (SELECT count(*) FROM metric_rollups) AS rollup_rows,
       pg_total_relation_size('metric_rollups') AS daily_rollups,
       (SELECT count(*) FROM metric_hourly_rollups) AS hourly_rollup_rows,
       pg_total_relation_size('metric_hourly_rollups') AS hourly_rollups
"""


async def storage(url: str) -> dict[str, float]:
    """Bytes per stored sample: the partitions of metric_samples (heap, TOAST, indexes)
    and the rollups, measured with pg_total_relation_size."""
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = await apg.fetchrow(_STORAGE)
    finally:
        await apg.close()
    samples = row["samples"]
    rollups = row["daily_rollups"] + row["hourly_rollups"]
    return {
        "bytes_per_sample": (row["total"] + rollups) / samples,
        "heap_bytes_per_sample": row["heap"] / samples,
        "index_bytes_per_sample": (row["total"] - row["heap"]) / samples,
        "rollup_bytes_per_sample": rollups / samples,
        "rollup_rows": row["rollup_rows"],
        "rollup_bytes": row["daily_rollups"],
        "hourly_rollup_rows": row["hourly_rollup_rows"],
        "hourly_rollup_bytes": row["hourly_rollups"],
    }


def _median_ms(http: httpx.Client, path: str, headers: dict[str, str], **params: Any) -> float:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = http.get(path, params=params, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return statistics.median(timings[2:])  # the first runs warm the caches and pool


def _export(http: httpx.Client, server: Server, headers: dict[str, str]) -> tuple[int, float]:
    lines = 0
    started = time.perf_counter()
    params = {"format": "ndjson", "types": "metrics"}
    with http.stream("GET", "/api/v1/export", params=params, headers=headers) as response:
        for chunk in response.iter_raw():
            lines += chunk.count(b"\n")
    return lines, time.perf_counter() - started


async def _prepare() -> tuple[str, dict[str, str]]:
    url = await fresh_database(DATABASE)
    engine = bench_engine(url)
    try:
        key = await new_key(engine, (Scope.READ,))
        await load_year(url, engine, key.user_id)
    finally:
        await engine.dispose()
    return url, {**key.headers, "Accept-Encoding": "identity"}


def measure() -> dict[str, float]:
    """Every figure of the Read API section."""
    url, headers = asyncio.run(_prepare())
    figures: dict[str, float] = {}
    with Server(url) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        year = {"start": "2024-01-01T00:00:00-05:00", "end": "2025-01-01T00:00:00-05:00"}
        month = {"start": "2024-06-01T00:00:00-04:00", "end": "2024-07-01T00:00:00-04:00"}
        series = "/api/v1/metrics/{}/series"
        figures["daily_hr_ms"] = _median_ms(http, series.format("heart_rate"), headers, **year)
        figures["daily_steps_ms"] = _median_ms(http, series.format("step_count"), headers, **year)
        days = {"start": "2024-01-01", "end": "2025-01-01"}
        figures["daily_hr_days_ms"] = _median_ms(http, series.format("heart_rate"), headers, **days)
        figures["daily_hr_month_ms"] = _median_ms(
            http, series.format("heart_rate"), headers, **month
        )
        figures["year_vs_month"] = figures["daily_hr_ms"] / figures["daily_hr_month_ms"]
        figures["activity_year_ms"] = _median_ms(http, "/api/v1/activity/daily", headers, **days)
        figures["daily_hr_tz_ms"] = _median_ms(
            http, series.format("heart_rate"), headers, tz="America/New_York", **days
        )
        figures["daily_hr_tz_rows_ms"] = _median_ms(
            http, series.format("heart_rate"), headers, tz="Asia/Kolkata", **days
        )
        figures["activity_year_tz_ms"] = _median_ms(
            http, "/api/v1/activity/daily", headers, tz="Europe/Paris", **days
        )
        figures["hourly_hr_ms"] = _median_ms(
            http, series.format("heart_rate"), headers, bucket="hour", **month
        )
        figures["hourly_steps_ms"] = _median_ms(
            http, series.format("step_count"), headers, bucket="hour", **month
        )
        figures["raw_page_ms"] = _median_ms(
            http, "/api/v1/metrics/heart_rate", headers, limit=1000, start="2024-07-01"
        )
        rss_before = server.peak_rss_mb()["worker"]
        rows, seconds = _export(http, server, headers)
        figures["export_rows"] = rows
        figures["export_rows_per_s"] = rows / seconds
        figures["rss_before_mb"] = rss_before
        figures["rss_growth_mb"] = server.peak_rss_mb()["worker"] - rss_before
    figures.update(asyncio.run(storage(url)))
    return figures


TARGETS = {
    "daily_hr_ms": ("daily series, year, heart_rate (avg)", "≤ 50 ms"),
    "daily_steps_ms": ("daily series, year, step_count (sum)", "≤ 50 ms"),
    "daily_hr_days_ms": ("daily series, year as bare dates, heart_rate", "≤ 50 ms"),
    "daily_hr_month_ms": ("daily series, month, heart_rate", ""),
    "activity_year_ms": ("/activity/daily, year", "≤ 50 ms"),
    "daily_hr_tz_ms": ("daily series, year, heart_rate, tz=America/New_York (hourly)", "≤ 50 ms"),
    "daily_hr_tz_rows_ms": ("daily series, year, heart_rate, tz=Asia/Kolkata (rows)", ""),
    "activity_year_tz_ms": ("/activity/daily, year, tz=Europe/Paris (hourly)", "≤ 50 ms"),
    "hourly_hr_ms": ("hourly series, month, heart_rate", "≤ 200 ms"),
    "hourly_steps_ms": ("hourly series, month, step_count", "≤ 200 ms"),
    "raw_page_ms": ("raw page of 1 000 samples", "≤ 50 ms"),
}


def bench_section(*, quick: bool = False) -> tuple[str, str]:
    """(marker name, markdown) of this benchmark for bench/README.md."""
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    figures = measure()
    rows = [
        f"| {label} | {target} | {figures[key]:.0f} ms |"
        for key, (label, target) in TARGETS.items()
    ]
    rows.append(
        f"| daily series year / month (heart_rate) | ≤ 3 | {figures['year_vs_month']:.1f} |"
    )
    rows.append(
        f"| bytes per stored sample (table + indexes + rollups) | ≤ ~100 B | "
        f"{figures['bytes_per_sample']:.0f} B (heap {figures['heap_bytes_per_sample']:.0f}, "
        f"indexes {figures['index_bytes_per_sample']:.0f}, rollups "
        f"{figures['rollup_bytes_per_sample']:.2f}) |"
    )
    rows.append(
        f"| rollups: daily / hourly | | {figures['rollup_rows']:,.0f} rows, "
        f"{figures['rollup_bytes'] / 1e6:.2f} MB / {figures['hourly_rollup_rows']:,.0f} rows, "
        f"{figures['hourly_rollup_bytes'] / 1e6:.2f} MB |"
    )
    rows.append(
        f"| NDJSON export, {figures['export_rows']:,.0f} rows | ≥ 100 000 rows/s | "
        f"{figures['export_rows_per_s']:,.0f} rows/s |"
    )
    rows.append(
        f"| server RSS growth during the export | ≤ 100 MB | "
        f"{figures['rss_growth_mb']:.0f} MB (peak {figures['rss_before_mb']:.0f} MB "
        "before) |"
    )
    body = (
        "## Read API\n\n"
        "`bench/read_api.py` loads one user with a year (2024) of minute-level heart rate and\n"
        "steps (525 600 samples each, America/New_York offsets, COPYed straight into\n"
        "`metric_samples` with the `metric_sources` rows and the daily and hourly rollups\n"
        "the writer keeps, then VACUUM ANALYZE), starts the real server\n"
        "(`health-export serve`, one worker, loopback) and\n"
        "times the HTTP read endpoints (median of 13 runs after 2 warm ones), then streams\n"
        "one full NDJSON export and reads the server's peak RSS.\n\n"
        f"Measured {datetime.now(UTC).date()}, load average {load_average} at the start.\n\n"
        "| what | target | measured |\n|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "How the daily series meet their target: day, week and month buckets and\n"
        "/activity/daily read `metric_rollups` (one row per user, metric, local day and\n"
        "source, kept by the ingest writer), so a year is 365 rows instead of 525,600; the\n"
        "days a range of instants cuts at its ends are read from the rows (a few thousand).\n"
        "`tz=` regroups `metric_hourly_rollups` (per UTC hour and source) by the zone\n"
        "when every hour of the data falls in one local day of it (whole-hour offsets);\n"
        "a zone such as Asia/Kolkata (+05:30) reads the rows (in parallel, with\n"
        "`work_mem` raised so the grouping is not spilled to disk).\n"
    )
    return "read_api", body


def main() -> None:
    """Measure and print the figures."""
    for name, value in measure().items():
        print(f"{name}={value:,.1f}")


if __name__ == "__main__":
    main()

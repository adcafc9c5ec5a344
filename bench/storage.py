"""Bytes per stored sample: what a user-year of minute data costs on disk.

Run: `.venv/bin/python bench/storage.py`. A fresh database; one user's minute-level data
for the ten metrics of the ingest benchmark, posted through the app's ingest (in
process, so the rows, indexes and raw bodies are exactly what the writer stores); then
VACUUM ANALYZE and ``pg_table_size`` / ``pg_indexes_size`` summed over every partition.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures import payloads  # noqa: E402

from bench.harness import REDIS_URL, fresh_database, new_key  # noqa: E402
from health_export.auth.principal import Scope  # noqa: E402
from health_export.core.config import load_settings  # noqa: E402
from health_export.core.state import state_of
from health_export.main import create_app  # noqa: E402

DATABASE = "health_export_bench_storage"
DAYS_PER_BODY = 3
BODIES = 2
_SIZES = (
    "SELECT coalesce(sum(pg_table_size(relid)), 0), coalesce(sum(pg_indexes_size(relid)), 0) "
    "FROM pg_partition_tree($1) WHERE isleaf"
)


async def _ingest(url: str) -> None:
    settings = load_settings(
        database_url=url, redis_url=REDIS_URL, ingest_parser_process=False, log_level="WARNING"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        key = await new_key(state_of(app).engine, (Scope.INGEST,))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for body in range(BODIES):
                start = payloads.START + timedelta(days=body * DAYS_PER_BODY)
                doc = payloads.hae_metrics(count=DAYS_PER_BODY * 1440, start=start, seed=body)
                answer = await http.post(
                    "/api/v1/ingest", content=orjson.dumps(doc), headers=key.headers, timeout=300
                )
                answer.raise_for_status()


async def measure() -> dict[str, float]:
    """Ingest the data set; bytes per sample of the samples table and the raw bodies."""
    url = await fresh_database(DATABASE)
    await _ingest(url)
    apg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await apg.execute("VACUUM ANALYZE")
        rows = await apg.fetchval("SELECT count(*) FROM metric_samples")
        table, indexes = await apg.fetchrow(_SIZES, "metric_samples")
        raw_table, _ = await apg.fetchrow(_SIZES, "raw_ingestions")
    finally:
        await apg.close()
    return {
        "rows": float(rows),
        "table_b": table / rows,
        "indexes_b": indexes / rows,
        "total_b": (table + indexes) / rows,
        "raw_b": raw_table / rows,
    }


def bench_section(*, quick: bool = False) -> tuple[str, str]:
    """(marker name, markdown) of this benchmark for bench/README.md."""
    figures: dict[str, Any] = asyncio.run(measure())
    body = (
        "## Storage\n\n"
        f"`bench/storage.py` posts {BODIES} bodies of {DAYS_PER_BODY} days of minute data for\n"
        "the ten metrics of the ingest benchmark through the app's ingest, then VACUUM\n"
        "ANALYZE, and sums `pg_table_size` (heap, TOAST, free-space and visibility maps) and\n"
        "`pg_indexes_size` over every partition.\n\n"
        "| what | bytes per sample |\n|---|---|\n"
        f"| `metric_samples` rows ({figures['rows']:,.0f}) | {figures['table_b']:.0f} |\n"
        f"| `metric_samples` indexes | {figures['indexes_b']:.0f} |\n"
        f"| `metric_samples` total | {figures['total_b']:.0f} |\n"
        f"| raw bodies kept (`raw_ingestions`, zstd) | {figures['raw_b']:.0f} |\n"
    )
    return "storage", body


def main() -> None:
    """Measure and print the figures."""
    for name, value in asyncio.run(measure()).items():
        print(f"{name}={value:,.1f}")


if __name__ == "__main__":
    main()

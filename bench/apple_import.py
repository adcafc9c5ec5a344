"""Apple Health archive import: CLI end to end against a bare floor, re-import, mixed load.

Run alone: `.venv/bin/python -m bench --only apple_import`, or with other sizes
`.venv/bin/python bench/apple_import.py --sizes 200000,2000000`; `make bench` runs it too.
A fresh database; an export.zip of N records (minute-level heart rate from a Watch and
steps from a phone, half each) made by this module's own generator and kept under
``BENCH_IMPORT_DIR``;
then, for each size:

- **import**: `health-export import apple-health` as a subprocess, timed from start to
  exit, with the peak of the summed RSS of its process tree (sampled every 20 ms);
- **floor**: the same XML parsed by expat in this process (one start-element callback
  building each typed row), then the same rows COPYed into a partitioned table with
  the same primary key; floor = parse + COPY, so the import beats it only by
  overlapping the two;
- **re-import**: the same archive again: its time, and the rows it rewrote (row
  versions whose ``xmin`` is newer than the re-import's start);
- **mixed** (largest size): small HAE syncs (100 points each, 16 phones, one of them the
  importing user's own) against the real server while the CLI imports that user's
  archive: p50 / p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.parsers import expat

import asyncpg
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    REPO,
    Server,
    bench_engine,
    drop_database,
    fresh_database,
    new_key,
    quantile,
    settle,
)
from bench.ingest import Phones, SmallSyncs, prepare_phones, small_syncs  # noqa: E402

DATABASE = "health_export_bench_import"
SIZES = (200_000, 2_000_000)
QUICK_SIZES = (20_000,)
ARCHIVE_DIR = Path(os.environ.get("BENCH_IMPORT_DIR", "/tmp/health_export_bench_import"))  # noqa: S108
ZONE = "Europe/Paris"
ARCHIVE_YEAR = 2019
# Bodies for this many seconds at 40 syncs a second each (a phone sends ~15 a second):
# enough for the 1-2 minutes an import of 2M records takes beside them.
MIXED_SECONDS_MAX = 60
TARGETS = {"ratio": 1.0, "rss_mb": 300.0, "reimport_ratio": 1.5, "mixed_p99_ms": 1000.0}

WATCH = "Simon’s Apple\u00a0Watch"
PHONE = "Simon’s iPhone"
WATCH_DEVICE = (
    "&lt;&lt;HKDevice: 0x282a45810&gt;, name:Apple Watch, manufacturer:Apple, model:Watch, "
    "hardware:Watch6,2, software:9.1&gt;"
)
PHONE_DEVICE = (
    "&lt;&lt;HKDevice: 0x2839c1e00&gt;, name:iPhone, manufacturer:Apple, model:iPhone, "
    "hardware:iPhone14,2, software:16.1&gt;"
)
_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [\n'
    "<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>\n"
    ']>\n<HealthData locale="en_FR">\n <ExportDate value="2024-05-13 10:36:12 +0200"/>\n'
    ' <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexNotSet"/>\n'
)


# --- the generated archive ---------------------------------------------------------


def _export_time(moment: datetime) -> str:
    # The export writes the exporting phone's offset on every row, summer and winter.
    return (moment + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S +0200")


def _record_lines(records: int, year: int) -> Any:
    """The Record elements: one heart rate and one step count per minute."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    for minute in range(records // 2):
        at = _export_time(start + timedelta(minutes=minute))
        end = _export_time(start + timedelta(minutes=minute + 1))
        bpm = 55 + (minute * 7919) % 90
        yield (
            f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="{WATCH}" '
            f'sourceVersion="9.1" device="{WATCH_DEVICE}" unit="count/min" '
            f'creationDate="{at}" startDate="{at}" endDate="{at}" value="{bpm}">\n'
            '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n'
            " </Record>\n"
            f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="{PHONE}" '
            f'sourceVersion="16.1" device="{PHONE_DEVICE}" unit="count" '
            f'creationDate="{end}" startDate="{at}" endDate="{end}" value="{minute % 120}"/>\n'
        )


def archive_path(records: int) -> Path:
    """Where the archive of ``records`` records is (made once, then reused)."""
    path = ARCHIVE_DIR / f"export-{records}-{ARCHIVE_YEAR}.zip"
    if path.exists():
        return path
    ARCHIVE_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with (
        zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("apple_health_export/export.xml", "w", force_zip64=True) as member,
    ):
        member.write(_HEAD.encode())
        lines: list[str] = []
        for line in _record_lines(records, ARCHIVE_YEAR):
            lines.append(line)
            if len(lines) == 5000:
                member.write("".join(lines).encode())
                lines = []
        member.write(("".join(lines) + "</HealthData>\n").encode())
    partial.rename(path)
    return path


def xml_size(path: Path) -> int:
    """export.xml's inflated size."""
    with zipfile.ZipFile(path) as zf:
        return zf.getinfo("apple_health_export/export.xml").file_size


# --- the CLI as a subprocess, its process tree's memory -----------------------------


class TreeRss:
    """The peak of the summed RSS of a process and its descendants, sampled."""

    INTERVAL_S = 0.02

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[int]:
        found, pending = [], [self.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            pending.extend(int(child) for child in children)
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            total_kb = 0
            for pid in self._tree():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except (FileNotFoundError, ProcessLookupError):
                    continue
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
            self.peak_mb = max(self.peak_mb, total_kb / 1024)
            self._stop.wait(self.INTERVAL_S)


def cli_command(path: Path, user: str) -> list[str]:
    """`health-export import apple-health` of ``path`` for ``user``."""
    return [
        str(REPO / ".venv/bin/health-export"),
        "import",
        "apple-health",
        str(path),
        "--user",
        user,
        "--tz",
        ZONE,
        "--json",
    ]


def cli_env(database_url: str) -> dict[str, str]:
    """The importer's environment: the benchmark database, quiet logs."""
    return {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}


def run_cli(database_url: str, path: Path, user: str) -> dict[str, Any]:
    """One import through the CLI: seconds to exit, peak tree RSS, its JSON summary."""
    cpu_before = _children_cpu_s()
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own console script
        cli_command(path, user),
        env=cli_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    with TreeRss(process.pid) as memory:
        out, _ = process.communicate()
    seconds = time.perf_counter() - started
    cpu_s = _children_cpu_s() - cpu_before
    if process.returncode != 0:
        raise RuntimeError(f"the import exited {process.returncode}")
    summary = orjson.loads(out.decode().strip().splitlines()[-1])
    return {"seconds": seconds, "cpu_s": cpu_s, "rss_mb": memory.peak_mb, "summary": summary}


def _children_cpu_s() -> float:
    """User + system seconds of this process's children that have exited."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- the floor: expat + COPY into a partitioned table with its primary key ----------

_FLOOR_TABLE = """
CREATE TABLE floor_samples (
    user_id bigint NOT NULL, metric_id integer NOT NULL, source_id integer NOT NULL,
    start_at timestamptz NOT NULL, end_at timestamptz, utc_offset_min smallint NOT NULL,
    unit text NOT NULL, qty double precision, avg double precision,
    PRIMARY KEY (user_id, metric_id, start_at, source_id)
) PARTITION BY RANGE (start_at)
"""
_FLOOR_COLUMNS = (
    "user_id",
    "metric_id",
    "source_id",
    "start_at",
    "end_at",
    "utc_offset_min",
    "unit",
    "qty",
    "avg",
)


def floor_parse(path: Path) -> tuple[list[tuple[Any, ...]], float, float]:
    """expat over export.xml with one callback making each typed row; (rows, seconds, CPU
    seconds)."""
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    metrics: dict[str, int] = {}
    sources: dict[str, int] = {}
    dates: dict[str, datetime] = {}

    def instant(text: str) -> datetime:
        moment = dates.get(text)
        if moment is None:
            moment = dates[text] = datetime.fromisoformat(text)
        return moment

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag != "Record":
            return
        metric = metrics.setdefault(attrs["type"], len(metrics) + 1)
        source = sources.setdefault(attrs["sourceName"], len(sources) + 1)
        start_at, end_at = instant(attrs["startDate"]), instant(attrs["endDate"])
        value = float(attrs["value"])
        qty, avg = (None, value) if metric == 1 else (value, None)
        add((1, metric, source, start_at, end_at, 60, attrs["unit"], qty, avg))

    started, cpu = time.perf_counter(), time.process_time()
    parser = expat.ParserCreate(encoding="UTF-8")
    parser.StartElementHandler = start
    with zipfile.ZipFile(path) as zf, zf.open("apple_health_export/export.xml") as xml:
        while chunk := xml.read(1024 * 1024):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return rows, time.perf_counter() - started, time.process_time() - cpu


async def floor_copy(database_url: str, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """COPY ``rows`` into a new partitioned table (monthly partitions made first);
    (seconds, CPU seconds of this process: asyncpg's encoding)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("DROP TABLE IF EXISTS floor_samples")
        await conn.execute(_FLOOR_TABLE)
        first = min(row[3] for row in rows).astimezone(UTC).replace(day=1, hour=0, minute=0)
        last = max(row[3] for row in rows)
        month = first.replace(second=0, microsecond=0)
        while month <= last:
            following = (month + timedelta(days=32)).replace(day=1)
            await conn.execute(
                f"CREATE TABLE floor_samples_{month:%Y%m} PARTITION OF floor_samples "
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{following.isoformat()}')"
            )
            month = following
        await settle()
        started, cpu = time.perf_counter(), time.process_time()
        await conn.copy_records_to_table(
            "floor_samples", records=rows, columns=list(_FLOOR_COLUMNS)
        )
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        await conn.execute("DROP TABLE floor_samples")
    finally:
        await conn.close()
    return seconds, cpu_s


# --- re-import: rows rewritten -------------------------------------------------------


async def current_xid(database_url: str) -> int:
    """The next transaction id (32-bit, as xmin shows it)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await conn.fetchval("SELECT txid_current() % 4294967296"))
    finally:
        await conn.close()


async def rows_written_since(database_url: str, user_id: int, xid: int) -> tuple[int, int]:
    """(rows of the user whose version is newer than ``xid``, rows of the user)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE xmin::text::bigint > $2), count(*) "
            "FROM metric_samples WHERE user_id = $1",
            user_id,
            xid,
        )
        return int(row[0]), int(row[1])
    finally:
        await conn.close()


# --- mixed: small syncs while an import runs ---------------------------------------


async def mixed(database_url: str, path: Path) -> tuple[SmallSyncs, SmallSyncs, float]:
    """Small syncs during a CLI import: 15 other users' phones, the importing user's
    phone, and the import's seconds."""
    engine = bench_engine(database_url)
    try:
        owner = await new_key(engine)
        phones = await prepare_phones(engine, ARCHIVE_YEAR + 3, MIXED_SECONDS_MAX)
    finally:
        await engine.dispose()
    # The importing user's phone syncs too (the first phone's bodies, the import's user):
    # the import must not hold that user's lock for long. Its latencies are kept apart.
    own = Phones([{**owner.headers, "Content-Type": "application/json"}], phones.bodies[:1])
    others = Phones(phones.headers[1:], phones.bodies[1:])
    with Server(database_url, workers=2) as server:
        await small_syncs(server, phones, lambda elapsed: elapsed < 3)  # warm-up
        await small_syncs(server, own, lambda elapsed: elapsed < 1)
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *cli_command(path, owner.user_name),
            env=cli_env(database_url),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        waiting = asyncio.ensure_future(process.wait())
        syncs, own_syncs = await asyncio.gather(
            small_syncs(server, others, lambda elapsed: not waiting.done()),
            small_syncs(server, own, lambda elapsed: not waiting.done()),
        )
        code = await waiting
        seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"the import beside small syncs exited {code}")
    return syncs, own_syncs, seconds


# --- the run ---------------------------------------------------------------------------


async def measure_size(database_url: str, records: int, report: Callable[[str], None]) -> dict:
    """Every figure of one archive size."""
    path = archive_path(records)
    engine = bench_engine(database_url)
    try:
        user = await new_key(engine)
    finally:
        await engine.dispose()
    await settle()
    first = run_cli(database_url, path, user.user_name)
    report(f"{records:,}: import {first['seconds']:.1f} s, peak RSS {first['rss_mb']:.0f} MB")
    rows, parse_s, parse_cpu_s = floor_parse(path)
    copy_s, copy_cpu_s = await floor_copy(database_url, rows)
    del rows
    report(f"{records:,}: floor parse {parse_s:.1f} s + COPY {copy_s:.1f} s")
    await settle()
    xid = await current_xid(database_url)
    again = run_cli(database_url, path, user.user_name)
    rewritten, stored = await rows_written_since(database_url, user.user_id, xid)
    report(f"{records:,}: re-import {again['seconds']:.1f} s, {rewritten} rows rewritten")
    floor_s = parse_s + copy_s
    return {
        "records": records,
        "xml_mb": xml_size(path) / 1e6,
        "import_s": first["seconds"],
        "import_cpu_s": first["cpu_s"],
        "floor_cpu_s": parse_cpu_s + copy_cpu_s,
        "rate": records / first["seconds"],
        "rss_mb": first["rss_mb"],
        "inserted": first["summary"]["inserted"],
        "stored": stored,
        "parse_s": parse_s,
        "copy_s": copy_s,
        "floor_s": floor_s,
        "floor_rate": records / floor_s,
        "ratio": first["seconds"] / floor_s,
        "reimport_s": again["seconds"],
        "reimport_rss_mb": again["rss_mb"],
        "reimport_ratio": again["seconds"] / first["seconds"],
        "reimport_unchanged": again["summary"]["unchanged"],
        "rewritten": rewritten,
    }


async def measure(
    sizes: tuple[int, ...], *, with_mixed: bool = True, report: Callable[[str], None] = print
) -> dict[str, Any]:
    """Every size, then the mixed run on the largest."""
    url = await fresh_database(DATABASE)
    figures: dict[str, Any] = {"sizes": [], "load": os.getloadavg()}
    try:
        for records in sizes:
            figures["sizes"].append(await measure_size(url, records, report))
        if with_mixed:
            syncs, own, seconds = await mixed(url, archive_path(max(sizes)))
            everyone = syncs.latencies_ms + own.latencies_ms
            figures["mixed"] = {
                "records": max(sizes),
                "import_s": seconds,
                "syncs": len(everyone),
                "p50_ms": quantile(everyone, 0.5) if everyone else 0.0,
                "p99_ms": quantile(everyone, 0.99) if everyone else 0.0,
                "own_syncs": len(own.latencies_ms),
                "own_p99_ms": quantile(own.latencies_ms, 0.99) if own.latencies_ms else 0.0,
                "own_max_ms": max(own.latencies_ms, default=0.0),
                "errors": syncs.errors + own.errors,
            }
            report(f"mixed: {figures['mixed']}")
    finally:
        figures["load_after"] = os.getloadavg()
        await drop_database(DATABASE)
    return figures


def render(figures: dict[str, Any], machine: str) -> str:
    """The bench/README.md section."""
    load = "/".join(f"{value:.1f}" for value in figures["load"])
    after = "/".join(f"{value:.1f}" for value in figures["load_after"])
    lines = [
        "## Apple Health archive import",
        "",
        f"Measured {machine}; load average {load} before, {after} after (1/5/15 min).",
        "`.venv/bin/python -m bench --only apple_import` runs this section alone. The archive is",
        "generated (minute heart rate from a Watch with its motion-context metadata, minute",
        "steps from a phone, device strings, the export-time offset on every row). The",
        "import is `health-export import apple-health` as a subprocess (start to exit); the",
        "floor parses the same XML with expat (one callback making typed rows) and then",
        "COPYs the same rows into a partitioned table with the same primary key: floor =",
        "parse + COPY, so an import at or under 1.0 overlaps the two.",
        "",
        "| Figure | "
        + " | ".join(f"{s['records']:,} records" for s in figures["sizes"])
        + " | Target |",
        "|---|" + "---|" * len(figures["sizes"]) + "---|",
    ]

    def row(name: str, cell: Callable[[dict[str, Any]], str], target: str = "") -> None:
        cells = " | ".join(cell(size) for size in figures["sizes"])
        lines.append(f"| {name} | {cells} | {target} |")

    row("export.xml size", lambda s: f"{s['xml_mb']:,.0f} MB")
    row("import: seconds (CLI, start to exit)", lambda s: f"{s['import_s']:.1f} s")
    row("import: records per second", lambda s: f"{s['rate']:,.0f}", "well over 50,000")
    row("floor: expat parse + COPY", lambda s: f"{s['parse_s']:.1f} + {s['copy_s']:.1f} s")
    row("floor: records per second", lambda s: f"{s['floor_rate']:,.0f}")
    row("import / floor", lambda s: f"{s['ratio']:.2f}", f"≤ {TARGETS['ratio']}")
    row(
        "Python CPU: importer process / floor's parse + COPY encoding",
        lambda s: f"{s['import_cpu_s']:.1f} / {s['floor_cpu_s']:.1f} s",
    )
    row("import: peak RSS of the process tree", lambda s: f"{s['rss_mb']:.0f} MB", "≤ 300 MB")
    row("rows stored (inserted by the import)", lambda s: f"{s['inserted']:,}")
    row("re-import: seconds", lambda s: f"{s['reimport_s']:.1f} s")
    row("re-import / import", lambda s: f"{s['reimport_ratio']:.2f}", "≤ 1.5")
    row("re-import: rows rewritten (xmin newer)", lambda s: f"{s['rewritten']:,}", "0")
    row("re-import: peak RSS", lambda s: f"{s['reimport_rss_mb']:.0f} MB", "≤ 300 MB")
    mixed_figures = figures.get("mixed")
    if mixed_figures:
        lines += [
            "",
            f"Small syncs during an import of {mixed_figures['records']:,} records "
            f"({mixed_figures['import_s']:.1f} s; real server, 2 workers, 16 phones posting "
            "100 points back to back, one of them the importing user's):",
            "",
            "| Figure | Measured | Target |",
            "|---|---|---|",
            f"| small syncs during the import | {mixed_figures['syncs']:,} | |",
            f"| p50 / p99 | {mixed_figures['p50_ms']:.0f} / {mixed_figures['p99_ms']:.0f} ms "
            "| p99 ≤ 1000 ms |",
            f"| the importing user's own phone: syncs, p99 / max | {mixed_figures['own_syncs']:,}, "
            f"{mixed_figures['own_p99_ms']:.0f} / {mixed_figures['own_max_ms']:.0f} ms "
            "| p99 ≤ 1000 ms |",
            f"| errors | {mixed_figures['errors']} | 0 |",
        ]
    return "\n".join(lines) + "\n"


def bench_section(*, quick: bool = False) -> tuple[str, str]:
    """(marker name, markdown) of this benchmark for bench/README.md."""
    from bench.__main__ import machine_line

    figures = asyncio.run(measure(QUICK_SIZES if quick else SIZES, with_mixed=not quick))
    return "apple_import", render(figures, machine_line())


def main() -> None:
    """Measure, print, and (unless --quick or --no-write) write the README section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--no-mixed", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    from bench.__main__ import README, machine_line, replace_section

    sizes = tuple(int(size) for size in args.sizes.split(","))
    figures = asyncio.run(measure(sizes, with_mixed=not args.no_mixed))
    section = render(figures, machine_line())
    print(section)
    if not args.no_write:
        README.write_text(replace_section(README.read_text(), "apple_import", section))


if __name__ == "__main__":
    main()

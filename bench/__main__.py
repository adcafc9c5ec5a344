"""`make bench`: every benchmark, printed, and the figures written to bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench import ingest

README = Path(__file__).resolve().parent / "README.md"
# Benchmarks of other areas: module → the function printing and returning their section.
OTHER_SECTIONS = (
    "bench.auth_overhead",
    "bench.read_api",
    "bench.storage",
    "bench.scale",
    "bench.dashboard",
    "bench.apple_import",
)
# `--only NAME`: one of these alone (its section written, the others kept).
ONLY = {"ingest": "bench.ingest", **{name.split(".")[1]: name for name in OTHER_SECTIONS}}


def machine_line() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs, {memory_kb // 1024 // 1024} GiB, "
        f"Python {platform.python_version()}, commit {commit or 'uncommitted'}"
    )


def replace_section(text: str, name: str, body: str) -> str:
    """Put ``body`` between the ``<!-- name:begin -->``/``end`` markers (appended if absent)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip() + "\n\n" + block + "\n"


def main() -> None:
    """Run the benchmarks; ``--quick`` for a smoke run that writes nothing; ``--only NAME``
    (ingest, auth_overhead, read_api, storage, scale, dashboard, apple_import) for one."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=sorted(ONLY), help="run this benchmark alone")
    args = parser.parse_args()
    if args.only and args.only != "ingest":
        _run_sections((ONLY[args.only],), quick=args.quick)
        return
    figures = asyncio.run(ingest.measure(args.runs, args.quick))
    section = ingest.render(figures, machine_line(), args.runs)
    print(section)
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if not args.quick:
        README.write_text(replace_section(text, "ingest", section))
    if args.only is None:
        _run_sections(OTHER_SECTIONS, quick=args.quick)


def _run_sections(module_names: tuple[str, ...], *, quick: bool) -> None:
    """Run each module's ``bench_section``, print it and (unless ``quick``) write it."""
    for module_name in module_names:
        module = importlib.import_module(module_name)
        if not hasattr(module, "bench_section"):
            continue
        name, section = module.bench_section(quick=quick)
        print(section)
        if not quick:
            text = README.read_text() if README.exists() else "# Benchmarks\n"
            README.write_text(replace_section(text, name, section))


if __name__ == "__main__":
    main()

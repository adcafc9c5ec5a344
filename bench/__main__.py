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
OTHER_SECTIONS = ("bench.auth_overhead", "bench.read_api", "bench.storage", "bench.apple_import")
# `python -m bench NAME` runs one benchmark alone: NAME → its module.
ALONE = {
    "ingest": "bench.ingest",
    "auth": "bench.auth_overhead",
    "read_api": "bench.read_api",
    "storage": "bench.storage",
    "import": "bench.apple_import",
}


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
    """Run the benchmarks (or the one named); ``--quick`` for a smoke run that writes nothing."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="?", choices=sorted(ALONE), help="run this one alone")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.only is not None and args.only != "ingest":
        _run_alone(ALONE[args.only], args.quick)
        return
    figures = asyncio.run(ingest.measure(args.runs, args.quick))
    section = ingest.render(figures, machine_line(), args.runs)
    print(section)
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if not args.quick:
        text = replace_section(text, "ingest", section)
    for module_name in () if args.only == "ingest" else OTHER_SECTIONS:
        module = importlib.import_module(module_name)
        if hasattr(module, "bench_section"):
            name, other = module.bench_section(quick=args.quick)
            print(other)
            if not args.quick:
                text = replace_section(text, name, other)
    README.write_text(text)


def _run_alone(module_name: str, quick: bool) -> None:
    """One benchmark's section, printed and (unless quick) written to the README."""
    name, section = importlib.import_module(module_name).bench_section(quick=quick)
    print(section)
    if not quick:
        README.write_text(replace_section(README.read_text(), name, section))


if __name__ == "__main__":
    main()

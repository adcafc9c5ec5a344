"""``health-export import apple-health PATH --user NAME [--tz ZONE] [--json]``.

Progress goes to stderr (a rich progress bar on a terminal, a plain line every few
seconds otherwise), the summary to stdout; with ``--json`` the last stdout line is one
JSON object. rich is the progress library because typer already depends on it (no new
package), and its bar shows bytes, records, rate and ETA (updated between parse
chunks; it redraws on a thread of its own).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
import typer

from health_export.cli_database import exit_on_database_failure
from health_export.cli_settings import command_settings
from health_export.core.config import Settings
from health_export.core.errors import AppError
from health_export.imports.apple_health.archive import ImportLimits
from health_export.imports.apple_health.clock import zone_named
from health_export.imports.apple_health.importer import (
    ImportProgress,
    ImportSummary,
    ProgressCallback,
    import_apple_health,
)

import_app = typer.Typer(help="Import history from other tools' archives.", no_args_is_help=True)
_PLAIN_EVERY_S = 5.0


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _zone(tz: str | None) -> ZoneInfo:
    if tz is None:
        raise _fail(
            "give --tz ZONE, the IANA zone the phone lived in (e.g. --tz Europe/Paris): "
            "export.xml writes the export-time offset on every row, so local days need it"
        )
    try:
        return zone_named(tz)
    except ValueError as exc:
        raise _fail(f"--tz: {exc}") from None


@import_app.command("apple-health")
def apple_health(
    path: Annotated[Path, typer.Argument(help="export.zip (any name) or export.xml")],
    user: Annotated[str, typer.Option("--user", help="Whose data this is (user name)")],
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="IANA zone for rows without HKTimeZone (e.g. Europe/Paris)"),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON line")
    ] = False,
) -> None:
    """Import Apple Health's "Export All Health Data" archive, merged with the app's feed."""
    if not path.is_file():
        raise _fail(f"{path}: no such file; give the export.zip the Health app wrote")
    zone = _zone(tz)
    settings = command_settings()
    limits = ImportLimits(settings.import_max_inflated_bytes, settings.import_max_elements)
    with exit_on_database_failure(settings):
        summary = asyncio.run(_run(settings, path, user, zone, limits))
    _print_summary(summary, json_output)


async def _run(
    settings: Settings, path: Path, user: str, zone: ZoneInfo, limits: ImportLimits
) -> ImportSummary:
    from health_export.core.db import create_engine

    engine = create_engine(settings)
    try:
        user_id = await _user_id(engine, user)
        with _progress_reporter() as report:
            return await import_apple_health(
                engine, user_id, path, zone, limits=limits, on_progress=report
            )
    except AppError as exc:
        raise _fail(f"{path}: {exc.detail}", 1) from None
    finally:
        await engine.dispose()


async def _user_id(engine: Any, name: str) -> int:
    from health_export.auth.repository import get_user_by_name
    from health_export.core.db import create_sessionmaker

    async with create_sessionmaker(engine)() as session:
        found = await get_user_by_name(session, name)
    if found is None:
        raise _fail(f"no user named {name!r}: create it with `health-export users create {name}`")
    if found.disabled_at is not None:
        raise _fail(f"user {name!r} is disabled")
    return int(found.id)


class _progress_reporter:  # noqa: N801 - used as a context manager, named like one
    """A rich bar on a terminal, else a plain line to stderr every few seconds."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._last_plain = 0.0

    def __enter__(self) -> ProgressCallback:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                TextColumn("importing"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TextColumn("{task.fields[records]:,} records"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._bar.start()
            self._task = self._bar.add_task("import", total=None, records=0)
        return self._report

    def _report(self, progress: ImportProgress) -> None:
        if self._bar is not None:
            self._bar.update(
                self._task,
                completed=progress.bytes_read,
                total=progress.bytes_total or None,
                records=progress.records,
            )
            return
        now = time.monotonic()
        if now - self._last_plain >= _PLAIN_EVERY_S:
            self._last_plain = now
            share = progress.bytes_read / progress.bytes_total if progress.bytes_total else 0.0
            typer.echo(
                f"read {progress.bytes_read / 1e6:,.1f} of {progress.bytes_total / 1e6:,.1f} MB "
                f"({share:.0%}), {progress.records:,} records",
                err=True,
            )

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _print_summary(summary: ImportSummary, json_output: bool) -> None:
    rate = summary.records / summary.seconds if summary.seconds else 0.0
    typer.echo(
        f"{summary.records:,} records in {summary.seconds:,.1f} s ({rate:,.0f}/s): "
        f"{summary.inserted:,} inserted, {summary.updated:,} updated, "
        f"{summary.unchanged:,} unchanged; {summary.workouts:,} workouts, "
        f"{summary.routes:,} routes, {summary.ecg:,} ECG, "
        f"{summary.activity_summaries:,} days of Activity rings"
    )
    for title, reasons in (("skipped", summary.skipped), ("rejected", summary.rejected)):
        for reason, count in reasons.items():
            typer.echo(f"  {title} {count:,}: {reason}")
    if json_output:
        typer.echo(orjson.dumps(summary.as_dict()).decode())

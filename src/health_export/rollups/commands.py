"""`health-export rollups rebuild [--user NAME]`: recompute rollups from the rows."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from health_export.cli_database import exit_on_database_failure
from health_export.cli_settings import command_settings
from health_export.core.db import create_engine
from health_export.rollups.rebuild import Rebuilt, rebuild

rollups_app = typer.Typer(help="Daily rollups of the metric samples.", no_args_is_help=True)


@rollups_app.command("rebuild")
def rebuild_command(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user (default: every user)")
    ] = None,
) -> None:
    """Recompute the rollups from the stored rows; report keys that differed."""
    settings = command_settings()

    async def run() -> list[Rebuilt]:
        engine = create_engine(settings)
        try:
            return await rebuild(engine, user)
        finally:
            await engine.dispose()

    with exit_on_database_failure(settings):
        results = asyncio.run(run())
    if user is not None and not results:
        typer.echo(f"error: no user named {user!r} (health-export users list shows them)", err=True)
        raise typer.Exit(1)
    for result in results:
        typer.echo(
            f"{result.user}: {result.rows} rollup rows, {result.hourly_rows} hourly rollup rows, "
            f"{result.differing_keys} differing keys"
        )
    differing = sum(result.differing_keys for result in results)
    typer.echo(f"rebuilt {len(results)} user(s), {differing} differing keys")

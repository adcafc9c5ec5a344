"""The `health-export` command."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Annotated

import typer

from health_export.auth.commands import bootstrap, keys_app, users_app
from health_export.core.config import ConfigError, Settings, load_settings

app = typer.Typer(
    help="health-export: a self-hosted home for Apple Health data.", no_args_is_help=True
)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: WORKERS)")] = None,
) -> None:
    """Run the HTTP server (uvicorn with uvloop and httptools)."""
    import uvicorn

    settings = _settings()
    worker_count = workers or settings.workers
    if worker_count > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers share their metrics through files in this directory (see ops/metrics.py).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="health-export-metrics-")
    uvicorn.run(
        "health_export.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=worker_count,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        proxy_headers=True,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        timeout_keep_alive=75,
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Bring the database schema to REVISION (default: the latest)."""
    from alembic import command

    from health_export.migrations_head import alembic_config

    settings = _settings()
    command.upgrade(alembic_config(settings.async_database_url), revision)
    typer.echo(f"database migrated to {revision}")


@app.command()
def replay(
    ingestion: Annotated[
        str | None, typer.Option("--ingestion", help="One ingestion id to re-process")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Re-process everything received since DATE")
    ] = None,
) -> None:
    """Re-process stored raw bodies (e.g. after an upgrade); safe to run again."""
    import asyncio
    import uuid
    from datetime import UTC, datetime

    from health_export.core.db import create_engine
    from health_export.ingest.replay import replay as replay_ingestions

    if (ingestion is None) == (since is None):
        typer.echo("give exactly one of --ingestion ID or --since DATE", err=True)
        raise typer.Exit(2)
    try:
        ingestion_id = uuid.UUID(ingestion) if ingestion else None
        since_at = datetime.fromisoformat(since) if since else None
    except ValueError as exc:
        typer.echo(f"invalid value: {exc}", err=True)
        raise typer.Exit(2) from None
    if since_at is not None and since_at.tzinfo is None:
        since_at = since_at.replace(tzinfo=UTC)

    async def run() -> tuple[int, int]:
        engine = create_engine(_settings())
        try:
            return await replay_ingestions(
                engine, ingestion_id=ingestion_id, since=since_at, report=typer.echo
            )
        finally:
            await engine.dispose()

    processed, rejected = asyncio.run(run())
    typer.echo(f"replayed {processed} ingestion(s), {rejected} rejected")


app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.command("bootstrap")(bootstrap)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
    sys.exit(0)

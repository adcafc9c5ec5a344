"""The `health-export` command."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from types import FrameType
from typing import Annotated, Any

import typer
from starlette.types import ASGIApp

from health_export.auth.commands import bootstrap, keys_app, users_app
from health_export.cli_database import exit_on_database_failure
from health_export.cli_settings import command_settings
from health_export.core.config import Settings
from health_export.core.state import state_of
from health_export.imports.apple_health.command import import_app
from health_export.rollups.commands import rollups_app
from health_export.sync.commands import setup_app

# After SIGTERM, /ready and new ingests answer 503 this long while the listener stays open,
# so a load balancer or proxy stops sending before connections close (part of the grace).
SHUTDOWN_DRAIN_S = 1.0

app = typer.Typer(
    help="health-export: a self-hosted home for Apple Health data.",
    no_args_is_help=True,
    # A traceback's local variables would print settings, passwords and keys.
    pretty_exceptions_show_locals=False,
)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: WORKERS)")] = None,
) -> None:
    """Run the HTTP server (uvicorn with uvloop and httptools)."""
    import uvicorn

    settings = command_settings()
    worker_count = workers or settings.workers
    if worker_count > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers share their metrics through files in this directory (see ops/metrics.py).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="health-export-metrics-")
    drain_s = min(SHUTDOWN_DRAIN_S, settings.shutdown_grace_seconds)
    options: dict[str, Any] = {
        "host": host or settings.host,
        "port": port or settings.port,
        "loop": "uvloop",
        "server_header": False,  # no `server: uvicorn` on every answer
        # httptools, plus a bounded request head and a deadline for it (see the module).
        "http": "health_export.core.http_protocol:GuardedHttpToolsProtocol",
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "lifespan": "on",
        **_forwarded_options(settings),
        "access_log": False,
        "log_config": None,
        # The drain is part of the grace period; uvicorn gets what is left of it.
        "timeout_graceful_shutdown": max(1, int(settings.shutdown_grace_seconds - drain_s)),
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
    }
    if worker_count > 1:
        # Each worker process runs uvicorn's own server (no drain before it stops).
        uvicorn.run("health_export.asgi:app", workers=worker_count, **options)
        return
    from health_export.asgi import app as asgi_app

    server = DrainingServer(uvicorn.Config(asgi_app, **options), asgi_app, settings)
    server.run()
    if not server.started:
        raise typer.Exit(3)


def _forwarded_options(settings: Settings) -> dict[str, Any]:
    """Believe X-Forwarded-For/-Proto only from FORWARDED_ALLOW_IPS (nobody by default).

    uvicorn would otherwise trust them from 127.0.0.1, so any local client could pick
    its own address and escape the per-address limits.
    """
    if not settings.forwarded_allow_ips:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def _draining_server_class() -> type[Any]:
    import uvicorn

    class _DrainingServer(uvicorn.Server):
        """uvicorn's server, except that SIGTERM first drains: readiness fails at once.

        The app answers 503 on /ready and on new ingests for SHUTDOWN_DRAIN_S while
        it still accepts connections, then uvicorn's own graceful shutdown runs.
        """

        def __init__(self, config: Any, app: ASGIApp, settings: Settings) -> None:
            super().__init__(config)
            self._app = app
            self._settings = settings
            self._exit_at: float | None = None

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self._exit_at is not None or self.should_exit:
                super().handle_exit(sig, frame)  # a second signal: stop draining now
                return
            now = time.monotonic()
            state = state_of(self._app)
            state.shutting_down = True
            state.shutdown_deadline = now + self._settings.shutdown_grace_seconds
            drain_s = min(SHUTDOWN_DRAIN_S, self._settings.shutdown_grace_seconds)
            self._exit_at = now + drain_s
            self._captured_signals.append(sig)

        async def on_tick(self, counter: int) -> bool:
            if self._exit_at is not None and time.monotonic() >= self._exit_at:
                self.should_exit = True
            should_exit: bool = await super().on_tick(counter)
            return should_exit

    return _DrainingServer


def DrainingServer(config: Any, app: ASGIApp, settings: Settings) -> Any:  # noqa: N802
    """A uvicorn server that drains on SIGTERM (uvicorn is imported only to serve)."""
    return _draining_server_class()(config, app, settings)


@app.command()
def worker() -> None:
    """Run the background jobs (pending ingests, housekeeping) without serving HTTP."""
    import asyncio

    from health_export.background.process import SchemaMismatch, run_worker_process

    try:
        asyncio.run(run_worker_process(command_settings()))
    except SchemaMismatch as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Bring the database schema to REVISION (default: the latest)."""
    from alembic import command

    from health_export.migrations_head import alembic_config

    settings = command_settings()
    with exit_on_database_failure(settings):
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

    settings = command_settings()

    async def run() -> tuple[int, int]:
        engine = create_engine(settings)
        try:
            return await replay_ingestions(
                engine, ingestion_id=ingestion_id, since=since_at, report=typer.echo
            )
        finally:
            await engine.dispose()

    with exit_on_database_failure(settings):
        processed, rejected = asyncio.run(run())
    typer.echo(f"replayed {processed} ingestion(s), {rejected} rejected")


app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(import_app, name="import")
app.add_typer(rollups_app, name="rollups")
app.command("bootstrap")(bootstrap)
app.command("setup-app")(setup_app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
    sys.exit(0)

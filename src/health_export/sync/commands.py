"""`health-export setup-app`: ready automations for the phone, with a key of their own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.auth import service
from health_export.auth.commands import run_in_transaction
from health_export.auth.principal import Scope
from health_export.cli_settings import command_settings
from health_export.sync.address import BadUrl, ingest_address
from health_export.sync.app_settings import setup_text


def setup_app(
    user: Annotated[str, typer.Option("--user", help="Whose phone this is")],
    url: Annotated[
        str | None,
        typer.Option("--url", help="The server as the phone reaches it (default: PUBLIC_URL)"),
    ] = None,
    qr: Annotated[bool, typer.Option("--qr/--no-qr", help="Draw each link as a QR code")] = True,
) -> None:
    """Print a ready automation per data type (settings, deep link, QR code) with a new
    ingest-only key for USER, shown once."""
    settings = command_settings()
    try:
        address = ingest_address(settings, url)
    except BadUrl as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    label = f"Health Auto Export (setup-app {datetime.now(UTC):%Y-%m-%d})"

    async def mint(session: AsyncSession) -> service.NewKey:
        owner = await service.user_named(session, user)
        request = service.KeyRequest(name=label, scopes=frozenset({Scope.INGEST}))
        return await service.create_key(session, owner, request, actor=None)

    new = run_in_transaction(mint)
    if address.warning:
        typer.echo(f"WARNING: {address.warning}", err=True)
    typer.echo(
        f"Created the ingest-only key '{label}' for {user} ({new.row.id}); it is in the "
        "links below and shown only here. Revoke it with `health-export keys revoke "
        f"{new.row.id}`.\n"
    )
    typer.echo(setup_text(address, new.value, with_qr=qr))

"""CLI commands of identity and access: `users`, `keys`, `bootstrap`."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import orjson
import typer
from sqlalchemy.ext.asyncio import AsyncSession

from health_export.auth import service
from health_export.auth.keys import KeyFormat
from health_export.auth.principal import Scope
from health_export.auth.schemas import KeyOut
from health_export.cli_database import exit_on_database_failure
from health_export.cli_settings import command_settings
from health_export.core.config import Settings
from health_export.core.db import create_engine, create_sessionmaker
from health_export.core.errors import AppError
from health_export.sync.address import ingest_address
from health_export.sync.app_settings import settings_text

T = TypeVar("T")
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys (values are shown once).", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def run_in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction; expected failures exit 1 with a message."""
    settings = command_settings()

    async def run() -> T:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        with exit_on_database_failure(settings):
            return asyncio.run(run())
    except AppError as exc:
        typer.echo(f"error: {exc.detail or exc.title}", err=True)
        raise typer.Exit(1) from None


def _echo_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode())


def _parse_scopes(text: str) -> frozenset[Scope]:
    try:
        return frozenset(Scope(part.strip()) for part in text.split(",") if part.strip())
    except ValueError:
        choices = ", ".join(scope.value for scope in Scope)
        raise typer.BadParameter(f"scopes are a comma-separated list of: {choices}") from None


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="Unique user name")],
    admin: Annotated[bool, typer.Option("--admin", help="Make an administrator")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a dashboard password from stdin")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Create a user."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password_stdin and not password:
        raise typer.BadParameter("an empty password was read from stdin")
    user = run_in_transaction(
        lambda s: service.create_user(s, name=name, is_admin=admin, password=password)
    )
    summary = {"id": user.id, "name": user.name, "is_admin": user.is_admin}
    _echo_json(summary) if json_output else typer.echo(f"created user {user.name} (id {user.id})")


@users_app.command("list")
def users_list(json_output: JsonOption = False) -> None:
    """List users."""
    users = run_in_transaction(service.list_users)
    rows = [
        {
            "id": u.id,
            "name": u.name,
            "is_admin": u.is_admin,
            "created_at": u.created_at.isoformat(),
            "disabled_at": u.disabled_at.isoformat() if u.disabled_at else None,
        }
        for u in users
    ]
    if json_output:
        _echo_json(rows)
        return
    for row in rows:
        state = "disabled" if row["disabled_at"] else "active"
        role = "admin" if row["is_admin"] else "user"
        typer.echo(f"{row['id']}\t{row['name']}\t{role}\t{state}\t{row['created_at']}")


def _read_value(value: str | None) -> str | None:
    # "-" keeps the key out of shell history and the process list.
    return sys.stdin.readline().strip() if value == "-" else value


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option("--user", help="Owner's name")],
    name: Annotated[str, typer.Option("--name", help="Label, e.g. the phone's name")],
    scopes: Annotated[
        str, typer.Option(help="Comma-separated: ingest,read,keys,admin")
    ] = "ingest,read",
    key_format: Annotated[KeyFormat, typer.Option("--format", help="token or uuid")] = (
        KeyFormat.TOKEN
    ),
    expires_in_days: Annotated[int | None, typer.Option(min=1, max=3650)] = None,
    value: Annotated[
        str | None, typer.Option("--value", help="Register an existing key ('-': read stdin)")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create a key (or register an existing one); the key is the last line of output."""
    if key_format is KeyFormat.CUSTOM and value is None:
        raise typer.BadParameter("--format is token or uuid (custom keys need --value)")
    request = service.KeyRequest(
        name=name,
        scopes=_parse_scopes(scopes),
        key_format=key_format,
        expires_in_days=expires_in_days,
        value=_read_value(value),
    )

    async def create(session: AsyncSession) -> service.NewKey:
        owner = await service.user_named(session, user)
        return await service.create_key(session, owner, request, actor=None)

    new = run_in_transaction(create)
    out = KeyOut.model_validate(new.row).model_dump(mode="json")
    if json_output:
        _echo_json({**out, "key": new.value})
        return
    typer.echo(f"created key {out['id']} ({out['name']}) for {user}: {','.join(out['scopes'])}")
    typer.echo("store it now, it is not shown again:")
    typer.echo(new.value)


@keys_app.command("list")
def keys_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's keys")] = None,
    json_output: JsonOption = False,
) -> None:
    """List keys (never their values)."""

    async def load(session: AsyncSession) -> list[dict[str, Any]]:
        user_id = (await service.user_named(session, user)).id if user else None
        keys = await service.list_keys(session, user_id)
        return [KeyOut.model_validate(key).model_dump(mode="json") for key in keys]

    rows = run_in_transaction(load)
    if json_output:
        _echo_json(rows)
        return
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        typer.echo(
            f"{row['id']}\t{row['user_id']}\t{row['name']}\t{row['display_prefix']}…\t"
            f"{','.join(row['scopes'])}\t{state}\tlast used {row['last_used_at'] or '-'}"
        )


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[uuid.UUID, typer.Argument(help="Key id")]) -> None:
    """Revoke a key; it stops working within a second."""
    run_in_transaction(lambda s: service.revoke_key(s, key_id, actor=None, own_only=False))
    typer.echo(f"revoked key {key_id}")


def bootstrap() -> None:
    """First run: create an admin and an ingest+read key, print the app's settings once."""
    new = run_in_transaction(service.bootstrap)
    if new is None:
        return
    settings = command_settings()
    typer.echo(_bootstrap_text(settings, new.value))


def _bootstrap_text(settings: Settings, value: str) -> str:
    lines = [
        "First run: created the admin user 'admin' and a key for Health Auto Export.",
        "This key is shown once (`health-export setup-app --user admin` makes a new one",
        "with a link and QR code per data type).",
        settings_text(ingest_address(settings), value),
    ]
    return "\n".join(lines)

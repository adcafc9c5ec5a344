"""The settings of every `health-export` command: the server's loader, and the database named.

A command reads the environment and `.env` exactly as the server does (one `Settings`),
so a `DATABASE_URL` given only to `make run` is not silently replaced by the default:
each command says on stderr which database it uses and where that URL came from.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import typer
from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from health_export.core.config import ConfigError, Settings, load_settings

_META_KEY = "health_export.settings"
DATABASE_VARIABLE = "DATABASE_URL"


def command_settings() -> Settings:
    """This command's settings (read once per command); exit 2 naming a bad variable."""
    context = click.get_current_context(silent=True)
    if context is not None and _META_KEY in context.meta:
        cached: Settings = context.meta[_META_KEY]
        return cached
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(f"health-export: {exc}; fix it in the environment or in .env", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"health-export: using database {database_in_use(settings)}", err=True)
    if context is not None:
        context.meta[_META_KEY] = settings
    return settings


def masked_database_url(url: str) -> str:
    """``url`` with its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@", 1)[-1]  # unparsable: at least never print what precedes '@'


def database_in_use(settings: Settings) -> str:
    """The database URL (password masked) and where it was set."""
    return f"{masked_database_url(settings.database_url)} ({_source_of_database_url()})"


def _source_of_database_url() -> str:
    if any(name.upper() == DATABASE_VARIABLE for name in os.environ):
        return f"{DATABASE_VARIABLE} from the environment"
    env_file = Path(str(Settings.model_config.get("env_file") or ".env"))
    if env_file.is_file() and any(
        name.upper() == DATABASE_VARIABLE for name in dotenv_values(env_file)
    ):
        return f"{DATABASE_VARIABLE} from {env_file.resolve()}"
    return (
        f"the default: set {DATABASE_VARIABLE} in the environment or in .env "
        "to use another database"
    )

"""One line, naming DATABASE_URL, for each way a command can fail to use its database."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from health_export.cli_settings import DATABASE_VARIABLE, masked_database_url
from health_export.core.config import Settings

# PostgreSQL's SQLSTATEs a command can meet before it does any work of its own.
_MISSING_DATABASE = "3D000"
_LOGIN_REFUSED = ("28000", "28P01")
_NO_SCHEMA = "42P01"
_STARTING_UP = "57P03"
_UNREACHABLE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL})


@contextmanager
def exit_on_database_failure(settings: Settings) -> Iterator[None]:
    """Turn a database that is missing, unreachable or unmigrated into one line and exit 1."""
    try:
        yield
    except Exception as exc:
        message = database_failure_message(exc, settings)
        if message is None:
            raise
        typer.echo(f"health-export: {message}", err=True)
        raise typer.Exit(1) from None


def database_failure_message(exc: BaseException, settings: Settings) -> str | None:
    """What went wrong and what to change, or None when ``exc`` is not such a failure."""
    where = f"({DATABASE_VARIABLE}={masked_database_url(settings.database_url)})"
    for cause in _chain(exc):
        state = getattr(cause, "sqlstate", None)
        if state == _MISSING_DATABASE:
            name = _database_name(settings.database_url)
            return (
                f'database "{name}" does not exist {where}; create it '
                f'(createdb "{name}", or `make install`) or set {DATABASE_VARIABLE} to yours'
            )
        if state in _LOGIN_REFUSED:
            return (
                f"PostgreSQL refused the login: {_first_line(cause)} {where}; "
                f"fix the user or password in {DATABASE_VARIABLE}"
            )
        if state == _NO_SCHEMA:
            return f"the database has no health-export tables {where}; run `health-export migrate`"
        if state == _STARTING_UP:
            return f"PostgreSQL is starting up {where}; retry in a few seconds"
        if _is_unreachable(cause):
            return (
                f"cannot reach PostgreSQL at {_host_port(settings.database_url)}: "
                f"{_reason(cause)} {where}; start PostgreSQL or fix {DATABASE_VARIABLE}"
            )
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the driver error SQLAlchemy wraps, and their causes (each once)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)


def _is_unreachable(exc: BaseException) -> bool:
    """A failure to connect (not any OSError: a missing migration file is not one)."""
    if isinstance(exc, ConnectionError | socket.gaierror | TimeoutError):
        return True
    return isinstance(exc, OSError) and exc.errno in _UNREACHABLE_ERRNOS


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "no answer within DATABASE_CONNECT_TIMEOUT_SECONDS"
    strerror = exc.strerror if isinstance(exc, OSError) else None
    return strerror or type(exc).__name__


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _database_name(url: str) -> str:
    try:
        return make_url(url).database or "?"
    except ArgumentError:
        return "?"


def _host_port(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "?"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"

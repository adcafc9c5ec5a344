"""The real `health-export` command: which database it uses, and one line when it cannot."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.fixtures.auth import unique_name
from tests.fixtures.databases import drop_database, fresh_database

HEALTH_EXPORT = Path(sys.executable).parent / "health-export"
# Trust authentication ignores it; it must never be printed all the same.
PASSWORD = "pw-" + uuid.uuid4().hex


def with_password(url: str) -> str:
    """``url`` with PASSWORD added to its user."""
    scheme, rest = url.split("://", 1)
    user, _, location = rest.partition("@")
    return f"{scheme}://{user}:{PASSWORD}@{location}"


def run(
    args: list[str], cwd: Path, env_file: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`health-export ARGS` in ``cwd`` (with that .env), the settings given in ``env`` only."""
    if env_file is not None:
        (cwd / ".env").write_text(env_file)
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith(("DATABASE_", "PORT"))}
    return subprocess.run(
        [str(HEALTH_EXPORT), *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line after the database announcement; no traceback anywhere."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stderr + result.stdout
    assert len(lines) <= 2, result.stderr
    return lines[-1]


async def _user_names(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return [row["name"] for row in await conn.fetch("SELECT name FROM users")]
    finally:
        await conn.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory of its own: no .env of the repository is read."""
    return tmp_path


@pytest.fixture
def empty_database(worker_id_suffix: str) -> Iterator[str]:
    """A database of this test alone, without the schema."""
    name = f"health_export_cli_{worker_id_suffix}_{os.getpid()}"
    url = asyncio.run(fresh_database(name))
    yield url
    asyncio.run(drop_database(name))


def test_the_env_file_sets_the_database_and_the_command_says_which(
    database_url: str, workdir: Path
) -> None:
    name = unique_name()
    env_file = f"DATABASE_URL={with_password(database_url)}\n"
    created = run(["users", "create", name], workdir, env_file)
    assert created.returncode == 0, created.stderr
    announced = created.stderr.strip().splitlines()[0]
    masked = with_password(database_url).replace(PASSWORD, "***")
    assert announced == (
        f"health-export: using database {masked} (DATABASE_URL from {workdir / '.env'})"
    )
    assert PASSWORD not in created.stderr + created.stdout
    assert name in asyncio.run(_user_names(database_url))


def test_the_environment_wins_over_the_env_file_and_is_named(
    database_url: str, workdir: Path
) -> None:
    env_file = "DATABASE_URL=postgresql://root@127.0.0.1:5432/no_such_database_here\n"
    listed = run(["users", "list", "--json"], workdir, env_file, DATABASE_URL=database_url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr.strip() == (
        f"health-export: using database {database_url} (DATABASE_URL from the environment)"
    )
    assert listed.stdout.startswith("[")


def test_the_default_database_is_named_with_how_to_change_it(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from health_export.cli_settings import database_in_use
    from health_export.core.config import load_settings

    monkeypatch.chdir(workdir)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    described = database_in_use(load_settings())
    assert described == (
        "postgresql+asyncpg://root@127.0.0.1:5432/health_export (the default: set "
        "DATABASE_URL in the environment or in .env to use another database)"
    )


def test_a_missing_database_is_one_line_naming_it(workdir: Path) -> None:
    name = "health_export_missing_" + uuid.uuid4().hex
    url = with_password(f"postgresql://root@127.0.0.1:5432/{name}")
    result = run(["users", "list"], workdir, DATABASE_URL=url)
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith(f'health-export: database "{name}" does not exist (DATABASE_URL=')
    assert f'createdb "{name}"' in line


def test_an_unreachable_server_is_one_line_naming_host_and_port(workdir: Path) -> None:
    result = run(["keys", "list"], workdir, DATABASE_URL="postgresql://root@127.0.0.1:1/x")
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("health-export: cannot reach PostgreSQL at 127.0.0.1:1: ")
    assert "connection refused" in line
    assert "fix DATABASE_URL" in line


def test_a_refused_login_is_one_line(workdir: Path) -> None:
    url = with_password(f"postgresql://nobody_{uuid.uuid4().hex[:8]}@127.0.0.1:5432/postgres")
    result = run(["users", "list"], workdir, DATABASE_URL=url)
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("health-export: PostgreSQL refused the login: role ")
    assert "fix the user or password in DATABASE_URL" in line


def test_an_unmigrated_database_says_to_migrate_and_migrate_fixes_it(
    empty_database: str, workdir: Path
) -> None:
    before = run(["users", "list"], workdir, DATABASE_URL=empty_database)
    assert before.returncode == 1
    assert one_error_line(before).endswith("run `health-export migrate`")
    migrated = run(["migrate"], workdir, DATABASE_URL=empty_database)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == "database migrated to head"
    after = run(["users", "list"], workdir, DATABASE_URL=empty_database)
    assert after.returncode == 0, after.stderr


def test_migrate_of_a_missing_database_is_one_line(workdir: Path) -> None:
    url = "postgresql://root@127.0.0.1:5432/health_export_missing_" + uuid.uuid4().hex
    result = run(["migrate"], workdir, DATABASE_URL=url)
    assert result.returncode == 1
    assert "does not exist (DATABASE_URL=" in one_error_line(result)


def test_a_mysql_url_is_refused_naming_the_variable(workdir: Path) -> None:
    url = f"mysql://root:{PASSWORD}@127.0.0.1/health"
    result = run(["users", "list"], workdir, DATABASE_URL=url)
    assert result.returncode == 2
    assert one_error_line(result) == (
        "health-export: invalid configuration: DATABASE_URL: must be a PostgreSQL URL "
        "(postgresql://user@host:5432/name), not mysql; fix it in the environment or in .env"
    )


def test_a_bad_value_is_refused_naming_the_variable(database_url: str, workdir: Path) -> None:
    result = run(["users", "list"], workdir, DATABASE_URL=database_url, PORT="eighty")
    assert result.returncode == 2
    line = one_error_line(result)
    assert line.startswith("health-export: invalid configuration: PORT: ")
    assert "eighty" not in line

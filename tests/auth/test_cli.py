"""The `health-export users|keys|bootstrap` commands against the real database."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from alembic import command
from typer.testing import CliRunner

from health_export.auth import keys
from health_export.cli import app as cli
from health_export.migrations_head import alembic_config
from tests.fixtures.auth import unique_name
from tests.fixtures.databases import fresh_database

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def test_users_and_keys_round_trip(cli_env: str) -> None:
    name = unique_name()
    created = runner.invoke(cli, ["users", "create", name, "--admin"])
    assert created.exit_code == 0, created.output
    assert name in runner.invoke(cli, ["users", "list"]).output
    made = runner.invoke(
        cli,
        [
            "keys",
            "create",
            "--user",
            name,
            "--name",
            "phone",
            "--scopes",
            "ingest,read",
            "--expires-in-days",
            "30",
        ],
    )
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert keys.format_of(key) is keys.KeyFormat.TOKEN
    listed = runner.invoke(cli, ["keys", "list", "--user", name, "--json"])
    rows = orjson.loads(listed.stdout)
    assert len(rows) == 1
    assert key not in listed.stdout
    revoked = runner.invoke(cli, ["keys", "revoke", rows[0]["id"]])
    assert revoked.exit_code == 0
    again = orjson.loads(runner.invoke(cli, ["keys", "list", "--user", name, "--json"]).stdout)
    assert again[0]["revoked_at"] is not None


def test_uuid_key_json_output_and_registered_value(cli_env: str) -> None:
    name = unique_name()
    runner.invoke(cli, ["users", "create", name])
    made = runner.invoke(
        cli, ["keys", "create", "--user", name, "--name", "u", "--format", "uuid", "--json"]
    )
    assert keys.format_of(orjson.loads(made.stdout)["key"]) is keys.KeyFormat.UUID
    value = "Zq8" + "x7Lp2Rk9Wm4Tn6Vb3Yc5Hd1Jf0Gs"
    registered = runner.invoke(
        cli, ["keys", "create", "--user", name, "--name", "old", "--value", "-"], input=value + "\n"
    )
    assert registered.exit_code == 0, registered.output
    assert registered.stdout.strip().splitlines()[-1] == value
    weak = runner.invoke(
        cli, ["keys", "create", "--user", name, "--name", "weak", "--value", "a" * 30]
    )
    assert weak.exit_code == 1
    patterned = runner.invoke(
        cli,
        ["keys", "create", "--user", name, "--name", "weak", "--value", "-"],
        input="passwordpasswordpassword1!\n",
    )
    assert patterned.exit_code == 1
    assert "use random characters" in patterned.output


def test_password_is_read_from_stdin(cli_env: str) -> None:
    result = runner.invoke(
        cli, ["users", "create", unique_name(), "--password-stdin"], input="s3cret-passphrase\n"
    )
    assert result.exit_code == 0
    assert "s3cret" not in result.output


def test_unknown_user_is_an_error(cli_env: str) -> None:
    result = runner.invoke(
        cli, ["keys", "create", "--user", "nobody-" + unique_name(), "--name", "x"]
    )
    assert result.exit_code == 1


def test_bootstrap_prints_settings_once_then_does_nothing(
    worker_id_suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = asyncio.run(fresh_database(f"health_export_bootstrap_{worker_id_suffix}"))
    command.upgrade(alembic_config(url), "head")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HOST", "192.168.1.20")
    monkeypatch.setenv("PORT", "8123")
    first = runner.invoke(cli, ["bootstrap"])
    assert first.exit_code == 0, first.output
    assert "http://192.168.1.20:8123/api/v1/ingest" in first.stdout
    header = next(line for line in first.stdout.splitlines() if "Authorization: Bearer" in line)
    assert keys.format_of(header.split("Bearer ")[1].strip()) is keys.KeyFormat.TOKEN
    second = runner.invoke(cli, ["bootstrap"])
    assert second.exit_code == 0
    assert second.stdout == ""

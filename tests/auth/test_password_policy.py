"""One password policy for the API and the CLI: long (or a passphrase) and not common."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from health_export.auth.password_policy import WeakPassword, check_password
from health_export.cli import app as cli
from tests.auth.clients import PASSWORD
from tests.fixtures.auth import TestKey, unique_name


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Tr0ub4dor&3", "at least 12 characters"),
        ("password1234", "too common or predictable"),
        ("qwertyuiop123", "too common or predictable"),
        ("aaaaaaaaaaaaaaaa", "too common or predictable"),
    ],
)
def test_short_and_common_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason):
        check_password(password)


def test_a_password_naming_its_user_is_refused() -> None:
    with pytest.raises(WeakPassword):
        check_password("margaret-hamilton", user_name="margaret-hamilton")


@pytest.mark.parametrize("password", [PASSWORD, "kettle-orbit-marsh-fig", "uV8#qL2!mZ9@"])
def test_long_random_passwords_and_passphrases_are_accepted(password: str) -> None:
    check_password(password)


async def test_the_api_refuses_a_common_password_with_422(
    auth_client: httpx.AsyncClient, admin_key: TestKey
) -> None:
    refused = await auth_client.post(
        "/api/v1/admin/users",
        headers=admin_key.headers,
        json={"name": unique_name(), "password": "iloveyou1234"},
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "too common or predictable" in refused.json()["detail"]
    accepted = await auth_client.post(
        "/api/v1/admin/users",
        headers=admin_key.headers,
        json={"name": unique_name(), "password": PASSWORD},
    )
    assert accepted.status_code == 201


def test_the_cli_refuses_a_short_password_with_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    name = unique_name()
    refused = runner.invoke(cli, ["users", "create", name, "--password-stdin"], input="hunter2\n")
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1].startswith("error: the password needs")
    assert name not in runner.invoke(cli, ["users", "list"]).output
    accepted = runner.invoke(
        cli, ["users", "create", name, "--password-stdin"], input=f"{PASSWORD}\n"
    )
    assert accepted.exit_code == 0, accepted.output

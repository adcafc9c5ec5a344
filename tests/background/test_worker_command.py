"""`health-export worker` refuses a database at another schema with one line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.databases import drop_database, fresh_database

HEALTH_EXPORT = Path(sys.executable).parent / "health-export"


@pytest.fixture
def unmigrated_database(worker_id_suffix: str) -> Iterator[str]:
    """An empty database (no `health-export migrate` yet)."""
    name = f"health_export_test_unmigrated_{worker_id_suffix}_{os.getpid()}"
    url = asyncio.run(fresh_database(name))
    yield url
    asyncio.run(drop_database(name))


def test_worker_on_an_unmigrated_database_exits_naming_the_command_to_run(
    unmigrated_database: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update({"DATABASE_URL": unmigrated_database, "REDIS_URL": "", "LOG_JSON": "true"})
    done = subprocess.run(  # noqa: S603 - our own console script
        [str(HEALTH_EXPORT), "worker"],
        env=env,
        cwd=tmp_path,  # no .env of the repository is read
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    # Every command first names its database; the refusal is the one line after it.
    using, *refusal = done.stderr.strip().splitlines()
    assert using.startswith("health-export: using database ")
    assert refusal == ["the database is not at this release's schema: run `health-export migrate`"]

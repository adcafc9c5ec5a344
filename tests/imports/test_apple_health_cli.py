"""`health-export import apple-health`, run as the installed command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI

from health_export.core.config import Settings
from tests.fixtures.auth import create_user_with_key
from tests.imports.conftest import count_rows
from tests.imports.test_apple_health_import import write_full_archive

_COMMAND = Path(sys.executable).with_name("health-export")


async def _run(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # In a thread: the app of this test process keeps serving (its background worker
    # may hold a lock the import waits for) while the command runs.
    return await asyncio.to_thread(_run_blocking, settings, cwd, *args)


def _run_blocking(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "LOG_JSON": "false"}
    return subprocess.run(
        [str(_COMMAND), "import", "apple-health", *args],
        cwd=cwd,  # no .env of the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_json_summary_is_the_last_stdout_line(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    archive = write_full_archive(tmp_path)

    done = await _run(
        settings, tmp_path, str(archive), "--user", user.user_name, "--tz", "Europe/Paris", "--json"
    )

    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert set(summary) >= {
        "records",
        "inserted",
        "updated",
        "unchanged",
        "skipped",
        "rejected",
        "workouts",
        "routes",
        "ecg",
        "seconds",
    }
    assert summary["rejected"] == {"HeartRate: value is not a number": 1}
    assert summary["workouts"] == 4
    assert summary["inserted"] == await count_rows(app, "metric_samples", user.user_id) + sum(
        [
            await count_rows(app, table, user.user_id)
            for table in (
                "sleep_stages",
                "workouts",
                "workout_routes",
                "ecg_recordings",
                "symptoms",
                "cycle_tracking",
                "heart_rate_notifications",
                "activity_summaries",
            )
        ]
    )
    assert "records in" in done.stdout.splitlines()[0]


async def test_refusals_are_one_line_naming_what_to_change(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    archive = write_full_archive(tmp_path)
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(archive.read_bytes()[:1000])

    cases = {
        "give --tz ZONE": (str(archive), "--user", user.user_name),
        "not an IANA time zone": (str(archive), "--user", user.user_name, "--tz", "Mars/Base"),
        "no user named": (str(archive), "--user", "nobody-here", "--tz", "UTC"),
        "truncated or corrupt": (str(truncated), "--user", user.user_name, "--tz", "UTC"),
    }
    for expected, args in cases.items():
        done = await _run(settings, tmp_path, *args)
        assert done.returncode != 0, expected
        # Every command first says which database it uses; the refusal is one line after it.
        lines = [
            line
            for line in done.stderr.strip().splitlines()
            if not line.startswith("health-export: using database")
        ]
        assert len(lines) == 1, done.stderr
        assert expected in lines[0]
    assert await count_rows(app, "metric_samples", user.user_id) == 0

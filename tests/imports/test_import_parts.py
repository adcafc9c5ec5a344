"""A long import commits in parts: the user's ingest lock is not held for the whole
archive, and a run cut off part-way then run again stores every row once."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from health_export.imports.apple_health.errors import ArchiveRefused
from tests.fixtures.apple_export import write_zip
from tests.fixtures.auth import create_user_with_key
from tests.imports.conftest import count_rows, fetch, run_import
from tests.imports.test_apple_health_quirks import _steps

# The feeder stages a batch once 20,000 rows wait: 40,000 records (a month of minute
# steps) are two batches.
RECORDS = 40_000
PART_ROWS = 20_000


async def _transactions(app: FastAPI, user_id: int) -> int:
    rows = await fetch(
        app,
        "SELECT count(DISTINCT xmin::text) AS n FROM metric_samples WHERE user_id = :u",
        u=user_id,
    )
    return int(rows[0]["n"])


async def test_large_import_commits_in_parts(app: FastAPI, tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "export.zip", _steps(RECORDS).xml())
    user = await create_user_with_key(app)

    summary = await run_import(app, user.user_id, archive, part_rows=PART_ROWS)

    assert (summary.records, summary.inserted) == (RECORDS, RECORDS)
    assert await count_rows(app, "metric_samples", user.user_id) == RECORDS
    # Rows written by more than one transaction: each part committed on its own.
    assert await _transactions(app, user.user_id) >= 2
    # The rollups of every part's days were kept: the days count every row once.
    counted = await fetch(
        app, "SELECT sum(n) AS n FROM metric_rollups WHERE user_id = :u", u=user.user_id
    )
    assert counted[0]["n"] == RECORDS


async def test_import_cut_off_after_parts_then_rerun_stores_each_row_once(
    app: FastAPI, tmp_path: Path
) -> None:
    good = _steps(RECORDS)
    # Cut off three quarters through: the whole parts before the cut are committed.
    cut = _steps(RECORDS * 3 // 4).raw("<Record type=")
    broken = write_zip(tmp_path / "broken.zip", cut.xml())
    user = await create_user_with_key(app)

    with pytest.raises(ArchiveRefused, match="earlier part") as refused:
        await run_import(app, user.user_id, broken, part_rows=PART_ROWS)
    kept = await count_rows(app, "metric_samples", user.user_id)
    assert 0 < kept < RECORDS
    assert f"{kept:,} rows" in str(refused.value.detail)

    summary = await run_import(
        app, user.user_id, write_zip(tmp_path / "good.zip", good.xml()), part_rows=PART_ROWS
    )

    assert (summary.inserted, summary.unchanged, summary.updated) == (RECORDS - kept, kept, 0)
    assert await count_rows(app, "metric_samples", user.user_id) == RECORDS
    rows = await fetch(
        app,
        "SELECT count(*) AS n, count(DISTINCT start_at) AS starts, max(revision) AS revision "
        "FROM metric_samples WHERE user_id = :u",
        u=user.user_id,
    )
    assert rows[0] == {"n": RECORDS, "starts": RECORDS, "revision": 0}

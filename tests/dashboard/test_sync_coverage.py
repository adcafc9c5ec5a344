"""The sync page's archive coverage: an archive uploaded through the real server, then
the page's tables held to GET /api/v1/imports/{id}/coverage."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from playwright.async_api import Browser

from tests.dashboard.browser import PageWatch, new_page, open_ready, screenshot
from tests.dashboard.conftest import api, ingest, log_in, make_person
from tests.dashboard.test_charts import attrs_of
from tests.fixtures import payloads
from tests.fixtures.apple_export import ExportBuilder, write_zip
from tests.fixtures.dashboard_data import MONTH_START
from tests.imports.uploads import UPLOAD, ZIP, wait_finished
from tests.reliability.server import ServerProcess


def steps_archive(path: Path) -> Path:
    """Hourly steps from 5 to 9 March 2024 (-04:00), as Apple's export writes them."""
    export = ExportBuilder()
    for day in range(5, 10):
        for hour in range(24):
            start = f"2024-03-{day:02d} {hour:02d}:00:00 -0400"
            end = f"2024-03-{day:02d} {hour:02d}:59:00 -0400"
            export.record("StepCount", str(100 + hour), start, end=end, unit="count")
    return write_zip(path / "export.zip", export.xml())


async def test_sync_shows_the_archives_coverage_against_the_feed(
    browser: Browser, server: ServerProcess, app: FastAPI, watch: PageWatch, tmp_path: Path
) -> None:
    someone = await make_person(app)
    feed_start = MONTH_START + timedelta(days=4)
    hourly = timedelta(hours=1)
    await ingest(
        server, someone.key, payloads.hae_metrics(("step_count",), 3 * 24, feed_start, hourly)
    )
    archive = steps_archive(tmp_path).read_bytes()  # noqa: ASYNC240 - a small file, once
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        accepted = await http.post(
            UPLOAD,
            params={"tz": "America/New_York"},
            content=archive,
            headers={**someone.key.headers, **ZIP},
        )
        assert accepted.status_code == 202, accepted.text
        done = await wait_finished(http, someone.key, accepted.json()["status_url"])
    assert done["status"] == "done", done
    coverage = await api(server, someone.key, done["coverage_url"])
    lacking = [d for d in coverage["days"] if d["feed_incomplete"]]
    assert {d["date"] for d in lacking} >= {"2024-03-08", "2024-03-09"}

    page = await new_page(browser, watch)
    await log_in(page, server, someone, "/sync")
    per_metric = await attrs_of(page, "coverage-table", "metric", "value", "incomplete")
    assert per_metric == [
        {
            "metric": "step_count",
            "value": str(sum(d["only_in_archive"] for d in coverage["days"])),
            "incomplete": str(len(lacking)),
        }
    ]
    shown = await attrs_of(page, "coverage-days-table", "date", "metric", "archive", "feed")
    assert shown == [
        {
            "date": d["date"],
            "metric": d["metric"],
            "archive": str(d["archive"]),
            "feed": str(d["feed"]),
        }
        for d in sorted(lacking, key=lambda d: d["date"], reverse=True)
    ]
    await open_ready(page, f"{server.url}/sync?days=30")
    assert await page.locator("[data-testid=coverage-days-table] tbody tr").count() == len(lacking)
    await screenshot(page, "sync-coverage")
    await page.context.close()
    assert watch.errors == []

"""The body and explore pages in a real browser: their tables carry the API's numbers."""

from __future__ import annotations

from playwright.async_api import Page

from tests.dashboard.browser import READY, PageWatch, open_ready, screenshot
from tests.dashboard.conftest import Person, api
from tests.dashboard.test_pages import API_RANGE, RANGE, rows_of
from tests.reliability.server import ServerProcess

BODY_TABLES = {
    "weight_body_mass": "body-weight-table",
    "body_fat_percentage": "body-fat-table",
    "body_mass_index": "body-bmi-table",
}


async def test_body_tables_are_the_daily_series(
    logged_in: Page, server: ServerProcess, person: Person
) -> None:
    await open_ready(logged_in, f"{server.url}/body{RANGE}")
    for metric, testid in BODY_TABLES.items():
        series = await api(
            server, person.key, f"/api/v1/metrics/{metric}/series", bucket="day", **API_RANGE
        )
        expected = {p["start"][:10]: p["value"] for p in series["points"] if p["value"] is not None}
        assert len(expected) == 31, metric
        assert await rows_of(logged_in, testid) == expected, metric
    assert await logged_in.locator(".uplot").count() == len(BODY_TABLES)
    await screenshot(logged_in, "body")


async def test_explore_lists_every_metric_and_opens_one(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    await open_ready(logged_in, f"{server.url}/explore{RANGE}")
    listed = (await api(server, person.key, "/api/v1/metrics"))["metrics"]
    shown = await logged_in.eval_on_selector_all(
        "[data-testid=metric-row]", "rows => rows.map(r => r.dataset.metric)"
    )
    assert shown == [m["name"] for m in listed]
    await logged_in.select_option("#explore-metric", "heart_rate")
    await logged_in.select_option("#explore-bucket", "week")
    await logged_in.select_option("#explore-agg", "max")
    await logged_in.click("[data-testid=explore-picker] button[type=submit]")
    await logged_in.wait_for_url("**/explore/heart_rate?*")
    await logged_in.wait_for_selector(READY, state="attached")
    series = await api(
        server,
        person.key,
        "/api/v1/metrics/heart_rate/series",
        bucket="week",
        agg="max",
        **API_RANGE,
    )
    expected = {p["start"][:10]: p["value"] for p in series["points"]}
    assert len(expected) == 5
    assert await rows_of(logged_in, "explore-series-table") == expected
    assert watch.errors == []


async def test_explore_shows_hourly_values_and_the_newest_rows(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    await open_ready(logged_in, f"{server.url}/explore/step_count{RANGE}&bucket=hour")
    series = await api(
        server, person.key, "/api/v1/metrics/step_count/series", bucket="hour", **API_RANGE
    )
    expected = {p["start"]: p["value"] for p in series["points"] if p["value"] is not None}
    assert len(expected) > 30 * 24  # every hour of the month (one fewer on the DST day)
    assert await rows_of(logged_in, "explore-series-table") == expected
    newest = await api(
        server, person.key, "/api/v1/metrics/step_count/newest", limit="50", **API_RANGE
    )
    shown = await logged_in.eval_on_selector_all(
        "[data-testid=newest-table] tbody tr", "rows => rows.map(r => r.dataset.date)"
    )
    assert shown == [s["start"] for s in newest["samples"]]
    assert len(shown) == 50
    await screenshot(logged_in, "explore")
    assert watch.errors == []


async def test_explore_says_why_a_bucket_is_refused(logged_in: Page, server: ServerProcess) -> None:
    await open_ready(logged_in, f"{server.url}/explore/heart_rate?range=all&bucket=minute")
    refusal = await logged_in.inner_text("[data-testid=explore-refusal]")
    assert "minute" in refusal
    assert "HTTP 400" in refusal
    assert await logged_in.locator("[data-testid=explore-picker]").count() == 1
    assert await logged_in.locator("[data-testid=error]").count() == 0

"""The body and explore pages in a real browser: their tables carry the API's numbers."""

from __future__ import annotations

from playwright.async_api import Page

from tests.dashboard.browser import open_ready, screenshot
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

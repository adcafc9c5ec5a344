"""The records and sync pages in a real browser: the API's records, the ECG on ECG paper."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from playwright.async_api import Browser, Page

from tests.dashboard.browser import READY, PageWatch, new_page, open_ready, screenshot
from tests.dashboard.conftest import Person, api, log_in, make_person
from tests.dashboard.test_pages import RANGE
from tests.fixtures.dashboard_data import ECG_SAMPLES, RECORD_COUNT
from tests.fixtures.sync import automation_headers, daily_points, days_back, metric_body, post
from tests.reliability.server import ServerProcess

# The page's local days of New York as instants (the record routes read dates as UTC).
INSTANTS = {"start": "2024-03-01T00:00:00-05:00", "end": "2024-04-01T00:00:00-04:00"}
LISTS = {
    "/api/v1/symptoms": "symptoms-table",
    "/api/v1/state-of-mind": "state-of-mind-table",
    "/api/v1/medications": "medications-table",
    "/api/v1/cycle-tracking": "cycle-tracking-table",
    "/api/v1/ecg": "ecg-table",
}


async def dates_of(page: Page, testid: str) -> list[str]:
    """The data-date of each row of a table, in page order."""
    dates: list[str] = await page.eval_on_selector_all(
        f"[data-testid={testid}] tbody tr", "rows => rows.map(r => r.dataset.date)"
    )
    return dates


async def test_records_lists_are_the_api_records_newest_first(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    await open_ready(logged_in, f"{server.url}/records{RANGE}")
    for path, testid in LISTS.items():
        items = (await api(server, person.key, path, **INSTANTS))["items"]
        expected = 1 if testid == "ecg-table" else RECORD_COUNT
        assert len(items) == expected, path
        assert await dates_of(logged_in, testid) == [i["start"] for i in reversed(items)], path
    await screenshot(logged_in, "records")
    assert watch.errors == []


def trace_points(points: str) -> list[tuple[float, float]]:
    """An SVG polyline's points attribute as (x, y) pairs."""
    pairs = (pair.split(",") for pair in points.split())
    return [(float(x), float(y)) for x, y in pairs]


async def test_ecg_is_drawn_at_25_mm_per_second_and_10_mm_per_millivolt(
    logged_in: Page, server: ServerProcess, person: Person
) -> None:
    await open_ready(logged_in, f"{server.url}/records{RANGE}")
    (summary,) = (await api(server, person.key, "/api/v1/ecg", **INSTANTS))["items"]
    voltages = (await api(server, person.key, f"/api/v1/ecg/{summary['id']}"))["voltages_uv"]
    strip = logged_in.locator("[data-testid=ecg-strip]")
    assert await strip.get_attribute("data-samples") == str(ECG_SAMPLES) == str(len(voltages))
    # 30 s in rows of 10 s, each 250 mm of trace after a 10 mm calibration pulse.
    assert await strip.get_attribute("viewBox") == (
        f"0 0 260 {3 * int(await strip.get_attribute('data-row-height-mm') or 0)}"
    )
    traces = strip.locator("polyline.trace")
    assert await traces.count() == 3
    drawn = 0
    for row in range(3):
        points = trace_points(await traces.nth(row).get_attribute("points") or "")
        first = int(await traces.nth(row).get_attribute("data-first") or -1)
        assert first == drawn
        drawn += len(points)
        assert abs(points[0][0] - 10) < 1e-3
        for index in (1, 200, len(points) - 1):
            # 1 mm = 0.04 s across: sample k is k / 512 s, so k / 512 * 25 mm from the start.
            assert abs(points[index][0] - points[0][0] - index / 512 * 25) < 2e-3
            # 1 mm = 0.1 mV up: 1000 µV higher is 10 mm nearer the top.
            rise = (voltages[first + index] - voltages[first]) / 1000 * 10
            assert abs((points[0][1] - points[index][1]) - rise) < 2e-3
    assert drawn == ECG_SAMPLES
    # Standard paper: a line every millimetre, a heavier one every 5 mm (big squares).
    big = await strip.locator("path.grid-big").get_attribute("d") or ""
    verticals = [float(move.split()[0]) for move in big.split("M")[1:] if "V" in move]
    assert verticals == [5.0 * k for k in range(53)]
    small = await strip.locator("path.grid-small").get_attribute("d") or ""
    assert sum(1 for move in small.split("M")[1:] if "V" in move) == 261


async def test_another_ecg_opens_on_request(
    logged_in: Page, server: ServerProcess, person: Person
) -> None:
    await open_ready(logged_in, f"{server.url}/records{RANGE}")
    await logged_in.click("[data-testid=ecg-open]")
    await logged_in.wait_for_selector(READY, state="attached")
    assert await logged_in.locator("[data-testid=ecg-strip] polyline.trace").count() == 3


async def test_sync_shows_what_arrived_and_the_gaps_to_repair(
    browser: Browser, server: ServerProcess, app: FastAPI, watch: PageWatch
) -> None:
    someone = await make_person(app)
    hole = set(days_back(12, 10))
    arrived = [day for day in days_back(30) if day not in hole]
    headers = automation_headers("Health metrics", period="Since Last Sync")
    body = metric_body("step_count", "count", daily_points(arrived, per_day=24))
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        response = await post(http, someone.key, body, headers)
    assert response.status_code == 200, response.text
    view = await api(server, someone.key, "/api/v1/sync")
    (gap,) = next(m for m in view["metrics"] if m["name"] == "step_count")["gaps"]

    page = await new_page(browser, watch)
    await log_in(page, server, someone, "/sync")
    (automation,) = view["automations"]
    row = page.locator("[data-testid=automations-table] tbody tr")
    assert await row.get_attribute("data-value") == str(automation["points"])
    assert await row.get_attribute("data-date") == automation["last_seen"]
    assert "Health metrics" in await row.inner_text()
    rules = await page.eval_on_selector_all(
        "[data-testid=advice]", "items => items.map(i => i.dataset.rule)"
    )
    assert rules == [a["rule"] for a in automation["advice"]]
    assert rules
    shown = page.locator("[data-testid=gap]")
    assert await shown.count() == 1
    assert await shown.get_attribute("data-start") == gap["start"]
    assert await shown.get_attribute("data-end") == gap["end"]
    assert gap["repair"] in await shown.inner_text()
    metric = page.locator("[data-testid=sync-metrics-table] tbody tr[data-metric=step_count]")
    newest = next(m for m in view["metrics"] if m["name"] == "step_count")["newest_sample"]
    assert await metric.get_attribute("data-date") == newest
    await screenshot(page, "sync")
    await page.context.close()
    assert watch.errors == []

"""Units as the person prefers: the US choice shows miles, pounds and feet on every page,
is kept by the browser, and its numbers are the API's converted ones."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.dashboard.browser import READY, PageWatch, new_page, open_ready, screenshot
from tests.dashboard.conftest import Person, api, log_in
from tests.dashboard.test_pages import API_RANGE, RANGE, rows_of
from tests.reliability.server import ServerProcess

POUNDS_PER_KG = 1000 / 453.59237
MILES_PER_KM = 1000 / 1609.344


async def test_us_units_convert_every_page_and_stay_chosen(
    browser: Browser, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    page = await new_page(browser, watch)
    await log_in(page, server, person, f"/body{RANGE}")
    kilograms = await rows_of(page, "body-weight-table")
    assert await page.input_value("[data-testid=units]") == "metric"

    await page.select_option("[data-testid=units]", "us")
    await page.wait_for_selector(READY, state="attached")
    pounds = await api(
        server,
        person.key,
        "/api/v1/metrics/weight_body_mass/series",
        **API_RANGE,
        bucket="day",
        agg="avg",
        unit="lb",
    )
    expected = {p["start"][:10]: p["value"] for p in pounds["points"] if p["value"] is not None}
    assert await rows_of(page, "body-weight-table") == expected
    assert expected == pytest.approx({d: kg * POUNDS_PER_KG for d, kg in kilograms.items()})
    assert "Weight (lb)" in await page.inner_text("[data-testid=body-weight-table] thead")

    await open_ready(page, f"{server.url}/activity{RANGE}")
    assert await page.input_value("[data-testid=units]") == "us"  # kept by the browser
    days = (await api(server, person.key, "/api/v1/activity/daily", **API_RANGE))["days"]
    miles = {d["date"]: d["distance_km"] * MILES_PER_KM for d in days if d["distance_km"]}
    assert await rows_of(page, "daily-distance-km-table") == pytest.approx(miles)

    await open_ready(page, f"{server.url}/{RANGE}")
    cards = (await api(server, person.key, "/api/v1/overview", **API_RANGE))["cards"]
    weight = next(card for card in cards if card["key"] == "weight")
    shown = await rows_of(page, "table-weight")
    assert shown == pytest.approx({d["date"]: d["value"] * POUNDS_PER_KG for d in weight["days"]})
    assert "lb" in await page.inner_text("[data-testid=card-weight] [data-testid=latest]")
    await screenshot(page, "overview-us-units")

    await page.select_option("[data-testid=units]", "metric")
    await page.wait_for_selector(READY, state="attached")
    assert await rows_of(page, "table-weight") == {d["date"]: d["value"] for d in weight["days"]}
    await page.context.close()
    assert watch.errors == []


async def test_us_units_on_a_workout_are_miles_and_feet(
    browser: Browser, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    listed = (await api(server, person.key, "/api/v1/workouts", **API_RANGE))["workouts"]
    workout = await api(server, person.key, f"/api/v1/workouts/{listed[0]['id']}")
    route = await api(server, person.key, f"/api/v1/workouts/{workout['id']}/route")
    page = await new_page(browser, watch)
    await log_in(page, server, person, f"/workouts/{workout['id']}{RANGE}")
    await page.select_option("[data-testid=units]", "us")
    await page.wait_for_selector(READY, state="attached")

    summary = await page.inner_text("[data-testid=workout-summary]")
    assert f"{workout['distance_km'] * MILES_PER_KM:.2f} mi" in summary
    feet = {
        time: point[2] / 0.3048
        for time, point in zip(
            route["properties"]["times"], route["geometry"]["coordinates"], strict=True
        )
    }
    assert await rows_of(page, "elevation-table") == pytest.approx(feet)
    assert "Elevation (ft)" in await page.inner_text("[data-testid=elevation-table] thead")
    await page.context.close()
    assert watch.errors == []

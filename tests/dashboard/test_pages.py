"""The dashboard in a real browser: log in, every page draws, its numbers are the API's."""

from __future__ import annotations

from fastapi import FastAPI
from playwright.async_api import Browser, Page

from tests.dashboard.browser import READY, PageWatch, new_page, open_ready, screenshot
from tests.dashboard.conftest import Person, api, log_in, make_person
from tests.fixtures.dashboard_data import FIRST_DAY, LAST_DAY, ROUTE_POINTS, ZONE
from tests.reliability.server import ServerProcess

RANGE = f"?start={FIRST_DAY}&end={LAST_DAY}&tz={ZONE}"
# The API's end is exclusive: the page's last day is included.
API_RANGE = {"start": FIRST_DAY, "end": "2024-04-01", "tz": ZONE}
PAGES = (
    "/",
    "/activity",
    "/sleep",
    "/heart",
    "/workouts",
    "/body",
    "/explore",
    "/records",
    "/sync",
)


async def rows_of(page: Page, testid: str) -> dict[str, float]:
    """A data table's rows: data-date → data-value."""
    pairs: list[list[str]] = await page.eval_on_selector_all(
        f"[data-testid={testid}] tbody tr",
        "rows => rows.map(r => [r.dataset.date, r.dataset.value])",
    )
    return {date: float(value) for date, value in pairs}


async def test_every_page_draws_after_login(
    logged_in: Page, server: ServerProcess, watch: PageWatch
) -> None:
    for path in PAGES:
        await open_ready(logged_in, f"{server.url}{path}{RANGE}")
        assert await logged_in.locator("[data-testid=error]").count() == 0, path
        assert await logged_in.locator("[data-testid=empty-state]").count() == 0, path
        await screenshot(logged_in, "overview" if path == "/" else path.strip("/"))
    assert watch.errors == []
    assert all(url.startswith(f"{server.url}/") for url in watch.requests), watch.requests


async def test_tables_carry_the_api_numbers(
    logged_in: Page, server: ServerProcess, person: Person
) -> None:
    await open_ready(logged_in, f"{server.url}/activity{RANGE}")
    activity = await api(server, person.key, "/api/v1/activity/daily", **API_RANGE)
    expected_steps = {d["date"]: d["steps"] for d in activity["days"] if d["steps"] is not None}
    assert len(expected_steps) >= 30
    assert await rows_of(logged_in, "daily-steps-table") == expected_steps

    await open_ready(logged_in, f"{server.url}/sleep{RANGE}")
    nights = (await api(server, person.key, "/api/v1/sleep", **API_RANGE))["nights"]
    shown: list[list[str]] = await logged_in.eval_on_selector_all(
        "[data-testid=nights-table] tbody tr",
        "rows => rows.map(r => [r.dataset.date, r.dataset.totalSleepH])",
    )
    assert {date: float(hours) for date, hours in shown} == {
        night["date"]: night["total_sleep_h"] for night in nights
    }
    assert len(shown) == 25

    await open_ready(logged_in, f"{server.url}/{RANGE}")
    cards = (await api(server, person.key, "/api/v1/overview", **API_RANGE))["cards"]
    for card in cards:
        expected = {day["date"]: day["value"] for day in card["days"]}
        assert await rows_of(logged_in, f"table-{card['key']}") == expected, card["key"]

    await open_ready(logged_in, f"{server.url}/heart{RANGE}")
    heart = (await api(server, person.key, "/api/v1/heart/daily", **API_RANGE))["days"]
    resting = {d["date"]: d["resting_hr"] for d in heart if d["resting_hr"] is not None}
    assert await rows_of(logged_in, "heart-resting-hr-table") == resting


async def test_workout_route_has_every_point(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    await open_ready(logged_in, f"{server.url}/workouts{RANGE}")
    listed = (await api(server, person.key, "/api/v1/workouts", **API_RANGE))["workouts"]
    rows = logged_in.locator("[data-testid=workout-row]")
    assert await rows.count() == len(listed) == 3
    await rows.first.locator("a").click()
    await logged_in.wait_for_url("**/workouts/*")
    await logged_in.wait_for_selector(READY, state="attached")
    workout_id = logged_in.url.split("/workouts/")[1].split("?")[0]
    route = await api(server, person.key, f"/api/v1/workouts/{workout_id}/route")
    points = await logged_in.get_attribute("[data-testid=route]", "data-points")
    assert points is not None
    assert int(points) == len(route["geometry"]["coordinates"]) == ROUTE_POINTS
    await screenshot(logged_in, "workout")
    assert watch.errors == []


async def test_phone_width_does_not_scroll_sideways(
    browser: Browser, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    page = await new_page(browser, watch, width=390)
    await log_in(page, server, person, f"/{RANGE}")
    for path in PAGES:
        await open_ready(page, f"{server.url}{path}{RANGE}")
        width: int = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        await screenshot(page, f"phone-{path.strip('/') or 'overview'}")
    await page.context.close()
    assert watch.errors == []


async def test_logout_ends_the_session(logged_in: Page, server: ServerProcess) -> None:
    before = await logged_in.context.request.get(f"{server.url}/api/v1/overview")
    assert before.status == 200
    cookies = await logged_in.context.cookies()
    session = next(c for c in cookies if c["name"] == "he_session")
    await logged_in.click("[data-testid=logout]")
    await logged_in.wait_for_selector(READY, state="attached")
    assert await logged_in.locator("input[name=password]").is_visible()
    # The old cookie, sent again by hand, no longer opens anything.
    replay = await logged_in.context.request.get(
        f"{server.url}/api/v1/overview", headers={"Cookie": f"he_session={session['value']}"}
    )
    assert replay.status == 401


async def test_wrong_password_is_said_in_words(
    browser: Browser, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    page = await new_page(browser, watch)
    await open_ready(page, f"{server.url}/sleep")
    await page.fill("input[name=name]", person.name)
    await page.fill("input[name=password]", "not the password")
    await page.click("button[type=submit]")
    await page.wait_for_selector(READY, state="attached")
    message = await page.inner_text("[data-testid=login-message]")
    assert message == "Wrong name or password."
    await page.context.close()


async def test_a_person_without_data_is_told_what_to_do(
    browser: Browser, server: ServerProcess, app: FastAPI, watch: PageWatch
) -> None:
    newcomer = await make_person(app)
    page = await new_page(browser, watch)
    await log_in(page, server, newcomer, f"/sleep{RANGE}")
    assert "Add Sleep Analysis to an automation" in await page.inner_text(
        "[data-testid=empty-state]"
    )
    for path in PAGES:
        await open_ready(page, f"{server.url}{path}{RANGE}")
        assert await page.locator("[data-testid=empty-state]").count() == 1, path
    await screenshot(page, "empty-overview")
    await page.context.close()
    assert watch.errors == []

"""The dashboard's rings, calendar, blood pressure, notifications, sleep schedule and
workout zones in a real browser: each drawn, each table equal to the API's numbers."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page

from tests.dashboard.browser import PageWatch, open_ready, screenshot
from tests.dashboard.conftest import Person, api, log_in
from tests.dashboard.test_pages import API_RANGE, RANGE, rows_of
from tests.fixtures.dashboard_data import FIRST_DAY, LAST_DAY, NOTIFICATION_AT, ZONE
from tests.reliability.server import ServerProcess


async def attrs_of(page: Page, testid: str, *names: str) -> list[dict[str, str]]:
    """Each row of a data table as its data-* attributes named ``names``."""
    rows: list[dict[str, str]] = await page.eval_on_selector_all(
        f"[data-testid={testid}] tbody tr",
        "(rows, names) => rows.map(r => Object.fromEntries(names.map(n => [n, r.dataset[n]])))",
        list(names),
    )
    return rows


async def test_overview_rings_are_the_apis(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    await open_ready(logged_in, f"{server.url}/{RANGE}")
    rings = (await api(server, person.key, "/api/v1/overview", **API_RANGE))["rings"]
    assert rings["date"] == LAST_DAY
    shown = await attrs_of(logged_in, "rings-table", "ring", "date", "value", "goal")
    assert [row["ring"] for row in shown] == ["move", "exercise", "stand"]
    for row in shown:
        ring = rings[row["ring"]]
        assert row["date"] == LAST_DAY
        assert float(row["value"]) == ring["value"]
        assert (float(row["goal"]) if row["goal"] else None) == ring["goal"]
    # Exercise and stand have Apple's fixed goals; the move ring has none without an archive.
    arcs = logged_in.locator("[data-testid=rings] .ring-arc")
    assert await arcs.count() == 2
    assert watch.errors == []


async def test_activity_calendar_holds_the_years_steps(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    await open_ready(logged_in, f"{server.url}/activity{RANGE}")
    year = await api(
        server,
        person.key,
        "/api/v1/activity/daily",
        start="2023-04-02",
        end="2024-04-01",
        tz=ZONE,
    )
    steps = {d["date"]: d["steps"] for d in year["days"] if d["steps"] is not None}
    assert len(steps) >= 31  # the data's month, and nothing before it
    assert await rows_of(logged_in, "calendar-steps-table") == steps
    cells = logged_in.locator("[data-testid=steps-calendar] rect.day")
    assert await cells.count() == 365
    filled: list[list[str]] = await logged_in.eval_on_selector_all(
        "[data-testid=steps-calendar] rect.day[data-value]:not([data-value=''])",
        "cells => cells.map(c => [c.dataset.date, c.dataset.value])",
    )
    assert {date: float(value) for date, value in filled} == steps
    await screenshot(logged_in, "activity-calendar")
    assert watch.errors == []


async def test_heart_page_draws_blood_pressure_and_marks_notifications(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    await open_ready(logged_in, f"{server.url}/heart{RANGE}")
    heart = await api(server, person.key, "/api/v1/heart/daily", **API_RANGE)
    pressure = {d["date"]: d["systolic"] for d in heart["blood_pressure"]}
    assert len(pressure) >= 30
    assert await rows_of(logged_in, "heart-bp-table") == pressure
    diastolic = await attrs_of(logged_in, "heart-bp-table", "date", "diastolic")
    assert {r["date"]: float(r["diastolic"]) for r in diastolic} == {
        d["date"]: d["diastolic"] for d in heart["blood_pressure"]
    }
    marks = await attrs_of(logged_in, "heart-notifications-table", "date", "kind", "start")
    assert marks == [
        {"date": n["date"], "kind": n["kind"], "start": n["start"]} for n in heart["notifications"]
    ]
    assert [m["date"] for m in marks] == [NOTIFICATION_AT.date().isoformat()]
    # The range chart carries the marks as a series of its own.
    legend = await logged_in.inner_text("[data-testid=chart-hr-range] .u-legend")
    assert "Notification" in legend
    await screenshot(logged_in, "heart-pressure")
    assert watch.errors == []


async def test_sleep_schedule_and_efficiency_are_the_nights(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    await open_ready(logged_in, f"{server.url}/sleep{RANGE}")
    nights = (await api(server, person.key, "/api/v1/sleep", **API_RANGE))["nights"]
    schedule = await attrs_of(logged_in, "sleep-schedule-table", "date", "bedtime", "wake")
    assert schedule == [
        {
            "date": n["date"],
            "bedtime": n["in_bed_start"] or n["sleep_start"],
            "wake": n["sleep_end"] or n["in_bed_end"],
        }
        for n in nights
    ]
    assert await logged_in.locator("[data-testid=sleep-schedule] rect.sleep-span").count() == 25
    efficiency = {n["date"]: n["efficiency"] for n in nights if n["efficiency"] is not None}
    assert efficiency
    assert await rows_of(logged_in, "sleep-efficiency-table") == efficiency
    await screenshot(logged_in, "sleep-schedule")
    assert watch.errors == []


def seconds_in_zones(points: list[tuple[float, float]], max_hr: float) -> list[float]:
    """Seconds per zone (50-60 ... 90-100 % of ``max_hr``): a reading counts until the
    next one, at most 300 s."""
    seconds = [0.0] * 5
    for (moment, bpm), (after, _) in itertools.pairwise(points):
        zone = min(4, int((bpm / max_hr - 0.5) * 10)) if bpm >= 0.5 * max_hr else -1
        if zone >= 0:
            seconds[zone] += min(300.0, after - moment)
    return seconds


async def test_workout_heart_rate_zones_follow_the_years_maximum(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    listed = (await api(server, person.key, "/api/v1/workouts", **API_RANGE))["workouts"]
    workout = await api(server, person.key, f"/api/v1/workouts/{listed[0]['id']}")
    await open_ready(logged_in, f"{server.url}/workouts/{workout['id']}{RANGE}")
    day = date.fromisoformat(workout["start"][:10])
    year = await api(
        server,
        person.key,
        "/api/v1/metrics/heart_rate/series",
        start=(day - timedelta(days=365)).isoformat(),
        end=(day + timedelta(days=1)).isoformat(),
        bucket="month",
        agg="max",
    )
    heart = workout["series"]["heartRateData"]
    maxima = [p["value"] for p in year["points"]] + [workout["max_heart_rate"] or 0]
    max_hr = max(maxima + [p.get("max") or p["avg"] for p in heart])
    shown = await logged_in.get_attribute("[data-testid=zones-panel]", "data-max-hr")
    assert shown is not None
    assert float(shown) == max_hr
    points = [(datetime.fromisoformat(p["start"]).timestamp(), p["avg"]) for p in heart]
    zones = await attrs_of(logged_in, "workout-zones-table", "zone", "date", "value", "low")
    assert [z["zone"] for z in zones] == ["z1", "z2", "z3", "z4", "z5"]
    assert {z["date"] for z in zones} == {day.isoformat()}
    assert [float(z["value"]) for z in zones] == pytest.approx(seconds_in_zones(points, max_hr))
    assert [float(z["low"]) for z in zones] == pytest.approx(
        [f * max_hr for f in (0.5, 0.6, 0.7, 0.8, 0.9)]
    )
    assert sum(float(z["value"]) for z in zones) > 0
    await screenshot(logged_in, "workout-zones")
    assert watch.errors == []


async def test_new_views_fit_a_phone_and_follow_a_dark_system(
    browser: Browser, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    listed = (await api(server, person.key, "/api/v1/workouts", **API_RANGE))["workouts"]
    context = await browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = await context.new_page()
    watch.attach(page)
    await log_in(page, server, person, f"/{RANGE}")
    for path in ("/", "/activity", "/heart", "/sleep", f"/workouts/{listed[0]['id']}", "/sync"):
        await open_ready(page, f"{server.url}{path}{RANGE}")
        width: int = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 20, 24)"  # the dark theme's --bg
    await screenshot(page, "phone-dark-workout-sync")
    await context.close()
    assert watch.errors == []


async def test_without_a_zone_in_the_address_days_are_the_phones(
    logged_in: Page, server: ServerProcess, person: Person, watch: PageWatch
) -> None:
    await open_ready(logged_in, f"{server.url}/activity?start={FIRST_DAY}&end={LAST_DAY}")
    own_days = {"start": FIRST_DAY, "end": API_RANGE["end"]}
    days = (await api(server, person.key, "/api/v1/activity/daily", **own_days))["days"]
    steps = {d["date"]: d["steps"] for d in days if d["steps"] is not None}
    assert min(steps) == FIRST_DAY  # the sender's -04:00 days, not New York's
    assert await rows_of(logged_in, "daily-steps-table") == steps
    subtitle = await logged_in.inner_text(".page-head .subtitle")
    assert "days as the phone recorded them" in subtitle
    asked = [url for url in watch.requests if "/api/v1/activity/daily" in url]
    assert asked
    assert all("tz=" not in url for url in asked)
    assert watch.errors == []

"""The dashboard in Chromium over one year of minute-level data: time to ``data-ready``.

Run alone: `.venv/bin/python bench/dashboard.py` (or `.venv/bin/python -m bench --only
dashboard`). Set-up (not measured): a fresh database, one user with a password and the
read benchmark's year of minute heart rate and steps (`bench/read_api.py`'s loader,
2024, America/New_York offsets) plus one workout with its route posted through the
API, then the real server (`health-export serve`, one worker, loopback). Measured:
Debian's Chromium driven by Playwright (``executable_path``, never a downloaded
browser), logged in once, the browser's zone America/New_York; per page and range, one
warm-up load (the hashed assets are then in the browser cache, as for anyone coming
back), then the median of 5 loads from navigation start to ``<body data-ready="true">``
(the page's own clock); and
the overview's own request, timed over HTTP (median of 13 after 2 warm ones).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.dashboard.browser import CHROMIUM_ARGS  # noqa: E402
from tests.fixtures import payloads  # noqa: E402

from bench.harness import Server, bench_engine, fresh_database, new_key  # noqa: E402
from bench.read_api import load_year  # noqa: E402
from health_export.auth.principal import Scope  # noqa: E402

DATABASE = "health_export_bench_dashboard"
PASSWORD = "a year of minutes, drawn"  # noqa: S105 - the benchmark user of its own database
ZONE = "America/New_York"
RUNS = 5
HTTP_RUNS = 15
READY = "body[data-ready=true]"
# The last 30 days of the data (each page's default length) and the whole year.
RANGES = {
    "30 d": {"start": "2024-12-02", "end": "2024-12-31"},
    "1 y": {"start": "2024-01-01", "end": "2024-12-31"},
}
PAGES = (
    "/",
    "/activity",
    "/sleep",
    "/heart",
    "/workouts",
    "/workouts/{workout}",
    "/body",
    "/explore",
    "/explore/heart_rate",
    "/records",
    "/sync",
)
PAGE_TARGET_MS = 1000
OVERVIEW_TARGET_MS = 150


def chromium() -> str:
    """The system Chromium (``CHROMIUM`` overrides)."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not found:
        raise SystemExit("the dashboard benchmark needs Chromium: apt-get install chromium")
    return found


async def _prepare() -> tuple[str, Any]:
    url = await fresh_database(DATABASE)
    engine = bench_engine(url)
    try:
        key = await new_key(engine, (Scope.INGEST, Scope.READ), password=PASSWORD)
        await load_year(url, engine, key.user_id)
    finally:
        await engine.dispose()
    return url, key


def _post_workout(http: httpx.Client, headers: dict[str, str]) -> str:
    """One outdoor workout with a route (through the API) and its id."""
    start = datetime(2024, 12, 20, 7, 0, tzinfo=timezone(timedelta(hours=-5)))
    body = orjson.dumps(payloads.hae_workouts(count=1, start=start, route_points=600))
    response = http.post(
        "/api/v1/ingest", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    listed = http.get("/api/v1/workouts", params={"start": "2024-12-01"}, headers=headers)
    return str(listed.json()["workouts"][0]["id"])


def overview_ms(
    http: httpx.Client, headers: dict[str, str], span: dict[str, str], tz: str | None = None
) -> float:
    """The overview's request as the page sends it (the API's end is the day after; a
    zone only when the address names one)."""
    end = (datetime.fromisoformat(span["end"]) + timedelta(days=1)).date().isoformat()
    params = {"start": span["start"], "end": end, **({"tz": tz} if tz else {})}
    timings = []
    for _ in range(HTTP_RUNS):
        started = time.perf_counter()
        response = http.get("/api/v1/overview", params=params, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return statistics.median(timings[2:])


Times = dict[str, dict[str, float]]
# When <body data-ready="true"> is set, in ms since the navigation started: read in the
# page, since Playwright's own waiting polls every 500 ms once it has waited a while.
READY_CLOCK = """new MutationObserver(() => {
  if (window.__readyAt === undefined && document.body?.dataset.ready === "true") {
    window.__readyAt = performance.now();
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });"""
# The longest of the page's API requests, as the browser timed it (Resource Timing).
SLOWEST_REQUEST = """() => Math.max(0, ...performance.getEntriesByType("resource")
  .filter((entry) => new URL(entry.name).pathname.startsWith("/api/"))
  .map((entry) => entry.duration))"""


async def page_times(base: str, name: str, workout: str) -> tuple[Times, Times]:
    """Per range and page, the median ms from navigation to data-ready, and the median
    of its slowest API request."""
    from playwright.async_api import async_playwright

    times: Times = {}
    slowest: Times = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 1280, "height": 900}, timezone_id=ZONE
        )
        await context.add_init_script(READY_CLOCK)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{base}/")
        await page.wait_for_selector(READY, state="attached")
        await page.fill("input[name=name]", name)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector(READY, state="attached")
        for label, span in RANGES.items():
            times[label], slowest[label] = {}, {}
            query = f"?start={span['start']}&end={span['end']}"
            for path in PAGES:
                url = f"{base}{path.format(workout=workout)}{query}"
                runs, requests = [], []
                for attempt in range(RUNS + 1):
                    await page.goto(url)
                    await page.wait_for_selector(READY, state="attached", timeout=60_000)
                    if attempt:
                        runs.append(await page.evaluate("window.__readyAt"))
                        requests.append(await page.evaluate(SLOWEST_REQUEST))
                failed = await page.locator("[data-testid=error]").count()
                assert failed == 0, f"{path} shows an error"
                times[label][path] = statistics.median(runs)
                slowest[label][path] = statistics.median(requests)
        await browser.close()
    assert errors == [], errors
    return times, slowest


def measure() -> dict[str, Any]:
    """Every figure of the Dashboard section."""
    url, key = asyncio.run(_prepare())
    headers = {**key.headers, "Accept-Encoding": "identity"}
    with Server(url) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        workout = _post_workout(http, headers)
        overview = {label: overview_ms(http, headers, span) for label, span in RANGES.items()}
        zoned = {label: overview_ms(http, headers, span, ZONE) for label, span in RANGES.items()}
        pages = asyncio.run(page_times(server.url, key.user_name, workout))
    return {"pages": pages[0], "slowest": pages[1], "overview": overview, "zoned": zoned}


def render(figures: dict[str, Any]) -> str:
    """The bench/README.md section of these figures."""
    labels = list(RANGES)
    head = "| page | target | " + " | ".join(f"{label} (slowest request)" for label in labels)
    rows = [head + " |", "|---|---|" + "---|" * len(labels)]
    for path in PAGES:
        cells = " | ".join(
            f"{figures['pages'][label][path]:.0f} ms ({figures['slowest'][label][path]:.0f} ms)"
            for label in labels
        )
        rows.append(f"| `{path}` | ≤ {PAGE_TARGET_MS} ms | {cells} |")
    cells = " | ".join(f"{figures['overview'][label]:.0f} ms" for label in labels)
    rows.append(f"| `GET /api/v1/overview` (HTTP) | ≤ {OVERVIEW_TARGET_MS} ms | {cells} |")
    cells = " | ".join(f"{figures['zoned'][label]:.0f} ms" for label in labels)
    rows.append(f"| `GET /api/v1/overview?tz={ZONE}` (HTTP) | | {cells} |")
    return (
        "## Dashboard\n\n"
        "`bench/dashboard.py` (alone: `.venv/bin/python bench/dashboard.py` or\n"
        "`.venv/bin/python -m bench --only dashboard`) loads the read benchmark's year (2024)\n"
        "of minute heart rate and steps for one user, with a password, and one workout with a\n"
        "600-point route posted through the API; starts the real server (one worker,\n"
        "loopback) and drives Debian's Chromium through Playwright (`executable_path`), logged\n"
        "in once, in America/New_York. Each page is loaded once to warm up (the hashed assets\n"
        "are then cached, as for anyone coming back), then 5 times: the median from navigation\n"
        'start to `<body data-ready="true">` by the page\'s own clock (`performance.now()` in\n'
        "a MutationObserver), and in brackets the median of its slowest API request as the\n"
        "browser timed it, for the last 30 days of the data and the whole year. The\n"
        "overview's request is timed over HTTP as the page sends it (median of 13): without\n"
        "`tz=`, since the pages ask for the phone's own days unless the address names a zone;\n"
        "with it, every day is regrouped from the rows.\n\n" + "\n".join(rows) + "\n"
    )


def bench_section(*, quick: bool = False) -> tuple[str, str]:
    """(marker name, markdown) of this benchmark for bench/README.md."""
    return "dashboard", render(measure())


def main() -> None:
    """Measure, print, and write the section into bench/README.md."""
    from bench.__main__ import README, replace_section

    section = render(measure())
    print(section)
    README.write_text(replace_section(README.read_text(), "dashboard", section))


if __name__ == "__main__":
    main()

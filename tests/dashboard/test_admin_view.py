"""An admin looks at another user's dashboard (?user_id=, every read audited); anyone
else who names a user is refused in words."""

from __future__ import annotations

from fastapi import FastAPI
from playwright.async_api import Browser

from health_export.auth.principal import Scope
from tests.dashboard.browser import PageWatch, new_page, open_ready, screenshot
from tests.dashboard.conftest import PASSWORD, Person, api, log_in, make_person
from tests.dashboard.test_pages import API_RANGE, RANGE, rows_of
from tests.fixtures.auth import create_user_with_key
from tests.ingest.conftest import fetch
from tests.reliability.server import ServerProcess


async def test_an_admin_sees_another_users_dashboard_and_each_read_is_audited(
    browser: Browser, server: ServerProcess, app: FastAPI, person: Person, watch: PageWatch
) -> None:
    key = await create_user_with_key(app, scopes=[Scope.READ], is_admin=True, password=PASSWORD)
    admin = Person(key.user_name, key)
    target = person.key.user_id
    page = await new_page(browser, watch)
    await log_in(page, server, admin, f"/heart{RANGE}&user_id={target}")

    heart = (await api(server, person.key, "/api/v1/heart/daily", **API_RANGE))["days"]
    resting = {d["date"]: d["resting_hr"] for d in heart if d["resting_hr"] is not None}
    assert len(resting) >= 30
    assert await rows_of(page, "heart-resting-hr-table") == resting
    banner = await page.inner_text("[data-testid=viewing-user]")
    assert f"user {target}" in banner
    nav = await page.get_attribute("a[data-nav=activity]", "href")
    assert nav is not None
    assert f"user_id={target}" in nav

    await open_ready(page, f"{server.url}{nav}")
    activity = await api(server, person.key, "/api/v1/activity/daily", **API_RANGE)
    steps = {d["date"]: d["steps"] for d in activity["days"] if d["steps"] is not None}
    assert await rows_of(page, "daily-steps-table") == steps
    await screenshot(page, "admin-view")
    audited = await fetch(
        app,
        "SELECT details->>'path' AS path FROM audit_events WHERE action = 'admin.data.read'"
        " AND actor_user_id = :actor AND target_user_id = :target ORDER BY id",
        actor=admin.key.user_id,
        target=target,
    )
    paths = [row["path"] for row in audited]
    assert "/api/v1/heart/daily" in paths
    assert paths.count("/api/v1/activity/daily") == 2  # the range and the calendar's year
    await page.context.close()
    assert watch.errors == []


async def test_a_user_naming_another_user_is_refused_in_words(
    browser: Browser, server: ServerProcess, app: FastAPI, person: Person, watch: PageWatch
) -> None:
    someone = await make_person(app)
    page = await new_page(browser, watch)
    await log_in(page, server, someone, f"/{RANGE}&user_id={person.key.user_id}")
    message = await page.inner_text("[data-testid=forbidden]")
    assert "Only an admin can look at another user's dashboard" in message
    assert await page.locator("[data-testid=table-steps]").count() == 0
    audited = await fetch(
        app,
        "SELECT count(*) AS n FROM audit_events WHERE action = 'admin.data.read'"
        " AND actor_user_id = :actor",
        actor=someone.key.user_id,
    )
    assert audited == [{"n": 0}]
    await page.context.close()
    # The browser logs the refused request itself; nothing else went wrong.
    assert watch.errors
    assert all("403" in error for error in watch.errors), watch.errors

"""A real `health-export serve` with a month of data, and Debian's Chromium to look at it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright

from health_export.auth.principal import Scope
from tests.conftest import REDIS_URL
from tests.dashboard.browser import (
    CHROMIUM_ARGS,
    CHROMIUM_PACKAGE,
    READY,
    PageWatch,
    chromium_path,
    new_page,
    open_ready,
)
from tests.fixtures.auth import TestKey, create_user_with_key
from tests.fixtures.dashboard_data import month_of_data
from tests.reliability.server import ServerProcess, server_env

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Person:
    """A user who logs in to the dashboard, and a read key to ask the API the same."""

    name: str
    key: TestKey


@pytest.fixture(scope="package")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the dashboard's tests (each test's people are its own)."""
    # Every test logs in from 127.0.0.1: the login limits of a real address would refuse them.
    env = server_env(
        database_url,
        REDIS_URL,
        ingest_parser_process="false",
        auth_failure_limit_per_minute=1000,
        login_limit_per_address_per_minute=1000,
        login_limit_per_account_per_hour=1000,
    )
    directory = tmp_path_factory.mktemp("dashboard")
    name = f"dashboard-{uuid.uuid4().hex[:8]}"
    running = ServerProcess(env, directory / f"{name}.log", directory / name)
    running.start(timeout_s=120)  # a loaded machine starts it slowly; it then runs fast
    yield running
    running.stop()


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium; the tests skip, naming the package, when it is not installed."""
    executable = chromium_path()
    if executable is None:
        pytest.skip(f"Chromium is not installed: apt-get install {CHROMIUM_PACKAGE}")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def ingest(server: ServerProcess, key: TestKey, payload: dict[str, Any]) -> None:
    """POST ``payload`` to the server; every point stored."""
    headers = {"Content-Type": "application/json", **key.headers}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        response = await http.post("/api/v1/ingest", content=orjson.dumps(payload), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0, response.text


async def api(server: ServerProcess, key: TestKey, path: str, **params: str) -> Any:
    """GET ``path`` from the server's API with ``key``; its JSON."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.get(path, params=params, headers=key.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def make_person(app: FastAPI) -> Person:
    """A user with a dashboard password and an ingest+read key."""
    key = await create_user_with_key(app, scopes=[Scope.INGEST, Scope.READ], password=PASSWORD)
    return Person(key.user_name, key)


@pytest.fixture(scope="package")
async def person(app: FastAPI, server: ServerProcess) -> Person:
    """A person with a month of every kind of data, ingested through the real server."""
    someone = await make_person(app)
    for payload in month_of_data():
        await ingest(server, someone.key, payload)
    return someone


@pytest.fixture
def watch() -> PageWatch:
    """What this test's pages logged and requested."""
    return PageWatch()


async def log_in(page: Page, server: ServerProcess, person: Person, path: str = "/") -> None:
    """Open ``path``, fill in the login form it shows, and wait for the page to draw."""
    await open_ready(page, f"{server.url}{path}")
    await page.fill("input[name=name]", person.name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector(READY, state="attached")


@pytest.fixture
async def logged_in(
    browser: Browser, server: ServerProcess, person: Person, watch: PageWatch
) -> AsyncIterator[Page]:
    """A desktop-sized page of ``person``, logged in."""
    page = await new_page(browser, watch)
    await log_in(page, server, person)
    yield page
    await page.context.close()

"""Debian's Chromium driven by Playwright (never a downloaded browser), and what a page did."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, ConsoleMessage, Page, Request

CHROMIUM_PACKAGE = "chromium"
# Flags checked on Debian 12's Chromium: no GPU, no background traffic of its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("DASHBOARD_SCREENSHOTS", REPO_ROOT / "build" / "screenshots"))
READY = "body[data-ready=true]"


def chromium_path() -> str | None:
    """The system Chromium (``CHROMIUM`` overrides), or None when it is not installed."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageWatch:
    """Everything a page logged as an error and every URL it requested."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        """Record ``page``'s console errors, uncaught exceptions and requests."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)


async def new_page(browser: Browser, watch: PageWatch, width: int = 1280) -> Page:
    """A page in a fresh context (no cookies), watched."""
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    watch.attach(page)
    return page


async def open_ready(page: Page, url: str) -> None:
    """Go to ``url`` and wait until the page says it has drawn everything."""
    await page.goto(url)
    await page.wait_for_selector(READY, state="attached")


async def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot for people to look at (never compared by pixels)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, instantly
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path

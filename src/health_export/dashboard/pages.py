"""The HTML of the dashboard's pages: one small shell per page that the scripts fill in.

The shell holds no health data (the scripts read it from the API with the session
cookie), so it is the same for everyone and can be served without authentication.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape

import orjson

from health_export.dashboard.assets import STATIC_PREFIX, AssetCatalog


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the dashboard: the key the scripts know it by, its title, its nav entry."""

    key: str
    title: str
    nav: str


PAGES = {
    "overview": Page("overview", "Overview", "overview"),
    "activity": Page("activity", "Activity", "activity"),
    "sleep": Page("sleep", "Sleep", "sleep"),
    "heart": Page("heart", "Heart", "heart"),
    "workouts": Page("workouts", "Workouts", "workouts"),
    "workout": Page("workout", "Workout", "workouts"),
    "body": Page("body", "Body", "body"),
    "explore": Page("explore", "Explore", "explore"),
    "records": Page("records", "Records", "records"),
    "sync": Page("sync", "Sync", "sync"),
}
NAV = (
    ("overview", "/", "Overview"),
    ("activity", "/activity", "Activity"),
    ("sleep", "/sleep", "Sleep"),
    ("heart", "/heart", "Heart"),
    ("workouts", "/workouts", "Workouts"),
    ("body", "/body", "Body"),
    ("explore", "/explore", "Explore"),
    ("records", "/records", "Records"),
    ("sync", "/sync", "Sync"),
)


def import_map(catalog: AssetCatalog) -> str:
    """Maps each module's plain URL to its hashed one, so relative imports stay cacheable."""
    imports = {
        STATIC_PREFIX + name: url
        for name, url in catalog.url_of.items()
        if name.startswith("js/") and name.endswith(".js")
    }
    return orjson.dumps({"imports": imports}, option=orjson.OPT_SORT_KEYS).decode()


def script_hash(text: str) -> str:
    """The CSP source that allows exactly this inline script."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy(inline_script: str) -> str:
    """Nothing from another host, no inline code but the import map, no framing."""
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' {script_hash(inline_script)}",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


def _nav(current: str) -> str:
    links = []
    for key, href, label in NAV:
        marker = ' aria-current="page"' if key == current else ""
        links.append(f'<li><a href="{href}" data-nav="{key}"{marker}>{label}</a></li>')
    return "".join(links)


def render(page: Page, catalog: AssetCatalog, *, has_session: bool) -> tuple[str, str]:
    """The page's HTML and the Content-Security-Policy that goes with it.

    ``has_session``: the browser sent a session cookie (not checked here). Without one
    the scripts show the login form at once instead of asking the API for a 401, which
    would count as a failed authentication of the address.
    """
    imports = import_map(catalog)
    session = "present" if has_session else "none"
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{escape(page.title)} · health-export</title>
<link rel="icon" href="{catalog.url("favicon.svg")}" type="image/svg+xml">
<link rel="stylesheet" href="{catalog.url("vendor/uPlot.min.css")}">
<link rel="stylesheet" href="{catalog.url("app.css")}">
<script type="importmap">{imports}</script>
<script defer src="{catalog.url("vendor/uPlot.iife.min.js")}"></script>
<script type="module" src="{catalog.url("js/main.js")}"></script>
</head>
<body data-page="{page.key}" data-session="{session}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="/">health-export</a>
<nav aria-label="Pages"><ul>{_nav(page.nav)}</ul></nav>
<label class="units-choice">Units <select name="units" data-testid="units">
<option value="metric" title="km, kg, cm, °C, m">Metric</option>
<option value="us" title="mi, lb, in, °F, ft">US</option>
</select></label>
<button type="button" class="logout" data-testid="logout" hidden>Log out</button>
</header>
<main id="main" tabindex="-1" aria-live="polite"><p class="loading">Loading…</p></main>
<noscript><p class="notice">The dashboard needs JavaScript.</p></noscript>
</body>
</html>
"""
    return html, content_security_policy(imports)

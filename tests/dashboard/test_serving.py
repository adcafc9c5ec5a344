"""Serving the dashboard: pages never cached, assets hashed and cached, nothing foreign."""

from __future__ import annotations

import hashlib
import re

import httpx

from health_export.dashboard.assets import STATIC_DIR

PAGES = (
    "/",
    "/activity",
    "/sleep",
    "/heart",
    "/workouts",
    "/workouts/any-id",
    "/body",
    "/explore",
    "/explore/heart_rate",
)
UPLOT_SHA256 = "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f"


def asset_urls(html: str) -> list[str]:
    """Every hashed /static/ URL a page names (links, scripts and the import map's targets)."""
    return sorted(set(re.findall(r"/static/[\w./-]+\.[0-9a-f]{10}\.(?:js|css|svg)", html)))


async def test_pages_are_never_stored_and_allow_nothing_foreign(client: httpx.AsyncClient) -> None:
    for path in PAGES:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self' 'sha256-" in policy
        assert "frame-ancestors 'none'" in policy
        assert "http" not in policy  # no other host, anywhere
        assert 'data-session="none"' in response.text
        assert not re.search(r"(src|href)=\"(https?:)?//", response.text), path


async def test_a_session_cookie_is_noticed_not_trusted(client: httpx.AsyncClient) -> None:
    cookie = {"Cookie": "he_session=anything"}
    response = await client.get("/sleep", headers=cookie)
    assert 'data-session="present"' in response.text
    assert (await client.get("/api/v1/sleep", headers=cookie)).status_code == 401


async def test_assets_have_hashed_names_and_a_year_of_cache(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    urls = asset_urls(html)
    assert any("uPlot.iife.min." in url for url in urls)
    assert any(url.startswith("/static/js/pages/") for url in urls)  # in the import map
    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        digest = hashlib.sha256(response.content).hexdigest()
        assert digest.startswith(url.rsplit(".", 2)[-2]), url


async def test_the_vendored_chart_library_is_the_published_one(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    url = next(url for url in asset_urls(html) if "uPlot.iife.min." in url)
    response = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert hashlib.sha256(response.content).hexdigest() == UPLOT_SHA256
    assert (STATIC_DIR / "vendor" / "uPlot.LICENSE").read_text().startswith("The MIT License")


async def test_unknown_and_unhashed_assets_are_not_found(client: httpx.AsyncClient) -> None:
    for url in (
        "/static/app.css",
        "/static/js/main.js",
        "/static/vendor/uPlot.LICENSE",
        "/static/../pages.py",
        "/static/nothing.0123456789.js",
    ):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"] == "application/problem+json"

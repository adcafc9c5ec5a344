"""/docs and /redoc: served whole by the app, and able to call the protected routes."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

PUBLIC_OPERATIONS = {
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
    ("post", "/api/v1/auth/login"),
}
KEY_SCHEMES: list[dict[str, list[str]]] = [{"bearer": []}, {"X-API-Key": []}]


class _References(HTMLParser):
    """Every URL an HTML page makes the browser load (src, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def _loaded_urls(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    # URLs in the inline start-up script (the document, the OAuth2 redirect) and in
    # ReDoc's element.
    quoted = re.findall(r"""(?:url|spec-url)\s*[:=]\s*['"]([^'"]+)['"]""", html)
    return parser.urls + quoted


def _is_same_origin(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_same_origin_urls(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    urls = _loaded_urls(response.text)
    assert "/openapi.json" in urls
    assert [url for url in urls if not _is_same_origin(url)] == []
    assert "http://" not in response.text
    assert "https://" not in response.text


async def test_swagger_ui_never_asks_the_public_validator(client: httpx.AsyncClient) -> None:
    assert '"validatorUrl": null' in (await client.get("/docs")).text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_every_asset_of_the_docs_is_served_with_its_type(
    client: httpx.AsyncClient, page: str
) -> None:
    html = (await client.get(page)).text
    assets = [url for url in _loaded_urls(html) if url.startswith("/docs/assets/")]
    assert assets
    expected = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in assets:
        response = await client.get(url)
        assert response.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert response.headers["content-type"].startswith(expected[suffix]), url
        assert len(response.content) > 1000, url


async def test_openapi_declares_the_bearer_and_x_api_key_schemes(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer <key>",
    }
    assert schemes["X-API-Key"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "X-API-Key: <key>",
    }


async def test_every_protected_operation_lists_either_scheme(app: FastAPI) -> None:
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    operations = [(m, p, op) for p, ops in paths.items() for m, op in ops.items()]
    assert len(operations) > 30
    for method, path, operation in operations:
        if (method, path) in PUBLIC_OPERATIONS:
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == KEY_SCHEMES, (method, path)


async def test_operation_ids_stay_fastapis_defaults(app: FastAPI) -> None:
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    assert paths["/api/v1/ingest"]["post"]["operationId"] == "ingest_api_v1_ingest_post"
    assert paths["/api/v1/sleep"]["get"]["operationId"] == "sleep_nights_api_v1_sleep_get"
    assert "/api/v1/ingest/" not in paths

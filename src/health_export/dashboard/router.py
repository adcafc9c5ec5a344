"""Routes of the dashboard: the pages (never cached) and the hashed static assets."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from health_export.auth.authenticate import SESSION_COOKIE
from health_export.core.errors import NotFound
from health_export.dashboard.api import router as api_router
from health_export.dashboard.assets import catalog
from health_export.dashboard.pages import PAGES, Page, render
from health_export.health_data.responses import accepts_gzip

router = APIRouter(include_in_schema=False)
# Hashed names never change content, so browsers keep them for a year without asking.
IMMUTABLE = "public, max-age=31536000, immutable"


def page_response(page: Page, request: Request) -> Response:
    """The page's shell: never stored (it names the current asset URLs)."""
    html, policy = render(page, catalog(), has_session=SESSION_COOKIE in request.cookies)
    headers = {
        "Cache-Control": "no-store",
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
    }
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


def _add_page(path: str, page: Page) -> None:
    async def endpoint(request: Request) -> Response:
        return page_response(page, request)

    router.add_api_route(path, endpoint, methods=["GET"], name=f"dashboard_{page.key}")


_add_page("/", PAGES["overview"])
for _key in ("activity", "sleep", "heart", "workouts", "body", "explore", "records", "sync"):
    _add_page(f"/{_key}", PAGES[_key])


@router.get("/workouts/{workout_id}", name="dashboard_workout")
async def workout_page(workout_id: str, request: Request) -> Response:
    """One workout's page (the script reads the id from the path)."""
    return page_response(PAGES["workout"], request)


@router.get("/explore/{metric}", name="dashboard_explore_metric")
async def explore_page(metric: str, request: Request) -> Response:
    """One metric explored (the script reads the name from the path)."""
    return page_response(PAGES["explore"], request)


@router.get("/static/{name:path}", name="dashboard_static")
async def static_asset(name: str, request: Request) -> Response:
    """A hashed asset, gzipped when the browser accepts it."""
    asset = catalog().by_url.get(f"/static/{name}")
    if asset is None:
        raise NotFound("no such file")
    headers = {"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request):
            headers["Content-Encoding"] = "gzip"
            return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.content, media_type=asset.media_type, headers=headers)


def install_dashboard(
    app: FastAPI, protected_responses: dict[int | str, dict[str, object]]
) -> None:
    """Add the dashboard's read endpoints and its pages to ``app``."""
    app.include_router(api_router, responses=protected_responses)
    app.include_router(router)

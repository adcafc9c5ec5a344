"""POST /api/v1/imports/apple-health, GET /api/v1/imports and /api/v1/imports/{id}."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from health_export.auth.dependencies import (
    AnyPrincipal,
    IngestPrincipal,
    ReadPrincipal,
    rate_limit_headers_of,
)
from health_export.core.errors import Conflict, NotFound, ServiceUnavailable
from health_export.core.jsonresponse import ORJSONResponse
from health_export.core.state import core_state
from health_export.health_data.params import EndQuery, StartQuery, bad_parameter, parse_range
from health_export.health_data.responses import READ_ERRORS, json_response
from health_export.health_data.rings.repository import day_bounds
from health_export.imports import repository
from health_export.imports.apple_health.clock import zone_named
from health_export.imports.coverage import coverage
from health_export.imports.schemas import (
    ImportAccepted,
    ImportCoverage,
    ImportList,
    ImportStatus,
    status_document,
)
from health_export.imports.upload import (
    ZIP_TYPES,
    check_declared_length,
    check_zip_type,
    remove_upload,
    store_upload,
)

router = APIRouter(prefix="/api/v1", tags=["imports"])
UPLOAD_PATH = "/api/v1/imports/apple-health"
LIST_LIMIT = 100
_NOT_FOUND = "no such import of yours"
TzParameter = Annotated[
    str | None,
    Query(
        description="IANA zone for local days of rows without HKTimeZone (the CLI's --tz)",
        examples=["Europe/Paris"],
    ),
]
_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in ZIP_TYPES},
}


def _zone_name(tz: str | None) -> str:
    if tz is None or tz == "":
        raise bad_parameter(
            "tz",
            "give the IANA zone the phone lived in (e.g. tz=Europe/Paris): export.xml writes "
            "the export-time offset on every row, so local days need it",
        )
    try:
        return zone_named(tz).key
    except ValueError as exc:
        raise bad_parameter("tz", str(exc)) from None


@router.post(
    "/imports/apple-health",
    status_code=202,
    response_model=ImportAccepted,
    summary="Upload Apple Health's export.zip; the worker imports it",
    responses={
        400: {"description": "No or unknown tz, an empty body, or not a zip archive"},
        413: {"description": "Over IMPORT_MAX_BYTES (from Content-Length, or while arriving)"},
        415: {"description": "Content-Type is not application/zip"},
        503: {"description": "Shutting down, or uploads cannot be stored; retry later"},
    },
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_apple_health(
    request: Request, principal: IngestPrincipal, tz: TzParameter = None
) -> Response:
    """Store the archive on disk and queue it: 202 with the status URL, before any parse."""
    state = core_state(request)
    if state.shutting_down:
        raise ServiceUnavailable("the server is shutting down; retry shortly", retry_after_s=2)
    settings = state.settings
    zone = _zone_name(tz)
    check_zip_type(request)
    check_declared_length(request, settings.import_max_bytes)
    import_id = uuid.uuid4()
    stored = await store_upload(request, settings.import_dir, settings.import_max_bytes, import_id)
    try:
        await repository.register(
            state.engine,
            import_id=import_id,
            user_id=principal.user_id,
            key_id=principal.key_id,
            tz=zone,
            file_path=str(stored.path),
            file_bytes=stored.size,
        )
    except BaseException:
        remove_upload(stored.path)
        raise
    status_url = f"/api/v1/imports/{import_id}"
    headers = {**rate_limit_headers_of(request), "Location": status_url}
    body = {"id": str(import_id), "status_url": status_url}
    return ORJSONResponse(body, status_code=202, headers=headers)


@router.get("/imports", response_model=ImportList, summary="Your imports, newest first")
async def list_imports(request: Request, principal: AnyPrincipal) -> dict[str, Any]:
    """The caller's last imports (at most 100)."""
    async with core_state(request).engine.connect() as conn:
        rows = await repository.fetch_of_user(conn, principal.user_id, LIST_LIMIT)
    return {"imports": [status_document(row) for row in rows]}


async def owned_import(request: Request, import_id: uuid.UUID, user_id: int) -> dict[str, Any]:
    """The caller's import ``import_id``; another user's is a 404 like a missing one."""
    async with core_state(request).engine.connect() as conn:
        row = await repository.fetch_one(conn, import_id)
    if row is None or row["user_id"] != user_id:
        raise NotFound(_NOT_FOUND)
    return row


@router.get(
    "/imports/{import_id}",
    response_model=ImportStatus,
    summary="Status, progress and result of one import",
    responses={404: {"description": "No such import of yours"}},
)
async def get_import(
    import_id: uuid.UUID, request: Request, principal: AnyPrincipal
) -> dict[str, Any]:
    """``queued``, ``running`` (with progress), ``done`` (with the summary) or ``failed``."""
    return status_document(await owned_import(request, import_id, principal.user_id))


@router.get(
    "/imports/{import_id}/coverage",
    response_model=ImportCoverage,
    summary="Per metric and local day: samples in the archive against the app's feed",
    responses={
        **READ_ERRORS,
        404: {"description": "No such import of yours"},
        409: {"description": "The import is not done yet"},
    },
)
async def import_coverage(
    import_id: uuid.UUID,
    request: Request,
    principal: ReadPrincipal,
    metric: Annotated[str | None, Query(description="Only this metric, e.g. step_count")] = None,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """Days the feed lacks samples the archive has are flagged ``feed_incomplete``."""
    row = await owned_import(request, import_id, principal.user_id)
    if row["status"] != "done":
        raise Conflict(f"the import is {row['status']}; its coverage is there once it is done")
    first, after = day_bounds(parse_range(start, end))
    async with core_state(request).engine.connect() as conn:
        answer = await coverage(
            conn, import_id, principal.user_id, metric=metric, first=first, after=after
        )
    return await json_response(request, answer)

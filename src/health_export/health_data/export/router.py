"""Read API: the streamed export, and the erase (DELETE /api/v1/data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response, StreamingResponse

from health_export.auth.audit import origin_of, record_audit
from health_export.auth.dependencies import rate_limit_headers_of
from health_export.auth.principal import Scope
from health_export.core.db import SessionDep
from health_export.core.errors import Forbidden
from health_export.core.jsonresponse import ORJSONResponse
from health_export.core.state import core_state
from health_export.health_data.access import (
    ErasePrincipal,
    TargetUser,
    UserIdQuery,
    resolve_target_user,
)
from health_export.health_data.export.erase import ERASE_TYPES, erase, erase_answer
from health_export.health_data.export.repository import EXPORT_TYPES
from health_export.health_data.export.schemas import ndjson_item_schema
from health_export.health_data.export.stream import (
    MEDIA_TYPES,
    ExportFormat,
    ExportRequest,
    export_chunks,
    file_name,
)
from health_export.health_data.metrics.schemas import example
from health_export.health_data.params import (
    EndQuery,
    StartQuery,
    bad_parameter,
    parse_range,
    parse_types,
)
from health_export.health_data.responses import NO_STORE, accepts_gzip
from health_export.replica.routing import read_engine_for

router = APIRouter(prefix="/api/v1", tags=["read", "export"])
_EXPORT_TYPES_DOC = f"Comma-separated subset of: {', '.join(EXPORT_TYPES)} (default: all)."
_ERASE_TYPES_DOC = f"Comma-separated subset of: {', '.join(ERASE_TYPES)} (default: all)."


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "NDJSON (one object per line) or CSV, streamed; gzip if accepted",
            "content": {
                "application/x-ndjson": {
                    "itemSchema": ndjson_item_schema(),
                    "example": '{"type":"metric","name":"step_count",'
                    '"start":"2024-03-14T15:04:00-04:00","utc_offset_min":-240,'
                    '"source":"iPhone","unit":"count","qty":42}\n',
                },
                "text/csv": {
                    "example": "type,name,start,end,utc_offset_min,source,unit,qty,min,avg,"
                    "max,systolic,diastolic,details\n"
                    "metric,step_count,2024-03-14T15:04:00-04:00,,-240,iPhone,count,42,,,,,,\n"
                },
            },
        },
        400: {"description": "A bad parameter (problem+json naming it)"},
    },
)
async def export(
    request: Request,
    user_id: TargetUser,
    format: ExportFormat = "ndjson",  # noqa: A002
    start: StartQuery = None,
    end: EndQuery = None,
    types: Annotated[str | None, Query(description=_EXPORT_TYPES_DOC)] = None,
) -> StreamingResponse:
    """Everything of yours, streamed in constant memory (NDJSON or CSV)."""
    wanted = ExportRequest(
        user_id, parse_types(types, EXPORT_TYPES), parse_range(start, end), format
    )
    gzipped = accepts_gzip(request)
    headers = {
        **rate_limit_headers_of(request),
        "Cache-Control": NO_STORE,
        "Content-Disposition": f'attachment; filename="{file_name(wanted, EXPORT_TYPES)}"',
        "Vary": "Accept-Encoding",
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    engine = await read_engine_for(core_state(request), user_id)
    chunks = export_chunks(engine, wanted, gzipped=gzipped)
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[format], headers=headers)


class ErasureResult(BaseModel):
    """What was deleted, per table."""

    model_config = example(
        {
            "user_id": 42,
            "start": "2024-03-01T00:00:00+00:00",
            "end": "2024-04-01T00:00:00+00:00",
            "types": ["metrics", "sleep", "raw_ingestions"],
            "deleted": {
                "metric_samples": 44640,
                "sleep_sessions": 31,
                "sleep_stages": 0,
                "raw_ingestions": 12,
            },
            "total": 44683,
        }
    )
    user_id: int
    start: str | None
    end: str | None
    types: list[str]
    deleted: dict[str, int]
    total: int


@router.delete(
    "/data",
    response_model=ErasureResult,
    responses={
        400: {"description": "confirm=true missing, or a bad parameter"},
        403: {"description": "Neither scope admin nor scope read"},
    },
)
async def erase_data(
    request: Request,
    principal: ErasePrincipal,
    session: SessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    types: Annotated[str | None, Query(description=_ERASE_TYPES_DOC)] = None,
    confirm: Annotated[bool, Query(description="Required (true) unless the key is admin")] = False,
    user_id: UserIdQuery = None,
) -> Response:
    """Delete your data in a range (everything by default), raw ingestions included; audited."""
    is_admin = principal.has_scope(Scope.ADMIN)
    if not is_admin and Scope.READ not in principal.scopes:
        raise Forbidden("erasing data needs an admin key, or a read key with confirm=true")
    if not is_admin and not confirm:
        raise bad_parameter("confirm", "set confirm=true to delete your data for good")
    span = parse_range(start, end)
    wanted = parse_types(types, ERASE_TYPES)
    target = await resolve_target_user(request, principal, session, user_id, "admin.data.erase")
    deleted = await erase(session, target, span, wanted)
    answer = erase_answer(target, span, wanted, deleted)
    await record_audit(
        session,
        action="data.erase",
        actor=principal,
        target_user_id=target,
        details=answer,
        origin=origin_of(request),
    )
    headers = {**rate_limit_headers_of(request), "Cache-Control": NO_STORE}
    return ORJSONResponse(answer, headers=headers)

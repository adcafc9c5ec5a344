"""POST /api/v1/ingest and GET /api/v1/ingestions/{id}."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from health_export.auth.audit import origin_of, record_audit
from health_export.auth.dependencies import AnyPrincipal, IngestPrincipal, rate_limit_headers_of
from health_export.auth.principal import Scope
from health_export.core.db import SessionDep
from health_export.core.errors import AppError, NotFound, ServiceUnavailable
from health_export.core.jsonresponse import ORJSONResponse
from health_export.core.state import core_state
from health_export.ingest import service
from health_export.ingest.body import check_content_type, read_body
from health_export.ingest.lifecycle import ingest_runtime
from health_export.ingest.openapi import REQUEST_BODY_SCHEMA
from health_export.ingest.schemas import IngestAccepted, IngestionStatus, IngestResult
from health_export.ingest.status import ingestion_status
from health_export.ops.metrics import metrics_of
from health_export.sync.recorder import Requester, record_refusal, record_request

router = APIRouter(prefix="/api/v1", tags=["ingest"])

# Headers the app adds to every automation's request; recorded, never required.
AUTOMATION_HEADERS = (
    "automation-name",
    "automation-id",
    "automation-aggregation",
    "automation-period",
    "session-id",
    "user-agent",
)
_PAYLOAD_DOC: dict[str, Any] = {
    "content": {
        "application/json": {
            "schema": REQUEST_BODY_SCHEMA,
            "examples": {
                "health_auto_export": {
                    "summary": "Health Auto Export (REST API automation)",
                    "value": {
                        "data": {
                            "metrics": [
                                {
                                    "name": "step_count",
                                    "units": "count",
                                    "data": [
                                        {
                                            "date": "2024-03-14 15:04:00 -0400",
                                            "qty": 42,
                                            "source": "iPhone",
                                        }
                                    ],
                                }
                            ]
                        }
                    },
                },
                "standard": {
                    "summary": "health-export/v1 (see docs/ingest.md)",
                    "value": {
                        "format": "health-export/v1",
                        "metrics": [
                            {
                                "name": "step_count",
                                "unit": "count",
                                "samples": [{"start": "2024-03-14T15:04:00-04:00", "qty": 42}],
                            }
                        ],
                    },
                },
            },
        }
    },
    "required": True,
}


@router.post(
    "/ingest",
    response_model=IngestResult,
    summary="Store a Health Auto Export or health-export/v1 payload",
    responses={
        202: {"model": IngestAccepted, "description": "Stored; processing continues"},
        400: {"description": "Not JSON, or broken gzip"},
        413: {"description": "Too large on the wire or decompressed"},
        415: {"description": "Not JSON (e.g. a CSV automation)"},
        422: {"description": "No recognisable envelope"},
        503: {"description": "Database unavailable; retry after Retry-After"},
    },
    openapi_extra={"requestBody": _PAYLOAD_DOC},
)
async def ingest(request: Request, principal: IngestPrincipal) -> Response:
    """Store every valid point; invalid ones are listed in the answer (still 200)."""
    state = core_state(request)
    if state.shutting_down:
        raise ServiceUnavailable("the server is shutting down; retry shortly", retry_after_s=2)
    automation = {
        name: request.headers[name][:200] for name in AUTOMATION_HEADERS if name in request.headers
    }
    requester = Requester(principal.user_id, principal.key_id, automation)
    settings = state.settings
    try:
        check_content_type(request)
        received = await read_body(
            request,
            max_wire_bytes=settings.max_payload_bytes,
            max_decoded_bytes=settings.max_decompressed_bytes,
        )
    except AppError as refused:
        # The app's "Succeeded" hides these; the sync view shows them (and their fix).
        await record_refusal(state.engine, requester, refused)
        raise
    outcome = await service.ingest(ingest_runtime(request), principal, received, automation)
    if outcome.body.get("duplicate_payload"):
        await record_request(state.engine, requester, outcome="duplicate", http_status=200)
    metrics_of(request).count_ingest(outcome.body)
    headers = rate_limit_headers_of(request)
    if outcome.status_code == 202:
        headers["Location"] = outcome.body["status_url"]
    return ORJSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.get(
    "/ingestions/{ingestion_id}",
    response_model=IngestionStatus,
    summary="Status and result of one ingestion",
    responses={404: {"description": "No such ingestion of yours"}},
)
async def get_ingestion(
    ingestion_id: uuid.UUID, request: Request, principal: AnyPrincipal, session: SessionDep
) -> dict[str, Any]:
    """The owner's view of one ingestion (an admin key may look at anyone's, audited)."""
    found = await ingestion_status(core_state(request).engine, ingestion_id)
    if found is None:
        raise NotFound("no such ingestion")
    if found["user_id"] != principal.user_id:
        if not principal.has_scope(Scope.ADMIN):
            raise NotFound("no such ingestion")
        await record_audit(
            session,
            action="admin.ingestion.read",
            actor=principal,
            target_user_id=found["user_id"],
            details={"ingestion_id": str(ingestion_id)},
            origin=origin_of(request),
        )
    return found

"""The ingest request body in OpenAPI: the app's envelope or our health-export/v1 models.

The route reads the body itself (streamed, size-limited), so FastAPI cannot derive its
schema; the standard format's pydantic models are added to the components here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from health_export.ingest.parsing.standard_schema import StandardPayload

# Prefixed: the read API has models of its own named Sample, Workout, ...
_PREFIX = "StandardFormat"
_REF = "#/components/schemas/" + _PREFIX + "{model}"
HAE_ENVELOPE_SCHEMA: dict[str, Any] = {
    "title": "HealthAutoExportPayload",
    "type": "object",
    "description": "What the Health Auto Export app posts (see docs/ingest.md).",
    "properties": {"data": {"type": "object", "additionalProperties": True}},
    "required": ["data"],
}
REQUEST_BODY_SCHEMA: dict[str, Any] = {
    "oneOf": [HAE_ENVELOPE_SCHEMA, {"$ref": _REF.format(model="Payload")}]
}


def install_ingest_openapi(app: FastAPI) -> None:
    """Generate the app's OpenAPI document with the standard format's models in it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            schema = StandardPayload.model_json_schema(ref_template=_REF)
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in schema.pop("$defs", {}).items():
                components[_PREFIX + name] = definition
            components[_PREFIX + "Payload"] = schema
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

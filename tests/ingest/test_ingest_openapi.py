"""The ingest body is documented in OpenAPI: both formats, every reference resolvable."""

from __future__ import annotations

import re

import httpx
import orjson


async def test_openapi_documents_both_ingest_formats(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    body = document["paths"]["/api/v1/ingest"]["post"]["requestBody"]["content"]
    choices = body["application/json"]["schema"]["oneOf"]
    assert choices[0]["title"] == "HealthAutoExportPayload"
    assert choices[1] == {"$ref": "#/components/schemas/StandardFormatPayload"}
    standard = document["components"]["schemas"]["StandardFormatPayload"]
    assert standard["examples"][0]["format"] == "health-export/v1"
    referenced = set(re.findall(r"#/components/schemas/([\w.-]+)", orjson.dumps(document).decode()))
    assert referenced <= set(document["components"]["schemas"])

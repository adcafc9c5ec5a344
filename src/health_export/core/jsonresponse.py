"""A JSON response rendered with orjson (fast, and strict about NaN)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class ORJSONResponse(JSONResponse):
    """JSONResponse whose body is produced by orjson."""

    def render(self, content: Any) -> bytes:
        """Serialise ``content``; datetimes become ISO 8601 with their offset."""
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)

"""Logging: JSON lines, masking at any depth, app and environment on every line."""

from __future__ import annotations

import io
import logging
import sys

import orjson

from health_export.core.logging import MASK, SensitiveFieldMasker, configure_logging, get_logger


def _lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_sensitive_fields_are_masked_at_any_depth() -> None:
    masker = SensitiveFieldMasker(extra_fields=["ssn"])
    event = {
        "event": "x",
        "password": "hunter2",
        "outer": {"list": [{"deep": {"Authorization": "Bearer abc", "ok": 1}}], "ssn": "123"},
        "tokens": ({"token": "t"},),
    }
    masked = masker(None, "info", event)
    assert masked["password"] == MASK
    assert masked["outer"]["list"][0]["deep"] == {"Authorization": MASK, "ok": 1}
    assert masked["outer"]["ssn"] == MASK
    assert masked["tokens"] == [{"token": MASK}]


def test_stdlib_and_structlog_lines_share_one_json_shape() -> None:
    buffer = io.StringIO()
    configure_logging(app_name="he-test", environment="unit", stream=buffer)
    try:
        get_logger("health_export.test").info("structured", api_key="hea_secret", count=3)
        logging.getLogger("uvicorn.error").warning("from uvicorn %s", "here")
    finally:
        configure_logging(environment="test", stream=sys.stdout)
    first, second = _lines(buffer)
    assert first["event"] == "structured"
    assert first["api_key"] == MASK
    assert first["count"] == 3
    assert second["event"] == "from uvicorn here"
    assert second["logger"] == "uvicorn.error"
    for line in (first, second):
        assert line["app"] == "he-test"
        assert line["env"] == "unit"
        assert "timestamp" in line

"""The parser process imports what parsing and staging need, not the web side."""

from __future__ import annotations

import pickle
import subprocess
import sys

from health_export.core.config import load_settings
from health_export.ingest.parser_process import child_setup

# Packages the worker has and the parser process must not load (each cost it memory).
WEB_SIDE = (
    "fastapi",
    "starlette",
    "redis",
    "sqlalchemy",
    "geoalchemy2",
    "pydantic",
    "pydantic_settings",
    "opentelemetry",
    "cryptography",
    "health_export.core.db",
    "health_export.core.config",
    "health_export.core.errors",
    "health_export.core.state",
    "health_export.schema.tables",
    "health_export.schema.layout",
)

# A fresh interpreter does what the parser process does before its first body: import
# parser_child, unpickle its setup (which imports the modules of what it holds), then
# list what is loaded.
_PROBE = """
import pickle, sys
from health_export.ingest import parser_child
setup = pickle.loads(sys.stdin.buffer.read())
print("\\n".join(sorted(sys.modules)))
"""


def test_the_parser_process_loads_nothing_of_the_web_side() -> None:
    started_with = pickle.dumps(child_setup(load_settings()))
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE],
        input=started_with,
        capture_output=True,
        check=True,
    )
    loaded = set(probe.stdout.decode().split())
    assert "health_export.ingest.parse_stage" in loaded
    assert "asyncpg" in loaded
    found = sorted(
        name for name in loaded if any(name == w or name.startswith(w + ".") for w in WEB_SIDE)
    )
    assert found == []


def test_the_parser_process_gets_every_write_plan() -> None:
    setup = pickle.loads(pickle.dumps(child_setup(load_settings())))  # noqa: S301 - our own
    assert setup.writes == child_setup(load_settings()).writes
    assert setup.logging["app_name"] == load_settings().app_name
    assert setup.database["dsn"].startswith("postgresql://")

"""Scenarios 10 and 9b: canaries and keys never appear in logs, error bodies, Redis or a dump.

This module runs last (see conftest): its final scan covers everything the suite did.
"""

from __future__ import annotations

import gzip
import subprocess
import uuid
from typing import Any

import orjson
import pytest

from tests.reliability.conftest import TRACEBACK, LeakWatch, recording_client
from tests.reliability.server import ServerProcess
from tests.reliability.services import DedicatedServices, pg_bin

pytestmark = pytest.mark.faults

CANARY = f"CANARY{uuid.uuid4().hex[:12]}"


def canary_bodies() -> list[tuple[bytes, dict[str, str]]]:
    """Bodies that carry the canary where a careless server would echo it."""
    point = {"date": "2024-03-14 10:00:00 +0000", "qty": 5, "source": CANARY, "note": CANARY}
    bad_date = {"date": CANARY, "qty": 5}
    bad_value = {"date": "2024-03-14 10:01:00 +0000", "qty": CANARY}
    metric = {"name": "step_count", "units": "count", "data": [point, bad_date, bad_value]}
    valid = orjson.dumps({"data": {"metrics": [metric]}, CANARY: CANARY})
    return [
        (valid, {}),
        (b'{"data": {"metrics": [{"name": "' + CANARY.encode() + b'", "data": [}', {}),
        (orjson.dumps({"format": CANARY}), {}),
        (orjson.dumps([CANARY]), {}),
        (CANARY.encode(), {"Content-Type": "text/csv"}),
        (gzip.compress(valid, mtime=0)[:-20], {"Content-Encoding": "gzip"}),
        (valid, {"Content-Encoding": CANARY}),
    ]


async def test_canaries_never_reach_logs_or_error_bodies(
    server: ServerProcess, key_factory: Any
) -> None:
    key = await key_factory()
    errors: list[str] = []
    async with recording_client(server.url) as http:
        for body, extra in canary_bodies():
            headers = {"Content-Type": "application/json", **key.headers, **extra}
            answer = await http.post("/api/v1/ingest", content=body, headers=headers)
            assert answer.status_code < 500
            if answer.status_code >= 400:
                errors.append(answer.text)
        for path in (f"/api/v1/ingestions/{CANARY}", f"/{CANARY}", f"/api/v1/auth/keys?x={CANARY}"):
            answer = await http.get(path, headers={**key.headers, "X-Request-ID": CANARY + "!"})
            errors.append(answer.text)
        wrong = await http.get("/api/v1/auth/keys", headers={"Authorization": f"Bearer {CANARY}"})
        errors.append(wrong.text)
    assert len(errors) >= 6
    for text in errors:
        assert CANARY not in text
        assert key.key not in text
        assert not TRACEBACK.search(text)
    logs = server.logs()
    assert CANARY not in logs
    assert key.key not in logs


def _pg_dump(dedicated: DedicatedServices, database_url: str) -> str:
    name = database_url.rsplit("/", 1)[1]
    command = [pg_bin("pg_dump"), "-h", "127.0.0.1", "-p", str(dedicated.postgres.port)]
    command += ["-U", "postgres", "--data-only", name]
    done = subprocess.run(command, capture_output=True, check=True, timeout=300)
    return done.stdout.decode("utf-8", "replace")


def test_no_raw_key_in_dump_redis_logs_or_later_answers(
    leak_watch: LeakWatch, dedicated: DedicatedServices, reliability_db: str
) -> None:
    """After the whole suite: every key made is absent everywhere but its creation."""
    assert leak_watch.keys, "no keys were made"
    dump = _pg_dump(dedicated, reliability_db)
    redis_values = b"\n".join(dedicated.redis.values()).decode("utf-8", "replace")
    logs = "\n".join(p.read_text(errors="replace") for p in leak_watch.log_files if p.exists())
    answers = "\n".join(body for _, _, body in leak_watch.answers)
    assert len(leak_watch.answers) > 100
    for value in leak_watch.keys:
        assert value not in dump
        assert value not in redis_values
        assert value not in logs
        assert value not in answers
    # 0 tracebacks and 0 server errors in everything the servers logged and answered.
    assert not TRACEBACK.search(logs)
    assert not [a for a in leak_watch.answers if a[0] >= 500 and a[0] != 503]

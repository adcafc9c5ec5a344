"""The real server's answers: no server header, policy headers, trailing slashes alike."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.fixtures.payloads import hae_metrics
from tests.reliability.conftest import recording_client
from tests.reliability.server import ServerProcess, raw_connection, read_response

pytestmark = pytest.mark.faults


async def test_answers_name_no_server_software(server: ServerProcess, key_factory: Any) -> None:
    key = await key_factory()
    async with recording_client(server.url) as http:
        answers = [
            await http.get("/health"),
            await http.get("/nope"),
            await http.get("/api/v1/metrics", headers=key.headers),
            await http.get("/api/v1/metrics"),
        ]
    assert [a.status_code for a in answers] == [200, 404, 200, 401]
    for answer in answers:
        assert "server" not in answer.headers
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"


def test_a_raw_http_answer_has_no_server_line(server: ServerProcess) -> None:
    with raw_connection(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status, headers, _ = read_response(sock)
    assert status == 200
    assert "server" not in headers


async def test_post_and_get_with_a_trailing_slash_are_answered_in_place(
    server: ServerProcess, key_factory: Any
) -> None:
    key = await key_factory()
    body = orjson.dumps(hae_metrics(("step_count",), count=5))
    headers = {"Content-Type": "application/json", **key.headers}
    async with recording_client(server.url, follow_redirects=False) as http:
        posted = await http.post("/api/v1/ingest/", content=body, headers=headers)
        read = await http.get("/api/v1/metrics/", headers=key.headers)
    assert posted.status_code == 200, posted.text
    assert posted.json()["inserted"] == 5
    assert read.status_code == 200
    assert [m["name"] for m in read.json()["metrics"]] == ["step_count"]

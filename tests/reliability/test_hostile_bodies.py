"""Scenario 6: hostile bodies get 400/408/413/415/422 within 5 s, never a 500; RSS bounded."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from tests.fixtures.payloads import hae_metrics
from tests.reliability.conftest import ServerFleet, recording_client
from tests.reliability.server import ServerProcess, chunked, request_head, send_raw

pytestmark = pytest.mark.faults

MIB = 1024 * 1024
ALLOWED = {400, 413, 415, 422}
PARTIAL_SUCCESS = {"ten_mb_string", "ten_mb_source", "wrong_types", "duplicate_keys"}


def _gzip_bomb(inflated_bytes: int) -> bytes:
    """Zeros compressed (about 1000:1): small on the wire, huge inflated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * MIB
    parts = [compressor.compress(block) for _ in range(inflated_bytes // MIB)]
    return b"".join(parts) + compressor.flush()


def _deep(depth: int) -> bytes:
    return b'{"data":' + b"[" * depth + b"]" * depth + b"}"


def _wrong_types() -> dict[str, Any]:
    return {
        "data": {
            "metrics": [
                {"name": 1, "units": [], "data": "x"},
                {"name": "step_count", "units": {}, "data": [1, "a", None, [], {"date": 5}]},
                {"name": "heart_rate", "data": [{"date": [], "Min": "x", "Avg": {}, "Max": None}]},
                None,
                "metric",
            ],
            "workouts": {"a": 1},
            "sleepAnalysis": 7,
        }
    }


# Built only when its case runs (the bomb takes a few seconds to make).
HOSTILE: dict[str, Callable[[], tuple[bytes, dict[str, str]]]] = {
    "not_json": lambda: (b"hello, world", {}),
    "truncated_json": lambda: (orjson.dumps(hae_metrics(count=3))[:-17], {}),
    "invalid_utf8": lambda: (b'{"data": {"metrics": [{"name": "\xff\xfe\xc3\x28"}]}}', {}),
    "bom": lambda: (b"\xef\xbb\xbf" + orjson.dumps(hae_metrics(count=1)), {}),
    "nan": lambda: (b'{"data": {"metrics": [{"name": "step_count", "data": [{"qty": NaN}]}]}}', {}),
    "infinity": lambda: (
        b'{"data": {"metrics": [{"name": "x", "data": [{"qty": -Infinity}]}]}}',
        {},
    ),
    "1e400": lambda: (b'{"data": {"metrics": [{"name": "x", "data": [{"qty": 1e400}]}]}}', {}),
    "deep_nesting": lambda: (_deep(10_000), {}),
    "ten_mb_string": lambda: (
        b'{"data": {"metrics": [{"name": "' + b"a" * (10 * MIB) + b'"}]}}',
        {},
    ),
    "ten_mb_source": lambda: (
        orjson.dumps(
            {
                "data": {
                    "metrics": [
                        {
                            "name": "step_count",
                            "units": "count",
                            "data": [
                                {"date": "2024-03-14 10:00:00 +0000", "qty": 1, "source": "s" * MIB}
                            ],
                        }
                    ]
                }
            }
        ),
        {},
    ),
    "duplicate_keys": lambda: (
        b'{"data": {"metrics": 1, "metrics": [], "data": 2}, "data": 3}',
        {},
    ),
    "wrong_types": lambda: (orjson.dumps(_wrong_types()), {}),
    "top_level_array": lambda: (b"[1, 2, 3]", {}),
    "empty": lambda: (b"", {}),
    "csv_type": lambda: (b"a,b\n1,2\n", {"Content-Type": "text/csv"}),
    "gzip_bomb": lambda: (_gzip_bomb(1024 * MIB), {"Content-Encoding": "gzip"}),
    "mislabelled_gzip": lambda: (orjson.dumps(hae_metrics(count=2)), {"Content-Encoding": "gzip"}),
    "truncated_gzip": lambda: (
        gzip.compress(orjson.dumps(hae_metrics(count=50)), mtime=0)[:-40],
        {"Content-Encoding": "gzip"},
    ),
    "unknown_encoding": lambda: (b"{}", {"Content-Encoding": "br"}),
}


@pytest.fixture(scope="module")
def small_limits_server(fleet: ServerFleet) -> ServerProcess:
    """A server with realistic but test-sized limits (16 MiB wire, 64 MiB inflated)."""
    return fleet.start(max_payload_bytes=16 * MIB, max_decompressed_bytes=64 * MIB)


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_body_is_refused_cleanly_and_quickly(
    case: str, small_limits_server: ServerProcess, key_factory: Any
) -> None:
    key = await key_factory()
    body, extra = HOSTILE[case]()
    headers = {"Content-Type": "application/json", **key.headers, **extra}
    rss_before = small_limits_server.rss_bytes()
    async with recording_client(small_limits_server.url) as http:
        started = time.monotonic()
        answer = await http.post("/api/v1/ingest", content=body, headers=headers)
        elapsed = time.monotonic() - started
    if answer.status_code == 200:
        # A valid envelope whose every point is invalid: partial success (architecture §3),
        # nothing stored, each rejection listed.
        assert answer.json()["inserted"] == 0, (case, answer.text[:300])
        assert answer.json()["errors"] or case in PARTIAL_SUCCESS, (case, answer.text[:300])
    else:
        assert answer.status_code in ALLOWED, (case, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"] == "application/problem+json"
    assert elapsed < 5, f"{case}: {elapsed:.1f}s"
    # Bounded by the limits: at most the inflated limit twice over, whatever was sent.
    assert small_limits_server.rss_bytes() - rss_before < 2 * 64 * MIB + 64 * MIB
    assert (await _health(small_limits_server)) == 200


async def _health(server: ServerProcess) -> int:
    async with httpx.AsyncClient(base_url=server.url) as http:
        return (await http.get("/health")).status_code


async def test_body_over_the_limit_with_content_length_gets_413_at_once(
    small_limits_server: ServerProcess, key_factory: Any
) -> None:
    key = await key_factory()
    size = 17 * MIB
    head = request_head(
        "POST",
        "/api/v1/ingest",
        {"Content-Type": "application/json", **key.headers},
        content_length=size,
    )
    status, headers, body, took = send_raw(small_limits_server, head, [b"{" + b" " * MIB] * 17)
    assert status == 413, body
    assert took < 5


async def test_body_over_the_limit_without_content_length_gets_413(
    small_limits_server: ServerProcess, key_factory: Any
) -> None:
    key = await key_factory()
    head = request_head(
        "POST",
        "/api/v1/ingest",
        {"Content-Type": "application/json", **key.headers},
        content_length=None,
    )
    rss_before = small_limits_server.rss_bytes()
    status, _, body, took = send_raw(small_limits_server, head, chunked([b" " * MIB] * 20))
    assert status == 413, body
    assert took < 5
    assert small_limits_server.rss_bytes() - rss_before < 64 * MIB


async def test_body_trickling_at_one_byte_a_second_is_cut_with_408(
    server: ServerProcess, key_factory: Any
) -> None:
    key = await key_factory()
    body = orjson.dumps(hae_metrics(count=2))
    head = request_head(
        "POST",
        "/api/v1/ingest",
        {"Content-Type": "application/json", **key.headers},
        content_length=len(body),
    )
    parts = [body[i : i + 1] for i in range(len(body))]
    status, headers, answer, took = send_raw(server, head, parts, pause_s=1.0, timeout_s=10)
    assert status == 408, answer
    assert headers.get("connection") == "close"
    assert orjson.loads(answer)["status"] == 408
    assert took < 5.5  # cut by the server at ~4 s, not by us

"""Upload helpers: send an archive to POST /api/v1/imports/apple-health, wait for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.auth import TestKey

UPLOAD = "/api/v1/imports/apple-health"
ZIP = {"Content-Type": "application/zip"}
FINISHED = {"done", "failed"}


def archive_bytes(archive: Path) -> bytes:
    """The archive's bytes (read here: async tests do no blocking file calls)."""
    return archive.read_bytes()


def files_left(folder: str | Path, pattern: str = "*") -> list[Path]:
    """What is left in an upload folder."""
    return sorted(Path(folder).glob(pattern))


async def upload(
    client: httpx.AsyncClient, key: TestKey, archive: Path, *, tz: str = "Europe/Paris"
) -> httpx.Response:
    """POST the archive as the body, with its length declared."""
    return await client.post(
        UPLOAD, params={"tz": tz}, content=archive_bytes(archive), headers={**key.headers, **ZIP}
    )


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """``data`` as a chunked body (no Content-Length)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def wait_finished(
    client: httpx.AsyncClient, key: TestKey, status_url: str, timeout_s: float = 120
) -> dict[str, Any]:
    """The import's status document once it is done or failed."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = await client.get(status_url, headers=key.headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body["status"] in FINISHED:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)

"""The archive upload against the real server: streamed to disk, memory flat, imported."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.apple_export import PHONE, ExportBuilder
from tests.fixtures.auth import create_user_with_key
from tests.fixtures.live_server import ServerFactory
from tests.reliability.server import ServerProcess, request_head, send_raw

PADDING_BYTES = 96 * 1024 * 1024
RECORDS = 3000


def large_archive(path: Path) -> Path:
    """A real export.zip of RECORDS step counts, made large by a member nobody reads
    (stored, incompressible: the body on the wire is as large as the file)."""
    export = ExportBuilder()
    for minute in range(RECORDS):
        start = (
            f"2024-03-{1 + minute // 1440:02d} {minute // 60 % 24:02d}:{minute % 60:02d}:00 +0100"
        )
        export.record("StepCount", "7", start, unit="count", source=PHONE)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("apple_health_export/export.xml", export.xml(), zipfile.ZIP_DEFLATED)
        with archive.open("apple_health_export/clinical-records/padding.bin", "w") as member:
            for _ in range(PADDING_BYTES // (1024 * 1024)):
                member.write(os.urandom(1024 * 1024))
    return path


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(256 * 1024):
            yield chunk


def _upload_watching_rss(
    server: ServerProcess, headers: dict[str, str], archive: Path
) -> tuple[httpx.Response, int]:
    """POST the archive; the server's peak RSS while it arrived."""
    peak = server.rss_bytes()
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server.rss_bytes())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        answer = httpx.post(
            f"{server.url}/api/v1/imports/apple-health",
            params={"tz": "Europe/Paris"},
            content=_file_chunks(archive),
            headers={
                **headers,
                "Content-Type": "application/zip",
                "Content-Length": str(archive.stat().st_size),
            },
            timeout=120,
        )
    finally:
        done.set()
        watcher.join()
    return answer, peak


def _wait_done(server: ServerProcess, headers: dict[str, str], url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        body: dict[str, Any] = httpx.get(f"{server.url}{url}", headers=headers).json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


async def test_large_upload_streams_to_disk_and_is_imported(
    app: Any, live_server: ServerFactory, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    server = live_server()
    archive = large_archive(tmp_path / "export.zip")
    before = server.rss_bytes()

    answer, peak = await asyncio.to_thread(_upload_watching_rss, server, user.headers, archive)

    assert answer.status_code == 202, answer.text
    # The 100 MB body never sits in the server's memory (measured growth: a few MB).
    assert peak - before < 32 * 1024 * 1024, (before, peak)
    status = await asyncio.to_thread(_wait_done, server, user.headers, answer.json()["status_url"])
    assert status["status"] == "done", status
    assert status["result"]["records"] == RECORDS
    assert status["result"]["by_table"]["metric_samples"]["inserted"] == RECORDS


async def test_refusals_come_before_the_body_is_read(app: Any, live_server: ServerFactory) -> None:
    user = await create_user_with_key(app)
    reader = await create_user_with_key(app, scopes=["read"])
    server = live_server(import_max_bytes=2 * 1024 * 1024)
    path = "/api/v1/imports/apple-health?tz=UTC"
    zip_type = {"Content-Type": "application/zip"}
    # Heads announcing a gigabyte, and no body at all: the answers come from the head.
    heads = {
        "anonymous": request_head("POST", path, zip_type, content_length=1 << 30),
        "no scope": request_head(
            "POST", path, {**reader.headers, **zip_type}, content_length=1 << 30
        ),
        "too large": request_head(
            "POST", path, {**user.headers, **zip_type}, content_length=1 << 30
        ),
    }

    answers = {
        name: await asyncio.to_thread(send_raw, server, head, [], timeout_s=10)
        for name, head in heads.items()
    }

    assert {name: answer[0] for name, answer in answers.items()} == {
        "anonymous": 401,
        "no scope": 403,
        "too large": 413,
    }
    assert all(answer[3] < 5 for answer in answers.values())  # no wait for a body
    assert b"IMPORT_MAX_BYTES" in answers["too large"][2]

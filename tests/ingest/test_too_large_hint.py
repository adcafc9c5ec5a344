"""A 413 tells the phone's owner what to change: Batch requests, or the server's limit."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable

import httpx
from fastapi import FastAPI

from tests.ingest.conftest import make_phone

BATCH_HINT = "turn on Batch requests in the Health Auto Export automation"


async def test_bodies_over_each_limit_say_how_to_fit_under_it(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(max_payload_bytes=4096, max_decompressed_bytes=8192)
    async with app.router.lifespan_context(app):
        phone = await make_phone(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            big = b'{"data": {"x": "' + b"a" * 5000 + b'"}}'
            declared = await http.post("/api/v1/ingest", content=big, headers=phone.headers)

            async def trickle() -> AsyncIterator[bytes]:
                for _ in range(10):
                    yield b" " * 1000

            streamed = await http.post("/api/v1/ingest", content=trickle(), headers=phone.headers)
            bomb = gzip.compress(b'{"data": {"x": "' + b"a" * 100_000 + b'"}}')
            inflated = await http.post(
                "/api/v1/ingest",
                content=bomb,
                headers={**phone.headers, "Content-Encoding": "gzip"},
            )
    for answer, setting in (
        (declared, "MAX_PAYLOAD_BYTES"),
        (streamed, "MAX_PAYLOAD_BYTES"),
        (inflated, "MAX_DECOMPRESSED_BYTES"),
    ):
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/problem+json"
        detail = answer.json()["detail"]
        assert BATCH_HINT in detail
        assert f"or raise {setting} on the server" in detail

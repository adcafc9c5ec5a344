"""Large bodies parsed in the worker's parser process: same answers, and a lost process
costs nothing but time."""

from __future__ import annotations

import asyncio
import io
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from health_export.ingest.lifecycle import ingest_runtime_of
from health_export.ingest.parser_process import ParserProcess
from tests.fixtures import payloads
from tests.fixtures.captures import DAY_GROUPED_METRICS, Origin
from tests.ingest.conftest import count_rows, fetch, make_phone


@pytest.fixture
def large_body(origin: Origin) -> bytes:
    """A whole day-grouped export, large enough to be parsed in the parser process."""
    body = DAY_GROUPED_METRICS.body(origin)
    assert len(body) > 1024 * 1024  # bodies from 1 MB on go to the process
    return body


@asynccontextmanager
async def _served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


def _count_bodies(parser: ParserProcess) -> list[int]:
    """The sizes of the bodies handed to ``parser`` from now on."""
    sizes: list[int] = []
    start_body = parser.start_body

    def counted(data: Any, payload: Any) -> Any:
        sizes.append(len(data))
        return start_body(data, payload)

    parser.start_body = counted  # type: ignore[method-assign]
    return sizes


async def _parser_ready(app: FastAPI) -> ParserProcess:
    parser: ParserProcess | None = ingest_runtime_of(app).parser
    assert parser is not None
    for _ in range(300):  # the process imports and connects first
        if parser.available:
            return parser
        await asyncio.sleep(0.05)
    raise AssertionError("the parser process never became ready")


async def _post(http: httpx.AsyncClient, phone: Any, body: bytes) -> httpx.Response:
    return await http.post(
        "/api/v1/ingest",
        content=body,
        headers={**phone.headers, "Content-Type": "application/json"},
        timeout=120,
    )


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    keys = ("received", "inserted", "updated", "unchanged", "rejected", "by_type", "errors")
    return {key: answer[key] for key in keys}


async def test_a_large_body_gives_the_same_answer_and_rows_as_a_parse_in_a_thread(
    app_factory: Callable[..., FastAPI], large_body: bytes
) -> None:
    doc = orjson.loads(large_body)
    # A few invalid points too: they must come back listed, path and reason.
    doc["data"]["metrics"][0]["data"][:3] = [{"date": "yesterday", "qty": 1}] * 3
    body = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    assert len(body) > 1024 * 1024
    answers = {}
    for in_process in (True, False):
        app = app_factory(ingest_parser_process=in_process)
        async with _served(app) as http:
            handed: list[int] = []
            if in_process:
                handed = _count_bodies(await _parser_ready(app))
            phone = await make_phone(app)
            response = await _post(http, phone, body)
            assert response.status_code == 200, response.text
            assert handed == ([len(body)] if in_process else [])
            answers[in_process] = _comparable(response.json())
            answers[in_process]["rows"] = await count_rows(app, "metric_samples", phone.user_id)
    assert answers[True] == answers[False]
    assert answers[True]["rejected"] == 3


async def test_an_unusable_large_body_is_refused_alike(
    app_factory: Callable[..., FastAPI], large_body: bytes
) -> None:
    app = app_factory(ingest_parser_process=True)
    async with _served(app) as http:
        phone = await make_phone(app)
        handed = _count_bodies(await _parser_ready(app))
        not_json = large_body[:-10]
        not_an_envelope = orjson.dumps([orjson.loads(large_body)] * 2)
        for body, status in ((not_json, 400), (not_an_envelope, 422)):
            await _parser_ready(app)
            response = await _post(http, phone, body)
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/problem+json"
        assert handed == [len(not_json), len(not_an_envelope)]  # refused by the process
        # And the process still serves the next body.
        await _parser_ready(app)
        assert (await _post(http, phone, large_body)).status_code == 200


async def test_a_parser_process_killed_mid_body_loses_nothing(
    app_factory: Callable[..., FastAPI], captured_logs: io.StringIO
) -> None:
    app = app_factory(ingest_parser_process=True)
    body = orjson.dumps(
        payloads.hae_metrics(payloads.BENCHMARK_METRICS[:4], count=20_000, start=payloads.START)
    )
    async with _served(app) as http:
        parser = await _parser_ready(app)
        phone = await make_phone(app)
        victim = parser._process  # noqa: SLF001 - the test's victim
        assert victim is not None
        assert victim.pid is not None
        pid = victim.pid
        posting = asyncio.create_task(_post(http, phone, body))
        while parser.available:  # noqa: ASYNC110 - busy once the body is handed over
            await asyncio.sleep(0.001)
        os.kill(pid, signal.SIGKILL)
        response = await posting
        assert response.status_code == 200, response.text
        assert response.json()["inserted"] == 80_000
        assert await count_rows(app, "metric_samples", phone.user_id) == 80_000
        assert "parser_process_lost" in captured_logs.getvalue()
        # A new process took its place.
        replacement = await _parser_ready(app)
        assert replacement._process is not None  # noqa: SLF001
        assert replacement._process.pid != pid  # noqa: SLF001
        # What it had handed over was dropped; the table it was filling, if any, is the
        # housekeeping sweep's.
        leftovers = await fetch(
            app, "SELECT relname FROM pg_class WHERE starts_with(relname, 'ingest_batch_')"
        )
        assert len(leftovers) <= 1


async def test_two_large_bodies_at_once_both_land(
    app_factory: Callable[..., FastAPI], large_body: bytes
) -> None:
    app = app_factory(ingest_parser_process=True)
    async with _served(app) as http:
        handed = _count_bodies(await _parser_ready(app))
        phones = [await make_phone(app) for _ in range(2)]
        # The second finds the process busy and is parsed in a thread.
        first, second = await asyncio.gather(*(_post(http, phone, large_body) for phone in phones))
        assert first.status_code == second.status_code == 200
        assert handed == [len(large_body)]
        assert _comparable(first.json()) == _comparable(second.json())

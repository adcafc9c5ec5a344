"""A byte-identical re-send: answered from the earlier answer only while it is still true.

An erase (of any type or range) and any later ingestion of the user make the earlier
answer stale: the body is processed again, so every answer matches what is stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from tests.fixtures import payloads
from tests.fixtures.captures import capture_bytes
from tests.ingest.conftest import Phone, count_rows, fetch

Post = Callable[..., Awaitable[httpx.Response]]


async def _erase(client: httpx.AsyncClient, phone: Phone, **params: str) -> dict[str, Any]:
    response = await client.delete(
        "/api/v1/data", params={"confirm": "true", **params}, headers=phone.headers
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _answer(post: Post, phone: Phone, body: bytes) -> dict[str, Any]:
    response = await post(phone, body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _step_counts(app: FastAPI, phone: Phone) -> list[float]:
    rows = await fetch(
        app,
        "SELECT qty FROM metric_samples WHERE user_id = :u ORDER BY start_at",
        u=phone.user_id,
    )
    return [row["qty"] for row in rows]


def _one_step_total(qty: float) -> bytes:
    return orjson.dumps(
        payloads.envelope(
            metrics=[
                {
                    "name": "step_count",
                    "units": "count",
                    "data": [{"date": "2024-03-14 00:00:00 -0400", "qty": qty}],
                }
            ]
        )
    )


async def test_resend_after_an_erase_of_its_range_stores_the_rows_again(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    body = orjson.dumps(payloads.hae_metrics(("step_count",), count=60))
    first = await _answer(post, phone, body)
    assert first["inserted"] == 60
    erased = await _erase(client, phone, types="metrics", start="2024-03-01", end="2024-04-01")
    assert erased["deleted"] == {"metric_samples": 60}
    again = await _answer(post, phone, body)
    assert again["duplicate_payload"] is False
    assert again["inserted"] == 60
    assert await count_rows(app, "metric_samples", phone.user_id) == 60


async def test_resend_after_an_erase_of_another_type_is_processed_again(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    body = orjson.dumps(payloads.hae_metrics(("step_count",), count=60))
    await _answer(post, phone, body)
    await _erase(client, phone, types="sleep", start="2020-01-01", end="2020-02-01")
    again = await _answer(post, phone, body)
    assert again["duplicate_payload"] is False
    assert (again["inserted"], again["unchanged"]) == (0, 60)
    assert await count_rows(app, "metric_samples", phone.user_id) == 60


async def test_duplicate_answer_names_the_earlier_ingestion_and_claims_no_insert(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    body = orjson.dumps(payloads.hae_metrics(("step_count", "heart_rate"), count=30))
    first = await _answer(post, phone, body)
    again = await _answer(post, phone, body)
    assert again["duplicate_payload"] is True
    assert again["ingestion_id"] == first["ingestion_id"]
    assert (again["received"], again["inserted"], again["updated"]) == (60, 0, 0)
    assert again["unchanged"] == 60
    assert again["by_type"] == {"metric_samples": {"inserted": 0, "updated": 0, "unchanged": 60}}
    assert await count_rows(app, "metric_samples", phone.user_id) == 60


async def test_resend_after_a_later_ingestion_changed_its_rows_restores_them(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    earlier, later = _one_step_total(100), _one_step_total(250)
    await _answer(post, phone, earlier)
    assert (await _answer(post, phone, later))["updated"] == 1
    again = await _answer(post, phone, earlier)
    assert again["duplicate_payload"] is False
    assert again["updated"] == 1
    assert await _step_counts(app, phone) == [100]


async def test_erased_real_capture_is_stored_again_when_resent(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    body = capture_bytes("hae", "metrics-day-grouping-2023-2025.json")
    first = await _answer(post, phone, body)
    stored = await count_rows(app, "metric_samples", phone.user_id)
    repeated = await _answer(post, phone, body)  # over 1 MB: the streamed path's check
    assert (repeated["duplicate_payload"], repeated["inserted"]) == (True, 0)
    erased = await _erase(client, phone, types="metrics", start="2024-03-01", end="2024-04-01")
    assert erased["deleted"]["metric_samples"] > 0
    again = await _answer(post, phone, body)
    assert again["duplicate_payload"] is False
    assert again["inserted"] == erased["deleted"]["metric_samples"]
    assert again["unchanged"] == first["inserted"] - again["inserted"]
    assert await count_rows(app, "metric_samples", phone.user_id) == stored

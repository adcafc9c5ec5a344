"""One run sent as workout export version 1 and as version 2 is stored once, as version 2.

Version 1 has no ``id`` (identified by name and start), version 2 has the app's id and
route accuracies; the twins share type, start and end. Whatever the order and however
often each is re-sent, one workout remains, with no series or route left on the other.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from health_export.core.state import state_of
from health_export.ingest import service
from tests.fixtures import payloads
from tests.fixtures.captures import capture_bytes
from tests.ingest.conftest import Phone, fetch

Post = Callable[..., Awaitable[httpx.Response]]


async def _answer(post: Post, phone: Phone, doc: dict[str, Any]) -> dict[str, Any]:
    response = await post(phone, doc)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["rejected"] == 0, answer["errors"]
    return answer


def _v2_ids(doc: dict[str, Any]) -> set[str]:
    return {str(uuid.UUID(workout["id"])) for workout in doc["data"]["workouts"]}


async def _listed_ids(client: httpx.AsyncClient, phone: Phone) -> list[str]:
    response = await client.get("/api/v1/workouts", headers=phone.headers)
    assert response.status_code == 200, response.text
    return sorted(str(workout["id"]) for workout in response.json()["workouts"])


async def _orphans(app: FastAPI, phone: Phone) -> int:
    """Series points and routes of this user hanging on no workout."""
    rows = await fetch(
        app,
        "SELECT (SELECT count(*) FROM workout_series s WHERE s.user_id = :u AND NOT EXISTS "
        "(SELECT 1 FROM workouts w WHERE w.user_id = :u AND w.workout_id = s.workout_id)) + "
        "(SELECT count(*) FROM workout_routes r WHERE r.user_id = :u AND NOT EXISTS "
        "(SELECT 1 FROM workouts w WHERE w.user_id = :u AND w.workout_id = r.workout_id)) AS n",
        u=phone.user_id,
    )
    return int(rows[0]["n"])


async def _series_names(app: FastAPI, phone: Phone) -> dict[str, set[str]]:
    rows = await fetch(
        app,
        "SELECT workout_id::text AS id, series FROM workout_series WHERE user_id = :u",
        u=phone.user_id,
    )
    names: dict[str, set[str]] = {}
    for row in rows:
        names.setdefault(row["id"], set()).add(row["series"])
    return names


async def _route_accuracy(client: httpx.AsyncClient, phone: Phone, workout_id: str) -> Any:
    response = await client.get(f"/api/v1/workouts/{workout_id}/route", headers=phone.headers)
    assert response.status_code == 200, response.text
    return response.json()["properties"]["horizontal_accuracy"]


async def test_v1_then_v2_keeps_the_v2_workout_with_its_series_and_route(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    v1, v2 = payloads.hae_workouts_in_both_versions(count=2)
    await _answer(post, phone, v1)
    answer = await _answer(post, phone, v2)
    assert answer["by_type"]["workouts"]["inserted"] == 2
    assert await _listed_ids(client, phone) == sorted(_v2_ids(v2))
    for workout_id in _v2_ids(v2):
        assert await _route_accuracy(client, phone, workout_id) == [3.0] * 30
    assert set(await _series_names(app, phone)) == _v2_ids(v2)
    assert await _orphans(app, phone) == 0


async def test_v2_then_v1_keeps_the_v2_workout_and_answers_that_nothing_was_stored(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    v1, v2 = payloads.hae_workouts_in_both_versions(count=2)
    await _answer(post, phone, v2)
    before = await _series_names(app, phone)
    answer = await _answer(post, phone, v1)
    assert (answer["inserted"], answer["updated"]) == (0, 0)
    assert answer["unchanged"] == answer["received"]
    assert answer["by_type"]["workouts"] == {"inserted": 0, "updated": 0, "unchanged": 2}
    assert await _listed_ids(client, phone) == sorted(_v2_ids(v2))
    assert await _series_names(app, phone) == before
    assert await _orphans(app, phone) == 0


@pytest.mark.parametrize(
    "order",
    [("v1", "v2", "v1", "v2", "v1"), ("v2", "v1", "v1", "v2", "v1", "v2")],
    ids=["v1-first", "v2-first"],
)
async def test_resends_of_either_version_keep_one_workout_per_run(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post, order: tuple[str, ...]
) -> None:
    v1, v2 = payloads.hae_workouts_in_both_versions(count=3)
    for version in order:
        await _answer(post, phone, v1 if version == "v1" else v2)
    assert await _listed_ids(client, phone) == sorted(_v2_ids(v2))
    assert set(await _series_names(app, phone)) == _v2_ids(v2)
    assert await _orphans(app, phone) == 0


async def test_v1_route_fills_in_for_a_v2_twin_sent_without_one(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    v1, v2 = payloads.hae_workouts_in_both_versions(count=1, with_v2_route=False)
    await _answer(post, phone, v2)
    answer = await _answer(post, phone, v1)
    assert answer["by_type"]["workout_routes"] == {"inserted": 1, "updated": 0, "unchanged": 0}
    (workout_id,) = _v2_ids(v2)
    assert await _listed_ids(client, phone) == [workout_id]
    # The v1 route has no accuracies; it is kept rather than lost.
    assert await _route_accuracy(client, phone, workout_id) == [None] * 30
    assert await _orphans(app, phone) == 0


@pytest.mark.parametrize("v1_first", [True, False], ids=["v1-first", "v2-first"])
async def test_real_v1_capture_and_its_v2_export_are_one_workout_per_run(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post, v1_first: bool
) -> None:
    v1 = orjson.loads(capture_bytes("hae", "workouts-v1-app-8.1.2.json"))
    ids = [payloads.rng_uuid(random.Random(index)) for index in range(2)]
    v2 = payloads.envelope(
        workouts=[payloads.as_v2(w, i) for w, i in zip(v1["data"]["workouts"], ids, strict=True)]
    )
    for doc in (v1, v2) if v1_first else (v2, v1):
        await _answer(post, phone, doc)
    assert await _listed_ids(client, phone) == sorted(_v2_ids(v2))
    assert set(await _series_names(app, phone)) == _v2_ids(v2)
    assert await _orphans(app, phone) == 0


async def test_both_versions_in_one_body_store_the_v2_workout_once(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    v1, v2 = payloads.hae_workouts_in_both_versions(count=1)
    both = payloads.envelope(workouts=v1["data"]["workouts"] + v2["data"]["workouts"])
    answer = await _answer(post, phone, both)
    assert answer["by_type"]["workouts"] == {"inserted": 1, "updated": 0, "unchanged": 1}
    assert await _listed_ids(client, phone) == sorted(_v2_ids(v2))
    assert await _orphans(app, phone) == 0
    stored = await fetch(
        app, "SELECT count(*) AS n FROM workout_series WHERE user_id = :u", u=phone.user_id
    )
    assert answer["by_type"]["workout_series"]["inserted"] == stored[0]["n"]


@pytest.mark.parametrize("v1_first", [True, False], ids=["v1-first", "v2-first"])
async def test_twins_in_a_body_large_enough_to_stream_are_merged_too(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post, v1_first: bool
) -> None:
    v1, v2 = payloads.hae_workouts_in_both_versions(count=2)
    metrics = payloads.hae_metrics(("heart_rate",), count=12_000)
    small, large = (v1, v2) if v1_first else (v2, v1)
    large = payloads.envelope(
        workouts=large["data"]["workouts"], metrics=metrics["data"]["metrics"]
    )
    assert len(orjson.dumps(large)) > service.STREAM_FROM_BYTES
    await _answer(post, phone, small)
    answer = await _answer(post, phone, large)
    stored_here = {"inserted": 2, "updated": 0, "unchanged": 0}
    left_out = {"inserted": 0, "updated": 0, "unchanged": 2}
    assert answer["by_type"]["workouts"] == (stored_here if v1_first else left_out)
    assert await _listed_ids(client, phone) == sorted(_v2_ids(v2))
    assert set(await _series_names(app, phone)) == _v2_ids(v2)
    assert await _orphans(app, phone) == 0


async def test_twins_stored_before_this_release_are_merged_by_the_next_workouts_ingest(
    app: FastAPI, client: httpx.AsyncClient, phone: Phone, post: Post
) -> None:
    v1, _ = payloads.hae_workouts_in_both_versions(count=1)
    await _answer(post, phone, v1)
    # A v2 copy of the same run, stored the way earlier releases stored it: beside it.
    twin_id = "0b9e4f7e-4a8e-4f57-9a0e-6f3f1c2d8a11"
    async with state_of(app).engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO workouts (user_id, workout_id, app_id, name, start_at, end_at, "
                "utc_offset_min) SELECT user_id, CAST(:id AS uuid), :app_id, name, start_at, "
                "end_at, utc_offset_min FROM workouts WHERE user_id = :u"
            ),
            {"id": twin_id, "app_id": twin_id.upper(), "u": phone.user_id},
        )
    assert len(await _listed_ids(client, phone)) == 2
    later_run = payloads.hae_workouts(count=1, start=payloads.START + timedelta(days=30))
    await _answer(post, phone, later_run)
    listed = await _listed_ids(client, phone)
    assert len(listed) == 2
    assert twin_id in listed
    # The v1 copy's series and route moved onto its twin, which had none.
    assert (await _series_names(app, phone))[twin_id] == {"heartRateData", "heartRateRecovery"}
    assert await _route_accuracy(client, phone, twin_id) == [None] * 30
    assert await _orphans(app, phone) == 0

"""POST /api/v1/ingest: every shape stored, latest wins, points rejected not payloads."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import httpx
import orjson
import pytest
from fastapi import FastAPI

from health_export.core.state import state_of
from tests.fixtures import payloads
from tests.ingest.conftest import Phone, count_rows, fetch, make_phone

Post = Callable[..., Awaitable[httpx.Response]]


async def test_resend_with_grown_day_total_updates_value(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    day = "2024-03-14 00:00:00 -0400"
    morning = payloads.envelope(
        metrics=[
            {
                "name": "step_count",
                "units": "count",
                "data": [{"date": day, "qty": 1200, "source": "iPhone"}],
            }
        ]
    )
    evening = payloads.envelope(
        metrics=[
            {
                "name": "step_count",
                "units": "count",
                "data": [{"date": day, "qty": 9800, "source": "iPhone"}],
            }
        ]
    )
    first = (await post(phone, morning)).json()
    second = (await post(phone, evening)).json()
    assert (first["inserted"], second["inserted"], second["updated"]) == (1, 0, 1)
    rows = await fetch(
        app, "SELECT qty, revision FROM metric_samples WHERE user_id = :u", u=phone.user_id
    )
    assert rows == [{"qty": 9800.0, "revision": 1}]


async def test_duplicate_point_within_one_payload_keeps_the_last(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    date = "2024-03-14 10:00:00 -0400"
    doc = payloads.envelope(
        metrics=[
            {
                "name": "step_count",
                "units": "count",
                "data": [{"date": date, "qty": 10}, {"date": date, "qty": 25}],
            }
        ]
    )
    body = (await post(phone, doc)).json()
    assert (body["received"], body["inserted"], body["unchanged"]) == (2, 1, 1)
    rows = await fetch(app, "SELECT qty FROM metric_samples WHERE user_id = :u", u=phone.user_id)
    assert rows == [{"qty": 25.0}]


@pytest.mark.parametrize("space", [" ", "\u202f", "\u00a0"])
async def test_twelve_hour_clock_dates_store_the_same_instant(
    app: FastAPI, phone: Phone, post: Post, space: str
) -> None:
    moment = datetime(2024, 9, 21, 19, 57, tzinfo=timezone(timedelta(hours=10)))
    date = payloads.hae_date(moment, twelve_hour=True, space=space)
    assert "PM" in date
    doc = payloads.envelope(
        metrics=[{"name": "step_count", "units": "count", "data": [{"date": date, "qty": 5}]}]
    )
    assert (await post(phone, doc)).json()["inserted"] == 1
    rows = await fetch(
        app,
        "SELECT start_at, utc_offset_min FROM metric_samples WHERE user_id = :u",
        u=phone.user_id,
    )
    assert rows == [{"start_at": moment.astimezone(UTC), "utc_offset_min": 600}]


async def test_units_are_converted_to_the_canonical_unit(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    doc = payloads.envelope(
        metrics=[
            {
                "name": "weight_body_mass",
                "units": "lb",
                "data": [{"date": "2024-03-14 08:00:00 -0400", "qty": 150}],
            },
            {
                "name": "active_energy",
                "units": "kJ",
                "data": [{"date": "2024-03-14 08:00:00 -0400", "qty": 418.4}],
            },
            {
                "name": "my_new_metric",
                "units": "zorks",
                "data": [{"date": "2024-03-14 08:00:00 -0400", "qty": 3}],
            },
        ]
    )
    assert (await post(phone, doc)).json()["inserted"] == 3
    rows = await fetch(
        app,
        "SELECT mt.name, s.unit, s.qty FROM metric_samples s JOIN "
        "metric_types mt ON mt.id = s.metric_id WHERE s.user_id = :u "
        "ORDER BY mt.name",
        u=phone.user_id,
    )
    by_name = {row["name"]: (row["unit"], row["qty"]) for row in rows}
    assert by_name["weight_body_mass"][0] == "kg"
    assert abs(by_name["weight_body_mass"][1] - 68.0388555) < 1e-6
    assert by_name["active_energy"][0] == "kcal"
    assert abs(by_name["active_energy"][1] - 100.0) < 1e-9
    assert by_name["my_new_metric"] == ("zorks", 3.0)


async def test_invalid_points_are_listed_and_the_rest_is_stored(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    good = {"date": "2024-03-14 10:00:00 -0400", "Min": 60, "Avg": 70, "Max": 80}
    doc = payloads.envelope(
        metrics=[
            {
                "name": "heart_rate",
                "units": "count/min",
                "data": [
                    good,
                    {"date": "2024-03-14 10:01:00 -0400", "Min": 60, "Avg": 500, "Max": 80},
                    {"date": "not a date", "Min": 60, "Avg": 70, "Max": 80},
                    {"date": "2024-03-14 10:03:00 -0400", "Min": 90, "Avg": 70, "Max": 80},
                    {**good, "date": "2024-03-14 10:04:00 -0400"},
                ],
            }
        ],
        someNewKey=[],
    )
    response = await post(phone, doc)
    assert response.status_code == 200
    body = response.json()
    assert (body["received"], body["inserted"], body["rejected"]) == (5, 2, 3)
    paths = [error["path"] for error in body["errors"]]
    assert paths[0] == "data.metrics[0].data[1].Avg"
    assert paths[1].startswith("data.metrics[0].data[2]")
    assert paths[2].startswith("data.metrics[0].data[3]")
    assert "500" in body["errors"][0]["reason"]
    assert body["ignored"] == ["data.someNewKey"]
    assert await count_rows(app, "metric_samples", phone.user_id) == 2


async def test_error_list_is_capped_with_the_total_counted(phone: Phone, post: Post) -> None:
    points = [{"date": "bad", "qty": 1}] * 150 + [{"date": "2024-03-14 10:00:00 -0400", "qty": 1}]
    doc = payloads.envelope(metrics=[{"name": "step_count", "units": "count", "data": points}])
    body = (await post(phone, doc)).json()
    assert (body["rejected"], len(body["errors"]), body["errors_truncated"]) == (150, 100, True)
    assert body["inserted"] == 1


@pytest.mark.parametrize("version", [1, 2])
async def test_workout_route_is_stored_as_postgis_linestring(
    app: FastAPI, phone: Phone, post: Post, version: int
) -> None:
    doc = payloads.hae_workouts(count=1, version=version, route_points=30)  # type: ignore[arg-type]
    body = (await post(phone, doc)).json()
    assert body["by_type"]["workouts"]["inserted"] == 1
    assert body["by_type"]["workout_routes"]["inserted"] == 1
    rows = await fetch(
        app,
        "SELECT ST_NPoints(geom::geometry) AS n, ST_Length(geom) AS metres, "
        "cardinality(times) AS times FROM workout_routes WHERE user_id = :u",
        u=phone.user_id,
    )
    route = doc["data"]["workouts"][0]["route"]
    assert rows[0]["n"] == len(route) == rows[0]["times"]
    # 29 steps of 1e-4 degrees in latitude and longitude at 45.5°N: about 388 m.
    assert 300 < rows[0]["metres"] < 500


async def test_every_other_data_type_is_stored(app: FastAPI, phone: Phone, post: Post) -> None:
    sections = [
        (payloads.hae_symptoms(2), "symptoms", 2),
        (payloads.hae_cycle_tracking(2), "cycle_tracking", 2),
        (payloads.hae_ecg(1, samples=512), "ecg_recordings", 1),
        (payloads.hae_heart_rate_notifications("docs"), "heart_rate_notifications", 1),
        (
            payloads.hae_heart_rate_notifications(
                "captured", start=payloads.START + timedelta(days=1)
            ),
            "heart_rate_notifications",
            2,
        ),
        (payloads.hae_state_of_mind(2), "state_of_mind", 2),
        (payloads.hae_medications(2), "medications", 2),
        (payloads.hae_sleep_aggregated(3, generation="legacy"), "sleep_sessions", 3),
        (payloads.hae_sleep_stages(1), "sleep_stages", 13),
    ]
    for doc, table, expected in sections:
        response = await post(phone, doc)
        assert response.status_code == 200, (table, response.text)
        assert response.json()["rejected"] == 0, (table, response.json()["errors"])
        assert await count_rows(app, table, phone.user_id) == expected, table
    ecg = await fetch(
        app,
        "SELECT cardinality(voltages_uv) AS n FROM ecg_recordings WHERE user_id = :u",
        u=phone.user_id,
    )
    assert ecg == [{"n": 512}]


async def test_standard_format_is_detected_and_stored(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    doc = payloads.standard_payload(5)
    response = await post(phone, doc)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rejected"] == 0
    assert body["inserted"] == body["received"] > 0


async def test_gzip_body_is_accepted(app: FastAPI, phone: Phone, post: Post) -> None:
    body = (await post(phone, payloads.hae_metrics(["step_count"], count=10), gzipped=True)).json()
    assert body["inserted"] == 10


async def test_two_users_data_is_kept_apart(app: FastAPI, post: Post) -> None:
    alice, bob = await make_phone(app), await make_phone(app)
    doc = payloads.hae_metrics(["step_count"], count=5)
    assert (await post(alice, doc)).json()["inserted"] == 5
    assert (await post(bob, doc)).json()["inserted"] == 5
    assert await count_rows(app, "metric_samples", alice.user_id) == 5
    assert await count_rows(app, "metric_samples", bob.user_id) == 5


async def test_concurrent_overlapping_ingests_of_one_user_neither_deadlock_nor_duplicate(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    docs = [
        payloads.hae_metrics(
            payloads.BENCHMARK_METRICS[:3],
            count=200,
            seed=seed,
            start=payloads.START + timedelta(minutes=50 * seed),
        )
        for seed in range(6)
    ]
    responses = await asyncio.gather(*(post(phone, doc) for doc in docs))
    assert [r.status_code for r in responses] == [200] * 6
    distinct_minutes = 200 + 50 * 5
    assert await count_rows(app, "metric_samples", phone.user_id) == 3 * distinct_minutes


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", {}, 400),
        (b"\xff\xfe\x00garbage", {}, 400),
        (b'{"data": [1, 2]}', {}, 422),
        (b"[1, 2, 3]", {}, 422),
        (b'{"format": "health-export/v9"}', {}, 422),
        (b"not gzip at all", {"Content-Encoding": "gzip"}, 400),
        (gzip.compress(b'{"data": {}}', mtime=0)[:-6], {"Content-Encoding": "gzip"}, 400),
        (b'{"data": {}}', {"Content-Encoding": "br"}, 415),
        (b"name,value\n", {"Content-Type": "multipart/form-data; boundary=x"}, 415),
    ],
)
async def test_unusable_bodies_get_a_clear_problem(
    phone: Phone, post: Post, body: bytes, headers: dict[str, str], status: int
) -> None:
    response = await post(phone, body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


async def test_empty_envelope_is_a_processed_no_op(phone: Phone, post: Post) -> None:
    response = await post(phone, {"data": {}})
    assert response.status_code == 200
    assert response.json()["received"] == 0


async def test_bodies_over_the_limits_get_413(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(max_payload_bytes=4096, max_decompressed_bytes=8192)
    async with app.router.lifespan_context(app):
        small_phone = await make_phone(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            big = b'{"data": {"x": "' + b"a" * 5000 + b'"}}'
            declared = await http.post("/api/v1/ingest", content=big, headers=small_phone.headers)

            async def trickle() -> AsyncIterator[bytes]:
                for _ in range(10):
                    yield b" " * 1000

            streamed = await http.post(
                "/api/v1/ingest", content=trickle(), headers=small_phone.headers
            )
            bomb = gzip.compress(b'{"data": {"x": "' + b"a" * 1_000_000 + b'"}}')
            inflated = await http.post(
                "/api/v1/ingest",
                content=bomb,
                headers={**small_phone.headers, "Content-Encoding": "gzip"},
            )
    assert len(bomb) < 4096
    assert [declared.status_code, streamed.status_code, inflated.status_code] == [413] * 3
    assert "decompressed" in inflated.json()["detail"]


async def test_automation_headers_are_recorded(app: FastAPI, phone: Phone, post: Post) -> None:
    headers = {
        "automation-name": "Steps",
        "automation-period": "Since Last Sync",
        "session-id": "0A1B2C3D-0000-4000-8000-000000000000",
    }
    body = (
        await post(phone, payloads.hae_metrics(["step_count"], count=2), headers=headers)
    ).json()
    rows = await fetch(
        app, "SELECT headers FROM raw_ingestions WHERE id = :i", i=body["ingestion_id"]
    )
    assert rows[0]["headers"]["automation-name"] == "Steps"
    assert rows[0]["headers"]["automation-period"] == "Since Last Sync"


async def test_a_new_month_is_not_blocked_by_a_long_open_read(
    app: FastAPI, phone: Phone, post: Post
) -> None:
    engine = state_of(app).engine
    async with engine.connect() as reader, reader.begin():
        # An export or a slow query holds its lock on the table until it ends.
        await reader.exec_driver_sql("SELECT count(*) FROM metric_samples")
        doc = payloads.hae_metrics(["step_count"], count=3, start=datetime(1999, 7, 1, tzinfo=UTC))
        response = await asyncio.wait_for(post(phone, doc), timeout=10)
    assert response.status_code == 200
    assert response.json()["inserted"] == 3


async def test_ingest_url_with_a_trailing_slash_works_too(
    phone: Phone, post: Post, client: httpx.AsyncClient
) -> None:
    body = orjson.dumps(payloads.hae_metrics(["step_count"], count=2))
    response = await client.post(
        "/api/v1/ingest/",
        content=body,
        headers={**phone.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["inserted"] == 2

"""GET /api/v1/metrics and /metrics/{name}: what was ingested comes back, exactly."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.fixtures.auth import TestKey, create_user_with_key
from tests.fixtures.captures import DAY_GROUPED_METRICS, Origin
from tests.fixtures.exports import FOOD_APP, sent_at, sent_metric
from tests.fixtures.payloads import PHONE, WATCH
from tests.health_data.conftest import Get, Ingest, metric
from tests.ingest.conftest import fetch

STEPS = metric(
    "step_count",
    "count",
    [
        {"date": "2024-03-14 10:00:00 -0400", "qty": 120, "source": WATCH},
        {"date": "2024-03-14 10:01:00 -0400", "qty": 80, "source": WATCH},
        {"date": "2024-03-14 10:00:00 -0400", "qty": 100, "source": PHONE},
    ],
)


async def test_metric_list_names_every_ingested_metric_with_counts_and_sources(
    owner: TestKey, ingest: Ingest, get: Get, origin: Origin
) -> None:
    doc = DAY_GROUPED_METRICS.doc(origin)
    sent_heart = sent_metric(doc, "heart_rate")["data"]
    await ingest(owner, doc)
    response = await get(owner, "/metrics")
    assert response.status_code == 200
    metrics = {item["name"]: item for item in response.json()["metrics"]}
    sent_names = {item["name"] for item in doc["data"]["metrics"]}
    assert set(metrics) == sent_names  # sleep_analysis too, though it has its own endpoint
    assert metrics["sleep_analysis"]["read_at"] == "/api/v1/sleep"
    assert metrics["heart_rate"]["count"] == len(sent_heart)
    assert metrics["heart_rate"]["kind"] == "discrete"
    assert metrics["dietary_water"]["unit"] == "mL"  # sent in fl_oz_us, stored canonical
    assert metrics["dietary_energy"]["kind"] == "sum"
    assert metrics["carbohydrates"]["sources"] == [FOOD_APP]
    first = min(sent_at(point["date"]) for point in sent_heart)
    assert metrics["heart_rate"]["first"] == first.isoformat()  # at the sender's offset


async def test_raw_samples_come_back_with_local_offsets_and_exact_values(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, STEPS)
    body = (await get(owner, "/metrics/step_count")).json()
    assert body["unit"] == "count"
    assert [(s["start"], s["source"], s["qty"]) for s in body["samples"]] == [
        ("2024-03-14T10:00:00-04:00", WATCH, 120.0),
        ("2024-03-14T10:00:00-04:00", PHONE, 100.0),
        ("2024-03-14T10:01:00-04:00", WATCH, 80.0),
    ] or [(s["start"], s["source"], s["qty"]) for s in body["samples"]] == [
        ("2024-03-14T10:00:00-04:00", PHONE, 100.0),
        ("2024-03-14T10:00:00-04:00", WATCH, 120.0),
        ("2024-03-14T10:01:00-04:00", WATCH, 80.0),
    ]
    assert body["next_cursor"] is None


async def test_cursor_pages_through_every_sample_once_in_order(
    owner: TestKey, ingest: Ingest, get: Get, origin: Origin
) -> None:
    doc = DAY_GROUPED_METRICS.doc(origin)
    await ingest(owner, doc)
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        body = (await get(owner, "/metrics/heart_rate", **params)).json()
        seen += [(s["start"], s["source"]) for s in body["samples"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(sent_metric(doc, "heart_rate")["data"]) == len(set(seen))
    assert seen == sorted(seen, key=lambda item: item[0])


async def test_heart_rate_view_has_min_avg_max(
    owner: TestKey, ingest: Ingest, get: Get, origin: Origin
) -> None:
    doc = DAY_GROUPED_METRICS.doc(origin)
    first = min(sent_metric(doc, "heart_rate")["data"], key=lambda point: sent_at(point["date"]))
    await ingest(owner, doc)
    body = (await get(owner, "/heart-rate", limit=1)).json()
    assert body["samples"] == [
        {
            "start": sent_at(first["date"]).isoformat(),
            "end": None,
            "source": first["source"],
            "min": first["Min"],
            "avg": first["Avg"],
            "max": first["Max"],
        }
    ]
    assert body["next_cursor"] is not None


async def test_blood_pressure_view_pairs_systolic_and_diastolic(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    points = [{"date": "2024-03-14 08:00:00 -0400", "systolic": 121, "diastolic": 79}]
    await ingest(owner, metric("blood_pressure", "mmHg", points))
    body = (await get(owner, "/blood-pressure")).json()
    assert body["samples"] == [
        {"start": "2024-03-14T08:00:00-04:00", "source": "", "systolic": 121.0, "diastolic": 79.0}
    ]


async def test_unit_parameter_converts_stored_values(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    points = [{"date": "2024-03-14 08:00:00 -0400", "qty": 80.0}]
    await ingest(owner, metric("weight_body_mass", "kg", points))
    body = (await get(owner, "/metrics/weight_body_mass", unit="lb")).json()
    assert body["unit"] == "lb"
    assert body["samples"][0]["qty"] == pytest.approx(176.369809, rel=1e-6)
    refused = await get(owner, "/metrics/weight_body_mass", unit="km")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "query.unit"


async def test_unknown_metric_is_404_naming_the_list_endpoint(owner: TestKey, get: Get) -> None:
    response = await get(owner, "/metrics/no_such_metric")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "/api/v1/metrics" in response.json()["detail"]


async def test_known_metric_without_data_is_an_empty_page(owner: TestKey, get: Get) -> None:
    body = (await get(owner, "/metrics/vo2_max")).json()
    assert body["samples"] == []
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "status", "path"),
    [
        ({"start": "2024-03-02", "end": "2024-03-01"}, 400, "query.end"),
        ({"start": "yesterday"}, 400, "query.start"),
        ({"start": "2024-03-01T00:00:00"}, 400, "query.start"),
        ({"limit": 10_001}, 422, "query.limit"),
        ({"cursor": "not-a-cursor"}, 400, "query.cursor"),
    ],
)
async def test_bad_parameters_are_refused_naming_the_parameter(
    owner: TestKey, get: Get, params: dict[str, object], status: int, path: str
) -> None:
    response = await get(owner, "/metrics/step_count", **params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == path


async def test_other_users_data_is_invisible(
    app: FastAPI, owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, STEPS)
    stranger = await create_user_with_key(app)
    assert (await get(stranger, "/metrics")).json() == {"metrics": []}
    assert (await get(stranger, "/metrics/step_count")).json()["samples"] == []
    refused = await get(stranger, "/metrics/step_count", user_id=owner.user_id)
    assert refused.status_code == 403


async def test_admin_reads_a_named_user_and_the_read_is_audited(
    app: FastAPI, owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, STEPS)
    admin = await create_user_with_key(app, scopes=["admin"], is_admin=True)
    body = (await get(admin, "/metrics/step_count", user_id=owner.user_id)).json()
    assert len(body["samples"]) == 3
    events = await fetch(
        app,
        "SELECT action, actor_user_id FROM audit_events WHERE target_user_id = :u",
        u=owner.user_id,
    )
    assert {"action": "admin.data.read", "actor_user_id": admin.user_id} in events


async def test_read_needs_the_read_scope(app: FastAPI, get: Get) -> None:
    phone_only = await create_user_with_key(app, scopes=["ingest"])
    assert (await get(phone_only, "/metrics")).status_code == 403

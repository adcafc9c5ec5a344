"""GET /api/v1/sync: what each automation sent, how often, and what to change in the app."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
import orjson

from tests.fixtures.auth import KeyFactory, TestKey
from tests.fixtures.payloads import hae_metrics, hae_sleep_aggregated, hae_workouts
from tests.fixtures.sync import (
    EDT,
    age_requests,
    automation_headers,
    automation_named,
    daily_points,
    days_back,
    metric_body,
    metric_named,
    post,
    rules_of,
    sync_view,
)


async def test_requests_are_summarised_per_automation(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    metrics = automation_headers("Metrics", aggregation="Minutes", period="Default")
    body = orjson.dumps(hae_metrics(["heart_rate", "step_count"], count=30))
    first = await post(client, ingest_key, body, metrics)
    assert first.status_code == 200
    again = await post(client, ingest_key, body, metrics)
    assert again.json()["duplicate_payload"] is True
    csv = await client.post(
        "/api/v1/ingest",
        content=b"--x\r\n",
        headers={
            **ingest_key.headers,
            **metrics,
            "Content-Type": "multipart/form-data; boundary=x",
        },
    )
    assert csv.status_code == 415
    workouts = automation_headers("Workouts")
    del workouts["automation-id"]
    assert (
        await post(client, ingest_key, orjson.dumps(hae_workouts(2, version=1)), workouts)
    ).status_code == 200

    view = await sync_view(client, ingest_key)
    found = automation_named(view, "Metrics")
    assert found["id"] == metrics["automation-id"]
    assert (found["requests"], found["failures"], found["points"]) == (3, 1, 60)
    assert (found["aggregation"], found["period"]) == ("Minutes", "Default")
    assert found["app_version"] == "Health Auto Export/8.1.2"
    assert found["data_types"] == ["metric_samples"]
    assert found["metrics"] == ["heart_rate", "step_count"]
    assert found["cadence_s"] is None  # one run so far: no rhythm to learn yet
    assert found["first_seen"] <= found["last_seen"]
    assert "requests_refused_415" in rules_of(found)
    refused = next(a for a in found["advice"] if a["rule"] == "requests_refused_415")
    assert "Export Format to JSON" in refused["message"]
    assert refused["automation"] == "Metrics"
    by_name = automation_named(view, "Workouts")
    assert by_name["id"] is None
    assert by_name["key"] == "name:Workouts"
    assert {"workouts_export_version_1", "routes_arriving"} <= rules_of(by_name)


async def test_sync_needs_the_read_scope(client: httpx.AsyncClient, make_key: KeyFactory) -> None:
    phone = await make_key(scopes=["ingest"])
    assert (await client.get("/api/v1/sync", headers=phone.headers)).status_code == 403
    assert (await client.get("/api/v1/sync")).status_code == 401


async def test_missing_days_are_a_gap_with_their_repair_and_cause(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    days = days_back(20)
    missing = days[13:15]
    kept = [day for day in days if day not in missing]
    headers = automation_headers("Steps", period="Since Last Sync", aggregation="Days")
    body = metric_body("step_count", "count", daily_points(kept))
    assert (await post(client, ingest_key, body, headers)).status_code == 200

    steps = metric_named(await sync_view(client, ingest_key), "step_count")
    assert steps["last_day"] == str(days[-1])
    assert steps["newest_sample"].endswith("-04:00")
    assert steps["is_daily"] is True
    [gap] = steps["gaps"]
    assert (gap["start"], gap["end"], gap["days"], gap["kind"]) == (
        str(missing[0]),
        str(missing[1]),
        2,
        "none",
    )
    assert f"{missing[0]} to {missing[1]}" in gap["repair"]
    assert gap["automation"] == "Steps"
    assert "Since Last Sync" in gap["cause"]


async def test_a_day_with_unusually_few_samples_is_a_gap(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    days = days_back(10)
    thin = days[4]
    points = daily_points(days, per_day=48, qty=70, counts={thin: 4})
    body = metric_body("resting_heart_rate", "count/min", points)
    assert (await post(client, ingest_key, body, automation_headers("Heart"))).status_code == 200
    metric = metric_named(await sync_view(client, ingest_key), "resting_heart_rate")
    assert metric["usual_per_day"] == 48
    [gap] = metric["gaps"]
    assert (gap["start"], gap["end"], gap["kind"], gap["samples"]) == (
        str(thin),
        str(thin),
        "few",
        4,
    )
    assert gap["cause"] is None  # requests arrived; nothing received tells why


async def test_a_metric_taken_now_and_then_has_no_gaps(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    body = metric_body("weight_body_mass", "kg", daily_points(days_back(30)[::3], qty=70))
    assert (await post(client, ingest_key, body, automation_headers("Weight"))).status_code == 200
    weight = metric_named(await sync_view(client, ingest_key), "weight_body_mass")
    assert (weight["is_daily"], weight["gaps"]) == (False, [])


async def test_a_missing_night_is_named_by_its_wake_up_day(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    first = days_back(12)[0]
    start = _midnight(first)
    headers = automation_headers("Sleep", aggregation="Days")
    for begin, nights in ((start, 5), (start + timedelta(days=6), 5)):
        body = orjson.dumps(hae_sleep_aggregated(nights, begin))
        assert (await post(client, ingest_key, body, headers)).status_code == 200
    view = await sync_view(client, ingest_key)
    [gap] = metric_named(view, "sleep_analysis")["gaps"]
    # The night that began on day 5 ends on the morning of day 6.
    assert gap["start"] == gap["end"] == str(first + timedelta(days=6))
    assert "aggregated_sleep_hides_stages" in rules_of(automation_named(view, "Sleep"))


async def test_a_metric_that_stopped_coming_is_advised(
    app: Any, client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    headers = automation_headers("Everything")
    for back in (3, 2, 1):
        day = days_back(back, back)
        body = orjson.dumps(
            {
                "data": {
                    "metrics": [
                        {"name": "heart_rate", "units": "count/min", "data": _hr_points(day)},
                        {"name": "step_count", "units": "count", "data": daily_points(day)},
                    ]
                }
            }
        )
        assert (await post(client, ingest_key, body, headers)).status_code == 200
        await age_requests(app, ingest_key.user_id, timedelta(days=3, hours=12))
    for qty in (1, 2, 3):
        body = metric_body("step_count", "count", daily_points(days_back(1, 1), qty=qty))
        assert (await post(client, ingest_key, body, headers)).status_code == 200
    found = automation_named(await sync_view(client, ingest_key), "Everything")
    stopped = [a for a in found["advice"] if a["rule"] == "metric_stopped"]
    assert len(stopped) == 1
    assert stopped[0]["message"].startswith("heart_rate stopped arriving")


async def test_periods_that_miss_data_are_advised(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    body = metric_body("step_count", "count", daily_points(days_back(3)))
    for name, period in (("Weekly", "Previous 7 Days"), ("Incremental", "Since Last Sync")):
        await post(
            client, ingest_key, body + b" " * len(name), automation_headers(name, period=period)
        )
    view = await sync_view(client, ingest_key)
    assert "period_excludes_today" in rules_of(automation_named(view, "Weekly"))
    assert "since_last_sync_misses_late_samples" in rules_of(automation_named(view, "Incremental"))
    assert "period_excludes_today" not in rules_of(automation_named(view, "Incremental"))


async def test_schema_drift_is_counted_per_app_version(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    agent = "Health Auto Export/9.9.0 CFNetwork/1498.700.2 Darwin/23.6.0"
    point = {"date": "2026-01-02 10:00:00 -0500", "qty": 3, "confidence": 0.9}
    body = {
        "exportedAt": "2026-01-02",
        "data": {
            "metrics": [{"name": "future_metric", "units": "count", "data": [point]}],
            "hologram": [],
        },
    }
    answer = await post(
        client, ingest_key, orjson.dumps(body), automation_headers("New app", agent=agent)
    )
    assert answer.status_code == 200
    assert answer.json()["inserted"] == 1

    drift = (await sync_view(client, ingest_key))["drift"]
    found = {
        (d["kind"], d["name"]) for d in drift if d["app_version"] == "Health Auto Export/9.9.0"
    }
    assert found == {
        ("unknown_key", "exportedAt"),
        ("unknown_key", "data.hologram"),
        ("new_metric", "future_metric"),
        ("new_field", "future_metric.confidence"),
    }
    text = (await client.get("/metrics")).text
    for kind in ("unknown_key", "new_metric", "new_field"):
        assert f'schema_drift_total{{app_version="Health Auto Export/9.9.0",kind="{kind}"}}' in text


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=EDT)


def _hr_points(days: list[date]) -> list[dict[str, Any]]:
    return [
        {"date": p["date"], "Min": 50, "Avg": 60, "Max": 70, "source": p["source"]}
        for p in daily_points(days, per_day=4)
    ]


async def test_a_gap_on_days_of_refused_requests_names_the_refusal(
    app: Any, client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    days = days_back(10)
    hole = days[6]
    headers = automation_headers("Nightly")
    body = metric_body("step_count", "count", daily_points([d for d in days if d != hole]))
    assert (await post(client, ingest_key, body, headers)).status_code == 200
    csv = {**ingest_key.headers, **headers, "Content-Type": "text/csv"}
    assert (await client.post("/api/v1/ingest", content=b"a,b", headers=csv)).status_code == 415
    # Both requests happened on the day of the hole.
    await age_requests(app, ingest_key.user_id, timedelta(days=(days[-1] - hole).days + 1))
    [gap] = metric_named(await sync_view(client, ingest_key), "step_count")["gaps"]
    assert gap["start"] == str(hole)
    assert gap["cause"] == (
        "1 request(s) of 'Nightly' failed then (415): set the automation's Export Format to JSON"
    )


async def test_a_gap_while_the_automation_sent_nothing_says_so(
    app: Any, client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    days = days_back(12)
    hole = days[8:10]
    headers = automation_headers("Hourly")
    early = metric_body("step_count", "count", daily_points(days[:8]))
    assert (await post(client, ingest_key, early, headers)).status_code == 200
    await age_requests(app, ingest_key.user_id, timedelta(days=5))
    late = metric_body("step_count", "count", daily_points(days[10:]))
    assert (await post(client, ingest_key, late, headers)).status_code == 200
    [gap] = metric_named(await sync_view(client, ingest_key), "step_count")["gaps"]
    assert (gap["start"], gap["end"]) == (str(hole[0]), str(hole[1]))
    assert gap["cause"].startswith(f"no request of 'Hourly' arrived from {hole[0]} to")


async def test_a_stored_body_without_an_envelope_counts_as_a_failure(
    client: httpx.AsyncClient, ingest_key: TestKey
) -> None:
    headers = automation_headers("Odd")
    answer = await post(client, ingest_key, b'{"metrics": []}', headers)
    assert answer.status_code == 422
    found = automation_named(await sync_view(client, ingest_key), "Odd")
    assert (found["requests"], found["failures"], found["points"]) == (1, 1, 0)
    [advice] = found["advice"]
    assert advice["rule"] == "requests_refused_422"
    assert "export as JSON, not CSV" in advice["message"]

"""Alerts: incidents announced once to a real receiver on loopback, recoveries, retries."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from health_export.core.state import state_of
from tests.fixtures.auth import create_user_with_key
from tests.fixtures.receiver import Receiver
from tests.fixtures.sync import (
    alerts_settled,
    automation_headers,
    daily_points,
    days_back,
    metric_body,
    post,
)

CHECK_S = 0.2


@asynccontextmanager
async def alerting_app(
    app_factory: Callable[..., Any], **settings: Any
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """An app whose background worker checks for incidents every CHECK_S."""
    app = app_factory(alert_check_seconds=CHECK_S, **settings)
    async with app.router.lifespan_context(app):
        await alerts_settled(app, CHECK_S)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


def _events(received: list[Any]) -> list[tuple[str, str]]:
    return [(r.json()["event"], r.json()["kind"]) for r in received]


async def _deliveries(app: Any, user_id: int) -> list[dict[str, Any]]:
    async with state_of(app).engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT d.event, d.channel, d.status, d.attempts, d.last_status, d.created_at, "
                "d.sent_at FROM sync_alert_deliveries d JOIN sync_incidents i "
                "ON i.id = d.incident_id WHERE i.user_id = :user_id ORDER BY d.id"
            ),
            {"user_id": user_id},
        )
        return [dict(row) for row in result.mappings()]


async def test_a_silent_automation_is_announced_once_then_its_recovery(
    app_factory: Callable[..., Any], receiver: Receiver
) -> None:
    async with alerting_app(
        app_factory, alert_webhook_url=receiver.url, alert_silence_seconds=1.0
    ) as (app, client):
        key = await create_user_with_key(app)
        headers = automation_headers("Phone metrics")
        body = metric_body("step_count", "count", daily_points(days_back(2)))
        sent_at = time.monotonic()
        assert (await post(client, key, body, headers)).status_code == 200
        [opened] = await receiver.wait_for(key.user_name, 1)
        message = opened.json()
        assert (message["event"], message["kind"], message["user"]) == (
            "incident.opened",
            "silent",
            key.user_name,
        )
        assert message["automation"]["name"] == "Phone metrics"
        assert message["automation"]["id"] == headers["automation-id"]
        assert "has sent nothing for" in str(message["summary"])
        assert message["advice"]
        # Silent for longer than ALERT_SILENCE_SECONDS, seen by one of the next checks (the
        # upper bound leaves room for a busy machine).
        assert 1.0 <= opened.at - sent_at <= 1.0 + 4 * CHECK_S + 5.0
        await _wait(6 * CHECK_S)
        assert len(receiver.about(key.user_name)) == 1  # once per incident

        again = metric_body("step_count", "count", daily_points(days_back(1)))
        assert (await post(client, key, again, headers)).status_code == 200
        received = await receiver.wait_for(key.user_name, 2)
        assert _events(received) == [("incident.opened", "silent"), ("incident.resolved", "silent")]
        assert received[1].json()["resolved_at"] is not None
        for item in received:
            assert key.key not in item.body.decode()
            assert item.headers["content-type"] == "application/json"
        # Silent again later: a new incident, announced again (once).
        await receiver.wait_for(key.user_name, 3)
        await _wait(6 * CHECK_S)
        assert _events(receiver.about(key.user_name))[2] == ("incident.opened", "silent")
        assert len(receiver.about(key.user_name)) == 3
        stored = await _deliveries(app, key.user_id)
        assert [(d["event"], d["status"], d["attempts"]) for d in stored] == [
            ("opened", "sent", 1),
            ("resolved", "sent", 1),
            ("opened", "sent", 1),
        ]


async def test_repeated_failures_are_announced_on_ntfy(
    app_factory: Callable[..., Any], receiver: Receiver
) -> None:
    async with alerting_app(
        app_factory,
        alert_ntfy_url=receiver.url,
        alert_ntfy_token="tk_secret_token_of_the_topic",
        alert_failure_count=2,
    ) as (app, client):
        key = await create_user_with_key(app)
        headers = automation_headers("CSV by mistake")
        for _ in range(2):
            refused = await client.post(
                "/api/v1/ingest",
                content=b"a,b\r\n",
                headers={**key.headers, **headers, "Content-Type": "text/csv"},
            )
            assert refused.status_code == 415
        [opened] = await receiver.wait_for(key.user_name, 1)
        assert opened.headers["priority"] == "high"
        assert opened.headers["tags"] == "warning"
        assert "CSV by mistake" in opened.headers["title"]
        assert opened.headers["authorization"] == "Bearer tk_secret_token_of_the_topic"
        assert "Export Format to JSON" in opened.body.decode()
        good = metric_body("step_count", "count", daily_points(days_back(1)))
        assert (await post(client, key, good, headers)).status_code == 200
        received = await receiver.wait_for(key.user_name, 2)
        resolved = received[1]
        assert resolved.headers["priority"] == "default"
        assert resolved.headers["tags"] == "white_check_mark"
        assert resolved.headers["title"].startswith("Resolved:")
        for item in received:
            assert "tk_secret_token_of_the_topic" not in item.body.decode()
            assert key.key not in item.body.decode()


async def test_a_new_gap_is_announced_and_filling_it_resolves_it(
    app_factory: Callable[..., Any], receiver: Receiver
) -> None:
    async with alerting_app(app_factory, alert_webhook_url=receiver.url) as (app, client):
        key = await create_user_with_key(app)
        headers = automation_headers("Steps", period="Since Last Sync")
        days = days_back(20)
        missing = days[15:17]
        kept = [day for day in days if day not in missing]
        body = metric_body("step_count", "count", daily_points(kept))
        assert (await post(client, key, body, headers)).status_code == 200
        [opened] = await receiver.wait_for(key.user_name, 1)
        message = opened.json()
        assert (message["event"], message["kind"]) == ("incident.opened", "gap")
        assert message["summary"] == f"step_count: nothing on {missing[0]} to {missing[1]}"
        assert message["details"]["metric"] == "step_count"
        advice = " ".join(message["advice"])
        assert f"{missing[0]} to {missing[1]}" in advice
        assert "Since Last Sync" in advice

        filled = metric_body("step_count", "count", daily_points(missing))
        assert (await post(client, key, filled, headers)).status_code == 200
        received = await receiver.wait_for(key.user_name, 2)
        assert _events(received) == [("incident.opened", "gap"), ("incident.resolved", "gap")]
        await _wait(5 * CHECK_S)
        assert len(receiver.about(key.user_name)) == 2


async def test_a_refused_delivery_is_retried_with_backoff_and_recorded(
    app_factory: Callable[..., Any], receiver: Receiver
) -> None:
    base_s = 0.3
    async with alerting_app(
        app_factory,
        alert_webhook_url=receiver.url,
        alert_failure_count=1,
        alert_retry_base_seconds=base_s,
    ) as (app, client):
        key = await create_user_with_key(app)
        receiver.failures[key.user_name.encode()] = [500, 503]
        refused = await client.post(
            "/api/v1/ingest",
            content=orjson.dumps({"data": {}}),
            headers={**key.headers, **automation_headers("Big"), "Content-Type": "text/csv"},
        )
        assert refused.status_code == 415
        attempts = await receiver.wait_for(key.user_name, 3)
        assert attempts[1].at - attempts[0].at >= base_s
        assert attempts[2].at - attempts[1].at >= 2 * base_s
        assert len({a.headers["x-delivery-id"] for a in attempts}) == 1
        await _wait(4 * base_s)
        assert len(receiver.about(key.user_name)) == 3
        [stored] = await _deliveries(app, key.user_id)
        assert (stored["status"], stored["attempts"], stored["last_status"]) == ("sent", 3, 200)


async def test_deliveries_are_given_up_after_the_last_attempt(
    app_factory: Callable[..., Any], receiver: Receiver
) -> None:
    async with alerting_app(
        app_factory,
        alert_webhook_url=receiver.url,
        alert_failure_count=1,
        alert_retry_base_seconds=0.1,
        alert_max_attempts=2,
    ) as (app, client):
        key = await create_user_with_key(app)
        receiver.failures[key.user_name.encode()] = [500, 500, 500]
        await client.post(
            "/api/v1/ingest",
            content=b"x",
            headers={**key.headers, **automation_headers("Big"), "Content-Type": "text/csv"},
        )
        await receiver.wait_for(key.user_name, 2)
        await _wait(6 * CHECK_S)
        assert len(receiver.about(key.user_name)) == 2
        [stored] = await _deliveries(app, key.user_id)
        assert (stored["status"], stored["attempts"], stored["last_status"]) == ("failed", 2, 500)


async def _wait(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)

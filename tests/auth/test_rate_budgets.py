"""Budgets per user and per scope: new keys share their user's, reads cannot starve ingest."""

from __future__ import annotations

from typing import Any

import orjson

from health_export.auth.principal import Scope
from tests.auth.clients import own_prefix, running
from tests.fixtures.auth import create_user_with_key
from tests.fixtures.payloads import hae_metrics

PROBE = "/api/v1/auth/rate-limit"


async def test_minting_a_new_key_gives_no_fresh_budget(app_factory: Any) -> None:
    app = app_factory(
        rate_limit_requests=3, rate_limit_window_seconds=60, rate_limit_key_prefix=own_prefix()
    )
    async with running(app) as http:
        maker = await create_user_with_key(app, scopes=[Scope.READ, Scope.KEYS])
        spent = [(await http.get(PROBE, headers=maker.headers)).status_code for _ in range(2)]
        minted = await http.post(
            "/api/v1/auth/keys", headers=maker.headers, json={"name": "m", "scopes": ["read"]}
        )
        fresh = {"Authorization": f"Bearer {minted.json()['key']}"}
        with_new_key = [(await http.get(PROBE, headers=fresh)).status_code for _ in range(2)]
    assert spent == [200, 200]
    assert minted.status_code == 201
    assert with_new_key == [200, 429]


async def test_a_dashboard_spending_the_read_budget_does_not_stop_the_phone(
    app_factory: Any,
) -> None:
    app = app_factory(
        rate_limit_read_requests=2,
        rate_limit_ingest_requests=5,
        rate_limit_window_seconds=60,
        rate_limit_key_prefix=own_prefix(),
    )
    async with running(app) as http:
        phone = await create_user_with_key(app, scopes=[Scope.INGEST, Scope.READ])
        reads = [(await http.get("/api/v1/metrics", headers=phone.headers)) for _ in range(3)]
        ingest = await http.post(
            "/api/v1/ingest",
            content=orjson.dumps(hae_metrics(["step_count"], count=3)),
            headers={**phone.headers, "Content-Type": "application/json"},
        )
    assert [r.status_code for r in reads] == [200, 200, 429]
    assert reads[0].headers["ratelimit-policy"] == '"read";q=2;w=60'
    assert "'read' rate limit" in reads[2].json()["detail"]
    assert ingest.status_code == 200
    assert ingest.headers["ratelimit-policy"] == '"ingest";q=5;w=60'
    assert ingest.headers["x-ratelimit-remaining"] == "4"

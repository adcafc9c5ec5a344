"""Symptoms, state of mind, medications, cycle tracking, ECG and heart-rate notifications."""

from __future__ import annotations

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.health_data.conftest import Get, Ingest


async def test_each_record_type_comes_back(owner: TestKey, ingest: Ingest, get: Get) -> None:
    for payload in (
        payloads.hae_symptoms(count=2),
        payloads.hae_state_of_mind(count=2),
        payloads.hae_medications(count=2),
        payloads.hae_cycle_tracking(count=2),
        payloads.hae_heart_rate_notifications(),
    ):
        await ingest(owner, payload)
    for path in ("/symptoms", "/state-of-mind", "/medications", "/cycle-tracking"):
        body = (await get(owner, path)).json()
        assert len(body["items"]) == 2, path
        assert body["truncated"] is False
    notifications = (await get(owner, "/heart-rate-notifications")).json()["items"]
    assert notifications
    assert all("raw" in item for item in notifications)
    symptoms = (await get(owner, "/symptoms", limit=1)).json()
    assert symptoms["truncated"] is True
    assert symptoms["items"][0]["start"].startswith("2024-03-14T")


async def test_ecg_list_omits_voltages_and_detail_has_them(
    owner: TestKey, ingest: Ingest, get: Get
) -> None:
    await ingest(owner, payloads.hae_ecg())
    (recording,) = (await get(owner, "/ecg")).json()["items"]
    assert "voltages_uv" not in recording
    detail = (await get(owner, f"/ecg/{recording['id']}")).json()
    assert len(detail["voltages_uv"]) == 15_360
    assert (await get(owner, "/ecg/123-456")).status_code == 404
    assert (await get(owner, "/ecg/garbage")).status_code == 404

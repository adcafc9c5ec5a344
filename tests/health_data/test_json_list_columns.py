"""A JSON list in a jsonb column (a medication's ``codings``) is stored as the list sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures import payloads
from tests.fixtures.auth import TestKey
from tests.health_data.conftest import Get, Ingest

RXNORM = {"code": "5640", "system": "http://www.nlm.nih.gov/research/umls/rxnorm"}
SNOMED = {"code": "387207008", "system": "http://snomed.info/sct"}


@pytest.mark.parametrize("codings", [[RXNORM], [RXNORM, SNOMED], []], ids=["one", "two", "none"])
async def test_medication_codings_are_read_back_as_the_list_sent(
    owner: TestKey, ingest: Ingest, get: Get, codings: list[dict[str, Any]]
) -> None:
    doc = payloads.hae_medications(count=1)
    doc["data"]["medications"][0]["codings"] = codings
    answer = await ingest(owner, doc)
    assert answer["inserted"] == 1
    (item,) = (await get(owner, "/medications")).json()["items"]
    assert item["codings"] == codings

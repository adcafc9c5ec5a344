"""Scenario 7: property tests (hypothesis) of the parser and of ingest through the server."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from health_export.ingest.parsing.dates import DateParseError, parse_date
from health_export.ingest.parsing.detect import parse_payload
from health_export.ingest.parsing.errors import PayloadShapeError
from tests.fixtures.payloads import hae_date
from tests.reliability.conftest import recording_client, sql
from tests.reliability.server import ServerProcess

pytestmark = pytest.mark.faults

METRICS = (
    "step_count",
    "active_energy",
    "heart_rate",
    "weight_body_mass",
    "blood_oxygen_saturation",
)
SOURCES = ("Watch", "iPhone", "Eli\u2019s Apple\u00a0Watch")
EXAMPLES = {"fast": 40, "long": 2000}

offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: m - m % 15)
moments = st.builds(
    lambda seconds, offset: (
        datetime(2015, 1, 1, tzinfo=UTC).astimezone(timezone(timedelta(minutes=offset)))
        + timedelta(seconds=seconds)
    ),
    st.integers(min_value=0, max_value=15 * 365 * 86400),
    offsets,
)


def point_for(metric: str, moment: datetime, value: float, source: str) -> dict[str, Any]:
    date = hae_date(moment)
    if metric == "heart_rate":
        return {
            "date": date,
            "Min": 50 + value % 20,
            "Avg": 70 + value % 20,
            "Max": 90 + value % 20,
            "source": source,
        }
    if metric == "blood_oxygen_saturation":
        return {"date": date, "qty": 92 + value % 8, "source": source}
    if metric == "weight_body_mass":
        return {"date": date, "qty": 50 + value % 50, "source": source}
    return {"date": date, "qty": value, "source": source}


@st.composite
def hae_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A valid HAE metrics payload: a few metrics, distinct times per metric and source."""
    metrics = []
    for metric in draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=3, unique=True)):
        times = draw(st.lists(moments, min_size=1, max_size=12, unique_by=lambda m: m.timestamp()))
        source = draw(st.sampled_from(SOURCES))
        values = draw(
            st.lists(
                st.floats(0, 10_000, allow_nan=False), min_size=len(times), max_size=len(times)
            )
        )
        points = [
            point_for(metric, t.replace(microsecond=0), v, source)
            for t, v in zip(times, values, strict=True)
        ]
        metrics.append({"name": metric, "units": "count", "data": points})
    return {"data": {"metrics": metrics}}


def stored_set(doc: Any) -> set[str]:
    payload = parse_payload(doc)
    return {repr(row) for rows in payload.rows.values() for row in rows}


def shuffled(doc: Any, rng: random.Random) -> Any:
    if isinstance(doc, dict):
        items = list(doc.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(doc, list):
        items = [shuffled(v, rng) for v in doc]
        rng.shuffle(items)
        return items
    return doc


@settings(max_examples=EXAMPLES["fast"] * 5, deadline=None)
@given(moments)
def test_every_date_form_round_trips_to_the_same_instant(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    forms = [
        hae_date(moment),
        hae_date(moment, twelve_hour=True),
        hae_date(moment, twelve_hour=True, space="\u202f"),
        moment.isoformat(),
        moment.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    ]
    offset = moment.utcoffset().total_seconds() // 60  # type: ignore[union-attr]
    for form in forms:
        parsed, offset_min = parse_date(form)
        assert parsed == moment, form
        assert offset_min == (0 if form.endswith("Z") else offset), form


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
envelopes = st.one_of(
    json_values,
    st.builds(lambda v: {"data": v}, json_values),
    st.builds(lambda v: {"data": {"metrics": v}}, json_values),
    st.builds(lambda v: {"data": {"metrics": [{"name": "step_count", "data": v}]}}, json_values),
    st.builds(lambda v: {"data": {"workouts": v, "sleepAnalysis": v}}, json_values),
    st.builds(lambda v: {"format": "health-export/v1", "metrics": v}, json_values),
)


@settings(
    max_examples=EXAMPLES["fast"] * 10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(envelopes)
def test_the_parser_only_ever_raises_its_validation_error(doc: Any) -> None:
    try:
        parse_payload(doc)
    except PayloadShapeError:
        pass


@settings(max_examples=EXAMPLES["fast"], deadline=None)
@given(hae_payloads(), st.randoms(use_true_random=False))
def test_shuffling_points_and_keys_stores_the_same_set(
    doc: dict[str, Any], rng: random.Random
) -> None:
    assert stored_set(shuffled(doc, rng)) == stored_set(doc)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=hae_payloads())
async def test_ingesting_twice_equals_ingesting_once(
    server: ServerProcess, reliability_db: str, key_factory: Any, doc: dict[str, Any]
) -> None:
    key = await key_factory()
    async with recording_client(server.url) as http:
        first = await http.post("/api/v1/ingest", json=doc, headers=key.headers)
        assert first.status_code == 200, first.text
        once = await snapshot(reliability_db, key.user_id)
        again = orjson.dumps(shuffled(doc, random.Random(1)))  # other bytes, same data
        second = await http.post("/api/v1/ingest", content=again, headers=key.headers)
        assert second.status_code == 200, second.text
        assert second.json()["inserted"] == 0
        assert await snapshot(reliability_db, key.user_id) == once


async def snapshot(database_url: str, user_id: int) -> list[tuple[Any, ...]]:
    rows = await sql(
        database_url,
        "SELECT * FROM metric_samples WHERE user_id = $1 ORDER BY 1, 2, 3, 4",
        user_id,
    )
    return [tuple(row.values()) for row in rows]


def test_date_parser_refuses_garbage_with_its_own_error() -> None:
    garbage: object
    for garbage in ("", "yesterday", "2024-13-45 25:61:61 +9999", [], {}, None):
        with pytest.raises(DateParseError):
            parse_date(garbage)

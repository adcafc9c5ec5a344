"""Lazy decoding: points become dicts on demand; a broken point is rejected alone."""

from __future__ import annotations

import orjson
import pytest

from health_export.ingest.parse_stage import RejectedPayload, parse_body
from health_export.ingest.parsing.decode import CHUNK_POINTS, LazyPoints, decode_document
from health_export.ingest.service import as_http_error
from tests.fixtures import payloads


def test_metric_points_decode_lazily_to_the_same_values() -> None:
    doc = payloads.hae_metrics(["heart_rate", "step_count"], count=CHUNK_POINTS + 5)
    decoded = decode_document(orjson.dumps(doc))
    points = decoded["data"]["metrics"][0]["data"]
    assert isinstance(points, LazyPoints)
    assert list(points) == doc["data"]["metrics"][0]["data"]


def test_a_point_with_broken_json_is_rejected_and_the_rest_stored() -> None:
    body = (
        b'{"data":{"metrics":[{"name":"step_count","units":"count","data":['
        b'{"date":"2024-03-14 10:00:00 -0400","qty":1},'
        b'{"date":"2024-03-14 10:01:00 -0400","qty":2,"note":"\xff"},'
        b'{"date":"2024-03-14 10:02:00 -0400","qty":1e400}]}]}}'
    )
    payload = parse_body(body)
    assert len(payload.rows["metric_samples"]) == 1
    assert [(e.path, e.reason) for e in payload.errors] == [
        ("data.metrics[0].data[1]", "point is not valid JSON"),
        ("data.metrics[0].data[2]", "point is not valid JSON"),
    ]


@pytest.mark.parametrize(
    "body",
    [b'{"data": {"metrics": [1, 2]}}', b'{"data": {"metrics": {"x": 1}}}', b'{"data": []}'],
)
def test_unusual_shapes_fall_back_to_a_whole_decode(body: bytes) -> None:
    assert decode_document(body) == orjson.loads(body)


def test_truncated_json_is_still_a_json_error() -> None:
    with pytest.raises(RejectedPayload) as caught:
        parse_body(b'{"data": {"metrics": [{"name": "x", "data": [')
    assert caught.value.kind == "unreadable"
    assert as_http_error(caught.value).status == 400

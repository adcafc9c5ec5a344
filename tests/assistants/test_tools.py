"""Every tool over real HTTP, each number checked against the REST answer at source_url."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.assistants.conftest import ZONE, Dataset, mcp_client, rest, structured, text_of
from tests.fixtures.dst_payloads import expected_daily_steps
from tests.reliability.server import ServerProcess

TOOLS = {
    "list_metrics",
    "get_series",
    "get_daily_activity",
    "get_sleep",
    "get_workouts",
    "get_workout",
    "get_records",
    "compare_periods",
}
# What a conversation can hold per answer (the largest example here is a few KiB).
ANSWER_BUDGET_BYTES = 16 * 1024


async def call(server: ServerProcess, data: Dataset, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call ``tool`` through the SDK client; its structured answer (conversation-sized)."""
    async with mcp_client(server, data.key) as client:
        result = await client.call_tool(tool, arguments)
    answer = structured(result)
    assert len(text_of(result).encode()) < ANSWER_BUDGET_BYTES
    return answer


async def test_lists_every_tool_with_a_description_and_both_schemas(
    server: ServerProcess, dataset: Dataset
) -> None:
    async with mcp_client(server, dataset.key) as client:
        listed = await client.list_tools()
    assert {tool.name for tool in listed.tools} == TOOLS
    for tool in listed.tools:
        assert tool.description is not None
        assert len(tool.description) > 80, tool.name
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None, tool.name
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint


async def test_list_metrics_is_the_metrics_listing(server: ServerProcess, dataset: Dataset) -> None:
    answer = await call(server, dataset, "list_metrics")
    assert answer["source_url"] == "/api/v1/metrics"
    assert answer["metrics"] == (await rest(server, dataset.key, answer["source_url"]))["metrics"]
    steps = next(m for m in answer["metrics"] if m["name"] == "step_count")
    assert steps["kind"] == "sum"
    assert len(steps["sources"]) == 2
    assert answer["server_time"].endswith("+00:00")


@pytest.mark.parametrize(
    ("start", "end"), [("2024-03-08", "2024-03-13"), ("2024-11-01", "2024-11-06")]
)
async def test_daily_steps_count_each_hour_once_across_dst_days(
    server: ServerProcess, dataset: Dataset, start: str, end: str
) -> None:
    answer = await call(
        server, dataset, "get_series", metric="step_count", start=start, end=end, tz=ZONE
    )
    assert answer["source_url"] == (
        f"/api/v1/metrics/step_count/series?start={start}&end={end}&bucket=day&tz=America%2FNew_York"
    )
    body = await rest(server, dataset.key, answer["source_url"])
    assert answer["points"] == body["points"]
    expected = expected_daily_steps(date.fromisoformat(start), 5)
    assert {p["start"][:10]: p["value"] for p in answer["points"]} == expected
    # The short and the long day have 23 and 25 hours, each counted once.
    counts = {p["start"][:10]: p["count"] for p in answer["points"]}
    assert counts.get("2024-03-10", counts.get("2024-11-03")) in (23, 25)


async def test_hourly_series_keeps_the_repeated_fall_back_hour(
    server: ServerProcess, dataset: Dataset
) -> None:
    answer = await call(
        server,
        dataset,
        "get_series",
        metric="step_count",
        start="2024-11-03T00:00:00-04:00",
        end="2024-11-04T00:00:00-05:00",
        bucket="hour",
    )
    body = await rest(server, dataset.key, answer["source_url"])
    assert answer["points"] == body["points"]
    assert len(answer["points"]) == 25
    assert [p["start"][11:] for p in answer["points"][1:3]] == ["01:00:00-04:00", "01:00:00-05:00"]


async def test_heart_rate_series_uses_the_stored_max(
    server: ServerProcess, dataset: Dataset
) -> None:
    answer = await call(
        server, dataset, "get_series", metric="heart_rate", start="2024-03-09",
        end="2024-03-12", agg="max", tz=ZONE,
    )  # fmt: skip
    assert answer["agg"] == "max"
    assert answer["unit"] == "count/min"
    assert answer["points"] == (await rest(server, dataset.key, answer["source_url"]))["points"]
    assert {p["value"] for p in answer["points"]} == {103.0}  # 80 + hour 23


async def test_daily_activity_matches_the_rest_days(
    server: ServerProcess, dataset: Dataset
) -> None:
    answer = await call(
        server, dataset, "get_daily_activity", start="2024-03-08", end="2024-03-13", tz=ZONE
    )
    body = await rest(server, dataset.key, answer["source_url"])
    assert answer["days"] == body["days"]
    assert answer["tz"] == ZONE
    expected = expected_daily_steps(date(2024, 3, 8), 5)
    assert {d["date"]: d["steps"] for d in answer["days"]} == expected


async def test_sleep_nights_match_without_their_segments(
    server: ServerProcess, dataset: Dataset
) -> None:
    answer = await call(server, dataset, "get_sleep", start="2024-03-01", end="2024-04-01")
    body = await rest(server, dataset.key, answer["source_url"])
    assert len(answer["nights"]) == len(body["nights"]) == 6
    for night, full in zip(answer["nights"], body["nights"], strict=True):
        segments = full.pop("segments")
        assert night.pop("segment_count") == len(segments)
        assert night == full
    assert {n["origin"] for n in answer["nights"]} == {"aggregated", "segments"}


async def test_workouts_and_one_workout_summarised(server: ServerProcess, dataset: Dataset) -> None:
    listed = await call(server, dataset, "get_workouts", start="2024-03-01", end="2024-04-01")
    body = await rest(server, dataset.key, listed["source_url"])
    assert listed["workouts"] == body["workouts"]
    assert len(listed["workouts"]) == 2
    assert listed["truncated"] is False

    answer = await call(server, dataset, "get_workout", workout_id=dataset.workout_ids[0])
    detail = await rest(server, dataset.key, answer["source_url"])
    assert answer["workout"] == {k: detail[k] for k in answer["workout"]}
    assert answer["summaries"] == detail["summaries"]
    assert answer["metadata"] == detail["metadata"]
    heart = detail["series"]["heartRateData"]
    assert answer["series"]["heartRateData"] == {
        "unit": "count/min",
        "points": len(heart),
        "first": heart[0]["start"],
        "last": heart[-1]["start"],
        "min": min(p["min"] for p in heart),
        "avg": sum(p["avg"] for p in heart) / len(heart),
        "max": max(p["max"] for p in heart),
    }
    route = answer["route"]
    feature = await rest(server, dataset.key, route["source_url"])
    coordinates = feature["geometry"]["coordinates"]
    assert route["points"] == len(coordinates) == 40
    assert route["start_point"] == coordinates[0][:2]
    assert route["end_point"] == coordinates[-1][:2]
    assert route["first_time"] == feature["properties"]["times"][0]
    assert route["max_altitude_m"] == max(feature["properties"]["altitude_m"])
    assert route["ascent_m"] == 39.0  # the builder climbs 1 m per point
    # 39 steps of (1e-4°, -1e-4°) at 45.5° N: about 13.6 m each.
    assert route["length_km"] == pytest.approx(0.53, abs=0.01)


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        ("symptoms", 3),
        ("state_of_mind", 2),
        ("medications", 2),
        ("cycle_tracking", 2),
        ("ecg", 1),
        ("heart_rate_notifications", 1),
    ],
)
async def test_records_match_the_rest_listing(
    server: ServerProcess, dataset: Dataset, kind: str, count: int
) -> None:
    answer = await call(
        server, dataset, "get_records", type=kind, start="2024-03-01", end="2024-04-01"
    )
    body = await rest(server, dataset.key, answer["source_url"])
    assert len(answer["items"]) == len(body["items"]) == count
    for item, full in zip(answer["items"], body["items"], strict=True):
        assert item == {k: v for k, v in full.items() if k not in answer["omitted_fields"]}
        assert "voltages_uv" not in item


async def test_compare_periods_for_steps_recomputes_from_both_series(
    server: ServerProcess, dataset: Dataset
) -> None:
    answer = await call(
        server, dataset, "compare_periods", metric="step_count",
        start="2024-11-01", end="2024-11-06", baseline_start="2024-03-08",
        baseline_end="2024-03-13", tz=ZONE,
    )  # fmt: skip
    sides = {}
    for side in ("period", "baseline"):
        points = (await rest(server, dataset.key, answer[side]["source_url"]))["points"]
        total = sum(p["value"] for p in points)
        assert answer[side]["stats"] == {
            "days_with_data": len(points),
            "values": sum(p["count"] for p in points),
            "total": total,
            "mean_per_day": total / len(points),
        }
        sides[side] = total
    change = answer["change"]["total"]
    assert change["absolute"] == sides["period"] - sides["baseline"]
    assert change["percent"] == pytest.approx(change["absolute"] / sides["baseline"] * 100)


async def test_compare_periods_for_sleep_recomputes_from_both_nights(
    server: ServerProcess, dataset: Dataset
) -> None:
    answer = await call(
        server, dataset, "compare_periods", metric="sleep", start="2024-03-11",
        end="2024-03-20", baseline_start="2024-03-01", baseline_end="2024-03-11",
    )  # fmt: skip
    for side in ("period", "baseline"):
        nights = (await rest(server, dataset.key, answer[side]["source_url"]))["nights"]
        stats = answer[side]["stats"]
        assert stats["nights"] == len(nights)
        totals = [n["total_sleep_h"] for n in nights]
        assert stats["mean_total_sleep_h"] == pytest.approx(sum(totals) / len(totals))
    assert answer["change"]["nights"]["absolute"] == (
        answer["period"]["stats"]["nights"] - answer["baseline"]["stats"]["nights"]
    )

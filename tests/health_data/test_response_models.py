"""Every read route's 200 body is what its documented model says, key for key.

The read routes build their bodies as dicts and render them with orjson (the hot
routes would pay for pydantic serialisation), so FastAPI never checks them against
their ``response_model``. This test does: it fills one user's history with every shape
the app sends (``tests/fixtures/read_corpus.py``), calls every GET route under
``/api/v1`` that documents a JSON 200 answer, and validates each body with the model the
OpenAPI document names for that operation, strictly and with unknown keys refused
(pydantic ignores them by default, so an undocumented key would pass unseen).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, TypeAdapter, ValidationError

from health_export.health_data.export.router import ErasureResult
from health_export.health_data.export.schemas import ExportRow, ExportRowType
from tests.fixtures.apple_export import ExportBuilder, write_zip
from tests.fixtures.auth import KeyFactory, TestKey
from tests.fixtures.read_corpus import UNKNOWN_METRIC, rich_history
from tests.health_data.conftest import Ingest
from tests.imports.uploads import upload, wait_finished

API = "/api/v1"
JSON_MEDIA_TYPES = ("application/json", "application/x-ndjson")


@dataclass(frozen=True, slots=True)
class Call:
    """One GET of a route: its URL, query, the key to use and what must be in the body."""

    url: str
    params: dict[str, str] = field(default_factory=dict)
    as_admin: bool = False
    # The top-level key whose value must be non-empty ("" for the body itself), so a
    # body that validates only because it is empty does not count.
    filled: str = ""


@dataclass(frozen=True, slots=True)
class History:
    """The ids a walk needs, once the rich history is stored."""

    owner: TestKey
    admin: TestKey
    ingestion_id: str
    workout_ids: list[str]
    ecg_id: str


def documented_reads(app: FastAPI) -> dict[str, Any]:
    """Route template -> the model of its 200 answer, for every GET under /api/v1 that
    has a ``response_model`` or documents a JSON 200 schema (the export's ``itemSchema``)."""
    reads: dict[str, Any] = {}
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if not isinstance(context.original_route, APIRoute) or not path.startswith(API):
            continue
        if "GET" in (context.methods or set()) and context.response_model is not None:
            reads[path] = context.response_model
    for path, operations in app.openapi()["paths"].items():
        if "get" in operations and path.startswith(API) and path not in reads:
            content = operations["get"]["responses"].get("200", {}).get("content", {})
            if any("schema" in content.get(t, {}) for t in JSON_MEDIA_TYPES):
                reads[path] = None  # documented, but not by a model: the walk must say how
            if "itemSchema" in content.get("application/x-ndjson", {}):
                reads[path] = ExportRow
    return reads


def calls_of(history: History) -> dict[str, list[Call]]:
    """How each read route is walked (several calls where the answer has several shapes)."""
    first_workout, *_ = history.workout_ids
    return {
        f"{API}/auth/keys": [Call(f"{API}/auth/keys", as_admin=True)],
        f"{API}/auth/rate-limit": [Call(f"{API}/auth/rate-limit", filled="backend")],
        f"{API}/ingestions/{{ingestion_id}}": [
            Call(f"{API}/ingestions/{history.ingestion_id}", filled="result")
        ],
        f"{API}/metrics": [Call(f"{API}/metrics", filled="metrics")],
        f"{API}/metrics/{{name}}": [
            Call(f"{API}/metrics/{name}", {"limit": "3"}, filled="samples")
            for name in ("heart_rate", "step_count", "blood_glucose", "sexual_activity")
        ]
        + [
            Call(f"{API}/metrics/{UNKNOWN_METRIC}", filled="samples"),
            Call(f"{API}/metrics/weight_body_mass", {"unit": "lb"}, filled="samples"),
        ],
        f"{API}/metrics/{{name}}/series": [
            Call(f"{API}/metrics/step_count/series", filled="points"),
            Call(
                f"{API}/metrics/heart_rate/series",
                {"bucket": "minute", "agg": "max", "start": "2024-03-14", "end": "2024-03-15"},
                filled="points",
            ),
            Call(
                f"{API}/metrics/active_energy/series",
                {"bucket": "week", "tz": "America/Toronto", "agg": "count"},
                filled="points",
            ),
        ],
        f"{API}/metrics/{{name}}/newest": [
            Call(f"{API}/metrics/heart_rate/newest", {"limit": "3"}, filled="samples"),
            Call(f"{API}/metrics/weight_body_mass/newest", {"unit": "lb"}, filled="samples"),
        ],
        f"{API}/heart-rate": [Call(f"{API}/heart-rate", {"limit": "2"}, filled="samples")],
        f"{API}/blood-pressure": [Call(f"{API}/blood-pressure", filled="samples")],
        f"{API}/activity/daily": [
            Call(f"{API}/activity/daily", filled="days"),
            Call(f"{API}/activity/daily", {"tz": "Europe/Paris"}, filled="days"),
        ],
        f"{API}/sleep": [Call(f"{API}/sleep", filled="nights")],
        f"{API}/activity/rings": [Call(f"{API}/activity/rings", filled="days")],
        f"{API}/overview": [
            Call(f"{API}/overview", {"start": "2024-03-01", "end": "2024-04-30"}, filled="cards")
        ],
        f"{API}/heart/daily": [
            Call(f"{API}/heart/daily", {"start": "2024-03-01", "end": "2024-04-30"}, filled="days")
        ],
        f"{API}/sync": [
            Call(f"{API}/sync", filled="automations"),
            Call(f"{API}/sync", {"days": "730"}, filled="metrics"),
        ],
        f"{API}/workouts": [Call(f"{API}/workouts", filled="workouts")],
        f"{API}/workouts/{{workout_id}}": [
            Call(f"{API}/workouts/{wid}", filled="series") for wid in history.workout_ids
        ],
        f"{API}/workouts/{{workout_id}}/route": [
            Call(f"{API}/workouts/{first_workout}/route", filled="geometry")
        ],
        **{
            f"{API}/{path}": [Call(f"{API}/{path}", filled="items")]
            for path in (
                "symptoms",
                "state-of-mind",
                "medications",
                "cycle-tracking",
                "ecg",
                "heart-rate-notifications",
            )
        },
        f"{API}/ecg/{{recording_id}}": [Call(f"{API}/ecg/{history.ecg_id}", filled="voltages_uv")],
        f"{API}/export": [
            Call(f"{API}/export"),
            Call(f"{API}/export", {"types": "workouts,sleep"}),
        ],
        # Admin reads last: the audit trail then holds the admin's own reads.
        f"{API}/admin/users": [Call(f"{API}/admin/users", as_admin=True)],
        f"{API}/admin/keys": [Call(f"{API}/admin/keys", as_admin=True)],
        f"{API}/admin/logging": [Call(f"{API}/admin/logging", as_admin=True, filled="root")],
        f"{API}/admin/audit": [Call(f"{API}/admin/audit", as_admin=True)],
    }


def import_calls(import_id: str) -> dict[str, list[Call]]:
    """How the archive import routes are walked."""
    return {
        f"{API}/imports": [Call(f"{API}/imports", filled="imports")],
        f"{API}/imports/{{import_id}}": [Call(f"{API}/imports/{import_id}", filled="result")],
        f"{API}/imports/{{import_id}}/coverage": [
            Call(f"{API}/imports/{import_id}/coverage", filled="days")
        ],
    }


async def store_history(
    client: httpx.AsyncClient, ingest: Ingest, owner: TestKey, admin: TestKey
) -> History:
    """Ingest the rich history as ``owner``; the ids the walk needs."""
    answers = [await ingest(owner, payload) for payload in rich_history()]
    headers = owner.headers
    workouts = (await client.get(f"{API}/workouts", headers=headers)).json()["workouts"]
    (ecg, *_) = (await client.get(f"{API}/ecg", headers=headers)).json()["items"]
    return History(owner, admin, answers[0]["ingestion_id"], [w["id"] for w in workouts], ecg["id"])


async def import_archive(client: httpx.AsyncClient, owner: TestKey, tmp_path: Path) -> str:
    """An Apple Health archive uploaded and imported for ``owner`` (its rings and its
    import are read by the walk); the import's id."""
    export = ExportBuilder()
    export.activity_summary("2024-03-14", 480.0)
    export.record("StepCount", "12", "2024-03-14 10:00:00 +0100", unit="count")
    archive = write_zip(tmp_path / "export.zip", export.xml())
    accepted = (await upload(client, owner, archive)).json()
    done = await wait_finished(client, owner, accepted["status_url"])
    assert done["status"] == "done", done
    return str(accepted["id"])


def json_bodies(response: httpx.Response) -> Iterator[bytes]:
    """The JSON documents of an answer: the body, or each NDJSON line."""
    if response.headers["content-type"].startswith("application/x-ndjson"):
        yield from response.content.splitlines()
    else:
        yield response.content


def is_filled(body: Any, key: str) -> bool:
    """Whether the body (or its ``key``) holds something."""
    value = body if key == "" else body[key]
    return bool(value)


def validate(model: Any, document: bytes) -> None:
    """``document`` against ``model``: strict types, no key the model does not declare."""
    TypeAdapter(model).validate_json(document, strict=True, extra="forbid")


def documented_model_name(app: FastAPI, path: str) -> str:
    """The name of the schema the OpenAPI document gives the operation's 200 answer."""
    content = app.openapi()["paths"][path]["get"]["responses"]["200"]["content"]
    if "application/json" in content:
        schema = content["application/json"]["schema"]
    else:
        schema = content["application/x-ndjson"]["itemSchema"]
    if "$ref" in schema:
        ref: str = schema["$ref"]
    elif "items" in schema:
        ref = schema["items"]["$ref"]
    else:
        return str(schema["title"])
    return ref.rsplit("/", 1)[1]


def model_name(model: Any) -> str:
    """The schema name of a model, or of a list model's items."""
    item = getattr(model, "__args__", (model,))[0]
    return str(item.__name__)


async def test_every_read_body_matches_its_documented_model(
    app: FastAPI,
    client: httpx.AsyncClient,
    ingest: Ingest,
    owner: TestKey,
    make_key: KeyFactory,
    tmp_path: Path,
) -> None:
    admin = await make_key(scopes=["admin", "read"], is_admin=True)
    history = await store_history(client, ingest, owner, admin)
    import_id = await import_archive(client, owner, tmp_path)
    reads = documented_reads(app)
    walks = calls_of(history) | import_calls(import_id)
    assert set(walks) == set(reads), "a read route is not walked (or a walked one is gone)"
    exported: set[str] = set()
    for path, model in reads.items():
        assert model is not None, f"{path} documents a 200 schema no model stands for"
        assert documented_model_name(app, path) == model_name(model), path
        for call in walks[path]:
            key = history.admin if call.as_admin else history.owner
            response = await client.get(call.url, params=call.params, headers=key.headers)
            assert response.status_code == 200, (call, response.text)
            documents = list(json_bodies(response))
            assert documents, call
            for document in documents:
                try:
                    validate(model, document)
                except ValidationError as error:
                    pytest.fail(f"{call.url} {call.params}: {error}")
                body = orjson.loads(document)
                assert is_filled(body, call.filled), (call, document[:200])
                if model is ExportRow:
                    exported.add(body["type"])
    # The history holds every kind of record the export knows.
    assert exported == set(get_args(ExportRowType))


async def test_export_csv_header_is_the_export_row(
    client: httpx.AsyncClient, ingest: Ingest, owner: TestKey
) -> None:
    await ingest(owner, rich_history()[0])
    response = await client.get(f"{API}/export", params={"format": "csv"}, headers=owner.headers)
    header, *rows = response.text.splitlines()
    assert header.split(",") == list(ExportRow.model_fields)
    assert rows


async def test_erase_answer_matches_its_documented_model(
    client: httpx.AsyncClient, ingest: Ingest, owner: TestKey
) -> None:
    await ingest(owner, rich_history()[0])
    response = await client.delete(f"{API}/data", params={"confirm": "true"}, headers=owner.headers)
    assert response.status_code == 200, response.text
    validate(ErasureResult, response.content)
    assert response.json()["deleted"]["metric_samples"] > 0


def test_every_documented_example_matches_its_model(app: FastAPI) -> None:
    models = {
        model
        for model in documented_reads(app).values()
        if isinstance(model, type) and issubclass(model, BaseModel)
    }
    with_examples = 0
    for model in models:
        for sample in examples_of(model):
            validate(model, orjson.dumps(sample))
            with_examples += 1
    assert with_examples > 0, "no example was checked"


def examples_of(model: type[BaseModel]) -> list[Any]:
    """The OpenAPI examples a model's config carries."""
    extra = model.model_config.get("json_schema_extra")
    found = extra.get("examples") if isinstance(extra, dict) else None
    return found if isinstance(found, list) else []

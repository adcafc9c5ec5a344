"""Scenario 8: fuzz every OpenAPI operation of the running server with a valid admin key.

schemathesis is not a dependency yet, so this is a small property-based fuzzer of our
own: hypothesis draws path/query parameters and JSON bodies from each operation's
schema (and junk), and every answer must be non-5xx (503 aside), documented for that
operation, and problem+json when it is an error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from health_export.auth.principal import Scope
from tests.reliability.conftest import LEAKS
from tests.reliability.server import ServerProcess

pytestmark = pytest.mark.faults

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    # Infinity is not JSON: the client could not even send it.
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)


def from_schema(
    schema: dict[str, Any], spec: dict[str, Any], depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values for a JSON schema (loosely: mostly valid, sometimes junk)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return from_schema(spec["components"]["schemas"][name], spec, depth)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return st.one_of(*(from_schema(s, spec, depth) for s in schema[combinator]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "uuid":
            return st.uuids().map(str)
        return st.text(
            min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 80)
        )
    if kind == "integer":
        return st.integers(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array" and depth < 3:
        return st.lists(from_schema(schema.get("items", {}), spec, depth + 1), max_size=3)
    if kind == "object" and depth < 3:
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v, spec, depth + 1) for k, v in properties.items() if k in required},
            optional={
                k: from_schema(v, spec, depth + 1)
                for k, v in properties.items()
                if k not in required
            },
        )
    return junk


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method.upper(), path, operation))
    return found


def requests(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Requests of every operation of ``spec`` (a closure: the spec stays out of reprs)."""
    found = operations(spec)

    @st.composite
    def one_request(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], Any, dict[str, Any]]:
        return _draw_request(draw, spec, found)

    return one_request()


def _draw_request(
    draw: st.DrawFn, spec: dict[str, Any], found: list[tuple[str, str, dict[str, Any]]]
) -> tuple[str, str, dict[str, Any], Any, dict[str, Any]]:
    method, path, operation = draw(st.sampled_from(found))
    url, params = path, {}
    for parameter in operation.get("parameters", []):
        value = draw(st.one_of(from_schema(parameter.get("schema", {}), spec), junk))
        if parameter["in"] == "path":
            text = str(value) if value not in (None, "") else "x"
            url = url.replace("{" + parameter["name"] + "}", quote(text[:60], safe="") or "x")
        elif parameter["in"] == "query" and (parameter.get("required") or draw(st.booleans())):
            params[parameter["name"]] = str(value)
    body = None
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None:
        body = draw(st.one_of(from_schema(content.get("schema", {}), spec), junk))
    return method, url, params, body, operation


def assert_conforms(answer: httpx.Response, operation: dict[str, Any]) -> None:
    status = answer.status_code
    assert status < 500 or status == 503, (status, answer.text[:300])
    documented = operation.get("responses", {})
    assert str(status) in documented or "default" in documented or status in (404, 405), (
        status,
        operation.get("operationId"),
    )
    if status >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["status"] == status


@pytest.fixture(scope="module")
async def admin_key(key_factory: Any) -> Any:
    """An admin key with every scope (the fuzzer must reach every operation)."""
    return await key_factory(scopes=(Scope.ADMIN, Scope.INGEST, Scope.READ), is_admin=True)


def run_fuzz(server: ServerProcess, admin: Any, examples: int) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        spec = http.get("/openapi.json").json()

        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        @given(requests(spec))
        def fuzz(request: tuple[str, str, dict[str, Any], Any, dict[str, Any]]) -> None:
            method, url, params, body, operation = request
            # Never revoke the fuzzing key or disable its user: those would end the run.
            if (method == "DELETE" and "keys" in url) or "disable" in url:
                return
            answer = http.request(method, url, params=params, json=body, headers=admin.headers)
            LEAKS.record(answer)
            assert_conforms(answer, operation)

        fuzz()


def test_every_operation_survives_schema_fuzzing(server: ServerProcess, admin_key: Any) -> None:
    run_fuzz(server, admin_key, 300)


@pytest.mark.reliability_long
def test_every_operation_survives_long_schema_fuzzing(
    server: ServerProcess, admin_key: Any
) -> None:
    run_fuzz(server, admin_key, 5000)

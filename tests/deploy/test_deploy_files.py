"""docker compose, Dockerfile and .env.example agree with the settings the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from health_export.core.config import Settings

REPO = Path(__file__).resolve().parents[2]
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def _compose() -> dict[str, object]:
    loaded = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_app_waits_for_healthy_database_and_redis() -> None:
    services = _compose()["services"]
    assert isinstance(services, dict)
    app = services["app"]
    assert app["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert "postgis" in services["db"]["image"]
    for name in ("db", "redis", "app"):
        assert "healthcheck" in services[name], name


def test_compose_app_environment_names_are_real_settings() -> None:
    app = _compose()["services"]["app"]  # type: ignore[index]
    environment = app["environment"]
    assert set(environment) <= SETTING_NAMES, set(environment) - SETTING_NAMES
    assert "@db:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:")
    published = app["ports"][0].split(":")[-1]
    assert published == environment["PORT"]


def test_compose_keeps_the_database_in_a_named_volume() -> None:
    compose = _compose()
    assert "pgdata" in compose["volumes"]  # type: ignore[operator]
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]  # type: ignore[index]


def test_env_example_lists_every_setting_once() -> None:
    names = re.findall(r"^([A-Z_]+)=", (REPO / ".env.example").read_text(), re.MULTILINE)
    assert sorted(names) == sorted(set(names))
    assert set(names) == SETTING_NAMES


def test_dockerfile_runs_as_non_root_from_the_lock_file() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev" in dockerfile
    assert re.search(r"^USER health-export$", dockerfile, re.MULTILINE)

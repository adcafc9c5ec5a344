"""Settings: every knob comes from the environment or `.env`, validated at start-up."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class ConfigError(RuntimeError):
    """Configuration is invalid; the message names each bad variable."""


class Settings(BaseSettings):
    """The service's configuration (see `.env.example` for each variable)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_url: str = "postgresql+asyncpg://root@127.0.0.1:5432/health_export"
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    database_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    redis_url: str | None = "redis://127.0.0.1:6379/0"

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    shutdown_grace_seconds: float = Field(default=30.0, ge=0, le=600)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_json: bool = True
    log_pretty: bool = False
    log_mask_fields: tuple[str, ...] = ()
    app_name: str = "health-export"
    environment: str = "production"

    max_payload_bytes: int = Field(default=100 * MIB, ge=1024)
    max_decompressed_bytes: int = Field(default=400 * MIB, ge=1024)
    ingest_sync_budget_seconds: float = Field(default=20.0, gt=0, le=300)
    # Parse bodies of 1 MB and more in a helper process per worker (off the event loop).
    ingest_parser_process: bool = True
    rate_limit_requests: int = Field(default=1000, ge=1)
    rate_limit_window_seconds: int = Field(default=3600, ge=1)
    auth_failure_limit_per_minute: int = Field(default=20, ge=1)
    rate_limit_key_prefix: str = "health-export:ratelimit:"
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=30 * 86400)
    raw_retention_days: int = Field(default=0, ge=0)
    # Day/week/month series and daily activity read the daily rollups (off: every row).
    rollups_read: bool = True
    metrics_token: str | None = None

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgresql+asyncpg://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("redis_url", "metrics_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def async_database_url(self) -> str:
        """The database URL with the asyncpg driver SQLAlchemy needs."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn validation failures into one message naming each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{str(err['loc'][0]).upper() if err['loc'] else '?'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()

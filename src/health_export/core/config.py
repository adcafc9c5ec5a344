"""Settings: every knob comes from the environment or `.env`, validated at start-up."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
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
    # A streaming replica for the read routes (GET of the read API and the export).
    database_read_url: str | None = None
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
    # Budgets per user and per scope of the route (None: RATE_LIMIT_REQUESTS), so a
    # dashboard's reads cannot starve the phone's ingest, and new keys share their user's.
    rate_limit_ingest_requests: int | None = Field(default=None, ge=1)
    rate_limit_read_requests: int | None = Field(default=None, ge=1)
    rate_limit_keys_requests: int = Field(default=100, ge=1)
    rate_limit_admin_requests: int | None = Field(default=None, ge=1)
    auth_failure_limit_per_minute: int = Field(default=20, ge=1)
    # Failed-authentication rows written to audit_events per minute, all addresses together.
    auth_failure_audit_per_minute: int = Field(default=100, ge=1)
    login_limit_per_address_per_minute: int = Field(default=10, ge=1)
    login_limit_per_account_per_hour: int = Field(default=30, ge=1)
    # Argon2 verifications running at once per process (each takes ~64 MiB for ~0.1 s).
    login_concurrency: int = Field(default=2, ge=1, le=64)
    session_cookie_secure: bool = False
    rate_limit_key_prefix: str = "health-export:ratelimit:"
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=30 * 86400)
    raw_retention_days: int = Field(default=0, ge=0)
    # Caps of an Apple Health archive import: inflated bytes and XML elements (zip bombs).
    import_max_inflated_bytes: int = Field(default=16 * 1024 * MIB, ge=1024 * 1024)
    import_max_elements: int = Field(default=500_000_000, ge=1000)
    # `serve` runs the background jobs itself (one machine); off: `health-export worker` does.
    embedded_worker: bool = True
    # How long an idle worker waits before looking for queued work again.
    worker_poll_seconds: float = Field(default=5.0, gt=0, le=300)
    # Day/week/month series and daily activity read the daily rollups (off: every row).
    rollups_read: bool = True
    # POST /api/v1/imports/apple-health: the largest archive taken, and where uploads wait
    # for the worker (relative paths are under the working directory; must be writable).
    import_max_bytes: int = Field(default=4 * 1024 * MIB, ge=1024 * 1024)
    import_dir: Path = Path("var/imports")
    metrics_token: str | None = None
    # The server's address as the phone sees it (e.g. https://health.example.org), for
    # `setup-app` and the first-run banner; by default derived from HOST and PORT.
    public_url: str | None = None

    # Alerts (docs/sync.md): checked by the background worker every ALERT_CHECK_SECONDS.
    alert_check_seconds: float = Field(default=60.0, gt=0, le=86400)
    alert_silence_factor: float = Field(default=3.0, ge=1, le=1000)
    alert_silence_seconds: float | None = Field(default=None, gt=0)
    alert_failure_count: int = Field(default=3, ge=1, le=1000)
    alert_gap_days: int = Field(default=14, ge=1, le=365)
    alert_webhook_url: str | None = None
    alert_ntfy_url: str | None = None
    alert_ntfy_token: str | None = None
    alert_retry_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    alert_max_attempts: int = Field(default=6, ge=1, le=50)
    alert_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # Addresses (IPs or CIDRs, comma-separated, or *) of reverse proxies whose
    # X-Forwarded-For / X-Forwarded-Proto are believed. Empty: nobody's.
    forwarded_allow_ips: str = ""
    max_header_bytes: int = Field(default=64 * 1024, ge=4096, le=16 * MIB)
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    keep_alive_timeout_seconds: int = Field(default=15, ge=1, le=600)
    # Largest body of any route but POST /api/v1/ingest (which has MAX_PAYLOAD_BYTES).
    max_request_body_bytes: int = Field(default=1 * MIB, ge=1024)

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(_POSTGRES_SCHEMES):
            # The scheme only: the rest of the URL may hold a password.
            scheme = value.split("://", 1)[0][:20] if "://" in value else "no scheme"
            raise ValueError(
                f"must be a PostgreSQL URL (postgresql://user@host:5432/name), not {scheme}"
            )
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address, a CIDR network or *") from None
        return ",".join(entries)

    @field_validator(
        "redis_url",
        "metrics_token",
        "database_read_url",
        "rate_limit_ingest_requests",
        "rate_limit_read_requests",
        "rate_limit_admin_requests",
        "public_url",
        "alert_silence_seconds",
        "alert_webhook_url",
        "alert_ntfy_url",
        "alert_ntfy_token",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("public_url", "alert_webhook_url", "alert_ntfy_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("import_dir")
    @classmethod
    def _a_folder(cls, value: Path) -> Path:
        if str(value).strip() in ("", "."):
            raise ValueError("must name a folder for uploaded archives (e.g. var/imports)")
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} exists and is not a folder")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def rate_limit_for(self, budget: str) -> int:
        """Requests per window of one user's ``budget`` (a scope name)."""
        per_budget = {
            "ingest": self.rate_limit_ingest_requests,
            "read": self.rate_limit_read_requests,
            "keys": self.rate_limit_keys_requests,
            "admin": self.rate_limit_admin_requests,
        }.get(budget)
        return per_budget or self.rate_limit_requests

    @property
    def async_database_url(self) -> str:
        """The database URL with the asyncpg driver SQLAlchemy needs."""
        return _with_asyncpg(self.database_url)

    @property
    def driver_database_url(self) -> str:
        """The database URL as asyncpg itself takes it (the parser process has no
        SQLAlchemy)."""
        return self.async_database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    @property
    def async_database_read_url(self) -> str | None:
        """DATABASE_READ_URL with the asyncpg driver, or None when there is no replica."""
        return None if self.database_read_url is None else _with_asyncpg(self.database_read_url)


_POSTGRES_SCHEMES = ("postgresql://", "postgresql+asyncpg://", "postgres://")


def _with_asyncpg(url: str) -> str:
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
            f"{str(err['loc'][0]).upper() if err['loc'] else '?'}: "
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()

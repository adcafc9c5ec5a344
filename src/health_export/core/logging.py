"""One logging setup: structlog for our lines, stdlib and uvicorn records through it."""

from __future__ import annotations

import logging
import logging.config
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import orjson
import structlog

if TYPE_CHECKING:
    from health_export.core.config import Settings
from structlog.types import EventDict, Processor, WrappedLogger

SENSITIVE_FIELDS = frozenset(
    {
        "password",
        "token",
        "api_key",
        "apikey",
        "authorization",
        "key",
        "secret",
        "cookie",
        "set-cookie",
        "set_cookie",
        "x-api-key",
        "x_api_key",
        "session",
        "access_token",
        "refresh_token",
    }
)
MASK = "***"


class SensitiveFieldMasker:
    """Replace the value of any sensitive field, at any depth, with a mask."""

    def __init__(self, extra_fields: Iterable[str] = ()) -> None:
        self.fields = SENSITIVE_FIELDS | {name.lower() for name in extra_fields}

    def __call__(self, logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
        """structlog processor entry point."""
        return {key: self._mask_item(key, value) for key, value in event_dict.items()}

    def _is_sensitive(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self.fields

    def _mask_item(self, key: object, value: Any) -> Any:
        return MASK if self._is_sensitive(key) else self._mask_value(value)

    def _mask_value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: self._mask_item(k, v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._mask_value(item) for item in value]
        return value


def _drop_color_message(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    # uvicorn adds an ANSI-coloured copy of its message for consoles.
    event_dict.pop("color_message", None)
    return event_dict


def _static_fields(app_name: str, environment: str) -> Processor:
    def add(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("app", app_name)
        event_dict.setdefault("env", environment)
        return event_dict

    return add


class _ServiceLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one root handler; reconfiguring keeps it (and where it writes)."""


def _our_handler(root: logging.Logger) -> _ServiceLogHandler:
    for handler in root.handlers:
        if isinstance(handler, _ServiceLogHandler):
            return handler
    return _ServiceLogHandler(sys.stdout)


def _orjson_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


def configure_logging(
    *,
    level: str = "INFO",
    json_output: bool = True,
    pretty: bool = False,
    app_name: str = "health-export",
    environment: str = "production",
    mask_fields: Iterable[str] = (),
    stream: Any = None,
) -> None:
    """Route structlog and stdlib logging through one chain of processors."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _static_fields(app_name, environment),
        SensitiveFieldMasker(mask_fields),
    ]
    renderer: Processor
    if pretty and not json_output:
        renderer = structlog.dev.ConsoleRenderer()
    else:
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    root = logging.getLogger()
    handler = _our_handler(root)
    if stream is not None or handler.stream is None:
        handler.setStream(stream or sys.stdout)
    handler.setFormatter(formatter)
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # Our access log replaces uvicorn's (which would log query strings).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # LOG_LEVEL=DEBUG must not reach SQLAlchemy's engine: at DEBUG it logs result rows
    # (password hashes, key digests, health values). It can be raised to INFO at run time.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def logging_options(settings: Settings) -> dict[str, Any]:
    """:func:`configure_logging`'s arguments as ``settings`` say, as plain data (the
    parser process is handed them instead of the settings)."""
    return {
        "level": settings.log_level,
        "json_output": settings.log_json,
        "pretty": settings.log_pretty,
        "app_name": settings.app_name,
        "environment": settings.environment,
        "mask_fields": settings.log_mask_fields,
    }


def configure_logging_for(settings: Settings) -> None:
    """:func:`configure_logging` as ``settings`` say (the app and its helper processes)."""
    configure_logging(**logging_options(settings))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named like a stdlib one (so levels can be set per logger)."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger

"""Read and change log levels at run time, per logger, without a restart."""

from __future__ import annotations

import logging
import re

ROOT = "root"
# Loggers worth listing even when they only inherit their level.
_KNOWN = (
    "health_export",
    "health_export.access",
    "health_export.audit",
    "uvicorn",
    "uvicorn.error",
    "sqlalchemy.engine",
)
_LOGGER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")
# At DEBUG, SQLAlchemy's engine logs every result row: password hashes, key digests and
# health values. Its INFO lines (statements, parameters hidden) are as far as it goes.
ROW_LOGGING_LEVEL = "DEBUG"
_ROW_LOGGERS = ("sqlalchemy", "sqlalchemy.engine")


def current_levels() -> dict[str, str]:
    """Effective level of the root logger, ours, and every logger given its own level."""
    names = set(_KNOWN)
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            names.add(name)
    return {
        name: logging.getLevelName(logging.getLogger(name).getEffectiveLevel())
        for name in sorted(names)
    }


def root_level() -> str:
    """The root logger's level."""
    return logging.getLevelName(logging.getLogger().level)


def is_valid_logger_name(name: str) -> bool:
    """Whether ``name`` looks like a logger name (so requests cannot invent junk)."""
    return name == ROOT or bool(_LOGGER_NAME.match(name))


def would_log_rows(name: str, level: str) -> bool:
    """Whether setting ``name`` to ``level`` would make SQLAlchemy log result rows."""
    is_engine = name in _ROW_LOGGERS or name.startswith("sqlalchemy.engine.")
    return is_engine and level == ROW_LOGGING_LEVEL


def set_levels(levels: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Apply ``levels``; for each logger, its (old, new) effective level."""
    changes: dict[str, tuple[str, str]] = {}
    for name, level in levels.items():
        logger = logging.getLogger() if name == ROOT else logging.getLogger(name)
        old = logging.getLevelName(logger.getEffectiveLevel())
        logger.setLevel(level)
        changes[name] = (old, level)
    return changes

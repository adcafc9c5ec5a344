"""The tables the parsers fill, and the shape of a write layout, without SQLAlchemy.

``layout.py`` derives each table's :class:`TableLayout` from its Core table; this module
holds what the parser process needs without importing the tables (it receives the
derived layouts from its worker).
"""

from __future__ import annotations

from dataclasses import dataclass

# The tables the parsers fill, in the order a payload's batches are written.
WRITTEN_TABLES = (
    "metric_samples",
    "sleep_sessions",
    "sleep_stages",
    "workouts",
    "workout_series",
    "workout_routes",
    "ecg_recordings",
    "symptoms",
    "cycle_tracking",
    "state_of_mind",
    "medications",
    "heart_rate_notifications",
    "activity_summaries",
)

# Columns no parser sends: the writer adds the owner, the database counts re-sends.
WRITER_COLUMNS = frozenset({"user_id", "revision"})
# Stored columns that arrive in another form: the name an id is interned from, and a
# route as WKT text that becomes geography.
ARRIVES_AS = {"metric_id": "metric", "source_id": "source", "geom": "points"}


@dataclass(frozen=True, slots=True)
class TableLayout:
    """One written table as the writer sees it."""

    table: str
    columns: tuple[str, ...]  # a parser row's columns, in order
    staging_types: dict[str, str]  # row column -> PostgreSQL type of its COPY column
    key: tuple[str, ...]  # the natural key, in stored column names
    partition_column: str | None  # the month-partitioned time column, if any

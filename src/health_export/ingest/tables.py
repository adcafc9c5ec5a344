"""How each normalised batch maps onto its storage table.

A :class:`TableWrite` says, for one table of ``records.TABLES``: the staging column types
(in the parser's column order), how each target column is computed from staging, the
natural key the upsert conflicts on, and the month-partitioned time column if any.
"""

from __future__ import annotations

from dataclasses import dataclass

from health_export.ingest.records import TABLES

TS = "timestamptz"
F8 = "double precision"


@dataclass(frozen=True, slots=True)
class TableWrite:
    """The write plan of one table."""

    table: str
    staging_types: dict[str, str]
    key: tuple[str, ...]
    partition_column: str | None = None

    @property
    def staging_columns(self) -> tuple[str, ...]:
        """Staging columns in the parser's row order."""
        return TABLES[self.table]

    def target_columns(self) -> list[tuple[str, str]]:
        """(target column, SELECT expression over staging alias ``s``) pairs."""
        pairs = [("user_id", "$1::bigint")]
        for column in self.staging_columns:
            pairs.append(_TARGET_OF.get(column, (column, f"s.{column}")))
        return pairs

    def staging_key(self) -> list[str]:
        """The natural key in staging terms (names, not interned ids)."""
        translate = {"source_id": "source", "metric_id": "metric"}
        return [f"s.{translate.get(column, column)}" for column in self.key if column != "user_id"]


# Staging columns that become another target column: interned names become ids (joined
# as ``src`` and ``mt``), and a route's points arrive as WKT text and become geography.
_TARGET_OF = {
    "source": ("source_id", "src.id"),
    "metric": ("metric_id", "mt.id"),
    "points": ("geom", "ST_GeogFromText(s.points)"),
}


def _types(table: str, **overrides: str) -> dict[str, str]:
    """Staging types: timestamps for *_at, text for names, double precision otherwise."""
    text_like = {
        "metric",
        "source",
        "unit",
        "stage",
        "name",
        "app_id",
        "location",
        "series",
        "classification",
        "severity",
        "value",
        "entry_id",
        "kind",
        "valence_classification",
        "display_text",
        "nickname",
        "form",
        "status",
        "units",
        "points",
    }
    jsonb_like = {"attrs", "metadata", "summaries", "codings", "raw"}
    result: dict[str, str] = {}
    for column in TABLES[table]:
        if column in overrides:
            result[column] = overrides[column]
        elif column.endswith("_at") or column in {
            "sleep_start",
            "sleep_end",
            "in_bed_start",
            "in_bed_end",
        }:
            result[column] = TS
        elif column == "utc_offset_min":
            result[column] = "smallint"
        elif column in text_like:
            result[column] = "text"
        elif column in jsonb_like:
            result[column] = "jsonb"
        elif column.startswith("is_") or column == "user_entered":
            result[column] = "boolean"
        elif column == "workout_id":
            result[column] = "uuid"
        else:
            result[column] = F8
    return result


_ROUTE_ARRAYS = {
    name: "double precision[]"
    for name in (
        "altitude_m",
        "speed",
        "course",
        "horizontal_accuracy",
        "vertical_accuracy",
        "course_accuracy",
        "speed_accuracy",
    )
}

WRITES: dict[str, TableWrite] = {
    w.table: w
    for w in (
        TableWrite(
            "metric_samples",
            _types("metric_samples"),
            ("user_id", "metric_id", "start_at", "source_id"),
            "start_at",
        ),
        TableWrite(
            "sleep_sessions",
            _types("sleep_sessions"),
            ("user_id", "start_at", "source_id"),
            "start_at",
        ),
        TableWrite(
            "sleep_stages",
            _types("sleep_stages"),
            ("user_id", "start_at", "stage", "source_id"),
            "start_at",
        ),
        TableWrite("workouts", _types("workouts"), ("user_id", "workout_id")),
        TableWrite(
            "workout_series",
            _types("workout_series"),
            ("user_id", "workout_id", "series", "start_at"),
            "start_at",
        ),
        TableWrite(
            "workout_routes",
            _types("workout_routes", times="timestamptz[]", **_ROUTE_ARRAYS),
            ("user_id", "workout_id"),
        ),
        TableWrite(
            "ecg_recordings",
            _types(
                "ecg_recordings", voltages_uv="double precision[]", number_of_measurements="integer"
            ),
            # Not the source: the archive's CSV names none (docs/import.md).
            ("user_id", "start_at"),
        ),
        TableWrite("symptoms", _types("symptoms"), ("user_id", "start_at", "name", "source_id")),
        TableWrite("cycle_tracking", _types("cycle_tracking"), ("user_id", "start_at", "name")),
        TableWrite(
            "state_of_mind",
            _types("state_of_mind", labels="text[]", associations="text[]"),
            ("user_id", "entry_id"),
        ),
        TableWrite("medications", _types("medications"), ("user_id", "display_text", "start_at")),
        TableWrite(
            "heart_rate_notifications",
            _types("heart_rate_notifications"),
            ("user_id", "kind", "start_at"),
        ),
        TableWrite(
            "activity_summaries", _types("activity_summaries", day="date"), ("user_id", "day")
        ),
    )
}

"""The normalised form of a payload: one column batch per storage table.

Parsers (``ingest/parsing``) produce a :class:`NormalisedPayload`; the writer
(``ingest/writer.py``) stores it. Nothing here knows about HTTP or the database.
Each table's row layout is declared once in :data:`TABLES` and rows are plain tuples
in that column order (``user_id`` excluded: the writer adds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Column order of each table's rows, as produced by the parsers. Types per column:
#   *_at            datetime (aware, UTC or with offset; the writer stores timestamptz)
#   utc_offset_min  int, the sender's offset from UTC in minutes at that instant
#   attrs/metadata  dict[str, Any] | None (stored as jsonb; extras the app sent)
TABLES: dict[str, tuple[str, ...]] = {
    # Point metrics; key (metric, start_at, source).
    "metric_samples": (
        "metric",
        "source",
        "start_at",
        "end_at",
        "utc_offset_min",
        "unit",
        "qty",
        "min",
        "avg",
        "max",
        "systolic",
        "diastolic",
        "attrs",
    ),
    # Aggregated sleep (one row per night and source); key (start_at, source).
    # start_at is the app's ``date`` (night bucket); durations in hours.
    "sleep_sessions": (
        "source",
        "start_at",
        "utc_offset_min",
        "sleep_start",
        "sleep_end",
        "in_bed_start",
        "in_bed_end",
        "asleep_h",
        "core_h",
        "deep_h",
        "rem_h",
        "awake_h",
        "in_bed_h",
        "total_sleep_h",
        "efficiency",
        "attrs",
    ),
    # Unaggregated sleep segments; key (start_at, stage, source).
    "sleep_stages": (
        "source",
        "start_at",
        "end_at",
        "utc_offset_min",
        "stage",
        "qty_h",
        "attrs",
    ),
    # Workouts; key (workout_id). workout_id is the v2 ``id`` (UUID) or, for v1,
    # uuid5(WORKOUT_NAMESPACE, f"{name}|{start in UTC ISO 8601}").
    "workouts": (
        "workout_id",
        "app_id",
        "name",
        "start_at",
        "end_at",
        "utc_offset_min",
        "duration_s",
        "location",
        "is_indoor",
        "distance_km",
        "active_energy_kcal",
        "total_energy_kcal",
        "avg_heart_rate",
        "max_heart_rate",
        "summaries",
        "metadata",
    ),
    # Workout time series (heartRateData, heartRateRecovery, activeEnergy, stepCount,
    # ...); key (workout_id, series, start_at). ``series`` is the app's key name.
    "workout_series": (
        "workout_id",
        "series",
        "start_at",
        "utc_offset_min",
        "unit",
        "qty",
        "min",
        "avg",
        "max",
        "source",
        "attrs",
    ),
    # One route per workout; key (workout_id). ``points`` is a list of
    # (lon, lat) pairs; the per-point attribute lists have the same length.
    "workout_routes": (
        "workout_id",
        "points",
        "times",
        "altitude_m",
        "speed",
        "course",
        "horizontal_accuracy",
        "vertical_accuracy",
        "course_accuracy",
        "speed_accuracy",
    ),
    # key (start_at), whole seconds: one recording per start second, so the archive's copy
    # (its CSV names no source, and its dates have no fractions) meets the app's.
    "ecg_recordings": (
        "source",
        "start_at",
        "end_at",
        "utc_offset_min",
        "classification",
        "severity",
        "average_heart_rate",
        "sampling_frequency_hz",
        "number_of_measurements",
        "voltages_uv",
        "first_sample_at",
        "attrs",
    ),
    # key (start_at, name, source)
    "symptoms": (
        "source",
        "start_at",
        "end_at",
        "utc_offset_min",
        "name",
        "severity",
        "user_entered",
        "attrs",
    ),
    # key (start_at, name)
    "cycle_tracking": (
        "start_at",
        "end_at",
        "utc_offset_min",
        "name",
        "value",
        "is_cycle_start",
        "attrs",
    ),
    # key (entry_id): the app's ``id``, else f"{kind}|{start in UTC ISO 8601}"
    "state_of_mind": (
        "entry_id",
        "start_at",
        "end_at",
        "utc_offset_min",
        "kind",
        "labels",
        "associations",
        "valence",
        "valence_classification",
        "metadata",
    ),
    # key (display_text, start_at)
    "medications": (
        "display_text",
        "nickname",
        "start_at",
        "end_at",
        "utc_offset_min",
        "scheduled_at",
        "form",
        "status",
        "is_archived",
        "dosage",
        "scheduled_dosage",
        "units",
        "codings",
        "attrs",
    ),
    # key (kind, start_at); the whole item is kept in ``raw`` (shapes vary).
    "heart_rate_notifications": (
        "kind",
        "start_at",
        "end_at",
        "utc_offset_min",
        "threshold",
        "raw",
    ),
    # Apple's daily Activity rings (only from an archive import); key (day).
    "activity_summaries": (
        "day",
        "active_energy_kcal",
        "active_energy_goal_kcal",
        "move_time_min",
        "move_time_goal_min",
        "exercise_time_min",
        "exercise_time_goal_min",
        "stand_hours",
        "stand_hours_goal",
        "attrs",
    ),
}


@dataclass(slots=True)
class PointError:
    """One rejected point: where it was in the payload and why."""

    path: str
    reason: str


@dataclass(slots=True)
class NormalisedPayload:
    """Everything usable in one payload, plus what was rejected or ignored."""

    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )
    errors: list[PointError] = field(default_factory=list)
    # Rejected points counted but not listed (a parser process sends the first ones only).
    more_errors: int = 0
    ignored: list[str] = field(default_factory=list)
    # What the parser met, counted per metric or workout, never per point (read by
    # sync/recorder.py): "metric:<name>" -> points, "field:<name>:<key>" -> 1 for each key
    # of a metric's first point, "workouts:v1" / "workouts:v2" / "workouts:route" -> count.
    seen: dict[str, int] = field(default_factory=dict)
    # Rows a writer has already taken out of ``rows`` while parsing went on, per table.
    taken: dict[str, int] = field(default_factory=dict)
    abandoned: bool = False

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """Append one normalised row to ``table``'s batch."""
        self.rows[table].append(row)

    def reject(self, path: str, reason: str) -> None:
        """Record a rejected point (one error per rejected point)."""
        self.errors.append(PointError(path, reason))

    def note(self, what: str, count: int = 1) -> None:
        """Count something the parser met (see ``seen``)."""
        self.seen[what] = self.seen.get(what, 0) + count

    def take(self, table: str, limit: int | None = None) -> list[tuple[Any, ...]]:
        """Remove and return the rows parsed so far, the first ``limit`` of them at most
        (safe while a parser thread appends).

        Slicing and deleting a list prefix are each atomic under the GIL, and the parser
        only ever appends, so rows appended in between stay for the next take.
        """
        batch = self.rows[table]
        count = len(batch) if limit is None else min(limit, len(batch))
        taken = batch[:count]
        del batch[:count]
        self.taken[table] = self.taken.get(table, 0) + count
        return taken

    def abandon(self) -> None:
        """Nobody will take more rows: a parse still filling this payload stops."""
        self.abandoned = True

    def most_pending(self) -> int:
        """The most rows parsed and not taken yet of any one table."""
        return max(len(rows) for rows in self.rows.values())

    def row_count(self, table: str) -> int:
        """Rows of ``table``, taken or not."""
        return self.taken.get(table, 0) + len(self.rows[table])

    @property
    def received(self) -> int:
        """Every record the sender sent: stored rows plus rejected points."""
        return sum(self.row_count(table) for table in self.rows) + self.rejected

    @property
    def rejected(self) -> int:
        """Every rejected point, listed or not."""
        return len(self.errors) + self.more_errors

"""The stored health data: one table per kind of record (SQLAlchemy Core tables).

These tables are written in bulk by the ingest writer (COPY + upsert) and read by the
query API, never loaded as ORM objects, so they are declared as Core tables on the
shared metadata. Time-series tables are range-partitioned by month on their time
column (partitions are created at run time, see ``schema/partitions.py``).
"""

from __future__ import annotations

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from health_export.core.db import Base
from health_export.schema.columns import (
    double_columns,
    offset_column,
    revision_column,
    source_column,
    tz_column,
    user_column,
)

metadata = Base.metadata


metric_types = Table(
    "metric_types",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
)

metric_samples = Table(
    "metric_samples",
    metadata,
    # integer, not bigint: 8 bytes less per row and per key entry (alignment), the
    # storage of the table with the most rows by far (migration 0015_samples_int_user_id).
    Column("user_id", Integer, nullable=False),
    revision_column(),
    Column("metric_id", Integer, nullable=False),
    source_column(checked=False),
    tz_column("start_at", nullable=False),
    tz_column("end_at"),
    offset_column(),
    Column("unit", Text, nullable=False),
    *double_columns("qty", "min", "avg", "max", "systolic", "diastolic"),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "metric_id", "start_at", "source_id"),
    postgresql_partition_by="RANGE (start_at)",
)

# Which sources each user's metrics have: kept by the writer (a handful of rows per
# batch), so a read can tell a single-source metric, which needs no per-period dedupe.
metric_sources = Table(
    "metric_sources",
    metadata,
    user_column(),
    Column("metric_id", Integer, ForeignKey("metric_types.id"), nullable=False),
    source_column(),
    PrimaryKeyConstraint("user_id", "metric_id", "source_id"),
)

# Aggregated sleep, one row per night and source: start_at is the app's ``date`` (the
# night bucket); durations in hours.
sleep_sessions = Table(
    "sleep_sessions",
    metadata,
    user_column(checked=False),
    revision_column(),
    source_column(checked=False),
    tz_column("start_at", nullable=False),
    offset_column(),
    tz_column("sleep_start"),
    tz_column("sleep_end"),
    tz_column("in_bed_start"),
    tz_column("in_bed_end"),
    *double_columns(
        "asleep_h",
        "core_h",
        "deep_h",
        "rem_h",
        "awake_h",
        "in_bed_h",
        "total_sleep_h",
        "efficiency",
    ),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "start_at", "source_id"),
    postgresql_partition_by="RANGE (start_at)",
)

sleep_stages = Table(
    "sleep_stages",
    metadata,
    user_column(checked=False),
    revision_column(),
    source_column(checked=False),
    tz_column("start_at", nullable=False),
    tz_column("end_at", nullable=False),
    offset_column(),
    Column("stage", Text, nullable=False),
    *double_columns("qty_h"),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "start_at", "stage", "source_id"),
    postgresql_partition_by="RANGE (start_at)",
)

# workout_id is the v2 ``id`` (UUID) or, for v1,
# uuid5(WORKOUT_NAMESPACE, f"{name}|{start in UTC ISO 8601}").
workouts = Table(
    "workouts",
    metadata,
    user_column(),
    revision_column(),
    Column("workout_id", UUID(as_uuid=True), nullable=False),
    Column("app_id", Text, nullable=True),
    Column("name", Text, nullable=False),
    tz_column("start_at", nullable=False),
    tz_column("end_at"),
    offset_column(),
    *double_columns("duration_s"),
    Column("location", Text, nullable=True),
    Column("is_indoor", Boolean, nullable=True),
    *double_columns(
        "distance_km", "active_energy_kcal", "total_energy_kcal", "avg_heart_rate", "max_heart_rate"
    ),
    Column("summaries", JSONB, nullable=True),
    Column("metadata", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "workout_id"),
    Index("ix_workouts_user_id_start_at", "user_id", "start_at"),
)

# Workout time series (heartRateData, heartRateRecovery, activeEnergy, stepCount, ...):
# ``series`` is the app's key name.
workout_series = Table(
    "workout_series",
    metadata,
    user_column(checked=False),
    revision_column(),
    Column("workout_id", UUID(as_uuid=True), nullable=False),
    Column("series", Text, nullable=False),
    tz_column("start_at", nullable=False),
    offset_column(),
    Column("unit", Text, nullable=True),
    *double_columns("qty", "min", "avg", "max"),
    source_column(checked=False),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "workout_id", "series", "start_at"),
    postgresql_partition_by="RANGE (start_at)",
)

_ROUTE_ARRAYS = (
    "altitude_m",
    "speed",
    "course",
    "horizontal_accuracy",
    "vertical_accuracy",
    "course_accuracy",
    "speed_accuracy",
)

# One route per workout; its points arrive as (lon, lat) pairs and the per-point
# attribute arrays have the same length.
workout_routes = Table(
    "workout_routes",
    metadata,
    user_column(),
    revision_column(),
    Column("workout_id", UUID(as_uuid=True), nullable=False),
    Column(
        "geom",
        Geography(geometry_type="LINESTRING", srid=4326, spatial_index=False),
        nullable=False,
    ),
    Column("times", ARRAY(DateTime(timezone=True)), nullable=True),
    *[Column(name, ARRAY(Double), nullable=True) for name in _ROUTE_ARRAYS],
    PrimaryKeyConstraint("user_id", "workout_id"),
    Index("ix_workout_routes_geom", "geom", postgresql_using="gist"),
)

ecg_recordings = Table(
    "ecg_recordings",
    metadata,
    user_column(),
    revision_column(),
    source_column(),
    tz_column("start_at", nullable=False),
    tz_column("end_at"),
    offset_column(),
    Column("classification", Text, nullable=True),
    Column("severity", Text, nullable=True),
    *double_columns("average_heart_rate", "sampling_frequency_hz"),
    Column("number_of_measurements", Integer, nullable=True),
    Column("voltages_uv", ARRAY(Double), nullable=True),
    tz_column("first_sample_at"),
    Column("attrs", JSONB, nullable=True),
    # One recording per start second: the app's and the archive's copies are one row.
    PrimaryKeyConstraint("user_id", "start_at"),
)

symptoms = Table(
    "symptoms",
    metadata,
    user_column(),
    revision_column(),
    source_column(),
    tz_column("start_at", nullable=False),
    tz_column("end_at"),
    offset_column(),
    Column("name", Text, nullable=False),
    Column("severity", Text, nullable=True),
    Column("user_entered", Boolean, nullable=True),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "start_at", "name", "source_id"),
)

cycle_tracking = Table(
    "cycle_tracking",
    metadata,
    user_column(),
    revision_column(),
    tz_column("start_at", nullable=False),
    tz_column("end_at"),
    offset_column(),
    Column("name", Text, nullable=False),
    Column("value", Text, nullable=True),
    Column("is_cycle_start", Boolean, nullable=True),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "start_at", "name"),
)

# entry_id: the app's ``id``, else f"{kind}|{start in UTC ISO 8601}".
state_of_mind = Table(
    "state_of_mind",
    metadata,
    user_column(),
    revision_column(),
    Column("entry_id", Text, nullable=False),
    tz_column("start_at", nullable=False),
    tz_column("end_at"),
    offset_column(),
    Column("kind", Text, nullable=True),
    Column("labels", ARRAY(Text), nullable=True),
    Column("associations", ARRAY(Text), nullable=True),
    *double_columns("valence"),
    Column("valence_classification", Text, nullable=True),
    Column("metadata", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "entry_id"),
    Index("ix_state_of_mind_user_id_start_at", "user_id", "start_at"),
)

medications = Table(
    "medications",
    metadata,
    user_column(),
    revision_column(),
    Column("display_text", Text, nullable=False),
    Column("nickname", Text, nullable=True),
    tz_column("start_at", nullable=False),
    tz_column("end_at"),
    offset_column(),
    tz_column("scheduled_at"),
    Column("form", Text, nullable=True),
    Column("status", Text, nullable=True),
    Column("is_archived", Boolean, nullable=True),
    *double_columns("dosage", "scheduled_dosage"),
    Column("units", Text, nullable=True),
    Column("codings", JSONB, nullable=True),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "display_text", "start_at"),
)

# The whole item is kept in ``raw`` (its shapes vary).
heart_rate_notifications = Table(
    "heart_rate_notifications",
    metadata,
    user_column(),
    revision_column(),
    Column("kind", Text, nullable=False),
    tz_column("start_at", nullable=False),
    tz_column("end_at"),
    offset_column(),
    *double_columns("threshold"),
    Column("raw", JSONB, nullable=False),
    PrimaryKeyConstraint("user_id", "kind", "start_at"),
)

# The Activity rings from Apple Health's archive: one row per user and calendar day (Apple's
# own ``dateComponents``, no zone); the app's feed has no equivalent.
activity_summaries = Table(
    "activity_summaries",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("revision", SmallInteger, nullable=False, server_default=text("0")),
    Column("day", Date, nullable=False),
    *[
        Column(name, Double, nullable=True)
        for name in (
            "active_energy_kcal",
            "active_energy_goal_kcal",
            "move_time_min",
            "move_time_goal_min",
            "exercise_time_min",
            "exercise_time_goal_min",
            "stand_hours",
            "stand_hours_goal",
        )
    ],
    # Apple's energy unit when it was not kcal (``source_unit``), as for metric samples.
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "day"),
)

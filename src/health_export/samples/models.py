"""The stored health data: one table per kind of record (SQLAlchemy Core tables).

These tables are written in bulk by the ingest writer (COPY + upsert) and read by the
query API, never loaded as ORM objects, so they are declared as Core tables on the
shared metadata. Time-series tables are range-partitioned by month on their time
column (partitions are created at run time, see ``partitions.py``).
"""

from __future__ import annotations

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from health_export.core.db import Base

metadata = Base.metadata


def _tz(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


# The partitioned, high-volume tables carry no foreign keys: their three FK triggers
# took 9 of 14 s when upserting 935k metric points (measured). The writer takes user ids
# from the authenticated caller and interned ids from a join with their tables, and
# deleting a user's data goes through DELETE /api/v1/data.
def _user(*, checked: bool = True) -> Column[object]:
    if not checked:
        return Column("user_id", BigInteger, nullable=False)
    return Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def _source(*, checked: bool = True) -> Column[object]:
    if not checked:
        return Column("source_id", Integer, nullable=False)
    return Column("source_id", Integer, ForeignKey("sources.id"), nullable=False)


def _offset() -> Column[object]:
    # The sender's UTC offset at that instant, so "days" are the user's local days.
    return Column("utc_offset_min", SmallInteger, nullable=False)


def _revision() -> Column[object]:
    # How often a re-send changed this row (0: as first stored). The upsert returns
    # (revision = 0) to tell inserts from updates: RETURNING xmax is refused on
    # partitioned tables.
    return Column("revision", SmallInteger, nullable=False, server_default=text("0"))


def _double(*names: str) -> list[Column[object]]:
    return [Column(name, Double, nullable=True) for name in names]


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
    _user(checked=False),
    _revision(),
    Column("metric_id", Integer, nullable=False),
    _source(checked=False),
    _tz("start_at", nullable=False),
    _tz("end_at"),
    _offset(),
    Column("unit", Text, nullable=False),
    *_double("qty", "min", "avg", "max", "systolic", "diastolic"),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "metric_id", "start_at", "source_id"),
    postgresql_partition_by="RANGE (start_at)",
)

# Which sources each user's metrics have: kept by the writer (a handful of rows per
# batch), so a read can tell a single-source metric, which needs no per-period dedupe.
metric_sources = Table(
    "metric_sources",
    metadata,
    _user(),
    Column("metric_id", Integer, ForeignKey("metric_types.id"), nullable=False),
    _source(),
    PrimaryKeyConstraint("user_id", "metric_id", "source_id"),
)

sleep_sessions = Table(
    "sleep_sessions",
    metadata,
    _user(checked=False),
    _revision(),
    _source(checked=False),
    _tz("start_at", nullable=False),
    _offset(),
    _tz("sleep_start"),
    _tz("sleep_end"),
    _tz("in_bed_start"),
    _tz("in_bed_end"),
    *_double(
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
    _user(checked=False),
    _revision(),
    _source(checked=False),
    _tz("start_at", nullable=False),
    _tz("end_at", nullable=False),
    _offset(),
    Column("stage", Text, nullable=False),
    *_double("qty_h"),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "start_at", "stage", "source_id"),
    postgresql_partition_by="RANGE (start_at)",
)

workouts = Table(
    "workouts",
    metadata,
    _user(),
    _revision(),
    Column("workout_id", UUID(as_uuid=True), nullable=False),
    Column("app_id", Text, nullable=True),
    Column("name", Text, nullable=False),
    _tz("start_at", nullable=False),
    _tz("end_at"),
    _offset(),
    *_double("duration_s"),
    Column("location", Text, nullable=True),
    Column("is_indoor", Boolean, nullable=True),
    *_double(
        "distance_km", "active_energy_kcal", "total_energy_kcal", "avg_heart_rate", "max_heart_rate"
    ),
    Column("summaries", JSONB, nullable=True),
    Column("metadata", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "workout_id"),
    Index("ix_workouts_user_id_start_at", "user_id", "start_at"),
)

workout_series = Table(
    "workout_series",
    metadata,
    _user(checked=False),
    _revision(),
    Column("workout_id", UUID(as_uuid=True), nullable=False),
    Column("series", Text, nullable=False),
    _tz("start_at", nullable=False),
    _offset(),
    Column("unit", Text, nullable=True),
    *_double("qty", "min", "avg", "max"),
    _source(checked=False),
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

workout_routes = Table(
    "workout_routes",
    metadata,
    _user(),
    _revision(),
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
    _user(),
    _revision(),
    _source(),
    _tz("start_at", nullable=False),
    _tz("end_at"),
    _offset(),
    Column("classification", Text, nullable=True),
    Column("severity", Text, nullable=True),
    *_double("average_heart_rate", "sampling_frequency_hz"),
    Column("number_of_measurements", Integer, nullable=True),
    Column("voltages_uv", ARRAY(Double), nullable=True),
    _tz("first_sample_at"),
    Column("attrs", JSONB, nullable=True),
    # One recording per start second: the app's and the archive's copies are one row.
    PrimaryKeyConstraint("user_id", "start_at"),
)

symptoms = Table(
    "symptoms",
    metadata,
    _user(),
    _revision(),
    _source(),
    _tz("start_at", nullable=False),
    _tz("end_at"),
    _offset(),
    Column("name", Text, nullable=False),
    Column("severity", Text, nullable=True),
    Column("user_entered", Boolean, nullable=True),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "start_at", "name", "source_id"),
)

cycle_tracking = Table(
    "cycle_tracking",
    metadata,
    _user(),
    _revision(),
    _tz("start_at", nullable=False),
    _tz("end_at"),
    _offset(),
    Column("name", Text, nullable=False),
    Column("value", Text, nullable=True),
    Column("is_cycle_start", Boolean, nullable=True),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "start_at", "name"),
)

state_of_mind = Table(
    "state_of_mind",
    metadata,
    _user(),
    _revision(),
    Column("entry_id", Text, nullable=False),
    _tz("start_at", nullable=False),
    _tz("end_at"),
    _offset(),
    Column("kind", Text, nullable=True),
    Column("labels", ARRAY(Text), nullable=True),
    Column("associations", ARRAY(Text), nullable=True),
    *_double("valence"),
    Column("valence_classification", Text, nullable=True),
    Column("metadata", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "entry_id"),
    Index("ix_state_of_mind_user_id_start_at", "user_id", "start_at"),
)

medications = Table(
    "medications",
    metadata,
    _user(),
    _revision(),
    Column("display_text", Text, nullable=False),
    Column("nickname", Text, nullable=True),
    _tz("start_at", nullable=False),
    _tz("end_at"),
    _offset(),
    _tz("scheduled_at"),
    Column("form", Text, nullable=True),
    Column("status", Text, nullable=True),
    Column("is_archived", Boolean, nullable=True),
    *_double("dosage", "scheduled_dosage"),
    Column("units", Text, nullable=True),
    Column("codings", JSONB, nullable=True),
    Column("attrs", JSONB, nullable=True),
    PrimaryKeyConstraint("user_id", "display_text", "start_at"),
)

heart_rate_notifications = Table(
    "heart_rate_notifications",
    metadata,
    _user(),
    _revision(),
    Column("kind", Text, nullable=False),
    _tz("start_at", nullable=False),
    _tz("end_at"),
    _offset(),
    *_double("threshold"),
    Column("raw", JSONB, nullable=False),
    PrimaryKeyConstraint("user_id", "kind", "start_at"),
)

raw_ingestions = Table(
    "raw_ingestions",
    metadata,
    Column("id", UUID(as_uuid=True), nullable=False),
    _tz("received_at", nullable=False),
    _user(checked=False),
    Column("key_id", UUID(as_uuid=True), nullable=True),
    Column("sha256", LargeBinary, nullable=False),
    # The decoded body, gzip-compressed by the server (level 1, in a thread); stored
    # EXTERNAL (no second compression by PostgreSQL), see the migration.
    Column("body", LargeBinary, nullable=False),
    Column("body_bytes", BigInteger, nullable=False),
    Column("content_encoding", Text, nullable=True),
    Column("headers", JSONB, nullable=True),
    Column("status", Text, nullable=False, server_default=text("'received'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("result", JSONB, nullable=True),
    Column("error", Text, nullable=True),
    _tz("processed_at"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("id", "received_at"),
    Index("ix_raw_ingestions_user_id_sha256", "user_id", "sha256"),
    Index(
        "ix_raw_ingestions_pending",
        "received_at",
        postgresql_where=text("status = 'received'"),
    ),
    postgresql_partition_by="RANGE (received_at)",
)

# Per user, the ingestion whose stored answer still describes the data: replaced by
# each ingestion processed after it, removed by an erase. Only its answer may be given
# again to a byte-identical re-send (docs/ingest.md).
latest_ingestions = Table(
    "latest_ingestions",
    metadata,
    _user(),
    Column("ingestion_id", UUID(as_uuid=True), nullable=False),
    _tz("received_at", nullable=False),
    PrimaryKeyConstraint("user_id"),
)

PARTITIONED_TABLES: dict[str, str] = {
    "metric_samples": "start_at",
    "sleep_sessions": "start_at",
    "sleep_stages": "start_at",
    "workout_series": "start_at",
    "raw_ingestions": "received_at",
}

"""Health data tables: metrics, sleep, workouts (+ series, PostGIS routes), ECG,
symptoms, cycle tracking, state of mind, medications, heart-rate notifications, and
the raw ingestions kept before parsing. Time-series tables are partitioned by month.

Revision ID: 0003_health_data
Revises: 0002_identity
Create Date: 2026-11-26 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "0003_health_data"
down_revision: str | None = "0002_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_types",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_types")),
        sa.UniqueConstraint("name", name=op.f("uq_metric_types_name")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "cycle_tracking",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("is_cycle_start", sa.Boolean(), nullable=True),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_cycle_tracking_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "start_at", "name", name=op.f("pk_cycle_tracking")),
    )
    op.create_table(
        "ecg_recordings",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("classification", sa.Text(), nullable=True),
        sa.Column("severity", sa.Text(), nullable=True),
        sa.Column("average_heart_rate", sa.Double(), nullable=True),
        sa.Column("sampling_frequency_hz", sa.Double(), nullable=True),
        sa.Column("number_of_measurements", sa.Integer(), nullable=True),
        sa.Column("voltages_uv", postgresql.ARRAY(sa.Double()), nullable=True),
        sa.Column("first_sample_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_ecg_recordings_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ecg_recordings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "start_at", "source_id", name=op.f("pk_ecg_recordings")),
    )
    op.create_table(
        "heart_rate_notifications",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_heart_rate_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "kind", "start_at", name=op.f("pk_heart_rate_notifications")
        ),
    )
    op.create_table(
        "medications",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("display_text", sa.Text(), nullable=False),
        sa.Column("nickname", sa.Text(), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("form", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("is_archived", sa.Boolean(), nullable=True),
        sa.Column("dosage", sa.Double(), nullable=True),
        sa.Column("scheduled_dosage", sa.Double(), nullable=True),
        sa.Column("units", sa.Text(), nullable=True),
        sa.Column("codings", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_medications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "display_text", "start_at", name=op.f("pk_medications")),
    )
    op.create_table(
        "metric_samples",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("qty", sa.Double(), nullable=True),
        sa.Column("min", sa.Double(), nullable=True),
        sa.Column("avg", sa.Double(), nullable=True),
        sa.Column("max", sa.Double(), nullable=True),
        sa.Column("systolic", sa.Double(), nullable=True),
        sa.Column("diastolic", sa.Double(), nullable=True),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint(
            "user_id", "metric_id", "start_at", "source_id", name=op.f("pk_metric_samples")
        ),
        postgresql_partition_by="RANGE (start_at)",
    )
    op.create_table(
        "raw_ingestions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.UUID(), nullable=True),
        sa.Column("sha256", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_encoding", sa.Text(), nullable=True),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'received'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", "received_at", name=op.f("pk_raw_ingestions")),
        postgresql_partition_by="RANGE (received_at)",
    )
    op.create_index(
        "ix_raw_ingestions_pending",
        "raw_ingestions",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("status = 'received'"),
    )
    op.create_index(
        "ix_raw_ingestions_user_id_sha256", "raw_ingestions", ["user_id", "sha256"], unique=False
    )
    op.create_table(
        "sleep_sessions",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("sleep_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sleep_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_bed_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_bed_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("asleep_h", sa.Double(), nullable=True),
        sa.Column("core_h", sa.Double(), nullable=True),
        sa.Column("deep_h", sa.Double(), nullable=True),
        sa.Column("rem_h", sa.Double(), nullable=True),
        sa.Column("awake_h", sa.Double(), nullable=True),
        sa.Column("in_bed_h", sa.Double(), nullable=True),
        sa.Column("total_sleep_h", sa.Double(), nullable=True),
        sa.Column("efficiency", sa.Double(), nullable=True),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "start_at", "source_id", name=op.f("pk_sleep_sessions")),
        postgresql_partition_by="RANGE (start_at)",
    )
    op.create_table(
        "sleep_stages",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("qty_h", sa.Double(), nullable=True),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint(
            "user_id", "start_at", "stage", "source_id", name=op.f("pk_sleep_stages")
        ),
        postgresql_partition_by="RANGE (start_at)",
    )
    op.create_table(
        "state_of_mind",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("entry_id", sa.Text(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("labels", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("associations", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("valence", sa.Double(), nullable=True),
        sa.Column("valence_classification", sa.Text(), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_state_of_mind_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "entry_id", name=op.f("pk_state_of_mind")),
    )
    op.create_index(
        "ix_state_of_mind_user_id_start_at", "state_of_mind", ["user_id", "start_at"], unique=False
    )
    op.create_table(
        "symptoms",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=True),
        sa.Column("user_entered", sa.Boolean(), nullable=True),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_symptoms_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_symptoms_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "start_at", "name", "source_id", name=op.f("pk_symptoms")
        ),
    )
    op.create_table(
        "workout_routes",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("workout_id", sa.UUID(), nullable=False),
        sa.Column(
            "geom",
            Geography(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("times", postgresql.ARRAY(sa.DateTime(timezone=True)), nullable=True),
        sa.Column("altitude_m", postgresql.ARRAY(sa.Double()), nullable=True),
        sa.Column("speed", postgresql.ARRAY(sa.Double()), nullable=True),
        sa.Column("course", postgresql.ARRAY(sa.Double()), nullable=True),
        sa.Column("horizontal_accuracy", postgresql.ARRAY(sa.Double()), nullable=True),
        sa.Column("vertical_accuracy", postgresql.ARRAY(sa.Double()), nullable=True),
        sa.Column("course_accuracy", postgresql.ARRAY(sa.Double()), nullable=True),
        sa.Column("speed_accuracy", postgresql.ARRAY(sa.Double()), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_workout_routes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "workout_id", name=op.f("pk_workout_routes")),
    )
    op.create_index(
        "ix_workout_routes_geom", "workout_routes", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_table(
        "workout_series",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("workout_id", sa.UUID(), nullable=False),
        sa.Column("series", sa.Text(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("qty", sa.Double(), nullable=True),
        sa.Column("min", sa.Double(), nullable=True),
        sa.Column("avg", sa.Double(), nullable=True),
        sa.Column("max", sa.Double(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint(
            "user_id", "workout_id", "series", "start_at", name=op.f("pk_workout_series")
        ),
        postgresql_partition_by="RANGE (start_at)",
    )
    op.create_table(
        "workouts",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("workout_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utc_offset_min", sa.SmallInteger(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("is_indoor", sa.Boolean(), nullable=True),
        sa.Column("distance_km", sa.Double(), nullable=True),
        sa.Column("active_energy_kcal", sa.Double(), nullable=True),
        sa.Column("total_energy_kcal", sa.Double(), nullable=True),
        sa.Column("avg_heart_rate", sa.Double(), nullable=True),
        sa.Column("max_heart_rate", sa.Double(), nullable=True),
        sa.Column("summaries", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_workouts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "workout_id", name=op.f("pk_workouts")),
    )
    op.create_index(
        "ix_workouts_user_id_start_at", "workouts", ["user_id", "start_at"], unique=False
    )

    # Bodies arrive gzip-compressed by the server (off the event loop, ~7x on JSON):
    # PostgreSQL must not spend time trying to compress them again.
    op.execute("ALTER TABLE raw_ingestions ALTER COLUMN body SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_index("ix_workouts_user_id_start_at", table_name="workouts")
    op.drop_table("workouts")
    op.drop_table("workout_series")
    op.drop_index("ix_workout_routes_geom", table_name="workout_routes", postgresql_using="gist")
    op.drop_table("workout_routes")
    op.drop_table("symptoms")
    op.drop_index("ix_state_of_mind_user_id_start_at", table_name="state_of_mind")
    op.drop_table("state_of_mind")
    op.drop_table("sleep_stages")
    op.drop_table("sleep_sessions")
    op.drop_index("ix_raw_ingestions_user_id_sha256", table_name="raw_ingestions")
    op.drop_index(
        "ix_raw_ingestions_pending",
        table_name="raw_ingestions",
        postgresql_where=sa.text("status = 'received'"),
    )
    op.drop_table("raw_ingestions")
    op.drop_table("metric_samples")
    op.drop_table("medications")
    op.drop_table("heart_rate_notifications")
    op.drop_table("ecg_recordings")
    op.drop_table("cycle_tracking")
    op.drop_table("sources")
    op.drop_table("metric_types")

"""What the sync view remembers: each request of an automation, incidents, deliveries.

Core tables on the shared metadata (written with SQL, like the sample tables). One
``sync_requests`` row per request the app made, so summaries, cadence and advice are
computed from history instead of kept as counters that could drift.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from health_export.core.db import Base

metadata = Base.metadata


def _user() -> Column[object]:
    return Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


sync_requests = Table(
    "sync_requests",
    metadata,
    # The ingestion's id (one row per ingestion, updated by a replay), or a new id for
    # a request refused before its body was stored or answered as a byte-identical re-send.
    Column("id", UUID(as_uuid=True), primary_key=True),
    _user(),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("key_id", UUID(as_uuid=True), nullable=True),
    # Which automation: "id:<automation-id>", else "name:<automation-name>", else
    # "key:<key id>" (a client sending no automation headers).
    Column("automation_key", Text, nullable=False),
    Column("automation_id", Text, nullable=True),
    Column("automation_name", Text, nullable=True),
    Column("aggregation", Text, nullable=True),
    Column("period", Text, nullable=True),
    Column("session_id", Text, nullable=True),
    Column("user_agent", Text, nullable=True),
    Column("app_version", Text, nullable=True),
    # processed | rejected | failed | refused | duplicate
    Column("outcome", Text, nullable=False),
    Column("http_status", SmallInteger, nullable=True),
    Column("points", Integer, nullable=False, server_default=text("0")),
    Column("rejected_points", Integer, nullable=False, server_default=text("0")),
    # Rows per storage table ({"metric_samples": 120, ...}) and points per metric name.
    Column("tables", JSONB, nullable=True),
    Column("metrics", JSONB, nullable=True),
    # workouts:v1 / workouts:v2 / workouts:route counts.
    Column("features", JSONB, nullable=True),
    # The schema drift sentinel: what this request had that the server does not know.
    Column("unknown_keys", ARRAY(Text), nullable=True),
    Column("new_metrics", ARRAY(Text), nullable=True),
    Column("new_fields", ARRAY(Text), nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_sync_requests_user_automation", "user_id", "automation_key", "received_at"),
    Index("ix_sync_requests_received_at", "received_at"),
)

sync_incidents = Table(
    "sync_incidents",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _user(),
    # silent | failing | gap
    Column("kind", Text, nullable=False),
    # What it is about: the automation key, or "<metric>|<first day>" for a gap.
    Column("subject", Text, nullable=False),
    Column("automation_key", Text, nullable=True),
    Column("summary", Text, nullable=False),
    Column("details", JSONB, nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    # Once per incident: at most one open incident per user, kind and subject, so two
    # worker processes checking at once cannot both open (and announce) it.
    Index(
        "uq_sync_incidents_open",
        "user_id",
        "kind",
        "subject",
        unique=True,
        postgresql_where=text("resolved_at IS NULL"),
    ),
)

sync_alert_deliveries = Table(
    "sync_alert_deliveries",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "incident_id",
        BigInteger,
        ForeignKey("sync_incidents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # opened | resolved
    Column("event", Text, nullable=False),
    # webhook | ntfy
    Column("channel", Text, nullable=False),
    # pending | sent | failed
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_status", SmallInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index(
        "ix_sync_alert_deliveries_pending",
        "next_attempt_at",
        postgresql_where=text("status = 'pending'"),
    ),
    Index("ix_sync_alert_deliveries_incident", "incident_id"),
)

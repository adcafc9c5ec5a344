"""sync_requests, sync_incidents, sync_alert_deliveries: what each automation sent, alerts.

Revision ID: 0010_sync_history
Revises: 0004_metric_sources
Create Date: 2026-12-01 12:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_sync_history"
down_revision: str | None = "0008_key_management"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user_column() -> sa.Column[int]:
    return sa.Column("user_id", sa.BigInteger(), nullable=False)


def _create_requests() -> None:
    text_array = postgresql.ARRAY(sa.Text())
    op.create_table(
        "sync_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        _user_column(),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.UUID(), nullable=True),
        sa.Column("automation_key", sa.Text(), nullable=False),
        sa.Column("automation_id", sa.Text(), nullable=True),
        sa.Column("automation_name", sa.Text(), nullable=True),
        sa.Column("aggregation", sa.Text(), nullable=True),
        sa.Column("period", sa.Text(), nullable=True),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("app_version", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("http_status", sa.SmallInteger(), nullable=True),
        sa.Column("points", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rejected_points", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("tables", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("features", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("unknown_keys", text_array, nullable=True),
        sa.Column("new_metrics", text_array, nullable=True),
        sa.Column("new_fields", text_array, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sync_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_requests")),
    )
    op.create_index(
        "ix_sync_requests_user_automation",
        "sync_requests",
        ["user_id", "automation_key", "received_at"],
    )
    op.create_index("ix_sync_requests_received_at", "sync_requests", ["received_at"])


def _create_incidents() -> None:
    op.create_table(
        "sync_incidents",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        _user_column(),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("automation_key", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sync_incidents_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_incidents")),
    )
    op.create_index(
        "uq_sync_incidents_open",
        "sync_incidents",
        ["user_id", "kind", "subject"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )


def _create_deliveries() -> None:
    now = sa.func.now()
    op.create_table(
        "sync_alert_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), server_default=now, nullable=False
        ),
        sa.Column("last_status", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["sync_incidents.id"],
            name=op.f("fk_sync_alert_deliveries_incident_id_sync_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_alert_deliveries")),
    )
    op.create_index(
        "ix_sync_alert_deliveries_pending",
        "sync_alert_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_sync_alert_deliveries_incident", "sync_alert_deliveries", ["incident_id"])


def upgrade() -> None:
    _create_requests()
    _create_incidents()
    _create_deliveries()


def downgrade() -> None:
    op.drop_table("sync_alert_deliveries")
    op.drop_table("sync_incidents")
    op.drop_table("sync_requests")

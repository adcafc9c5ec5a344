"""latest_ingestions: per user, the one ingestion whose answer still describes the data.

A byte-identical re-send may be answered from this ingestion's stored answer; any later
ingestion replaces it, and an erase removes it, so a stale answer is never repeated.
No rows are backfilled: without one, a re-send is simply processed again.

Revision ID: 0007_latest_ingestions
Revises: 0004_metric_sources
Create Date: 2026-12-01 12:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_latest_ingestions"
down_revision: str | None = "0004_metric_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "latest_ingestions",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_latest_ingestions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_latest_ingestions")),
    )


def downgrade() -> None:
    op.drop_table("latest_ingestions")

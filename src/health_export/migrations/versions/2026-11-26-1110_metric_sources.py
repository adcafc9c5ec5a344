"""metric_sources: the sources each user's metrics have (kept by the ingest writer).

Revision ID: 0004_metric_sources
Revises: 0003_health_data
Create Date: 2026-11-26 11:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_metric_sources"
down_revision: str | None = "0003_health_data"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_sources",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["metric_types.id"],
            name=op.f("fk_metric_sources_metric_id_metric_types"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_metric_sources_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_metric_sources_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "metric_id", "source_id", name=op.f("pk_metric_sources")
        ),
    )
    op.execute(
        "INSERT INTO metric_sources (user_id, metric_id, source_id) "
        "SELECT DISTINCT user_id, metric_id, source_id FROM metric_samples"
    )


def downgrade() -> None:
    op.drop_table("metric_sources")

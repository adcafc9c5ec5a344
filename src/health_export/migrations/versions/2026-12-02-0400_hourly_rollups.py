"""metric_hourly_rollups: the rollup figures per UTC hour, which ``tz=`` answers regroup.

Kept by the ingest writer and the erase with the daily rollups (from the same scan of
the rows); this revision backfills them from the rows already stored. The backfill's
SQL is a copy frozen here; `health-export rollups rebuild` recomputes with the current.

Revision ID: 0014_hourly_rollups
Revises: 0011_archive_imports
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from health_export.catalog.metrics import METRICS

revision: str = "0014_hourly_rollups"
down_revision: str | None = "0011_archive_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every row summarised per UTC hour and source; the rows of cumulative metrics with
# more than one source once more as periods (source_id 0: one value per start, the
# largest source's).
_BACKFILL = """
INSERT INTO metric_hourly_rollups (user_id, metric_id, hour, source_id,
                                   n, total, n_low, low, n_high, high, qty_total)
WITH per_period_metrics AS (
    SELECT ms.user_id, ms.metric_id FROM metric_sources ms
    JOIN metric_types mt ON mt.id = ms.metric_id AND mt.name = ANY(CAST(:cumulative AS text[]))
    GROUP BY ms.user_id, ms.metric_id HAVING count(*) > 1),
picked AS (
    SELECT user_id, metric_id, source_id, start_at, qty,
           COALESCE(qty, avg, systolic) AS v,
           COALESCE(min, qty, avg, systolic) AS v_low,
           COALESCE(max, qty, avg, systolic) AS v_high
    FROM metric_samples),
periods AS (
    SELECT user_id, metric_id, 0 AS source_id, start_at, max(qty) AS qty,
           max(v) AS v, max(v_low) AS v_low, max(v_high) AS v_high
    FROM picked WHERE (user_id, metric_id) IN (SELECT * FROM per_period_metrics)
    GROUP BY user_id, metric_id, start_at),
both_kinds AS (SELECT * FROM picked UNION ALL SELECT * FROM periods)
SELECT user_id, metric_id, date_trunc('hour', start_at, 'UTC'), source_id,
       count(v), sum(v), count(v_low), min(v_low), count(v_high), max(v_high), sum(qty)
FROM both_kinds GROUP BY 1, 2, 3, 4
"""


def upgrade() -> None:
    op.create_table(
        "metric_hourly_rollups",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Double(), nullable=True),
        sa.Column("n_low", sa.Integer(), nullable=False),
        sa.Column("low", sa.Double(), nullable=True),
        sa.Column("n_high", sa.Integer(), nullable=False),
        sa.Column("high", sa.Double(), nullable=True),
        sa.Column("qty_total", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_metric_hourly_rollups_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "metric_id", "hour", "source_id", name=op.f("pk_metric_hourly_rollups")
        ),
    )
    cumulative = sorted(name for name, spec in METRICS.items() if spec.kind == "sum")
    op.get_bind().execute(sa.text(_BACKFILL), {"cumulative": cumulative})


def downgrade() -> None:
    op.drop_table("metric_hourly_rollups")

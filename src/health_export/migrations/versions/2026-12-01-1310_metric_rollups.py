"""metric_rollups: per user, metric, local day and source, the figures of daily reads.

Kept by the ingest writer and the erase in the same transaction as the rows; this
revision backfills them from the rows already stored, so an upgraded server answers
from them at once. The backfill's SQL is a copy frozen here (the application's may
change with later revisions); `health-export rollups rebuild` recomputes with the
current one.

Revision ID: 0012_metric_rollups
Revises: 0013_job_runs_read_fences
Create Date: 2026-12-01 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from health_export.catalog.metrics import METRICS

revision: str = "0012_metric_rollups"
down_revision: str | None = "0013_job_runs_read_fences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every row summarised per local day and source; the rows of cumulative metrics with
# more than one source once more as periods (source_id 0: one value per start, the
# largest source's, at its largest offset), with an empty period row (first_at NULL)
# for each day holding samples but no period.
_BACKFILL = """
INSERT INTO metric_rollups (user_id, metric_id, day, source_id, first_at, first_off,
                            n, total, n_low, low, n_high, high, qty_total)
WITH per_period_metrics AS (
    SELECT ms.user_id, ms.metric_id FROM metric_sources ms
    JOIN metric_types mt ON mt.id = ms.metric_id AND mt.name = ANY(CAST(:cumulative AS text[]))
    GROUP BY ms.user_id, ms.metric_id HAVING count(*) > 1),
picked AS (
    SELECT user_id, metric_id, source_id, start_at, utc_offset_min AS off, qty,
           COALESCE(qty, avg, systolic) AS v,
           COALESCE(min, qty, avg, systolic) AS v_low,
           COALESCE(max, qty, avg, systolic) AS v_high
    FROM metric_samples),
periods AS (
    SELECT user_id, metric_id, 0 AS source_id, start_at, max(off) AS off, max(qty) AS qty,
           max(v) AS v, max(v_low) AS v_low, max(v_high) AS v_high
    FROM picked WHERE (user_id, metric_id) IN (SELECT * FROM per_period_metrics)
    GROUP BY user_id, metric_id, start_at),
both_kinds AS (
    SELECT user_id, metric_id, source_id, start_at, off, qty, v, v_low, v_high FROM picked
    UNION ALL SELECT * FROM periods),
per_offset AS (
    SELECT user_id, metric_id, source_id,
           ((start_at + make_interval(mins => off)) AT TIME ZONE 'UTC')::date AS day, off,
           min(start_at) AS first_at, count(v) AS n, sum(v) AS total,
           count(v_low) AS n_low, min(v_low) AS low, count(v_high) AS n_high,
           max(v_high) AS high, sum(qty) AS qty_total
    FROM both_kinds GROUP BY 1, 2, 3, 4, 5),
counted_days AS (
    SELECT DISTINCT user_id, metric_id, 0 AS source_id, day, NULL::smallint AS off,
           NULL::timestamptz AS first_at, 0::bigint AS n, NULL::float8 AS total,
           0::bigint AS n_low, NULL::float8 AS low, 0::bigint AS n_high,
           NULL::float8 AS high, NULL::float8 AS qty_total
    FROM per_offset
    WHERE source_id <> 0 AND (user_id, metric_id) IN (SELECT * FROM per_period_metrics)),
parts AS (SELECT * FROM per_offset UNION ALL SELECT * FROM counted_days)
SELECT user_id, metric_id, day, source_id, min(first_at),
       (array_agg(off ORDER BY first_at, off DESC))[1]::smallint,
       sum(n)::int, sum(total), sum(n_low)::int, min(low), sum(n_high)::int, max(high),
       sum(qty_total)
FROM parts GROUP BY user_id, metric_id, day, source_id
"""


def upgrade() -> None:
    op.create_table(
        "metric_rollups",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_off", sa.SmallInteger(), nullable=True),
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
            name=op.f("fk_metric_rollups_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "metric_id", "day", "source_id", name=op.f("pk_metric_rollups")
        ),
    )
    cumulative = sorted(name for name, spec in METRICS.items() if spec.kind == "sum")
    op.get_bind().execute(sa.text(_BACKFILL), {"cumulative": cumulative})


def downgrade() -> None:
    op.drop_table("metric_rollups")

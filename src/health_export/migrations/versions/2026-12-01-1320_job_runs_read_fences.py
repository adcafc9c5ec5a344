"""job_runs and read_fences: background jobs on several hosts, reads on a replica.

``job_runs`` holds one claim row per periodic background job, so a job runs once per
period whichever worker claims it (background/claims.py). ``read_fences`` counts each
user's writes, so a read goes to a streaming replica only once the replica holds the
user's last write (replica/fences.py). Both start empty.

Revision ID: 0013_job_runs_read_fences
Revises: 0010_sync_history
Create Date: 2026-12-01 13:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_job_runs_read_fences"
down_revision: str | None = "0010_sync_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )
    op.create_table(
        "read_fences",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("writes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_read_fences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_read_fences")),
    )


def downgrade() -> None:
    op.drop_table("read_fences")
    op.drop_table("job_runs")

"""activity_summaries: the daily Activity rings of Apple Health archives.

Revision ID: 0011_archive_imports
Revises: 0010_sync_history
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_archive_imports"
down_revision: str | None = "0010_sync_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RING_COLUMNS = (
    "active_energy_kcal",
    "active_energy_goal_kcal",
    "move_time_min",
    "move_time_goal_min",
    "exercise_time_min",
    "exercise_time_goal_min",
    "stand_hours",
    "stand_hours_goal",
)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def _create_activity_summaries() -> None:
    op.create_table(
        "activity_summaries",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[sa.Column(name, sa.Double(), nullable=True) for name in _RING_COLUMNS],
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        _user_fk("activity_summaries"),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_activity_summaries")),
    )


def upgrade() -> None:
    """Create the tables."""
    _create_activity_summaries()


def downgrade() -> None:
    """Drop them."""
    op.drop_table("activity_summaries")

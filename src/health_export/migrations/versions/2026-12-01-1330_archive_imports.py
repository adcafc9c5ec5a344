"""activity_summaries (the daily Activity rings), imports (archives uploaded over HTTP),
import_day_counts (what each archive held per metric and day), and the rule that an
archive's metric row never replaces one the app's feed stored.

Revision ID: 0011_archive_imports
Revises: 0012_metric_rollups
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_archive_imports"
down_revision: str | None = "0012_metric_rollups"
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


def _tz_column(name: str, *, nullable: bool = True, now: bool = False) -> sa.Column[object]:
    default = sa.text("now()") if now else None
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=nullable)


def _jsonb(name: str) -> sa.Column[object]:
    return sa.Column(name, postgresql.JSONB(astext_type=sa.Text()), nullable=True)


def _create_imports() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.Text(), server_default=sa.text("'apple-health'"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("tz", sa.Text(), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("file_bytes", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _jsonb("progress"),
        _jsonb("result"),
        _jsonb("error"),
        _tz_column("created_at", nullable=False, now=True),
        _tz_column("started_at"),
        _tz_column("heartbeat_at"),
        _tz_column("finished_at"),
        _user_fk("imports"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index("ix_imports_user_id_created_at", "imports", ["user_id", "created_at"])
    op.create_index(
        "ix_imports_unfinished",
        "imports",
        ["created_at"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )


def _create_import_day_counts() -> None:
    op.create_table(
        "import_day_counts",
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name=op.f("fk_import_day_counts_import_id_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "metric", "day", name=op.f("pk_import_day_counts")),
    )


# An archive row (attrs.origin = 'archive') meeting a row the feed stored leaves it as
# it is: the update is skipped (counted unchanged). The WHEN clause is evaluated without
# calling the function, so every other update pays one jsonb lookup, nothing more.
_KEEP_FEED_ROW_FUNCTION = """
CREATE FUNCTION keep_feed_metric_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END $$
"""
_KEEP_FEED_ROW_TRIGGER = """
CREATE TRIGGER archive_keeps_feed_rows BEFORE UPDATE ON metric_samples FOR EACH ROW
WHEN (NEW.attrs ->> 'origin' = 'archive' AND OLD.attrs ->> 'origin' IS DISTINCT FROM 'archive')
EXECUTE FUNCTION keep_feed_metric_row()
"""


def upgrade() -> None:
    """Create the tables and the trigger."""
    _create_activity_summaries()
    _create_imports()
    _create_import_day_counts()
    op.execute(_KEEP_FEED_ROW_FUNCTION)
    op.execute(_KEEP_FEED_ROW_TRIGGER)


def downgrade() -> None:
    """Drop them."""
    op.execute("DROP TRIGGER archive_keeps_feed_rows ON metric_samples")
    op.execute("DROP FUNCTION keep_feed_metric_row()")
    op.drop_table("import_day_counts")
    op.drop_table("imports")
    op.drop_table("activity_summaries")

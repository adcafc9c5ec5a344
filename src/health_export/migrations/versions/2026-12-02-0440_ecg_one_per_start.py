"""One ECG recording per user and start second: the app's copy and the archive's of the
same recording are one row (the archive's CSV names no source), and an archive's copy
never replaces the app's.

Revision ID: 0016_ecg_one_per_start
Revises: 0015_samples_int_user_id
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016_ecg_one_per_start"
down_revision: str | None = "0015_samples_int_user_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Copies of one recording (same user, same start second): the app's first (it names
# its source), then the newest revision.
_DUPLICATES = """
DELETE FROM ecg_recordings WHERE ctid IN (
    SELECT ctid FROM (
        SELECT e.ctid, row_number() OVER (
            PARTITION BY e.user_id,
                date_trunc('second', e.start_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
            ORDER BY (e.attrs ->> 'origin' = 'archive' OR src.name = '') NULLS FIRST,
                     e.revision DESC, e.start_at
        ) AS copy
        FROM ecg_recordings e JOIN sources src ON src.id = e.source_id
    ) copies WHERE copy > 1
)
"""
_WHOLE_SECONDS = """
UPDATE ecg_recordings
SET start_at = date_trunc('second', start_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
WHERE start_at <> date_trunc('second', start_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
"""
_KEEP_FEED_ROW_TRIGGER = """
CREATE TRIGGER archive_keeps_feed_ecg BEFORE UPDATE ON ecg_recordings FOR EACH ROW
WHEN (NEW.attrs ->> 'origin' = 'archive' AND OLD.attrs ->> 'origin' IS DISTINCT FROM 'archive')
EXECUTE FUNCTION keep_feed_metric_row()
"""


def upgrade() -> None:
    """Merge the copies, key by (user, start second), keep the app's copy."""
    op.drop_constraint("pk_ecg_recordings", "ecg_recordings", type_="primary")
    op.execute(_DUPLICATES)
    op.execute(_WHOLE_SECONDS)
    op.create_primary_key("pk_ecg_recordings", "ecg_recordings", ["user_id", "start_at"])
    op.execute(_KEEP_FEED_ROW_TRIGGER)


def downgrade() -> None:
    """Back to one row per (user, start, source); merged copies stay merged."""
    op.execute("DROP TRIGGER archive_keeps_feed_ecg ON ecg_recordings")
    op.drop_constraint("pk_ecg_recordings", "ecg_recordings", type_="primary")
    op.create_primary_key(
        "pk_ecg_recordings", "ecg_recordings", ["user_id", "start_at", "source_id"]
    )

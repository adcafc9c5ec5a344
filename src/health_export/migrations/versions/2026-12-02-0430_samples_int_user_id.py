"""metric_samples.user_id as integer: 8 bytes less per row in the heap, 8 in the key.

The heap row had 4 bytes of alignment padding before ``start_at`` after an 8-byte
``user_id`` (then ``revision``, ``metric_id``, ``source_id``), and the primary-key entry
(user, metric, start, source) 4 more before ``start_at``, which MAXALIGN made 8. With a
4-byte ``user_id`` both disappear: 44 → 36 bytes per key entry (with its line pointer)
and 8 fewer per heap row. Measured with bench/storage.py before and after: heap 89.5 →
81.4 B per sample, indexes 75.6 → 60.5, total 165 → 142 (bench/README.md). User
ids stay ``bigint`` in ``users`` and everywhere else; a samples row needs its user's id
below 2^31, far beyond any one server's users.

ALTER COLUMN ... TYPE on the partitioned table rewrites every partition and its
indexes under an ACCESS EXCLUSIVE lock: on a large database, stop the servers first
(README.md, "Operating it", says so). The downgrade widens it back the same way.

Revision ID: 0015_samples_int_user_id
Revises: 0014_hourly_rollups
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_samples_int_user_id"
down_revision: str | None = "0014_hourly_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE metric_samples ALTER COLUMN user_id TYPE integer")


def downgrade() -> None:
    op.execute("ALTER TABLE metric_samples ALTER COLUMN user_id TYPE bigint")

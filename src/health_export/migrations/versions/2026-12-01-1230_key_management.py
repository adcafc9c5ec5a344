"""Key management: the `keys` scope, and keys that die with the session that made them.

Existing keys get no new scope. Until now every key could create, list and revoke its
user's keys; from now on that needs `keys` (or `admin`, which implies it). The keys in
the field are overwhelmingly the phone's (`ingest,read`, made by bootstrap), which
never manage keys, so granting `keys` to them would keep open exactly the hole this
closes. `admin` keys keep managing keys through `admin`. Login sessions still alive get
`keys`, because the dashboard they serve has always managed its user's keys and new
sessions carry it too. Owners of other keys manage keys with the CLI, a login session,
or a new key given the `keys` scope.

Revision ID: 0008_key_management
Revises: 0004_metric_sources
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_key_management"
down_revision: str | None = "0007_latest_ingestions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("session_key_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_api_keys_session_key_id_api_keys",
        "api_keys",
        "api_keys",
        ["session_key_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index("ix_api_keys_session_key_id", "api_keys", ["session_key_id"])
    op.execute(
        "UPDATE api_keys SET scopes = array_append(scopes, 'keys') "
        "WHERE kind = 'session' AND revoked_at IS NULL AND NOT ('keys' = ANY(scopes))"
    )


def downgrade() -> None:
    # Keys tied to a session were meant to die with it: the old schema cannot tie them.
    op.execute("UPDATE api_keys SET revoked_at = now() WHERE session_key_id IS NOT NULL")
    op.execute("UPDATE api_keys SET scopes = array_remove(scopes, 'keys')")
    op.drop_index("ix_api_keys_session_key_id", table_name="api_keys")
    op.drop_constraint("fk_api_keys_session_key_id_api_keys", "api_keys", type_="foreignkey")
    op.drop_column("api_keys", "session_key_id")

"""The ingest's own tables: every body as received, and each user's latest ingestion."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from health_export.core.db import Base
from health_export.schema.columns import tz_column, user_column

metadata = Base.metadata

raw_ingestions = Table(
    "raw_ingestions",
    metadata,
    Column("id", UUID(as_uuid=True), nullable=False),
    tz_column("received_at", nullable=False),
    user_column(checked=False),
    Column("key_id", UUID(as_uuid=True), nullable=True),
    Column("sha256", LargeBinary, nullable=False),
    # The decoded body, zstd-compressed by the server (level 1, in a thread; older rows
    # gzip, told apart by their magic bytes); stored
    # EXTERNAL (no second compression by PostgreSQL), see the migration.
    Column("body", LargeBinary, nullable=False),
    Column("body_bytes", BigInteger, nullable=False),
    Column("content_encoding", Text, nullable=True),
    Column("headers", JSONB, nullable=True),
    Column("status", Text, nullable=False, server_default=text("'received'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("result", JSONB, nullable=True),
    Column("error", Text, nullable=True),
    tz_column("processed_at"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("id", "received_at"),
    Index("ix_raw_ingestions_user_id_sha256", "user_id", "sha256"),
    Index(
        "ix_raw_ingestions_pending",
        "received_at",
        postgresql_where=text("status = 'received'"),
    ),
    postgresql_partition_by="RANGE (received_at)",
)

# Per user, the ingestion whose stored answer still describes the data: replaced by
# each ingestion processed after it, removed by an erase. Only its answer may be given
# again to a byte-identical re-send (docs/ingest.md).
latest_ingestions = Table(
    "latest_ingestions",
    metadata,
    user_column(),
    Column("ingestion_id", UUID(as_uuid=True), nullable=False),
    tz_column("received_at", nullable=False),
    PrimaryKeyConstraint("user_id"),
)

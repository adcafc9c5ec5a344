"""Archive imports uploaded over HTTP: one row per upload, processed by the worker.

The row is committed, and the archive is on disk under IMPORT_DIR, before the upload is
answered 202: a crash or a restart loses neither, and the worker re-runs an import a
dead worker left ``running`` (the import is idempotent by natural keys).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from health_export.core.db import Base

IMPORT_STATUSES = ("queued", "running", "done", "failed")

imports = Table(
    "imports",
    Base.metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("key_id", UUID(as_uuid=True), nullable=True),
    Column("kind", Text, nullable=False, server_default=text("'apple-health'")),
    Column("status", Text, nullable=False, server_default=text("'queued'")),
    # The IANA zone for local days of rows without HKTimeZone (the CLI's --tz).
    Column("tz", Text, nullable=False),
    Column("file_path", Text, nullable=False),
    Column("file_bytes", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("progress", JSONB, nullable=True),
    Column("result", JSONB, nullable=True),
    # A problem+json document when the import failed (e.g. a corrupt archive: 400).
    Column("error", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("started_at", DateTime(timezone=True), nullable=True),
    # Written every few seconds by the worker running the import: a running import whose
    # heartbeat stopped belongs to a dead worker and is run again.
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_imports_user_id_created_at", "user_id", "created_at"),
    Index(
        "ix_imports_unfinished",
        "created_at",
        postgresql_where=text("status IN ('queued', 'running')"),
    ),
)

# What an import's archive held: samples per metric and local day (the coverage report
# compares them with what the app's feed stored).
import_day_counts = Table(
    "import_day_counts",
    Base.metadata,
    Column(
        "import_id",
        UUID(as_uuid=True),
        ForeignKey("imports.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("metric", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("samples", Integer, nullable=False),
    PrimaryKeyConstraint("import_id", "metric", "day"),
)

"""Column shapes the stored tables share: owner, source, instants, offsets, revisions."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Double, ForeignKey, Integer, SmallInteger, text


def tz_column(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


# The partitioned, high-volume tables carry no foreign keys: their three FK triggers
# took 9 of 14 s when upserting 935k metric points (measured). The writer takes user ids
# from the authenticated caller and interned ids from a join with their tables, and
# deleting a user's data goes through DELETE /api/v1/data.
def user_column(*, checked: bool = True) -> Column[object]:
    if not checked:
        return Column("user_id", BigInteger, nullable=False)
    return Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def source_column(*, checked: bool = True) -> Column[object]:
    if not checked:
        return Column("source_id", Integer, nullable=False)
    return Column("source_id", Integer, ForeignKey("sources.id"), nullable=False)


def offset_column() -> Column[object]:
    # The sender's UTC offset at that instant, so "days" are the user's local days.
    return Column("utc_offset_min", SmallInteger, nullable=False)


def revision_column() -> Column[object]:
    # How often a re-send changed this row (0: as first stored). The upsert returns
    # (revision = 0) to tell inserts from updates: RETURNING xmax is refused on
    # partitioned tables.
    return Column("revision", SmallInteger, nullable=False, server_default=text("0"))


def double_columns(*names: str) -> list[Column[object]]:
    return [Column(name, Double, nullable=True) for name in names]

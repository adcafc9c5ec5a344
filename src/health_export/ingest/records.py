"""The normalised form of a payload: one column batch per storage table.

Parsers (``ingest/parsing``) produce a :class:`NormalisedPayload`; the writer
(``ingest/write/writer.py``) stores it. Nothing here knows about HTTP or the database.
Rows are plain tuples in the column order of ``schema.layout.ROW_COLUMNS``, derived from
each Core table (``user_id`` excluded: the writer adds it). Imports no SQLAlchemy (the
parser process fills payloads too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from health_export.schema.written import WRITTEN_TABLES

# A parser row of table T is a tuple in ROW_COLUMNS[T] order (derived from the Core table,
# see schema/layout.py). Python types per column:
#   *_at            datetime (aware, UTC or with offset; the writer stores timestamptz)
#   utc_offset_min  int, the sender's offset from UTC in minutes at that instant
#   attrs/metadata  dict[str, Any] | None (stored as jsonb; extras the app sent)


@dataclass(slots=True)
class PointError:
    """One rejected point: where it was in the payload and why."""

    path: str
    reason: str


@dataclass(slots=True)
class NormalisedPayload:
    """Everything usable in one payload, plus what was rejected or ignored."""

    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in WRITTEN_TABLES}
    )
    errors: list[PointError] = field(default_factory=list)
    # Rejected points counted but not listed (a parser process sends the first ones only).
    more_errors: int = 0
    ignored: list[str] = field(default_factory=list)
    # What the parser met, counted per metric or workout, never per point (read by
    # sync/recorder.py): "metric:<name>" -> points, "field:<name>:<key>" -> 1 for each key
    # of a metric's first point, "workouts:v1" / "workouts:v2" / "workouts:route" -> count.
    seen: dict[str, int] = field(default_factory=dict)
    # Rows a writer has already taken out of ``rows`` while parsing went on, per table.
    taken: dict[str, int] = field(default_factory=dict)
    abandoned: bool = False

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """Append one normalised row to ``table``'s batch."""
        self.rows[table].append(row)

    def reject(self, path: str, reason: str) -> None:
        """Record a rejected point (one error per rejected point)."""
        self.errors.append(PointError(path, reason))

    def note(self, what: str, count: int = 1) -> None:
        """Count something the parser met (see ``seen``)."""
        self.seen[what] = self.seen.get(what, 0) + count

    def take(self, table: str, limit: int | None = None) -> list[tuple[Any, ...]]:
        """Remove and return the rows parsed so far, the first ``limit`` of them at most
        (safe while a parser thread appends).

        Slicing and deleting a list prefix are each atomic under the GIL, and the parser
        only ever appends, so rows appended in between stay for the next take.
        """
        batch = self.rows[table]
        count = len(batch) if limit is None else min(limit, len(batch))
        taken = batch[:count]
        del batch[:count]
        self.taken[table] = self.taken.get(table, 0) + count
        return taken

    def abandon(self) -> None:
        """Nobody will take more rows: a parse still filling this payload stops."""
        self.abandoned = True

    def most_pending(self) -> int:
        """The most rows parsed and not taken yet of any one table."""
        return max(len(rows) for rows in self.rows.values())

    def row_count(self, table: str) -> int:
        """Rows of ``table``, taken or not."""
        return self.taken.get(table, 0) + len(self.rows[table])

    @property
    def received(self) -> int:
        """Every record the sender sent: stored rows plus rejected points."""
        return sum(self.row_count(table) for table in self.rows) + self.rejected

    @property
    def rejected(self) -> int:
        """Every rejected point, listed or not."""
        return len(self.errors) + self.more_errors

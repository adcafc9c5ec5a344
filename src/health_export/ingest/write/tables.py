"""How each normalised batch maps onto its storage table.

A :class:`TableWrite` is one table's write plan: its layout (``schema/layout.py``, derived
from the Core table: row columns, staging types, natural key, partition column) and how
each target column is computed from staging. Plain data, without SQLAlchemy: the worker
hands its plans (``plans.WRITES``) to the parser process.
"""

from __future__ import annotations

from dataclasses import dataclass

from health_export.schema.written import ARRIVES_AS, TableLayout


@dataclass(frozen=True, slots=True)
class TableWrite:
    """The write plan of one table."""

    layout: TableLayout

    @property
    def table(self) -> str:
        return self.layout.table

    @property
    def staging_types(self) -> dict[str, str]:
        """Staging column -> PostgreSQL type, in the parser's row order."""
        return self.layout.staging_types

    @property
    def key(self) -> tuple[str, ...]:
        """The natural key the upsert conflicts on (stored column names)."""
        return self.layout.key

    @property
    def partition_column(self) -> str | None:
        return self.layout.partition_column

    @property
    def staging_columns(self) -> tuple[str, ...]:
        """Staging columns in the parser's row order."""
        return self.layout.columns

    def target_columns(self) -> list[tuple[str, str]]:
        """(target column, SELECT expression over staging alias ``s``) pairs."""
        pairs = [("user_id", "$1::bigint")]
        for column in self.staging_columns:
            pairs.append(_TARGET_OF.get(column, (column, f"s.{column}")))
        return pairs

    def staging_key(self) -> list[str]:
        """The natural key in staging terms (names, not interned ids)."""
        return [f"s.{ARRIVES_AS.get(column, column)}" for column in self.key if column != "user_id"]


# Staging columns that become another target column: interned names become ids (joined
# as ``src`` and ``mt``), and a route's points arrive as WKT text and become geography.
_TARGET_OF = {
    "source": ("source_id", "src.id"),
    "metric": ("metric_id", "mt.id"),
    "points": ("geom", "ST_GeogFromText(s.points)"),
}

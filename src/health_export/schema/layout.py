"""What the writer needs to know of each stored table, derived from its Core table.

The Core tables in ``tables.py`` are the one description of storage. From each table the
parsers fill, this module derives, by code and never by hand:

- the row layout: the parsers' tuples carry the table's columns in table order, minus
  what the writer supplies (``user_id``, from the authenticated caller) and what the
  database keeps (``revision``), with interned ids arriving as names (``metric_id`` as
  ``metric``, ``source_id`` as ``source``) and a route's geography as WKT (``points``);
- the staging (COPY) type of every row column, compiled from the column's type;
- the natural key (the primary key the upsert conflicts on);
- the month-partitioned time column, from ``postgresql_partition_by``.

The names of those tables and the :class:`TableLayout` shape live in ``written.py``,
which needs no SQLAlchemy (the parser process receives the layouts derived here).
``tests/schema/test_layout.py`` holds the layout against the tables and the migrations.
"""

from __future__ import annotations

import re

from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql

from health_export.schema import ingestions, tables
from health_export.schema.written import (
    ARRIVES_AS,
    WRITER_COLUMNS,
    WRITTEN_TABLES,
    TableLayout,
)

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
_PARTITION_BY = re.compile(r"RANGE \((\w+)\)")
_TYPE_NAMES = {"TIMESTAMP WITH TIME ZONE": "timestamptz"}


def _staging_type(column: Column[object]) -> str:
    if column.name in ARRIVES_AS:
        return "text"
    rendered = column.type.compile(dialect=_DIALECT)
    base, brackets = rendered.removesuffix("[]"), "[]" if rendered.endswith("[]") else ""
    return _TYPE_NAMES.get(base, base.lower()) + brackets


def partition_column(table: Table) -> str | None:
    """The column ``table`` is range-partitioned on by month, or None."""
    clause = table.dialect_options["postgresql"].get("partition_by")
    if clause is None:
        return None
    match = _PARTITION_BY.fullmatch(clause)
    if match is None:
        raise ValueError(f"{table.name}: unsupported partitioning {clause!r}")
    return str(match.group(1))


def layout_of(table: Table) -> TableLayout:
    """Derive ``table``'s write layout from its Core definition."""
    # Plain str: SQLAlchemy's names are a str subclass, which orjson refuses as a key.
    stored = [column for column in table.columns if column.name not in WRITER_COLUMNS]
    columns = tuple(str(ARRIVES_AS.get(column.name, column.name)) for column in stored)
    return TableLayout(
        table=str(table.name),
        columns=columns,
        staging_types={
            name: _staging_type(column) for name, column in zip(columns, stored, strict=True)
        },
        key=tuple(str(column.name) for column in table.primary_key.columns),
        partition_column=partition_column(table),
    )


LAYOUTS: dict[str, TableLayout] = {
    name: layout_of(tables.metadata.tables[name]) for name in WRITTEN_TABLES
}
# Column order of each table's rows, as the parsers produce them.
ROW_COLUMNS: dict[str, tuple[str, ...]] = {name: layout.columns for name, layout in LAYOUTS.items()}
# Every month-partitioned table of schema/ (the written ones and raw_ingestions) and its
# time column.
PARTITIONED_TABLES: dict[str, str] = {
    str(table.name): column
    for module in (tables, ingestions)
    for table in vars(module).values()
    if isinstance(table, Table) and (column := partition_column(table)) is not None
}

"""The write layout derived from the Core tables agrees with the migrated database.

The migration test proves the Core tables and the migrations have no drift; this one
proves what the writer derives from the Core tables (row columns, COPY types, natural
keys, partition columns) is what PostgreSQL really has after ``alembic upgrade head``.
"""

from __future__ import annotations

import asyncpg
import pytest

from health_export.ingest.records import NormalisedPayload
from health_export.schema.layout import LAYOUTS, PARTITIONED_TABLES, ROW_COLUMNS
from health_export.schema.written import ARRIVES_AS, WRITTEN_TABLES

pytestmark = pytest.mark.asyncio

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_PRIMARY_KEY = """
SELECT array_agg(a.attname ORDER BY k.n) AS key
FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.conrelid = $1::regclass AND c.contype = 'p'
"""
_PARTITIONED = """
SELECT c.relname, a.attname
FROM pg_partitioned_table p
JOIN pg_class c ON c.oid = p.partrelid
JOIN pg_namespace ns ON ns.oid = c.relnamespace AND ns.nspname = 'public'
JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
WHERE p.partstrat = 'r'
"""


async def _connect(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))


async def test_row_columns_and_types_are_the_databases(database_url: str) -> None:
    conn = await _connect(database_url)
    try:
        for table in WRITTEN_TABLES:
            layout = LAYOUTS[table]
            stored = [(row["attname"], row["type"]) for row in await conn.fetch(_COLUMNS, table)]
            sent = [(name, kind) for name, kind in stored if name not in ("user_id", "revision")]
            assert layout.columns == tuple(ARRIVES_AS.get(name, name) for name, _ in sent), table
            for name, kind in sent:
                staged = layout.staging_types[ARRIVES_AS.get(name, name)]
                if name in ARRIVES_AS:
                    assert staged == "text", (table, name)
                else:
                    expected = kind.replace("timestamp with time zone", "timestamptz")
                    assert staged == expected, (table, name, staged, kind)
    finally:
        await conn.close()


async def test_keys_are_the_primary_keys(database_url: str) -> None:
    conn = await _connect(database_url)
    try:
        for table in WRITTEN_TABLES:
            key = await conn.fetchval(_PRIMARY_KEY, table)
            assert tuple(key) == LAYOUTS[table].key, table
    finally:
        await conn.close()


async def test_partitioned_tables_are_the_databases(database_url: str) -> None:
    conn = await _connect(database_url)
    try:
        found = {row["relname"]: row["attname"] for row in await conn.fetch(_PARTITIONED)}
    finally:
        await conn.close()
    # Every partitioned table is one of tables.py, so partitions are made for all of them.
    assert found == PARTITIONED_TABLES
    assert "raw_ingestions" in PARTITIONED_TABLES
    for table in WRITTEN_TABLES:
        assert LAYOUTS[table].partition_column == found.get(table), table


async def test_every_written_table_has_a_batch() -> None:
    assert set(NormalisedPayload().rows) == set(ROW_COLUMNS) == set(WRITTEN_TABLES)

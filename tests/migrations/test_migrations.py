"""Migrations: upgrade → downgrade → upgrade works, and the models match the schema."""

from __future__ import annotations

import asyncio
import os

import asyncpg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from health_export.migrations.env_support import include_object
from health_export.migrations_head import alembic_config, expected_head
from health_export.models_registry import metadata
from tests.fixtures.databases import drop_database, fresh_database


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"include_object": include_object, "compare_type": True}
    )
    return list(compare_metadata(context, metadata))


async def _schema_diff(url: str) -> list[object]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


async def _revision(url: str) -> str | None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        exists = await conn.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
        return await conn.fetchval("SELECT version_num FROM alembic_version") if exists else None
    finally:
        await conn.close()


def test_upgrade_downgrade_upgrade_leaves_no_drift() -> None:
    name = f"health_export_migrations_{os.getpid()}"
    url = asyncio.run(fresh_database(name))
    try:
        config = alembic_config(url)
        command.upgrade(config, "head")
        assert asyncio.run(_revision(url)) == expected_head()
        command.downgrade(config, "base")
        assert asyncio.run(_revision(url)) is None
        command.upgrade(config, "head")
        assert asyncio.run(_revision(url)) == expected_head()
        assert asyncio.run(_schema_diff(url)) == []
    finally:
        asyncio.run(drop_database(name))

"""The asyncpg driver, without SQLAlchemy: its jsonb codec and lent connections.

The parser process (``ingest/parser_child.py``) imports this and not ``core/db.py``: it
works on asyncpg alone. Both sides lend driver connections through :class:`Connections`
(over an asyncpg pool there, over the engine's pool here: ``core.db.connections_of``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson


def _jsonb_encode(value: Any) -> bytes:
    # asyncpg's binary jsonb format is a version byte then the text; SQLAlchemy hands us
    # strings already serialised, the parsers hand us Python objects.
    if isinstance(value, str):
        return b"\x01" + value.encode()
    return b"\x01" + orjson.dumps(value)


def _jsonb_decode(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def register_codecs(apg: Any) -> None:
    """Our jsonb codec on ``apg``: Python objects or serialised text in, objects out."""
    await apg.set_type_codec(
        "jsonb",
        encoder=_jsonb_encode,
        decoder=_jsonb_decode,
        schema="pg_catalog",
        format="binary",
    )


class Connections:
    """Driver connections, each lent for one block (autocommit unless the block opens a
    transaction), and what this process knows of the database behind them: the names
    interned and the partitions made (neither is ever undone behind its back, except
    partitions dropped by retention, which forgets them here).
    """

    def __init__(self, acquire: Callable[[], AbstractAsyncContextManager[Any]]) -> None:
        self.acquire = acquire
        self.known_names: set[tuple[str, str]] = set()
        self.known_partitions: set[str] = set()

"""Which database failures count as transient (retried, then a 503), from either layer.

Driver-level work (name interning, partitions, the COPY of batches) raises asyncpg's own
errors, the rest SQLAlchemy's wrapping of them: both are judged by their SQL state.
"""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError

from health_export.core.db import is_database_unavailable


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), True),
        (asyncpg.exceptions.SerializationError("could not serialize access"), True),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), True),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), False),
        (asyncpg.exceptions.UndefinedTableError("relation does not exist"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_driver_and_wrapped_errors_are_judged_alike(error: Exception, transient: bool) -> None:
    wrapped = DBAPIError("statement", {}, error)
    assert is_database_unavailable(error) is transient
    assert is_database_unavailable(wrapped) is transient

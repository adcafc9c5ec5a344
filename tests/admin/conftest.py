"""Fixtures of the admin tests (shared with other packages through tests.fixtures.auth)."""

from tests.fixtures.auth import admin_key, auth_client, ingest_key, make_key

__all__ = ["admin_key", "auth_client", "ingest_key", "make_key"]

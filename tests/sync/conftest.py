"""Fixtures of the sync tests."""

from tests.fixtures.receiver import receiver

__all__ = ["receiver"]

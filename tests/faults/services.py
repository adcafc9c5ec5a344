"""Stop and start the fault tests' own PostgreSQL and Redis (never the shared ones)."""

from __future__ import annotations

from tests.reliability import services


def _dedicated() -> services.DedicatedServices:
    # Started by the `dedicated` session fixture; acquire() returns the same instance.
    owned = services.acquire()
    services.release()
    return owned


def stop_postgres() -> None:
    """Stop the dedicated cluster at once (as a crash or an operator would)."""
    _dedicated().postgres.stop("immediate")


def start_postgres() -> None:
    """Start the dedicated cluster (if stopped) and wait until it accepts connections."""
    _dedicated().postgres.start()


def stop_redis() -> None:
    """Kill the dedicated Redis."""
    _dedicated().redis.kill()


def start_redis() -> None:
    """Start the dedicated Redis (if stopped) and wait for PONG."""
    _dedicated().redis.start()

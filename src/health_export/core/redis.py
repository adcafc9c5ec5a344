"""The optional Redis client: absent or down never stops the service."""

from __future__ import annotations

from redis.asyncio import Redis

REDIS_TIMEOUT_S = 0.5


def create_redis(url: str | None) -> Redis | None:
    """A client with short timeouts (a slow Redis must not slow requests), or None."""
    if not url:
        return None
    client: Redis = Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        health_check_interval=30,
        decode_responses=False,
    )
    return client


async def redis_is_up(client: Redis | None) -> bool:
    """Whether Redis answers a PING now."""
    if client is None:
        return False
    try:
        return bool(await client.ping())
    except Exception:
        return False

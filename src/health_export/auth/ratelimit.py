"""Fixed-window rate limits: atomic in Redis (Lua), in-process while Redis is away."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from health_export.core.logging import get_logger
from health_export.ops.metrics import RequestMetrics

log = get_logger("health_export.ratelimit")
PROBE_INTERVAL_S = 1.0
FAILURE_WINDOW_S = 60
MEMORY_MAX_WINDOWS = 100_000

# INCR and set the expiry in one step, so concurrent workers can never both start a window.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Password attempts allowed per client address a minute and per account a window."""

    per_address: int
    per_account: int
    account_window_s: int = 3600


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of counting one request against one limit."""

    policy: str
    limit: int
    window_s: int
    count: int
    reset_s: int

    @property
    def allowed(self) -> bool:
        """Whether the request fits in the limit."""
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        """Requests left in this window."""
        return max(0, self.limit - self.count)


class MemoryWindows:
    """Fixed-window counters of this process alone."""

    def __init__(self, max_windows: int = MEMORY_MAX_WINDOWS) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._max_windows = max_windows

    def hit(self, name: str, window_ms: int) -> tuple[int, int]:
        """Count one hit; the count so far and the milliseconds left in the window.

        Atomic like the Lua script: there is no await between reading and writing.
        """
        now = time.monotonic()
        ends_at, count = self._windows.get(name, (0.0, 0))
        if ends_at <= now:
            self._make_room(now)
            ends_at, count = now + window_ms / 1000, 0
        self._windows[name] = (ends_at, count + 1)
        return count + 1, max(1, int((ends_at - now) * 1000))

    def _make_room(self, now: float) -> None:
        if len(self._windows) < self._max_windows:
            return
        self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        if len(self._windows) >= self._max_windows:  # all live: forget the oldest half
            keep = sorted(self._windows.items(), key=lambda item: item[1][0])
            self._windows = dict(keep[len(keep) // 2 :])


class RateLimiter:
    """Per-user budgets by scope, per-IP failure limits and login-attempt limits."""

    def __init__(
        self,
        redis: Redis | None,
        *,
        prefix: str,
        budget_limits: dict[str, int],
        window_s: int,
        failure_limit: int,
        login_limits: LoginLimits,
        failure_audit_limit: int,
        metrics: RequestMetrics | None = None,
    ) -> None:
        self._redis = redis
        self._script = redis.register_script(_HIT_SCRIPT) if redis is not None else None
        self._prefix = prefix
        self.budget_limits, self.window_s = budget_limits, window_s
        self.failure_limit = failure_limit
        self.login_limits = login_limits
        self.failure_audit_limit = failure_audit_limit
        self._metrics = metrics
        self._memory = MemoryWindows()
        self._in_fallback = False
        self._last_probe = 0.0
        self._probe: asyncio.Task[None] | None = None

    @property
    def is_degraded(self) -> bool:
        """Whether Redis is configured but limits are being kept in-process."""
        return self._in_fallback

    @property
    def backend(self) -> str:
        """Where counts are kept now: ``redis`` or ``memory``."""
        return "redis" if self._script is not None and not self._in_fallback else "memory"

    async def hit_user(self, user_id: int, budget: str) -> Decision:
        """Count one request of ``user_id`` (any of their keys) against ``budget``."""
        limit = self.budget_limits[budget]
        count, ttl_ms = await self._hit(f"user:{user_id}:{budget}", self.window_s * 1000)
        return Decision(budget, limit, self.window_s, count, _seconds(ttl_ms))

    async def hit_failure(self, ip: str) -> Decision:
        """Count one failed authentication from ``ip``."""
        count, ttl_ms = await self._hit(f"authfail:{ip}", FAILURE_WINDOW_S * 1000)
        return Decision(
            "auth-failures", self.failure_limit, FAILURE_WINDOW_S, count, _seconds(ttl_ms)
        )

    async def hit_login(self, ip: str, account: str) -> Decision:
        """Count one password attempt, before it is checked: the tighter of both limits.

        Counting first (one atomic INCR each) is what makes concurrent guesses unable to
        slip past the limit while earlier ones are still being verified.
        """
        limits = self.login_limits
        by_address = await self._hit_login(f"login:ip:{ip}", FAILURE_WINDOW_S * 1000)
        by_account = await self._hit_login(f"login:user:{account}", limits.account_window_s * 1000)
        address = Decision(
            "login-address",
            limits.per_address,
            FAILURE_WINDOW_S,
            by_address[0],
            _seconds(by_address[1]),
        )
        account_decision = Decision(
            "login-account",
            limits.per_account,
            limits.account_window_s,
            by_account[0],
            _seconds(by_account[1]),
        )
        return address if not address.allowed or account_decision.allowed else account_decision

    async def may_audit_failure(self) -> bool:
        """Whether one more failed-authentication row fits this minute's audit budget."""
        count, _ = await self._hit("authaudit", FAILURE_WINDOW_S * 1000)
        return count <= self.failure_audit_limit

    async def _hit(self, name: str, window_ms: int) -> tuple[int, int]:
        if self._script is not None and not self._in_fallback:
            try:
                count, ttl_ms = await self._script(keys=[self._prefix + name], args=[window_ms])
                return int(count), int(ttl_ms)
            except (TimeoutError, RedisError, OSError) as exc:
                self._enter_fallback(exc)
        elif self._in_fallback:
            self._maybe_probe()
        return self._memory.hit(name, window_ms)

    async def _hit_login(self, name: str, window_ms: int) -> tuple[int, int]:
        """A password attempt, counted in this process too, whatever the backend.

        Under load a Redis call can time out mid-burst, and the limiter then counts in
        this process. Had only Redis counted the burst so far, the in-process window
        would start from zero and let a whole second limit of guesses be checked; with
        every attempt also counted here, it starts from what this process has already
        let through. With Redis up, Redis's count decides: it counts every worker's
        attempts, in the order they reached it (the higher of two counts made in two
        orders would refuse concurrent attempts the limit allows).
        """
        local = self._memory.hit(name, window_ms)
        if self._script is not None and not self._in_fallback:
            try:
                count, ttl_ms = await self._script(keys=[self._prefix + name], args=[window_ms])
                return int(count), int(ttl_ms)
            except (TimeoutError, RedisError, OSError) as exc:
                self._enter_fallback(exc)
        elif self._in_fallback:
            self._maybe_probe()
        return local

    def probe_soon(self) -> None:
        """While in fallback, check in the background whether Redis is back."""
        if self._in_fallback:
            self._maybe_probe()

    def _enter_fallback(self, exc: BaseException) -> None:
        self._in_fallback = True
        self._last_probe = time.monotonic()
        self._set_gauge(1)
        log.warning("rate_limit_fallback", backend="memory", error=type(exc).__name__)

    def _maybe_probe(self) -> None:
        now = time.monotonic()
        if self._probe is not None or now - self._last_probe < PROBE_INTERVAL_S:
            return
        self._last_probe = now
        self._probe = asyncio.create_task(self._probe_redis())

    async def _probe_redis(self) -> None:
        try:
            assert self._redis is not None  # noqa: S101 - only probed when configured
            if await self._redis.ping():
                self._in_fallback = False
                self._set_gauge(0)
                log.info("rate_limit_restored", backend="redis")
        except (TimeoutError, RedisError, OSError):
            pass
        finally:
            self._probe = None

    def _set_gauge(self, value: int) -> None:
        if self._metrics is not None:
            self._metrics.rate_limit_fallback.set(value)

    async def close(self) -> None:
        """Stop a probe in flight."""
        if self._probe is not None:
            self._probe.cancel()


def _seconds(ttl_ms: int) -> int:
    return max(1, math.ceil(ttl_ms / 1000))


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    """IETF draft `RateLimit`/`RateLimit-Policy` plus the older `X-RateLimit-*` headers."""
    return {
        "RateLimit-Policy": f'"{decision.policy}";q={decision.limit};w={decision.window_s}',
        "RateLimit": f'"{decision.policy}";r={decision.remaining};t={decision.reset_s}',
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset_s),
    }

"""What authentication keeps for the app's lifetime: limiter, key cache, usage writer."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_export.auth.keycache import KeyCache
from health_export.auth.passwords import PasswordGate
from health_export.auth.principal import BUDGETS
from health_export.auth.ratelimit import LoginLimits, RateLimiter
from health_export.auth.usage import KeyUsageRecorder
from health_export.core.config import Settings
from health_export.ops.metrics import RequestMetrics


@dataclass(slots=True)
class AuthState:
    """The app's authentication machinery (``app.state.auth``)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    limiter: RateLimiter
    cache: KeyCache
    usage: KeyUsageRecorder
    password_checks: PasswordGate

    async def aclose(self) -> None:
        """Write pending key usage and stop background work."""
        await self.usage.stop()
        await self.limiter.close()


def build_auth_state(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis | None,
    metrics: RequestMetrics | None,
) -> AuthState:
    """Build (and start) the authentication machinery for one app."""
    limiter = RateLimiter(
        redis,
        prefix=settings.rate_limit_key_prefix,
        budget_limits={budget: settings.rate_limit_for(budget) for budget in BUDGETS},
        window_s=settings.rate_limit_window_seconds,
        failure_limit=settings.auth_failure_limit_per_minute,
        login_limits=LoginLimits(
            per_address=settings.login_limit_per_address_per_minute,
            per_account=settings.login_limit_per_account_per_hour,
        ),
        failure_audit_limit=settings.auth_failure_audit_per_minute,
        metrics=metrics,
    )
    usage = KeyUsageRecorder(sessionmaker)
    usage.start()
    return AuthState(
        sessionmaker=sessionmaker,
        limiter=limiter,
        cache=KeyCache(),
        usage=usage,
        password_checks=PasswordGate(settings.login_concurrency),
    )


def auth_state(request: Request) -> AuthState:
    """The running app's authentication machinery."""
    return auth_state_of(request.app)


def auth_state_of(app: FastAPI) -> AuthState:
    """A started ``app``'s authentication machinery."""
    state = getattr(app.state, "auth", None)
    if not isinstance(state, AuthState):
        raise RuntimeError("the app has not started: its lifespan did not run")
    return state

"""FastAPI dependencies: authenticate, rate-limit, check the scope, hand over the Principal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response

from health_export.auth.authenticate import authenticate
from health_export.auth.principal import Principal, Scope, budget_of
from health_export.auth.ratelimit import Decision, rate_limit_headers
from health_export.auth.state import auth_state
from health_export.core.errors import Forbidden, TooManyRequests


def require_scope(scope: Scope | None) -> Callable[[Request, Response], Awaitable[Principal]]:
    """A dependency: 401 without a valid key, 429 over the limit, 403 without ``scope``."""

    async def dependency(request: Request, response: Response) -> Principal:
        principal = await authenticate(request)
        decision = await _count(request, principal, scope)
        headers = rate_limit_headers(decision)
        if not decision.allowed:
            retry = {"Retry-After": str(decision.reset_s)}
            detail = f"the {decision.policy!r} rate limit of this user is spent; retry later"
            raise TooManyRequests(detail, headers=headers | retry)
        response.headers.update(headers)
        if scope is not None and not principal.has_scope(scope):
            raise Forbidden(f"this key lacks the {scope.value!r} scope", headers=headers)
        return principal

    return dependency


async def _count(request: Request, principal: Principal, scope: Scope | None) -> Decision:
    # Once per request, in the budget of the route's scope, shared by all the user's keys:
    # a key minted to get a fresh count gets none, and reads cannot starve the ingest.
    decision: Decision | None = getattr(request.state, "rate_limit", None)
    if decision is None:
        limiter = auth_state(request).limiter
        decision = await limiter.hit_user(principal.user_id, budget_of(scope, principal))
        request.state.rate_limit = decision
    return decision


def rate_limit_of(request: Request) -> Decision | None:
    """This request's rate-limit decision (for routes that build their own Response)."""
    decision: Decision | None = getattr(request.state, "rate_limit", None)
    return decision


def rate_limit_headers_of(request: Request) -> dict[str, str]:
    """The rate-limit headers to copy onto a Response a route builds itself."""
    decision = rate_limit_of(request)
    return rate_limit_headers(decision) if decision is not None else {}


AnyPrincipal = Annotated[Principal, Depends(require_scope(None))]
# Any valid key; the route itself checks that the caller owns what it asks for.
OwnerPrincipal = AnyPrincipal
IngestPrincipal = Annotated[Principal, Depends(require_scope(Scope.INGEST))]
ReadPrincipal = Annotated[Principal, Depends(require_scope(Scope.READ))]
AdminPrincipal = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]
KeysPrincipal = Annotated[Principal, Depends(require_scope(Scope.KEYS))]

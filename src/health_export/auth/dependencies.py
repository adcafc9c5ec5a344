"""FastAPI dependencies: authenticate, rate-limit, check the scope, hand over the Principal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from health_export.auth.authenticate import authenticate
from health_export.auth.principal import Principal, Scope, budget_of
from health_export.auth.ratelimit import Decision, rate_limit_headers
from health_export.auth.state import auth_state
from health_export.core.errors import Forbidden, TooManyRequests

# The two ways to send a key, declared so OpenAPI lists them on every protected operation
# (Swagger UI's Authorize). They never refuse anything themselves: authenticate() reads
# the headers and answers every failure alike.
BEARER_KEY = HTTPBearer(
    scheme_name="bearer", description="Authorization: Bearer <key>", auto_error=False
)
HEADER_KEY = APIKeyHeader(
    name="X-API-Key", scheme_name="X-API-Key", description="X-API-Key: <key>", auto_error=False
)
BearerDeclared = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_KEY)]
HeaderDeclared = Annotated[str | None, Security(HEADER_KEY)]


def require_scope(scope: Scope | None) -> Callable[..., Awaitable[Principal]]:
    """A dependency: 401 without a valid key, 429 over the limit, 403 without ``scope``."""

    async def dependency(
        request: Request, response: Response, _bearer: BearerDeclared, _header: HeaderDeclared
    ) -> Principal:
        return await authorize(request, response, scope)

    return dependency


async def authorize(request: Request, response: Response, scope: Scope | None) -> Principal:
    """The caller's principal: 401 without a valid key, 429 over the user's budget for
    ``scope``, 403 without ``scope``; the rate-limit headers are set on ``response``."""
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
IngestPrincipal = Annotated[Principal, Depends(require_scope(Scope.INGEST))]
ReadPrincipal = Annotated[Principal, Depends(require_scope(Scope.READ))]
AdminPrincipal = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]
KeysPrincipal = Annotated[Principal, Depends(require_scope(Scope.KEYS))]

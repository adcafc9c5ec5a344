"""Who is calling: read the key, look it up (cached), refuse every failure alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NoReturn

import structlog
from fastapi import Request

from health_export.auth import keys, repository
from health_export.auth.audit import RequestOrigin, origin_of, record_auth_failure
from health_export.auth.origin import check_same_origin
from health_export.auth.principal import Principal, Scope
from health_export.auth.ratelimit import Decision, rate_limit_headers
from health_export.auth.repository import KeyOwner
from health_export.auth.state import AuthState, auth_state
from health_export.core.db import is_database_unavailable, with_transient_retry
from health_export.core.errors import ServiceUnavailable, TooManyRequests, Unauthorized

# `__Host-` (Secure, Path=/, no Domain: no sibling sub-domain can plant or read it) over
# https; the plain name where a browser would refuse a Secure cookie (http on a LAN).
SESSION_COOKIE = "he_session"
SECURE_SESSION_COOKIE = "__Host-he_session"
UNAUTHORIZED_DETAIL = (
    "a valid API key is required, as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
)
# Only the header's shape is described: what was wrong with a key itself never is.
BEARER_EXPECTED = (
    "the Authorization header must be 'Bearer <key>' (the word Bearer, a space, the key); "
    "or send the key alone in 'X-API-Key: <key>'"
)
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="health-export"'}
_VALID_SCOPES = frozenset(scope.value for scope in Scope)


class _Failure(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def header_misuse(request: Request) -> str | None:
    """How to send the key, when the Authorization header is not `Bearer <key>`."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return BEARER_EXPECTED
    return None


def presented_key(request: Request) -> tuple[str | None, bool]:
    """The key from `Authorization: Bearer`, `X-API-Key` or the session cookie, if any.

    The second value says whether it came from the cookie (a browser's credential).
    """
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        return (value.strip() if scheme.lower() == "bearer" else ""), False
    api_key = request.headers.get("x-api-key")
    if api_key is not None:
        return api_key.strip(), False
    cookie = session_cookie_value(request)
    return cookie, cookie is not None


def session_cookie_value(request: Request) -> str | None:
    """The session cookie's value: the `__Host-` one, or over http the plain one."""
    secure = request.cookies.get(SECURE_SESSION_COOKIE)
    if secure is not None or request.url.scheme == "https":
        # Over https only the prefixed cookie counts: a plain one may have been planted.
        return secure
    return request.cookies.get(SESSION_COOKIE)


async def authenticate(request: Request) -> Principal:
    """The caller (computed once per request); 401, or 403 for a cross-site cookie write."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    state = auth_state(request)
    origin = origin_of(request)
    value, via_cookie = presented_key(request)
    try:
        owner = await _owner_of(state, value)
    except _Failure as failure:
        await refuse(state, failure.reason, origin, header_misuse(request))
    if via_cookie:
        check_same_origin(request)
    principal = _principal(owner)
    state.usage.note(owner.key_id, origin.ip)
    _mark_request(request, principal)
    request.state.principal = principal
    return principal


async def _owner_of(state: AuthState, value: str | None) -> KeyOwner:
    if value is None:
        raise _Failure("missing")
    if not value or keys.format_of(value) is None:
        raise _Failure("malformed")
    owner = await _lookup(state, keys.digest(value))
    if owner is None:
        raise _Failure("unknown")
    now = datetime.now(UTC)
    if owner.revoked_at is not None or owner.session_revoked_at is not None:
        raise _Failure("revoked")
    for ends_at in (owner.expires_at, owner.session_expires_at):
        if ends_at is not None and ends_at <= now:
            raise _Failure("expired")
    if owner.user_disabled_at is not None:
        raise _Failure("user_disabled")
    return owner


async def _lookup(state: AuthState, digest: bytes) -> KeyOwner | None:
    found, owner = state.cache.get(digest)
    if found:
        return owner

    # Its own short session: a long request must not hold a transaction open for this.
    async def query() -> KeyOwner | None:
        async with state.sessionmaker() as session:
            return await repository.find_key_owner(session, digest)

    try:
        owner = await with_transient_retry(query, attempts=2)
    except Exception as exc:
        if is_database_unavailable(exc):  # never fail open, never 500
            raise ServiceUnavailable("the database is unavailable; retry later") from exc
        raise
    state.cache.put(digest, owner)
    return owner


async def refuse(
    state: AuthState, reason: str, origin: RequestOrigin, detail: str | None = None
) -> NoReturn:
    """Count a failed authentication against its IP, audit it, answer 401 (or 429)."""
    decision = await state.limiter.hit_failure(origin.ip or "unknown")
    if not decision.allowed:
        if decision.count == decision.limit + 1:  # audit the throttle once per window
            await audit_failure(state, "throttled", origin)
        throttled(decision, "too many failed authentications; retry later")
    await audit_failure(state, reason, origin)
    raise Unauthorized(detail or UNAUTHORIZED_DETAIL, headers=dict(WWW_AUTHENTICATE))


def throttled(decision: Decision, detail: str) -> NoReturn:
    """429 with the limit's headers and Retry-After."""
    headers = {**rate_limit_headers(decision), "Retry-After": str(decision.reset_s)}
    raise TooManyRequests(detail, headers=headers)


async def audit_failure(state: AuthState, reason: str, origin: RequestOrigin) -> None:
    """Write an `auth.failed` row unless this minute's budget of them is spent.

    Per address, failures are throttled; this bounds the rows many addresses together
    can write (an IPv6 client has millions of addresses).
    """
    if await state.limiter.may_audit_failure():
        await record_auth_failure(state.sessionmaker, reason, origin)


def _principal(owner: KeyOwner) -> Principal:
    scopes = {Scope(s) for s in owner.scopes if s in _VALID_SCOPES}
    if not owner.is_admin:  # a demoted admin's old admin keys lose the admin scope
        scopes.discard(Scope.ADMIN)
    is_session = owner.kind == "session"
    ends = [at for at in (owner.expires_at, owner.session_expires_at) if at is not None]
    return Principal(
        user_id=owner.user_id,
        user_name=owner.user_name,
        is_admin=owner.is_admin,
        scopes=frozenset(scopes),
        key_id=owner.key_id,
        expires_at=min(ends) if ends else None,
        session_key_id=owner.key_id if is_session else owner.session_key_id,
    )


def _mark_request(request: Request, principal: Principal) -> None:
    principal_id = f"user:{principal.user_id}/key:{principal.key_id}"
    request.scope.setdefault("state", {})["principal_id"] = principal_id
    structlog.contextvars.bind_contextvars(principal_id=principal_id)

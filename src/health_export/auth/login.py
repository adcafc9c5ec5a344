"""Password checks: dashboard login and re-entered passwords, throttled before Argon2.

Every attempt is counted (atomically, per address and per account) before its
password is verified, so concurrent guesses cannot all be checked while the first are
still running; the hash is read on a connection given back before Argon2 runs; and at
most LOGIN_CONCURRENCY checks run at once per process.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response

from health_export.auth import service
from health_export.auth.audit import RequestOrigin, origin_of
from health_export.auth.authenticate import (
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    audit_failure,
    refuse,
    throttled,
)
from health_export.auth.origin import check_same_origin
from health_export.auth.principal import Principal
from health_export.auth.state import AuthState, auth_state
from health_export.core.errors import Forbidden
from health_export.core.state import core_state


async def _checked_credentials(
    state: AuthState, origin: RequestOrigin, name: str, password: str
) -> service.Credentials | None:
    """The user's credentials when ``password`` is theirs; None otherwise (or 429/503)."""
    decision = await state.limiter.hit_login(origin.ip or "unknown", name.casefold())
    if not decision.allowed:
        if decision.count == decision.limit + 1:  # one row per window and limit
            await audit_failure(state, "login_throttled", origin)
        # Passwords are guessable: a throttled attempt gets no verdict, right or wrong.
        throttled(decision, "too many password attempts; retry later")
    credentials = await service.credentials_of(state.sessionmaker, name)
    password_hash = credentials.password_hash if credentials is not None else None
    if not await state.password_checks.verify(password_hash, password):
        return None
    if credentials is None or credentials.is_disabled:
        return None
    return credentials


async def password_login(request: Request, name: str, password: str) -> service.NewKey:
    """A new login session for ``name``, or 401/429 (the same 401 for every failure)."""
    check_same_origin(request)  # no login CSRF: another site cannot log a browser in
    state, origin = auth_state(request), origin_of(request)
    credentials = await _checked_credentials(state, origin, name, password)
    if credentials is None:
        await refuse(state, "bad_password", origin)
    ttl = timedelta(seconds=core_state(request).settings.session_ttl_seconds)
    async with state.sessionmaker() as session, session.begin():
        return await service.start_session(session, credentials, ttl, origin)


async def confirm_password(request: Request, principal: Principal, password: str) -> None:
    """403 unless ``password`` is the caller's user's (counted like a login attempt)."""
    state, origin = auth_state(request), origin_of(request)
    if await _checked_credentials(state, origin, principal.user_name, password) is None:
        await audit_failure(state, "wrong_password_confirmation", origin)
        raise Forbidden("the password is not this user's")


def uses_secure_cookie(request: Request) -> bool:
    """`__Host-` + Secure over https (or when SESSION_COOKIE_SECURE says the proxy is TLS)."""
    forced: bool = core_state(request).settings.session_cookie_secure
    return forced or request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, `__Host-` and Secure where possible."""
    secure = uses_secure_cookie(request)
    response.set_cookie(
        SECURE_SESSION_COOKIE if secure else SESSION_COOKIE,
        value,
        max_age=core_state(request).settings.session_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )


def clear_session_cookies(response: Response) -> None:
    """Delete both session cookie names."""
    response.delete_cookie(SECURE_SESSION_COOKIE, path="/", secure=True, httponly=True)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True)

"""Dashboard login: Argon2id password, short-lived HttpOnly SameSite=Strict cookie."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.auth import create_user_with_key


async def test_login_sets_a_strict_httponly_cookie_that_authenticates(
    app: Any, auth_client: httpx.AsyncClient
) -> None:
    user = await create_user_with_key(app, password="correct horse battery")
    response = await auth_client.post(
        "/api/v1/auth/login", json={"name": user.user_name, "password": "correct horse battery"}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie
    listed = await auth_client.get("/api/v1/auth/keys")
    assert listed.status_code == 200
    assert all(key["user_id"] == user.user_id for key in listed.json())
    assert (await auth_client.post("/api/v1/auth/logout")).status_code == 204
    assert (await auth_client.get("/api/v1/auth/keys")).status_code == 401


async def test_wrong_password_and_unknown_user_get_the_same_401(
    app: Any, auth_client: httpx.AsyncClient
) -> None:
    user = await create_user_with_key(app, password="correct horse battery")
    wrong = await auth_client.post(
        "/api/v1/auth/login", json={"name": user.user_name, "password": "nope"}
    )
    unknown = await auth_client.post(
        "/api/v1/auth/login", json={"name": "nobody-at-all", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]

"""The session cookie: `__Host-` over https, refused cross-site, ended by any logout."""

from __future__ import annotations

from typing import Any

import httpx

from tests.auth.clients import PASSWORD, client_of
from tests.fixtures.auth import TestKey, create_user_with_key, unique_ip

KEYS = "/api/v1/auth/keys"


async def _logged_in(app: Any, http: httpx.AsyncClient) -> TestKey:
    user = await create_user_with_key(app, password=PASSWORD)
    response = await http.post(
        "/api/v1/auth/login", json={"name": user.user_name, "password": PASSWORD}
    )
    assert response.status_code == 200
    return user


async def test_a_cookie_write_from_a_foreign_origin_is_refused(
    app: Any, auth_client: httpx.AsyncClient
) -> None:
    await _logged_in(app, auth_client)
    body = {"name": "csrf", "scopes": ["read"]}
    for cross_site in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = await auth_client.post(KEYS, json=body, headers=cross_site)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert "session cookie" in refused.json()["detail"]
    same_site = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert (await auth_client.post(KEYS, json=body, headers=same_site)).status_code == 201
    made = [k["name"] for k in (await auth_client.get(KEYS)).json() if k["name"] == "csrf"]
    assert made == ["csrf"]  # the refused writes made nothing


async def test_a_bearer_key_is_not_subject_to_the_origin_check(
    auth_client: httpx.AsyncClient, keys_key: TestKey
) -> None:
    headers = {**keys_key.headers, "Origin": "https://elsewhere.example"}
    assert (await auth_client.post(KEYS, json={"name": "k"}, headers=headers)).status_code == 201


async def test_login_from_a_foreign_origin_is_refused(
    app: Any, auth_client: httpx.AsyncClient
) -> None:
    user = await create_user_with_key(app, password=PASSWORD)
    response = await auth_client.post(
        "/api/v1/auth/login",
        json={"name": user.user_name, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_over_https_the_cookie_is_host_prefixed_and_secure(app: Any) -> None:
    async with client_of(app, unique_ip(), base_url="https://testserver") as https:
        await _logged_in(app, https)
        cookie = https.cookies.jar
        names = [c.name for c in cookie]
        assert names == ["__Host-he_session"]
        assert all(c.secure and c.path == "/" and not c.domain_specified for c in cookie)
        assert (await https.get(KEYS)).status_code == 200
        value = https.cookies["__Host-he_session"]
        https.cookies.clear()
        # Over https a plain-named cookie (one a sibling sub-domain could plant) is ignored.
        planted = await https.get(KEYS, headers={"Cookie": f"he_session={value}"})
        assert planted.status_code == 401


async def test_session_cookie_secure_gives_the_host_cookie_behind_a_tls_proxy(
    app_factory: Any,
) -> None:
    app = app_factory(session_cookie_secure=True)
    async with app.router.lifespan_context(app), client_of(app, unique_ip()) as http:
        user = await create_user_with_key(app, password=PASSWORD)
        response = await http.post(
            "/api/v1/auth/login", json={"name": user.user_name, "password": PASSWORD}
        )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-he_session=")
    assert "Secure" in cookie


async def test_logout_with_a_bearer_key_and_the_cookie_ends_the_session(
    app: Any, auth_client: httpx.AsyncClient, keys_key: TestKey
) -> None:
    await _logged_in(app, auth_client)
    session_value = auth_client.cookies["he_session"]
    out = await auth_client.post("/api/v1/auth/logout", headers=keys_key.headers)
    assert out.status_code == 204
    auth_client.cookies.clear()
    after = await auth_client.get(KEYS, headers={"Cookie": f"he_session={session_value}"})
    assert after.status_code == 401


async def test_low_entropy_custom_values_are_refused_with_what_to_do(
    auth_client: httpx.AsyncClient, keys_key: TestKey
) -> None:
    for value in ("passwordpasswordpassword1!", "0123456789abcdef0123456789abcdef"):
        response = await auth_client.post(
            KEYS, headers=keys_key.headers, json={"name": "weak", "value": value}
        )
        assert response.status_code == 422
        assert "random characters" in response.json()["detail"]
        assert value not in response.text

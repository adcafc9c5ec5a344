"""What the real server (uvicorn + our protocol) refuses before the app does any work."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from health_export.auth.models import AuditEvent
from health_export.auth.principal import Scope
from health_export.core.state import state_of
from tests.fixtures.auth import create_user_with_key, unique_name
from tests.fixtures.live_server import ServerFactory
from tests.reliability.server import ServerProcess, raw_connection, read_response, request_head


@pytest.fixture(scope="module")
def server(live_server: ServerFactory) -> ServerProcess:
    """A server with short connection deadlines and a small login limit (its own counters)."""
    return live_server(
        header_timeout_seconds=1,
        keep_alive_timeout_seconds=1,
        login_limit_per_address_per_minute=3,
    )


async def _audit_rows(app: Any, user_agent: str) -> list[AuditEvent]:
    async with state_of(app).sessionmaker() as session:
        found = await session.execute(select(AuditEvent).where(AuditEvent.user_agent == user_agent))
        return list(found.scalars())


async def _failed_logins(base_url: str, agent: str, forwarded: list[str]) -> list[int]:
    statuses = []
    async with httpx.AsyncClient(base_url=base_url) as http:
        for address in forwarded:
            response = await http.post(
                "/api/v1/auth/login",
                json={"name": unique_name(), "password": "wrong password!"},
                headers={"X-Forwarded-For": address, "User-Agent": agent},
            )
            statuses.append(response.status_code)
    return statuses


async def test_forwarded_for_from_loopback_is_not_believed_by_default(
    app: Any, server: ServerProcess
) -> None:
    agent = unique_name("agent")
    forged = [f"198.51.100.{n}" for n in range(1, 7)]
    statuses = await _failed_logins(server.url, agent, forged)
    assert statuses == [401, 401, 401, 429, 429, 429]  # one address: the real one
    rows = await _audit_rows(app, agent)
    assert {row.ip for row in rows} == {"127.0.0.1"}


async def test_failed_login_audit_rows_are_bounded_per_address_and_minute(
    app: Any, live_server: ServerFactory
) -> None:
    own = live_server(login_limit_per_address_per_minute=3)  # counters of its own
    agent = unique_name("agent")
    statuses = await _failed_logins(own.url, agent, ["-"] * 12)
    assert statuses.count(429) == 9
    reasons = sorted(row.details["reason"] for row in await _audit_rows(app, agent))
    assert reasons == ["bad_password"] * 3 + ["login_throttled"]


async def test_forwarded_for_is_believed_from_a_configured_proxy(
    app: Any, live_server: ServerFactory
) -> None:
    proxied = live_server(forwarded_allow_ips="127.0.0.1")
    agent = unique_name("agent")
    assert await _failed_logins(proxied.url, agent, ["203.0.113.7"]) == [401]
    assert [row.ip for row in await _audit_rows(app, agent)] == ["203.0.113.7"]


def test_a_64_mib_header_is_refused_quickly_without_growing_the_server(
    server: ServerProcess,
) -> None:
    rss_before = server.rss_bytes()
    started = time.monotonic()
    with raw_connection(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ")
        chunk = b"a" * (1 << 20)
        try:
            for _ in range(64):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed before the rest was sent
        status, headers, body = read_response(sock)
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert b"MAX_HEADER_BYTES" in body
    assert time.monotonic() - started < 3
    assert server.rss_bytes() - rss_before < 16 * 1024 * 1024
    assert httpx.get(f"{server.url}/health").status_code == 200


async def test_a_2_mib_body_to_a_non_ingest_route_gets_413_without_being_read(
    app: Any, server: ServerProcess
) -> None:
    admin = await create_user_with_key(app, scopes=[Scope.ADMIN], is_admin=True)
    head = request_head(
        "POST",
        "/api/v1/admin/users",
        {**admin.headers, "Content-Type": "application/json"},
        content_length=2 * 1024 * 1024,
    )
    started = time.monotonic()
    with raw_connection(server) as sock:
        sock.sendall(head)  # and not one byte of the body
        status, headers, body = read_response(sock)
    assert status == 413
    assert b"MAX_REQUEST_BODY_BYTES" in body
    assert headers["connection"] == "close"
    assert time.monotonic() - started < 2


def test_an_unauthenticated_body_is_refused_before_it_is_read(server: ServerProcess) -> None:
    head = request_head(
        "POST", "/api/v1/auth/keys", {"Content-Type": "application/json"}, content_length=1000
    )
    started = time.monotonic()
    with raw_connection(server) as sock:
        sock.sendall(head)  # the server must answer without waiting for the body
        status, headers, _ = read_response(sock)
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer realm="health-export"'
    assert time.monotonic() - started < 2


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_silent_and_slow_connections_are_closed(server: ServerProcess) -> None:
    silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.sendall(b"GET /health HTTP/1.1\r\nHost: 1")  # and never the rest
    idle = socket.create_connection(("127.0.0.1", server.port))
    idle.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    try:
        assert all(_closed_within(sock, 4) for sock in silent)
        assert _closed_within(slow, 4)
        assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        assert _closed_within(idle, 4)  # keep-alive ends too
    finally:
        for sock in (*silent, slow, idle):
            sock.close()

"""The server under test: a real `health-export serve` process, and clients of it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.reliability.services import free_port, wait_until

HEALTH_EXPORT = Path(sys.executable).parent / "health-export"


class ServerProcess:
    """`health-export serve` on a free port, its stdout (JSON logs) written to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, workdir: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.process is not None
        return self.process.pid

    def start(self, timeout_s: float = 30) -> None:
        """Start it and wait until /health answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(HEALTH_EXPORT), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=self.workdir,  # no .env of the repository is read
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_until(self._healthy, timeout_s=timeout_s, what="the server answering /health")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the server exited with {self.process.returncode}: {self.logs()}")
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the server."""
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout_s: float) -> int:
        """Wait for the process to exit; its return code."""
        assert self.process is not None
        return self.process.wait(timeout=timeout_s)

    def is_running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def rss_bytes(self) -> int:
        """The server's resident memory now."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def logs(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def server_env(database_url: str, redis_url: str | None, **overrides: Any) -> dict[str, str]:
    """The environment of a server under test (overrides: setting name → value)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url or "",
            "LOG_JSON": "true",
            "LOG_LEVEL": "INFO",
            "ENVIRONMENT": "test",
            "RATE_LIMIT_KEY_PREFIX": f"reliability:{uuid.uuid4().hex[:8]}:",
            # The soak variants send thousands of requests with one key; the limiter's
            # own scenarios set a small limit explicitly.
            "RATE_LIMIT_REQUESTS": "1000000",
            "SHUTDOWN_GRACE_SECONDS": "10",
            "WORKERS": "1",
        }
    )
    env.update({name.upper(): str(value) for name, value in overrides.items()})
    return env


@contextlib.contextmanager
def raw_connection(server: ServerProcess, timeout_s: float = 10) -> Iterator[socket.socket]:
    """A plain TCP connection to the server, for requests httpx would not send."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout_s)
    try:
        yield sock
    finally:
        sock.close()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response (status, lower-case headers, body) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full response head: {data[:200]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def send_raw(
    server: ServerProcess,
    head: bytes,
    body_parts: list[bytes],
    *,
    pause_s: float = 0.0,
    timeout_s: float = 15,
) -> tuple[int, dict[str, str], bytes, float]:
    """Send ``head`` then each body part (pausing between them); answer and seconds taken."""
    started = time.monotonic()
    with raw_connection(server, timeout_s) as sock:
        sock.sendall(head)
        for part in body_parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered early and closed; read what it said
            if pause_s:
                sock.settimeout(pause_s)
                with contextlib.suppress(TimeoutError, OSError):
                    peek = sock.recv(65536, socket.MSG_PEEK)
                    if peek:
                        break  # an answer came before the body was complete
                sock.settimeout(timeout_s)
        sock.settimeout(timeout_s)
        status, headers, body = read_response(sock)
    return status, headers, body, time.monotonic() - started


def request_head(
    method: str, path: str, headers: dict[str, str], *, content_length: int | None
) -> bytes:
    """An HTTP/1.1 request head (chunked when ``content_length`` is None)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if content_length is None:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(parts: list[bytes]) -> list[bytes]:
    """``parts`` framed as HTTP chunks, with the closing chunk."""
    return [f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in parts if part] + [
        b"0\r\n\r\n"
    ]

"""What the benchmarks share: a fresh database, the real server process, users and keys."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.auth import app_like, create_user_with_key  # noqa: E402
from tests.fixtures.databases import drop_database as drop_test_database  # noqa: E402
from tests.fixtures.databases import fresh_database as fresh_test_database  # noqa: E402

from health_export.auth.principal import Scope  # noqa: E402
from health_export.core.config import load_settings  # noqa: E402
from health_export.core.db import create_engine  # noqa: E402
from health_export.migrations_head import alembic_config  # noqa: E402

SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def fresh_database(name: str) -> str:
    """Drop and create ``name``, migrate it, and return its asyncpg URL."""
    url = await fresh_test_database(name, SERVER_URL)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    return url


async def drop_database(name: str) -> None:
    """Drop a benchmark database (its connections first)."""
    await drop_test_database(name, SERVER_URL)


async def settle() -> None:
    """CHECKPOINT, so a measurement does not pay for the dirty pages of the one before.

    Each bulk run writes about a gigabyte of WAL; without this, whichever step follows
    a checkpoint trigger pays for it (a ±30% spread between runs, measured).
    """
    conn = await asyncpg.connect(f"{SERVER_URL}/postgres")
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.exceptions.InsufficientPrivilegeError:
        pass  # not a superuser: measure without it
    finally:
        await conn.close()


def bench_engine(database_url: str) -> AsyncEngine:
    """An engine on the benchmark database (for set-up and checks, not measured)."""
    return create_engine(load_settings(database_url=database_url, redis_url=None))


async def new_key(
    engine: AsyncEngine, scopes: tuple[Scope, ...] = (Scope.INGEST,), password: str | None = None
) -> Any:
    """A new user and key (``.headers``, ``.user_id``, ``.user_name``); ``password``: the
    user can also log in (the dashboard)."""
    return await create_user_with_key(app_like(engine), scopes=scopes, password=password)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """`health-export serve` as a subprocess with production settings (but the rate limit,
    see start()), on loopback."""

    database_url: str
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and wait until /ready answers 200."""
        self.port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": REDIS_URL,
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_KEY_PREFIX": f"bench:{uuid.uuid4().hex}:",
            # The limit is still checked on every request (its cost is measured), but
            # one phone of the load test may send over 1,000 syncs in 30 s when the
            # keep-alive connections fall unevenly between the workers.
            "RATE_LIMIT_REQUESTS": "1000000",
            "ENVIRONMENT": "bench",
        }
        command_line = [
            str(REPO / ".venv/bin/health-export"),
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own console script
            command_line, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # A 2-worker server on a loaded 2-core machine took 18 s to be ready (measured).
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    self._wait_until_idle()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not become ready")

    def _wait_until_idle(self) -> None:
        """Measure a started server, not a starting one: wait until its processes (parser
        processes importing, connections opening) stop using the CPU."""
        deadline = time.monotonic() + 15
        used = self._cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self._cpu_seconds()
            if now - used < 0.02:
                return
            used = now

    def _cpu_seconds(self) -> float:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def pids(self) -> list[int]:
        """The server's processes: itself, its workers and their parser processes."""
        assert self.process is not None
        found, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            children = subprocess.run(
                ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
            ).stdout.split()
            pending.extend(int(child) for child in children)
        return found

    def peak_rss_mb(self) -> dict[str, float]:
        """The highest resident memory (VmHWM) of each kind of server process, in MB.

        ``worker``: the process serving HTTP (the busiest, with several workers),
        ``parser``: its parser process, ``total``: the two added (an upper bound of the
        pair's peak, since both peaks need not coincide).
        """
        peaks = {"worker": 0.0, "parser": 0.0}
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            line = next(line for line in status.splitlines() if line.startswith("VmHWM"))
            kind = "parser" if b"parser_child" in command else "worker"
            peaks[kind] = max(peaks[kind], int(line.split()[1]) / 1024)
        peaks["total"] = peaks["worker"] + peaks["parser"]
        return peaks

    def memory_sampler(self) -> MemorySampler:
        """Samples the summed PSS of every server process while in its ``with`` block."""
        return MemorySampler(self)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MemorySampler:
    """The peak of the server's memory as the sum of its processes' PSS, sampled.

    PSS splits shared pages (the interpreter, libraries) between the processes mapping
    them, so the sum is the memory the server occupies; VmHWM counts them once per
    process. The kernel keeps no PSS peak, hence the sampling (every 20 ms).
    """

    INTERVAL_S = 0.02

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        pids = self.server.pids()
        while not self._stop.is_set():
            total_kb = 0
            for pid in pids:
                try:
                    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                except (FileNotFoundError, ProcessLookupError):
                    continue
                line = next(line for line in rollup.splitlines() if line.startswith("Pss:"))
                total_kb += int(line.split()[1])
            self.peak_mb = max(self.peak_mb, total_kb / 1024)
            self._stop.wait(self.INTERVAL_S)


class KeepAliveClient:
    """A minimal HTTP/1.1 client on one keep-alive connection.

    The load generator shares the machine's two cores with the server; httpx spent about
    a third of all CPU in the small-sync benchmark (measured), this spends a few percent.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST ``body``; returns (status, response body). Reconnects when needed."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
            f"{head}\r\n".encode()
            + body
        )
        status_line = await self.reader.readline()
        length = 0
        keep_alive = True
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                keep_alive = False
        payload = await self.reader.readexactly(length)
        if not keep_alive:
            await self.close()
        return int(status_line.split()[1]), payload

    async def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

"""Stop and start the real local PostgreSQL and Redis (the fault tests' levers)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def _pg_version() -> str:
    return sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def _is_up(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, check=False, timeout=10).returncode == 0


def _wait_for(command: list[str], *, up: bool, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _is_up(command) == up:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{command[0]} did not become {'up' if up else 'down'}")


def stop_postgres() -> None:
    """Stop the cluster at once (as a crash or an operator would)."""
    _run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            _pg_version(),
            "main",
            "stop",
            "-m",
            "immediate",
        ]
    )
    _wait_for(["pg_isready", "-h", "127.0.0.1", "-q"], up=False)


def start_postgres() -> None:
    """Start the cluster (if it is stopped) and wait until it accepts connections."""
    if _is_up(["pg_isready", "-h", "127.0.0.1", "-q"]):
        return
    _run(["pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), "main", "start"])
    _wait_for(["pg_isready", "-h", "127.0.0.1", "-q"], up=True)


def stop_redis() -> None:
    """Shut Redis down."""
    subprocess.run(
        ["redis-cli", "shutdown", "nosave"], capture_output=True, check=False, timeout=10
    )
    _wait_for(["redis-cli", "ping"], up=False)


def start_redis() -> None:
    """Start Redis the way this machine does (if it is stopped), and wait for PONG."""
    if _is_up(["redis-cli", "ping"]):
        return
    Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
    Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
    _run(REDIS_START)
    _wait_for(["redis-cli", "ping"], up=True)

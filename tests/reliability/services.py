"""PostgreSQL and Redis owned by the fault tests: stop, kill and pause them freely.

Other suites and benchmarks share the machine's PostgreSQL (5432) and Redis (6379), so
fault tests never touch those: they start a throw-away PostgreSQL cluster (initdb into a
temporary directory, run as the ``postgres`` user when we are root) and a Redis server
process of their own, each on a free port, and remove both at the end of the session.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")
# Crash tests kill processes, never the machine, so fsync buys nothing here: a committed
# transaction's WAL is written to the kernel before COMMIT returns either way.
PG_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "on",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "all",
    "log_min_messages": "warning",
}


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def pg_bin(name: str) -> str:
    """A PostgreSQL server binary of the newest installed major version."""
    versions = sorted((p for p in PG_ROOT.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    return str(versions[-1] / "bin" / name)


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str], timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout_s)


def wait_until(predicate: object, *, timeout_s: float, what: str, step_s: float = 0.1) -> None:
    """Poll ``predicate`` until it returns true; TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(step_s)
    raise TimeoutError(f"{what} within {timeout_s}s")


@dataclass
class PostgresCluster:
    """A private PostgreSQL cluster in ``root`` listening on 127.0.0.1:``port``."""

    root: Path
    port: int

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        """The server log."""
        return self.root / "postgres.log"

    @property
    def server_url(self) -> str:
        """The cluster's libpq URL without a database (trust authentication, ``postgres``)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of ``database``."""
        return f"{self.server_url}/{database}"

    def create(self) -> None:
        """initdb and configure (owned by ``postgres`` when we are root)."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "run").mkdir(exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (self.root, self.root / "run"):
                os.chown(path, user.pw_uid, user.pw_gid)
        _run(
            _as_postgres(
                [
                    pg_bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            )
        )
        settings = {**PG_SETTINGS, "port": str(self.port)}
        settings["unix_socket_directories"] = f"'{self.root / 'run'}'"
        lines = "".join(f"{name} = {value}\n" for name, value in settings.items())
        conf = self.data_dir / "postgresql.auto.conf"
        with conf.open("a") as handle:
            handle.write(lines)

    def clone_as_standby(self, root: Path, port: int) -> PostgresCluster:
        """A streaming replica of this (running) cluster: ``pg_basebackup -R`` into
        ``root``, listening on ``port`` (not started)."""
        standby = PostgresCluster(root, port)
        root.mkdir(parents=True, exist_ok=True)
        (root / "run").mkdir(exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (root, root / "run"):
                os.chown(path, user.pw_uid, user.pw_gid)
        backup = [pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port)]
        backup += ["-U", "postgres", "-D", str(standby.data_dir), "-R", "-X", "stream"]
        _run(_as_postgres([*backup, "--no-sync", "--checkpoint=fast"]))
        # The copy carries the primary's port and socket directory; later lines win.
        lines = f"port = {port}\nunix_socket_directories = '{root / 'run'}'\n"
        with (standby.data_dir / "postgresql.auto.conf").open("a") as handle:
            handle.write(lines)
        return standby

    def start(self) -> None:
        """Start (if stopped) and wait until it accepts connections."""
        if self.is_up():
            return
        _run(
            _as_postgres(
                [pg_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file)]
                + ["-w", "-t", "60", "start"]
            )
        )
        wait_until(self.is_up, timeout_s=60, what="PostgreSQL accepting connections")

    def stop(self, mode: str = "immediate") -> None:
        """Stop it; ``immediate`` is a crash (no checkpoint; recovery on the next start)."""
        if self.postmaster_pid() is None:
            return
        self.resume()  # a stopped (SIGSTOP) server cannot shut down
        subprocess.run(
            _as_postgres([pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"]),
            capture_output=True,
            check=False,
            timeout=120,
        )
        wait_until(lambda: not self.is_up(), timeout_s=30, what="PostgreSQL down")

    def is_up(self) -> bool:
        """Whether it accepts connections now."""
        probe = [pg_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-t", "2"]
        return subprocess.run(probe, capture_output=True, check=False, timeout=10).returncode == 0

    def postmaster_pid(self) -> int | None:
        """The postmaster's pid, or None when it is not running."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def pids(self) -> list[int]:
        """The postmaster and every backend and helper process of this cluster."""
        parent = self.postmaster_pid()
        if parent is None:
            return []
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True, check=False
        ).stdout.split()
        return [parent, *(int(pid) for pid in children)]

    def pause(self) -> None:
        """Freeze every process of the cluster (SIGSTOP): a hung database."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused cluster run again (SIGCONT)."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        """Stop it and delete its files."""
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class RedisServer:
    """A private redis-server process on 127.0.0.1:``port``, without persistence."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        """A redis:// URL of database ``db``."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start (if not running) and wait for PONG."""
        if self.is_up():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.root)]
        command += ["--logfile", str(self.root / "redis.log")]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_until(self.is_up, timeout_s=20, what="Redis answering PING")

    def cli(self, *args: str, timeout_s: float = 10) -> str:
        """Run one redis-cli command against this server; its output."""
        command = ["redis-cli", "-p", str(self.port), *args]
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=timeout_s
        )
        return done.stdout.strip()

    def is_up(self) -> bool:
        """Whether it answers PING now."""
        try:
            return self.cli("ping", timeout_s=2) == "PONG"
        except subprocess.TimeoutExpired:
            return False

    def kill(self) -> None:
        """SIGKILL it (a crash: nothing is saved, clients see connections reset)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): connections stay open, nothing answers."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Undo :meth:`pause`."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def client_pause(self, milliseconds: int) -> None:
        """CLIENT PAUSE: every client's commands wait ``milliseconds``."""
        self.cli("CLIENT", "PAUSE", str(milliseconds), "ALL")

    def debug_sleep(self, seconds: float) -> subprocess.Popen[bytes]:
        """DEBUG SLEEP in the background: the server blocks for ``seconds``."""
        command = ["redis-cli", "-p", str(self.port), "DEBUG", "SLEEP", str(seconds)]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def values(self) -> list[bytes]:
        """Every key name and string value stored (for secret scans)."""
        names = self.cli("--scan").splitlines()
        found = [name.encode() for name in names]
        for name in names:
            found.append(self.cli("GET", name).encode())
        return found

    def destroy(self) -> None:
        """Stop it and delete its files."""
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class DedicatedServices:
    """The fault tests' own PostgreSQL and Redis."""

    postgres: PostgresCluster
    redis: RedisServer

    def ensure_running(self) -> None:
        """Start whatever a test left stopped or paused."""
        self.postgres.resume()
        self.postgres.start()
        self.redis.resume()
        self.redis.start()

    def destroy(self) -> None:
        """Remove both."""
        self.postgres.destroy()
        self.redis.destroy()


_shared: DedicatedServices | None = None
_users = 0


def acquire() -> DedicatedServices:
    """This test process's dedicated services, started on first use."""
    global _shared, _users
    if _shared is None:
        root = Path(tempfile.mkdtemp(prefix="health-export-faults-"))
        os.chmod(root, 0o755)  # noqa: S103 - the postgres user must reach its data dir
        services = DedicatedServices(
            PostgresCluster(root / "postgres", free_port()),
            RedisServer(root / "redis", free_port()),
        )
        atexit.register(services.destroy)
        services.postgres.create()
        services.postgres.start()
        services.redis.start()
        _shared = services
    _users += 1
    return _shared


def release() -> None:
    """Forget one user; the last one removes the services."""
    global _shared, _users
    _users -= 1
    if _users == 0 and _shared is not None:
        _shared.destroy()
        shutil.rmtree(_shared.postgres.root.parent, ignore_errors=True)
        _shared = None

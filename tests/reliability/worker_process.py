"""`health-export worker` processes under test, and the events they log."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import orjson

from tests.reliability.server import HEALTH_EXPORT
from tests.reliability.services import wait_until


def logged_events(log_path: Path, event: str) -> list[dict[str, Any]]:
    """Every JSON log line of ``log_path`` whose event is ``event``."""
    found = []
    for line in log_path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        record = orjson.loads(line)
        if record.get("event") == event:
            found.append(record)
    return found


class WorkerProcess:
    """`health-export worker` with ``env``, its JSON logs written to ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path, workdir: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30) -> None:
        """Start it and wait until it logs that its jobs run."""
        self.launch()
        self.wait_started(timeout_s)

    def launch(self) -> None:
        """Start it without waiting (to start several at once)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(HEALTH_EXPORT), "worker"],
                env=self.env,
                cwd=self.workdir,  # no .env of the repository is read
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_started(self, timeout_s: float = 30) -> None:
        """Wait until it logs that its jobs run."""
        wait_until(self._started, timeout_s=timeout_s, what="the worker starting its jobs")

    def _started(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker exited with {self.process.returncode}: {self.logs()}")
        return bool(self.events("worker_started"))

    def events(self, event: str) -> list[dict[str, Any]]:
        """What it logged as ``event`` so far."""
        return logged_events(self.log_path, event) if self.log_path.exists() else []

    def logs(self) -> str:
        """Everything it wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self) -> None:
        """Send SIGTERM."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout_s: float) -> int:
        """Wait for it to exit; its return code."""
        assert self.process is not None
        return self.process.wait(timeout=timeout_s)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

"""What a background job gets: the database, the settings, and whether to stop."""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from health_export.core.config import Settings


def worker_name() -> str:
    """This process's name in job records and logs: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class WorkerContext:
    """Shared by every job of one worker (a `health-export worker` process or `serve`)."""

    engine: AsyncEngine
    settings: Settings
    name: str = field(default_factory=worker_name)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def shutting_down(self) -> bool:
        """Whether the worker is stopping (a job working through a queue checks this)."""
        return self.stopping.is_set()

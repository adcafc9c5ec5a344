"""The MCP server (official SDK), served at `/mcp` behind the API-key guard.

Stateless, with JSON answers: every POST carries the API key and is answered on its
own, so nothing ties a client to one worker process (sessions of the SDK live in one
process's memory and would break with WORKERS > 1), no event stream stays open, and a
tool call is one request through the same authentication, limits and access log as
any REST call. The tools only read, so the server never needs to call the client back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import Field
from starlette.routing import Route

from health_export import __version__
from health_export.assistants.auth import McpGuard
from health_export.assistants.tools import register_tools

MCP_PATH = "/mcp"
# A tool call is a few hundred bytes; nothing larger is a request this server answers.
MAX_REQUEST_BYTES = 64 * 1024
INSTRUCTIONS = """\
health-export holds one person's Apple Health data (from the Health Auto Export app).
Every tool answers with the same numbers as the server's REST API and gives the REST
query in source_url: quote it with the numbers you use, so the person can check them.
Numbers are already deduplicated (the Watch and the iPhone are never added up) and days
are the person's local days: do not add up or re-bucket raw values yourself, ask for the
bucket or comparison you need. Start with list_metrics to learn the metric names, the
dates that have data and today's date (server_time)."""
WEEKLY_REVIEW = """\
Review my week ending {end} (7 days before it, as the baseline the week before).
1. get_daily_activity for the week{tz_hint}; compare_periods for step_count and
   active_energy against the week before.
2. get_sleep for the week; compare_periods with metric 'sleep' against the week before.
3. get_workouts for the week.
Summarise in a few sentences what changed and what stood out, quoting each number's
source_url. Say so when data is missing rather than guessing."""


def weekly_review(
    end: Annotated[str, Field(description="The day after the week's last day (YYYY-MM-DD).")],
    tz: Annotated[str | None, Field(description="IANA time zone, e.g. Europe/Paris.")] = None,
) -> str:
    """A review of the last week of activity, sleep and workouts against the week before."""
    tz_hint = f" with tz={tz}" if tz else ""
    return WEEKLY_REVIEW.format(end=end, tz_hint=tz_hint)


def build_server() -> MCPServer:
    """The SDK server with every tool and prompt."""
    server: MCPServer = MCPServer(
        name="health-export",
        title="health-export",
        version=__version__,
        instructions=INSTRUCTIONS,
        subscriptions=False,
    )
    register_tools(server)
    server.prompt(name="weekly_review")(weekly_review)
    # The SDK logs whole messages at DEBUG (health values): never below WARNING.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    return server


def mount_assistants(app: FastAPI) -> None:
    """Serve `/mcp` on ``app``; :func:`start_assistants` must run in its lifespan."""
    server = build_server()
    server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        max_request_body_size=MAX_REQUEST_BYTES,
        # Every request carries an API key in a header, which a page that rebinds a DNS
        # name to this server can neither read nor send; Host/Origin checks would only
        # refuse the names a reverse proxy serves this under.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    app.router.routes.append(
        Route(MCP_PATH, endpoint=McpGuard(manager.handle_request), methods=["GET", "POST"])
    )
    app.state.assistants = SessionManagerTask(manager)


class SessionManagerTask:
    """The SDK's session manager, running in a task of its own for the app's lifetime.

    Its ``run()`` opens an anyio task group, which only the task that entered it may
    leave; the app's lifespan may be entered and left by different tasks (the test
    fixtures do), so the lifespan starts and stops this task instead.
    """

    def __init__(self, manager: StreamableHTTPSessionManager) -> None:
        self.manager = manager
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Enter ``run()``; return once requests can be served (raise if it failed)."""
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._serve(ready), name="mcp-session-manager")
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if self._task.done():
            self._task.result()

    async def _serve(self, ready: asyncio.Event) -> None:
        async with self.manager.run():
            ready.set()
            await self._stopping.wait()

    async def stop(self) -> None:
        """Leave ``run()`` (in-flight calls were drained by the server before)."""
        self._stopping.set()
        if self._task is not None:
            await self._task


async def start_assistants(app: FastAPI) -> None:
    """Start serving `/mcp` (from the app's lifespan)."""
    await app.state.assistants.start()


async def stop_assistants(app: FastAPI) -> None:
    """Stop serving `/mcp` (from the app's lifespan)."""
    await app.state.assistants.stop()

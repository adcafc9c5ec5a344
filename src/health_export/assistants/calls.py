"""One tool call: who asks, one unit of work, an audit event, an access-log line, errors.

Neither the audit trail nor the log carries an argument's value or a result: a metric
name or a date range asked about is already health information.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from health_export.assistants.auth import principal_of
from health_export.auth.audit import origin_of, record_audit
from health_export.auth.principal import Principal
from health_export.core.db import is_database_unavailable
from health_export.core.errors import AppError, request_id_of
from health_export.core.logging import get_logger
from health_export.core.state import core_state

access_log = get_logger("health_export.access")
error_log = get_logger("health_export.errors")
AUDIT_ACTION = "mcp.tool_call"
Work = Callable[[AsyncSession, int], Awaitable[BaseModel]]


def rest_url(path: str, query: Mapping[str, str | int | None]) -> str:
    """The REST path and query answering with the same numbers (unset parameters left out)."""
    given = {name: str(value) for name, value in query.items() if value is not None}
    return f"{path}?{urlencode(given, quote_via=quote)}" if given else path


def as_json(content: Any) -> Any:
    """``content`` exactly as the REST API renders it (orjson), read back as plain JSON."""
    return orjson.loads(orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS))


def _request_of(ctx: Context) -> Request:
    request = ctx.request_context.request
    if not isinstance(request, Request):  # only the guarded HTTP endpoint serves tools
        raise ToolError("this server answers tool calls over its HTTP endpoint only")
    return request


def reads_rollups(ctx: Context) -> bool:
    """Whether day-or-coarser answers read the rollups (``ROLLUPS_READ``), as the REST routes."""
    reads: bool = core_state(_request_of(ctx)).settings.rollups_read
    return reads


async def run_tool(
    ctx: Context, tool: str, arguments: Mapping[str, object], work: Work
) -> CallToolResult:
    """Run ``work`` for the caller in one transaction with its audit event; a CallToolResult."""
    request = _request_of(ctx)
    principal = principal_of(request)
    sessionmaker: async_sessionmaker[AsyncSession] = core_state(request).sessionmaker
    names = sorted(name for name, value in arguments.items() if value is not None)
    started = time.perf_counter()
    outcome = "error"
    try:
        async with sessionmaker() as session:
            answer = await work(session, principal.user_id)
            await _audit(session, request, principal, tool, names, "ok")
            await session.commit()
        outcome = "ok"
        return _result(answer)
    except ToolError:
        raise
    except AppError as exc:
        raise ToolError(_tool_message(exc)) from exc
    except Exception as exc:
        raise _unexpected(request, tool, exc) from exc
    finally:
        if outcome != "ok":
            await _audit_failure(sessionmaker, request, principal, tool, names)
        access_log.info(
            "mcp_tool_call",
            tool=tool,
            arguments=names,
            outcome=outcome,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def _result(answer: BaseModel) -> CallToolResult:
    structured = answer.model_dump(mode="json")
    # Compact JSON for the model to read (the SDK's default indents it, a third larger).
    text = orjson.dumps(structured).decode()
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured
    )


def _tool_message(exc: AppError) -> str:
    detail = exc.detail or exc.title
    # The read API's messages name query parameters; the tools' arguments bear the same names.
    return detail.replace("query parameter ", "argument ")


def _unexpected(request: Request, tool: str, exc: Exception) -> ToolError:
    if is_database_unavailable(exc):
        return ToolError("the database is unavailable; retry in a few seconds")
    error_log.error("mcp_tool_failed", tool=tool, exc_type=type(exc).__name__, exc_info=exc)
    return ToolError(f"an unexpected error occurred; quote request id {request_id_of(request)}")


async def _audit(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    tool: str,
    names: list[str],
    outcome: str,
) -> None:
    await record_audit(
        session,
        action=AUDIT_ACTION,
        actor=principal,
        target_user_id=principal.user_id,
        details={"tool": tool, "arguments": names, "outcome": outcome},
        origin=origin_of(request),
    )


async def _audit_failure(
    sessionmaker: async_sessionmaker[AsyncSession],
    request: Request,
    principal: Principal,
    tool: str,
    names: list[str],
) -> None:
    """A refused or failed call, in a transaction of its own (the call's was rolled back)."""
    try:
        async with sessionmaker() as session, session.begin():
            await _audit(session, request, principal, tool, names, "error")
    except Exception as exc:  # the model's answer matters more than its audit row
        error_log.warning("audit_write_failed", action=AUDIT_ACTION, error=type(exc).__name__)

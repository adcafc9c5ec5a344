"""uvicorn's httptools protocol with a bounded request head and a deadline for it.

uvicorn's httptools path has no limit on the size of a request head (a 64 MiB header
was buffered whole) and no timer on a connection that sends nothing or sends its head
slowly (its keep-alive timer only runs between requests). This protocol answers 431
once the head passes MAX_HEADER_BYTES, and closes a connection whose head has not
arrived HEADER_TIMEOUT_SECONDS after it opened, or after its first byte.
"""

from __future__ import annotations

from asyncio import TimerHandle, Transport
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from health_export.core.config import get_settings

_TITLE = "Request Header Fields Too Large"


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus a size limit and a deadline on each request head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._max_head_bytes = settings.max_header_bytes
        self._head_timeout_s = settings.header_timeout_seconds
        self._reading_head = True
        self._head_bytes = 0
        self._head_timer: TimerHandle | None = None

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        """A new connection: its first head is due within the deadline."""
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline of a closed connection."""
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Count the head's bytes (the parser buffers them) and refuse past the limit."""
        if self._reading_head:
            self._head_bytes += len(data)
            if self._head_timer is None and self._is_idle():
                self._arm_head_timer()
        super().data_received(data)
        if self._reading_head and self._head_bytes > self._max_head_bytes:
            self._refuse_head()

    def on_headers_complete(self) -> None:
        """The head arrived in time and within the limit."""
        self._reading_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The next bytes on this connection start the next request's head."""
        super().on_message_complete()
        self._reading_head = True

    def _is_idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self._head_timeout_s, self._head_overdue)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self._reading_head and self._is_idle() and not self.transport.is_closing():
            self.transport.close()  # silent, or a head sent too slowly (slowloris)

    def _refuse_head(self) -> None:
        if self.transport.is_closing():
            return
        body = orjson.dumps(
            {
                "type": "about:blank",
                "title": _TITLE,
                "status": 431,
                "detail": f"the request line and headers exceed {self._max_head_bytes} bytes "
                "(MAX_HEADER_BYTES)",
            }
        )
        head = (
            f"HTTP/1.1 431 {_TITLE}\r\ncontent-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode("latin-1")
        self.transport.write(head + body)
        self.transport.close()
        self._reading_head = False

"""The parse stage: a stored body into normalised rows, or the reason nothing is usable.

Used in a thread of the worker and in the parser process alike.
"""

from __future__ import annotations

import time
from functools import partial

import orjson

from health_export.core.errors import AppError, BadRequest, Unprocessable
from health_export.ingest.body import Body
from health_export.ingest.gc_pause import gc_paused
from health_export.ingest.parsing.decode import decode_document
from health_export.ingest.parsing.detect import parse_payload
from health_export.ingest.parsing.errors import PayloadShapeError
from health_export.ingest.records import NormalisedPayload
from health_export.ingest.writer import PENDING_ROWS_MAX


class RejectedPayload(Exception):  # noqa: N818 - carries the HTTP error to raise
    """The stored body cannot be used at all (not JSON, no envelope)."""

    def __init__(self, error: AppError) -> None:
        super().__init__(error.detail)
        self.error = error


def parse_body(data: Body, into: NormalisedPayload | None = None) -> NormalisedPayload:
    """JSON text → normalised rows (into ``into`` when given); raises RejectedPayload when
    nothing is usable.

    Into a payload a writer drains as it goes (a large body), the parse waits while a
    table has more than PENDING_ROWS_MAX rows waiting to be taken.
    """
    pace = None if into is None else partial(wait_for_room, into)
    with gc_paused(len(data)):
        try:
            document = decode_document(data, pace)
        except orjson.JSONDecodeError as exc:
            reason = str(exc).split(":", 1)[0][:120]
            raise RejectedPayload(BadRequest(f"the body is not valid JSON ({reason})")) from None
        except RecursionError:  # nesting deeper than any real payload (a hostile body)
            raise RejectedPayload(BadRequest("the body is nested too deeply")) from None
        try:
            return parse_payload(document, into)
        except PayloadShapeError as exc:
            raise RejectedPayload(Unprocessable(str(exc)[:300])) from None


def wait_for_room(payload: NormalisedPayload) -> None:
    """In a parse thread: wait while the writer has too many of its rows to drain."""
    # In the parse thread: sleeping releases the GIL for the writer that drains. Per
    # table, since the writer takes a table's rows once it has DRAIN_MIN_ROWS of them
    # (fewer than PENDING_ROWS_MAX): rows spread over tables never block the parse.
    while payload.most_pending() > PENDING_ROWS_MAX:
        if payload.abandoned:
            raise ParseAbandoned
        time.sleep(0.005)


class ParseAbandoned(Exception):  # noqa: N818 - ends a parse nobody waits for
    """The writer taking a payload's rows stopped (its ingest failed)."""


class ParseLost(RuntimeError):
    """The parser process died or failed during a body; it is parsed here instead."""

"""The parse stage: a stored body into normalised rows, or the reason nothing is usable.

Used in a thread of the worker and in the parser process alike.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Literal

import orjson

from health_export.ingest.gc_pause import gc_paused
from health_export.ingest.parsing.decode import decode_document
from health_export.ingest.parsing.detect import parse_payload
from health_export.ingest.parsing.errors import PayloadShapeError
from health_export.ingest.records import NormalisedPayload

if TYPE_CHECKING:
    from health_export.ingest.body import Body

# A parse whose rows are drained as it goes waits while a table has more than this many
# rows waiting (~250 bytes each). Above the feeder's DRAIN_MIN_ROWS, so a waiting parse is
# always a table the feeder takes from.
PENDING_ROWS_MAX = 50_000

Rejection = Literal["unreadable", "unusable"]


class RejectedPayload(Exception):  # noqa: N818 - a verdict on the body, not a fault
    """The stored body cannot be used at all: ``unreadable`` (not JSON, nested too deeply)
    or ``unusable`` (JSON, but no envelope of a known format). The request's edge maps the
    kind to its HTTP status."""

    def __init__(self, kind: Rejection, reason: str) -> None:
        super().__init__(reason)
        self.kind: Rejection = kind
        self.reason = reason


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
            raise RejectedPayload("unreadable", f"the body is not valid JSON ({reason})") from None
        except RecursionError:  # nesting deeper than any real payload (a hostile body)
            raise RejectedPayload("unreadable", "the body is nested too deeply") from None
        try:
            return parse_payload(document, into)
        except PayloadShapeError as exc:
            raise RejectedPayload("unusable", str(exc)[:300]) from None


def wait_for_room(payload: NormalisedPayload) -> None:
    """In a parse thread: wait while the writer has too many of its rows to drain."""
    # In the parse thread: sleeping releases the GIL for the writer that drains. Per
    # table, since the feeder takes a table's rows once it has DRAIN_MIN_ROWS of them
    # (fewer than PENDING_ROWS_MAX): rows spread over tables never block the parse.
    while payload.most_pending() > PENDING_ROWS_MAX:
        if payload.abandoned:
            raise ParseAbandoned
        time.sleep(0.005)


class ParseAbandoned(Exception):  # noqa: N818 - ends a parse nobody waits for
    """The writer taking a payload's rows stopped (its ingest failed)."""


class ParseLost(RuntimeError):
    """The parser process died or failed during a body; it is parsed here instead."""

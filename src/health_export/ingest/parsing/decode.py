"""JSON text → the document the parsers walk, with metric points decoded one at a time.

A 90 MB backfill holds ~935k metric points; as Python dicts they take ~400 MB. Here the
envelope is decoded first with each metric's points kept as raw JSON slices (~56 bytes
each, pointing into the body), and points become dicts a chunk at a time, while the
parser looks at them. Everything else (workouts, other data types, our standard format) is decoded
whole. Measured on 935k points: 53 MB instead of 380 MB, for +0.25 s of CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import orjson

_OBJECT_OF_RAW = msgspec.json.Decoder(dict[str, msgspec.Raw])
_LIST_OF_RAW = msgspec.json.Decoder(list[msgspec.Raw])
_LIST_OF_OBJECTS_OF_RAW = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_loads = orjson.loads


class UndecodablePoint:
    """Stands for a point whose own JSON is broken (the parser rejects it alone)."""

    __slots__ = ()


UNDECODABLE = UndecodablePoint()


def not_an_object_reason(point: object) -> str:
    """Why a point that is not a JSON object is rejected."""
    return "point is not valid JSON" if point is UNDECODABLE else "point is not an object"


# Points decoded per call: one orjson call per chunk costs what one whole-document
# call costs per point, and a chunk of dicts is a few MB at most.
CHUNK_POINTS = 8192


class LazyPoints(list):  # type: ignore[type-arg]
    """A metric's points: split into raw JSON slices when the parser reaches the metric
    (its ``len`` or first iteration), decoded into objects a chunk at a time.

    Splitting late means only the metric being parsed holds its ~56-byte slices (935k
    points: 52 MB if all were split up front). ``pace`` is called before each chunk: a
    consumer that cannot keep up makes the parse wait there instead of letting parsed
    rows pile up in memory.
    """

    pace: Callable[[], None] | None = None

    def __init__(self, raw: msgspec.Raw) -> None:
        super().__init__()
        self._raw: msgspec.Raw | None = raw

    def _split(self) -> None:
        if self._raw is not None:
            raw, self._raw = self._raw, None
            self.extend(_LIST_OF_RAW.decode(raw))

    def __len__(self) -> int:
        """The number of points."""
        self._split()
        return list.__len__(self)

    def __iter__(self) -> Iterator[Any]:
        """Each point as a dict (or whatever JSON value it is), decoded on demand."""
        self._split()
        for start in range(0, list.__len__(self), CHUNK_POINTS):
            if self.pace is not None:
                self.pace()
            chunk = list.__getitem__(self, slice(start, start + CHUNK_POINTS))
            try:
                decoded = _loads(b"[" + b",".join(chunk) + b"]")
            except orjson.JSONDecodeError:
                decoded = [_decode_point(raw) for raw in chunk]
            yield from decoded


def first_point(points: list[Any]) -> Any:
    """A metric's first point, decoded alone (None when it has none)."""
    if not points:
        return None
    if isinstance(points, LazyPoints):
        return _decode_point(list.__getitem__(points, 0))
    return points[0]


def _decode_point(raw: msgspec.Raw) -> Any:
    try:
        return _loads(memoryview(raw))
    except orjson.JSONDecodeError:
        return UNDECODABLE


def decode_document(data: bytes | bytearray, pace: Callable[[], None] | None = None) -> Any:
    """The decoded body; raises orjson.JSONDecodeError when it is not JSON at all."""
    try:
        return _decode_lazily(data, pace)
    except (msgspec.DecodeError, orjson.JSONDecodeError, _NotTheUsualShape):
        # Not the usual HAE shape (or not JSON): decode it whole; the parser (or the
        # JSON error) then says what is wrong, exactly as for any other body.
        return _loads(data)


class _NotTheUsualShape(Exception):  # noqa: N818 - control flow inside this module
    pass


def _decode_lazily(data: bytes | bytearray, pace: Callable[[], None] | None) -> Any:
    top = _OBJECT_OF_RAW.decode(data)
    if "format" in top or "data" not in top:
        raise _NotTheUsualShape
    envelope = _OBJECT_OF_RAW.decode(top["data"])
    document = {key: _loads(memoryview(raw)) for key, raw in top.items() if key != "data"}
    data_section: dict[str, Any] = {}
    for key, raw in envelope.items():
        data_section[key] = _metrics(raw, pace) if key == "metrics" else _loads(memoryview(raw))
    document["data"] = data_section
    return document


def _metrics(raw: msgspec.Raw, pace: Callable[[], None] | None) -> list[dict[str, Any]]:
    metrics = []
    for item in _LIST_OF_OBJECTS_OF_RAW.decode(raw):
        metric: dict[str, Any] = {}
        for key, value in item.items():
            if key == "data":
                if bytes(memoryview(value)[:1]) != b"[":  # not a list: the parser says so
                    raise _NotTheUsualShape
                points = LazyPoints(value)
                points.pace = pace
                metric[key] = points
            else:
                metric[key] = _loads(memoryview(value))
        metrics.append(metric)
    return metrics

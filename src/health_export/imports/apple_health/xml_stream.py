"""Read export.xml as a stream of top-level elements (Record, Correlation, Workout, ...).

Three traps of real files are handled while streaming:

- The prolog is skipped: everything before ``<HealthData`` (the XML declaration and the
  inline DTD) never reaches the parser. iOS 16 wrote a DTD with a missing ``>`` that
  stops every strict parser, and the DTD is the only place entities could be declared,
  so no entity is ever expanded (an undeclared reference is a well-formedness error).
- Control characters XML forbids (iOS 16 wrote vertical tabs) are deleted from the bytes
  before parsing; in UTF-8 those bytes never occur inside a multi-byte character.
- Every element is counted against a cap, and memory stays flat: an element's subtree
  is handed over and dropped as soon as it ends; beat-by-beat HRV lists are not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Protocol
from xml.parsers import expat

from health_export.imports.apple_health.errors import ArchiveRefused, ArchiveTooLarge

CHUNK_BYTES = 1024 * 1024
# The real DTD is ~15 KB; a file without <HealthData in its first bytes is not an export.
_PROLOG_MAX_BYTES = 4 * 1024 * 1024
_ROOT_MARK = b"<HealthData"
# C0 controls XML 1.0 forbids (tab, line feed and carriage return are allowed).
_FORBIDDEN_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# Children not kept: one per heartbeat under HRV records (not stored: no HAE equivalent).
_DROPPED_CHILDREN = frozenset({"InstantaneousBeatsPerMinute"})


class ByteStream(Protocol):
    """Anything with ``read(size)`` (a file, a zip member, a counting reader)."""

    def read(self, size: int = -1) -> bytes: ...


@dataclass(slots=True)
class Node:
    """One element with its attributes and kept children."""

    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)

    def each(self, tag: str) -> list[Node]:
        """The children named ``tag``."""
        return [child for child in self.children if child.tag == tag]


@dataclass(slots=True)
class StreamStats:
    """What the stream saw besides the elements it handed over."""

    elements: int = 0
    control_characters_removed: int = 0
    bytes_read: int = 0
    locale: str | None = None


class _TreeBuilder:
    """expat handlers that build each top-level element's subtree, then hand it over."""

    def __init__(self, on_element: Callable[[Node], None], stats: StreamStats, cap: int) -> None:
        self.on_element = on_element
        self.stats = stats
        self.cap = cap
        self.elements = 0
        # The open elements below <HealthData>; a top-level one is handed over when it ends.
        self.stack: list[Node] = []
        self.in_root = False
        self.dropped_depth = 0

    # The two handlers run for every element of a multi-gigabyte file: locals, no helpers.
    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.elements = elements = self.elements + 1
        if elements > self.cap:
            raise ArchiveTooLarge(
                f"export.xml has more than {self.cap:,} elements (IMPORT_MAX_ELEMENTS): "
                "a hostile file, or an export beyond that limit; raise it if the file is real"
            )
        stack = self.stack
        if self.dropped_depth or tag in _DROPPED_CHILDREN:
            self.dropped_depth += 1
        elif stack:
            node = Node(tag, attrs, [])
            stack[-1].children.append(node)
            stack.append(node)
        elif self.in_root:
            stack.append(Node(tag, attrs, []))
        elif tag == "HealthData":
            self.in_root = True
            self.stats.locale = attrs.get("locale")
        else:
            raise ArchiveRefused(f"the XML root is <{tag}>, not <HealthData>")

    def end(self, _tag: str) -> None:
        if self.dropped_depth:
            self.dropped_depth -= 1
            return
        stack = self.stack
        if stack:
            node = stack.pop()
            if not stack:
                self.on_element(node)


def stream_in_steps(
    stream: ByteStream,
    on_element: Callable[[Node], None],
    *,
    max_elements: int,
    chunk_bytes: int = CHUNK_BYTES,
) -> Generator[StreamStats, None, StreamStats]:
    """Hand each child of ``<HealthData>`` to ``on_element`` as it ends, one chunk of
    ``chunk_bytes`` at a time: yields the stats after each chunk (so a caller on an
    event loop lets other work run between chunks) and returns them at the end."""
    stats = StreamStats()
    builder = _TreeBuilder(on_element, stats, max_elements)
    parser = expat.ParserCreate(encoding="UTF-8")
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    body, skipped_lines = _skip_prolog(stream, stats)
    try:
        while body:
            cleaned = body.translate(None, _FORBIDDEN_BYTES)
            stats.control_characters_removed += len(body) - len(cleaned)
            parser.Parse(cleaned, False)
            stats.elements = builder.elements
            yield stats
            body = stream.read(chunk_bytes)
            stats.bytes_read += len(body)
        parser.Parse(b"", True)
        stats.elements = builder.elements
    except expat.ExpatError as exc:
        line = (exc.lineno or 0) + skipped_lines
        reason = expat.ErrorString(exc.code) if exc.code is not None else str(exc)
        raise ArchiveRefused(
            f"export.xml is not well-formed at line {line}, column {exc.offset} ({reason})"
        ) from None
    return stats


def _skip_prolog(stream: ByteStream, stats: StreamStats) -> tuple[bytes, int]:
    """The bytes from ``<HealthData`` on (first chunk) and the line count skipped."""
    head = b""
    while True:
        chunk = stream.read(CHUNK_BYTES)
        stats.bytes_read += len(chunk)
        head += chunk
        found = head.find(_ROOT_MARK)
        if found >= 0:
            return head[found:], head.count(b"\n", 0, found)
        if not chunk or len(head) > _PROLOG_MAX_BYTES:
            raise ArchiveRefused(
                "export.xml has no <HealthData> element where an Apple Health export has it"
            )

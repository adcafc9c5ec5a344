"""Reading and checking the fields of one record, shared by every parser.

A check that fails raises :class:`FieldRejected`; the parser catches it per record and
calls ``payload.reject(path, reason)``, so one bad record never stops the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from health_export.ingest.parsing.dates import DateParseError, parse_date

DateReader = Callable[[object], tuple[datetime, int]]
_MAX_ECHO_CHARS = 40


class FieldRejected(Exception):  # noqa: N818 - a control-flow signal, not an error type
    """A record is unusable; ``field`` names the offending key ('' for the record)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason

    def path_in(self, record_path: str) -> str:
        """The full payload path of the offending field."""
        return f"{record_path}.{self.field}" if self.field else record_path


# Source names are interned in a btree-indexed table (an index row holds ~2,700 bytes).
MAX_SOURCE_CHARS = 500


def echo(value: object) -> str:
    """Show a user value in a reason without echoing huge strings."""
    text = repr(value)
    return text if len(text) <= _MAX_ECHO_CHARS else text[:_MAX_ECHO_CHARS] + "…"


def fmt(number: float) -> str:
    """A number as short text for a reason (``500``, ``0.97``)."""
    return f"{number:g}"


def is_number(value: object) -> bool:
    """True for finite ints and floats (bools are not numbers)."""
    if value.__class__ is int:
        return True
    return value.__class__ is float and math.isfinite(value)


def number_reason(value: object) -> str:
    """Why a value that failed a number check is not a usable number."""
    if value.__class__ is float:
        return f"value {fmt(value)} is not finite"
    return f"value {echo(value)} is not a number"


def read_date_field(
    item: Mapping[str, Any], key: str, read_date: DateReader
) -> tuple[datetime, int]:
    """Parse a required date field."""
    raw = item.get(key)
    if raw is None:
        raise FieldRejected(key, "missing date")
    try:
        return read_date(raw)
    except DateParseError as error:
        raise FieldRejected(key, str(error)) from None


class ItemReader:
    """Reads one record's fields by name, remembering which keys it used.

    ``aliases`` maps the field names the parser asks for to the keys of this format,
    so the HAE parsers also read our standard format; errors name the real key.
    """

    __slots__ = ("_aliases", "_attrs_key", "_item", "_read_date", "_used")

    def __init__(
        self,
        item: Mapping[str, Any],
        read_date: DateReader = parse_date,
        aliases: Mapping[str, str] | None = None,
        attrs_key: str | None = None,
    ) -> None:
        self._item = item
        self._attrs_key = attrs_key
        self._read_date = read_date
        self._aliases = aliases or {}
        self._used: set[str] = set()

    @property
    def item(self) -> Mapping[str, Any]:
        """The record as sent."""
        return self._item

    def raw(self, name: str) -> Any:
        """The value as sent (None if missing)."""
        key = self._aliases.get(name, name)
        self._used.add(key)
        return self._item.get(key)

    def key(self, name: str) -> str:
        """The key this format uses for ``name``."""
        return self._aliases.get(name, name)

    def date(self, name: str) -> tuple[datetime, int]:
        """A required date."""
        self._used.add(self.key(name))
        return read_date_field(self._item, self.key(name), self._read_date)

    def optional_date(self, name: str) -> tuple[datetime, int] | None:
        """A date that may be missing; a present but unparseable one rejects the record."""
        value = self.raw(name)
        if value is None:
            return None
        try:
            return self._read_date(value)
        except DateParseError as error:
            raise FieldRejected(self.key(name), str(error)) from None

    def local_date(self, name: str, default_offset_min: int) -> tuple[datetime, int]:
        """A required date; an HAE date without offset takes ``default_offset_min``.

        Formats with a strict date reader (our standard format) keep refusing them.
        """
        value = self.raw(name)
        if value is None:
            raise FieldRejected(self.key(name), "missing date")
        try:
            if self._read_date is parse_date:
                return parse_date(value, default_offset_min)
            return self._read_date(value)
        except DateParseError as error:
            raise FieldRejected(self.key(name), str(error)) from None

    def text(self, name: str, *, required: bool = False) -> str | None:
        """A string; numbers are kept as their text (localised values vary in type)."""
        value = self.raw(name)
        if value is None:
            if required:
                raise FieldRejected(self.key(name), "missing")
            return None
        if isinstance(value, str):
            return value
        if is_number(value):
            return str(value)
        raise FieldRejected(self.key(name), f"{type(value).__name__} is not text")

    def source(self, name: str = "source") -> str:
        """The sending device(s); missing means '' (joined names are kept as sent)."""
        value = self.raw(name)
        if value is None:
            return ""
        if isinstance(value, str):
            if len(value) > MAX_SOURCE_CHARS:  # an indexed name: Postgres caps its size
                raise FieldRejected(self.key(name), f"longer than {MAX_SOURCE_CHARS} characters")
            return value
        raise FieldRejected(self.key(name), f"{type(value).__name__} is not text")

    def number(self, name: str, low: float = -math.inf, high: float = math.inf) -> float | None:
        """An optional finite number within [low, high]."""
        value = self.raw(name)
        if value is None:
            return None
        if not is_number(value):
            raise FieldRejected(self.key(name), number_reason(value))
        if not low <= value <= high:
            raise FieldRejected(self.key(name), f"{fmt(value)} outside {fmt(low)}..{fmt(high)}")
        return float(value)

    def boolean(self, name: str) -> bool | None:
        """An optional boolean."""
        value = self.raw(name)
        if value is None or isinstance(value, bool):
            return value
        raise FieldRejected(self.key(name), f"{echo(value)} is not true/false")

    def extras(self) -> dict[str, Any] | None:
        """Keys no field read: kept in attrs so nothing is dropped silently."""
        extra = {key: value for key, value in self._item.items() if key not in self._used}
        if self._attrs_key is not None:
            explicit = extra.pop(self._attrs_key, None)
            if isinstance(explicit, dict):
                extra = {**explicit, **extra}
            elif explicit is not None:
                raise FieldRejected(self._attrs_key, "attrs is not an object")
        return extra or None


def for_each_object(
    reject: Callable[[str, str], None],
    items: list[Any],
    path: str,
    what: str,
    handle: Callable[[dict[str, Any], str], None],
) -> None:
    """``handle`` every object of ``items`` with its path; reject the rest, and every item
    whose handling raises :class:`FieldRejected`, without stopping."""
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            reject(item_path, f"{what} is not an object")
            continue
        try:
            handle(item, item_path)
        except FieldRejected as rejection:
            reject(rejection.path_in(item_path), rejection.reason)

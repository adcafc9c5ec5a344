"""HKDevice strings, parsed into what identifies a device.

export.xml writes each sample's device as HKDevice's debug text, e.g.
``<<HKDevice: 0x282a45810>, name:Apple Watch, manufacturer:Apple, model:Watch,
hardware:Watch2,4, software:4.3.1>``. The address differs for every object, so the
whole string is no identity (one phone would become dozens of devices); the named
fields are.
"""

from __future__ import annotations

from functools import lru_cache

_FIELDS = ("name", "manufacturer", "model", "hardware", "software")


@lru_cache(maxsize=4096)
def parse_device(text: str) -> dict[str, str] | None:
    """The named fields of an HKDevice string (None when it has none)."""
    body = text.strip()
    if body.startswith("<<"):
        close = body.find(">")
        body = body[close + 1 :] if close >= 0 else body
    body = body.removesuffix(">")
    fields: dict[str, str] = {}
    # Fields are separated by ", "; values themselves contain bare commas ("Watch2,4").
    for part in body.split(", "):
        key, colon, value = part.partition(":")
        key = key.strip()
        if colon and key in _FIELDS:
            fields[key] = value.strip()
    return fields or None

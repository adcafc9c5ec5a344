"""Read a request body within its limits, decoding gzip as it streams in."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from starlette.requests import Request

from health_export.core.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

# A received body: the receive buffer itself (bytearray) or bytes (stored, loaded).
Body = bytes | bytearray
_JSON_TYPES = ("application/json", "text/json")
# CSV automations of the app post multipart/form-data; only its JSON format is taken.
_CSV_HINT = "send JSON: set the automation's export format to JSON"
# What a 413 tells the phone's owner to change (the app shows the answer's detail).
_BATCH_HINT = (
    "turn on Batch requests in the Health Auto Export automation so the export arrives "
    "in smaller requests, or raise {setting} on the server"
)


def _too_large(what: str, limit: int, setting: str) -> PayloadTooLarge:
    hint = _BATCH_HINT.format(setting=setting)
    return PayloadTooLarge(f"{what} is over the {limit}-byte limit ({setting}); {hint}")


def _wire_too_large(limit: int) -> PayloadTooLarge:
    return _too_large("the body", limit, "MAX_PAYLOAD_BYTES")


@dataclass(frozen=True, slots=True)
class ReceivedBody:
    """A request body as JSON text, with what the wire said about it.

    ``data`` is the receive buffer itself. Nothing changes it once received, except the
    ingest pipeline emptying it when the body is stored and handed to a parser process.
    """

    data: Body
    wire_bytes: int
    content_encoding: str | None


def check_content_type(request: Request) -> None:
    """Accept JSON (or no declared type, as some clients send); refuse the rest with 415."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type in _JSON_TYPES or media_type.endswith("+json"):
        return
    detail = f"unsupported content type {media_type[:60]!r}; " + _CSV_HINT
    raise UnsupportedMediaType(detail)


def _decoder_for(encoding: str | None) -> zlib._Decompress | None:  # noqa: SLF001
    if encoding in (None, "", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise UnsupportedMediaType(f"unsupported content encoding {encoding[:30]!r}; use gzip")


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest("Content-Length is not a number") from None


async def read_body(
    request: Request, *, max_wire_bytes: int, max_decoded_bytes: int
) -> ReceivedBody:
    """The decoded body; 413 as soon as the wire or decoded size passes its limit."""
    declared = _declared_length(request)
    if declared is not None and declared > max_wire_bytes:
        raise _wire_too_large(max_wire_bytes)
    encoding = request.headers.get("content-encoding", "").strip().lower() or None
    decoder = _decoder_for(encoding)
    if decoder is None and declared is not None:
        return await _read_declared(request, declared, encoding)
    buffer = bytearray()
    wire = 0
    async for chunk in request.stream():
        wire += len(chunk)
        if wire > max_wire_bytes:
            raise _wire_too_large(max_wire_bytes)
        if decoder is None:
            buffer += chunk
        else:
            _inflate_into(buffer, decoder, chunk, max_decoded_bytes)
    if decoder is not None:
        if not decoder.eof:
            raise BadRequest("the gzip body is truncated")
        if decoder.unused_data.strip():
            raise BadRequest("unexpected bytes after the gzip body")
    # The buffer itself, not a bytes copy of it: a copy doubled a 90 MB body's memory.
    return ReceivedBody(buffer, wire, encoding)


async def _read_declared(request: Request, declared: int, encoding: str | None) -> ReceivedBody:
    """A plain body of known length, read into a buffer of exactly that size (a growing
    buffer over-allocates, by ~10 MB on 90 MB)."""
    buffer = bytearray(declared)
    view = memoryview(buffer)
    wire = 0
    try:
        async for chunk in request.stream():
            end = wire + len(chunk)
            if end > declared:
                raise BadRequest("the body is longer than its Content-Length")
            view[wire:end] = chunk
            wire = end
    finally:
        view.release()
    if wire != declared:
        raise BadRequest("the body is shorter than its Content-Length")
    return ReceivedBody(buffer, wire, encoding)


def _inflate_into(
    buffer: bytearray,
    decoder: zlib._Decompress,
    chunk: bytes,
    limit: int,  # noqa: SLF001
) -> None:
    # max_length bounds each step, so a gzip bomb is stopped after limit + 1 bytes.
    data = chunk
    while data:
        if decoder.eof:
            raise BadRequest("unexpected bytes after the gzip body")
        try:
            out = decoder.decompress(data, limit + 1 - len(buffer))
        except zlib.error:
            raise BadRequest("the body is not valid gzip") from None
        buffer += out
        if len(buffer) > limit:
            raise _too_large("the decompressed body", limit, "MAX_DECOMPRESSED_BYTES")
        data = decoder.unconsumed_tail

"""Stream an uploaded archive to a file under IMPORT_DIR, never holding it in memory.

Chunks are gathered up to a megabyte and written (and finally fsynced) in a worker
thread, so the event loop never waits on the disk; the file is renamed into place only
when complete, and removed when the upload is refused or cut off.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread
from starlette.requests import Request

from health_export.core.errors import (
    BadRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)

ZIP_TYPES = ("application/zip", "application/x-zip-compressed")
_WRITE_BYTES = 1024 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_SEND_ZIP = (
    "send the export.zip the Health app wrote, as the body, with Content-Type: application/zip"
)


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """An archive on disk, complete and fsynced."""

    path: Path
    size: int


def check_zip_type(request: Request) -> None:
    """415 unless the body is declared a zip."""
    declared = request.headers.get("content-type", "")
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type not in ZIP_TYPES:
        shown = repr(media_type[:60]) if media_type else "none"
        raise UnsupportedMediaType(f"unsupported content type {shown}; {_SEND_ZIP}")


def too_large(limit: int) -> PayloadTooLarge:
    """The 413 of an archive past IMPORT_MAX_BYTES (the rest of the body stays unread)."""
    return PayloadTooLarge(
        f"the archive is over the {limit}-byte limit (IMPORT_MAX_BYTES); raise it on the "
        "server, or import the file with `health-export import apple-health`",
        headers={"Connection": "close"},
    )


def check_declared_length(request: Request, limit: int) -> None:
    """413 from Content-Length alone, before a byte is read."""
    value = request.headers.get("content-length")
    if value is None:
        return
    try:
        declared = int(value)
    except ValueError:
        raise BadRequest("Content-Length is not a number") from None
    if declared > limit:
        raise too_large(limit)
    if declared == 0:
        raise BadRequest(f"the body is empty; {_SEND_ZIP}")


class _Writer:
    """The file being written, a megabyte at a time, in a thread."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.pending = bytearray()
        self.size = 0

    async def add(self, chunk: bytes) -> None:
        self.pending += chunk
        self.size += len(chunk)
        if len(self.pending) >= _WRITE_BYTES:
            await self.flush()

    async def flush(self) -> None:
        if self.pending:
            data, self.pending = bytes(self.pending), bytearray()
            await anyio.to_thread.run_sync(self.handle.write, data)

    async def finish(self) -> None:
        await self.flush()
        await anyio.to_thread.run_sync(_sync_to_disk, self.handle)


def _sync_to_disk(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    # The rename is durable once the folder's entry is on disk too.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _cannot_store(exc: OSError) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the server cannot store uploads in IMPORT_DIR ({exc.strerror}); tell its admin",
        retry_after_s=60,
    )


def _open_part(folder: Path, name: str) -> BinaryIO:
    folder.mkdir(parents=True, exist_ok=True)
    return (folder / f"{name}.part").open("xb")


async def store_upload(
    request: Request, folder: Path, limit: int, upload_id: uuid.UUID
) -> StoredUpload:
    """The request body written to ``folder/<id>.zip``; 413 past ``limit``, 400 when it
    is not a zip archive. Nothing is left on disk when it is refused."""
    name = str(upload_id)
    try:
        handle = await anyio.to_thread.run_sync(_open_part, folder, name)
    except OSError as exc:
        raise _cannot_store(exc) from None
    part = folder / f"{name}.part"
    final = folder / f"{name}.zip"
    writer = _Writer(handle)
    head = b""
    try:
        async for chunk in request.stream():
            if len(head) < 4:
                head += chunk[: 4 - len(head)]
                if len(head) == 4 and not head.startswith(_ZIP_MAGIC):
                    raise BadRequest(f"the body is not a zip archive; {_SEND_ZIP}")
            if writer.size + len(chunk) > limit:
                raise too_large(limit)
            await writer.add(chunk)
        if writer.size == 0:
            raise BadRequest(f"the body is empty; {_SEND_ZIP}")
        if len(head) < 4:
            raise BadRequest(f"the body is not a zip archive; {_SEND_ZIP}")
        await writer.finish()
        handle.close()
        await anyio.to_thread.run_sync(part.rename, final)
        await anyio.to_thread.run_sync(_sync_folder, folder)
    except OSError as exc:
        handle.close()
        with contextlib.suppress(OSError):
            part.unlink()
        raise _cannot_store(exc) from None
    except BaseException:
        handle.close()
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    return StoredUpload(final.resolve(), writer.size)


def remove_upload(path: Path) -> None:
    """Delete an uploaded archive (done with, or never registered)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()

"""Open an Apple Health export: the zip the phone writes, or a bare export.xml.

The names inside are localised (``exportar.zip``, ``导出.xml``, ``vienti.xml``), so
export.xml is found by sniffing its root, not by name. The archive is untrusted: every
byte read from it is counted against a cap on the inflated size (a zip's declared sizes
can lie), and a truncated or corrupt zip is refused with a message saying what to do.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from health_export.imports.apple_health.errors import ArchiveRefused, ArchiveTooLarge

GIB = 1024**3
# The first bytes of export.xml name its root (DTD or the element itself); export_cda.xml
# (root ClinicalDocument) and other XML files do not.
_SNIFF_BYTES = 4096
_CHUNK_BYTES = 1024 * 1024
_EXPORT_ROOT_MARKS = (b"<!DOCTYPE HealthData", b"<HealthData")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)
ROUTES_FOLDER = "workout-routes"
ECG_FOLDER = "electrocardiograms"
_REEXPORT = "export it again from the Health app (profile → Export All Health Data)"


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Caps against hostile archives; the defaults are far above any real export."""

    # Real export.xml files reach ~4 GB; a zip bomb inflates without bound.
    max_inflated_bytes: int = 16 * GIB
    # Every XML element counts (records, metadata entries, beats): ~25 M in a 4 GB export.
    max_elements: int = 500_000_000


class CountingReader:
    """A binary stream that counts what it yields and refuses past the inflated cap."""

    def __init__(self, raw: IO[bytes], name: str, budget: InflatedBudget) -> None:
        self._raw = raw
        self._name = name
        self._budget = budget
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes; corrupt compressed data is an ArchiveRefused."""
        try:
            data = self._raw.read(size)
        except _READ_ERRORS as exc:
            raise ArchiveRefused(
                f"{self._name} in the archive is corrupt ({exc}); {_REEXPORT}"
            ) from None
        self.bytes_read += len(data)
        self._budget.spend(len(data))
        return data

    def read_all(self) -> bytes:
        """The whole rest, read a chunk at a time so a bomb is refused before it fills memory."""
        chunks = []
        while chunk := self.read(_CHUNK_BYTES):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Close the underlying stream."""
        self._raw.close()


class InflatedBudget:
    """The inflated bytes every member read so far may still use."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, count: int) -> None:
        """Count ``count`` more inflated bytes; refuse once past the limit."""
        self.used += count
        if self.used > self.limit:
            raise ArchiveTooLarge(
                f"the archive inflates past {self.limit:,} bytes (IMPORT_MAX_INFLATED_BYTES): "
                "a zip bomb, or an export larger than that limit; raise the limit if it is real"
            )


class ExportArchive:
    """An opened export: export.xml as a stream, routes and ECG files by name."""

    def __init__(self, path: Path, limits: ImportLimits) -> None:
        self.path = path
        self.limits = limits
        self.budget = InflatedBudget(limits.max_inflated_bytes)
        self._zip: zipfile.ZipFile | None = None
        self._xml_name = ""
        self.xml_size = 0
        self._open()

    def _open(self) -> None:
        try:
            with self.path.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES)
        except OSError as exc:
            raise ArchiveRefused(f"cannot read {self.path}: {exc.strerror}") from None
        if head.startswith(_ZIP_MAGIC):
            self._open_zip()
        elif _is_export_xml(head):
            self._xml_name = self.path.name
            self.xml_size = self.path.stat().st_size
        else:
            raise ArchiveRefused(
                f"{self.path} is neither a zip archive nor an Apple Health export.xml; "
                "give the export.zip the Health app wrote (or the export.xml inside it)"
            )

    def _open_zip(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ArchiveRefused(
                f"{self.path} is not a complete zip archive (truncated or corrupt: {exc}); "
                f"copy it again, or {_REEXPORT}"
            ) from None
        declared = sum(info.file_size for info in self._zip.infolist())
        if declared > self.limits.max_inflated_bytes:
            self.budget.spend(declared)  # refuses before inflating anything
        member = self._find_export_member()
        self._xml_name = member.filename
        self.xml_size = member.file_size

    def _find_export_member(self) -> zipfile.ZipInfo:
        assert self._zip is not None  # noqa: S101 - only called for zips
        for info in sorted(self._zip.infolist(), key=lambda item: item.filename.count("/")):
            name = info.filename
            if info.is_dir() or not name.lower().endswith(".xml") or name.count("/") > 1:
                continue
            if _is_export_xml(self._read_head(info)):
                return info
        raise ArchiveRefused(
            f"{self.path} holds no export.xml (no XML file whose root is HealthData); "
            "give the export.zip the Health app wrote"
        )

    def _read_head(self, info: zipfile.ZipInfo) -> bytes:
        assert self._zip is not None  # noqa: S101 - only called for zips
        try:
            with self._zip.open(info) as member:
                return member.read(_SNIFF_BYTES)
        except _READ_ERRORS as exc:
            raise ArchiveRefused(f"{info.filename} in the archive is corrupt ({exc})") from None

    @property
    def xml_name(self) -> str:
        """export.xml's name as stored (localised)."""
        return self._xml_name

    def open_xml(self) -> CountingReader:
        """export.xml's bytes, counted."""
        raw: IO[bytes] = (
            self._zip.open(self._xml_name) if self._zip is not None else self.path.open("rb")
        )
        return CountingReader(raw, self._xml_name, self.budget)

    def route_file(self, reference: str) -> bytes | None:
        """The GPX file a workout's ``FileReference`` names (matched by basename)."""
        return self._read_in_folder(ROUTES_FOLDER, posixpath.basename(reference))

    def ecg_files(self) -> Iterator[tuple[str, bytes]]:
        """Every electrocardiogram CSV: (name, bytes)."""
        for name in self._names_in_folder(ECG_FOLDER):
            if name.lower().endswith(".csv"):
                data = self._read_in_folder(ECG_FOLDER, name)
                if data is not None:
                    yield name, data

    def _names_in_folder(self, folder: str) -> list[str]:
        if self._zip is not None:
            prefix = posixpath.dirname(self._xml_name)
            wanted = posixpath.join(prefix, folder) if prefix else folder
            return sorted(
                posixpath.basename(info.filename)
                for info in self._zip.infolist()
                if posixpath.dirname(info.filename) == wanted and not info.is_dir()
            )
        directory = self.path.parent / folder
        if not directory.is_dir():
            return []
        return sorted(entry.name for entry in directory.iterdir() if entry.is_file())

    def _read_in_folder(self, folder: str, name: str) -> bytes | None:
        if not name or name in {".", ".."}:
            return None
        if self._zip is None:
            # Beside a bare export.xml: the unpacked archive's folders, if there.
            candidate = self.path.parent / folder / name
            if not candidate.is_file():
                return None
            data = candidate.read_bytes()
            self.budget.spend(len(data))
            return data
        prefix = posixpath.dirname(self._xml_name)
        member = posixpath.join(prefix, folder, name) if prefix else posixpath.join(folder, name)
        try:
            info = self._zip.getinfo(member)
        except KeyError:
            return None
        reader = CountingReader(self._zip.open(info), member, self.budget)
        try:
            return reader.read_all()
        finally:
            reader.close()

    def close(self) -> None:
        """Release the file."""
        if self._zip is not None:
            self._zip.close()


def _is_export_xml(head: bytes) -> bool:
    return any(mark in head for mark in _EXPORT_ROOT_MARKS)

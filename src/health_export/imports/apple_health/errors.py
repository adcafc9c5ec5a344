"""Why an archive is refused: each message names what to change."""

from __future__ import annotations

from health_export.core.errors import PayloadTooLarge, Unprocessable


class ArchiveRefused(Unprocessable):
    """The archive cannot be imported (corrupt, no export.xml, malformed XML)."""


class ArchiveTooLarge(PayloadTooLarge):
    """The archive inflates past a cap (a zip bomb, or an export beyond the limits)."""

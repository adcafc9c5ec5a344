"""Why an archive is refused: each message names what to change."""

from __future__ import annotations

from health_export.core.errors import Conflict, PayloadTooLarge, Unprocessable


class ArchiveRefused(Unprocessable):
    """The archive cannot be imported (corrupt, no export.xml, malformed XML)."""


class ArchiveTooLarge(PayloadTooLarge):
    """The archive inflates past a cap (a zip bomb, or an export beyond the limits)."""


class ImportErased(Conflict):
    """The import's upload was erased (DELETE /api/v1/data) while it ran: it stops
    before its next part, so nothing of it is stored after the erase."""

"""Choose the parser from the body itself: our standard format or the HAE envelope."""

from __future__ import annotations

from health_export.ingest.parsing.errors import PayloadShapeError
from health_export.ingest.parsing.hae import parse_hae
from health_export.ingest.parsing.standard import STANDARD_FORMAT, parse_standard
from health_export.ingest.records import NormalisedPayload


def parse_payload(doc: object, into: NormalisedPayload | None = None) -> NormalisedPayload:
    """Normalise a decoded JSON body of either format (into ``into`` when given); raise
    PayloadShapeError otherwise."""
    if not isinstance(doc, dict):
        raise PayloadShapeError("body is not a JSON object")
    declared = doc.get("format")
    if declared == STANDARD_FORMAT:
        return parse_standard(doc, into)
    if declared is not None:
        raise PayloadShapeError(f"unknown format, expected {STANDARD_FORMAT!r}")
    if isinstance(doc.get("data"), dict):
        return parse_hae(doc, into)
    raise PayloadShapeError(
        f'expected an HAE body {{"data": {{...}}}} or "format": {STANDARD_FORMAT!r}'
    )

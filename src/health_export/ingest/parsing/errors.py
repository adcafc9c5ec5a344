"""Errors of the parsing stage that reject a whole payload."""

from __future__ import annotations


class PayloadShapeError(ValueError):
    """The envelope itself is unusable (not an object, no ``data`` object, unknown format).

    The HTTP layer answers 422; per-point problems never raise, they are recorded.
    """

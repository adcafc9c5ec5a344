"""Every written table's write plan, derived from its Core table (``schema/layout.py``)."""

from __future__ import annotations

from health_export.ingest.write.tables import TableWrite
from health_export.schema.layout import LAYOUTS

WRITES: dict[str, TableWrite] = {name: TableWrite(layout) for name, layout in LAYOUTS.items()}

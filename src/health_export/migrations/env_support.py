"""What Alembic's autogenerate compares (shared by env.py and the drift test)."""

from __future__ import annotations

from geoalchemy2 import alembic_helpers

from health_export.schema.partitions import is_partition_name

# Tables PostGIS owns, not ours.
_FOREIGN_TABLES = frozenset({"spatial_ref_sys"})


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Skip run-time partitions (only their parents are modelled) and PostGIS's tables."""
    if type_ == "table" and name is not None:
        if is_partition_name(name) or name in _FOREIGN_TABLES:
            return False
    if type_ == "index" and name is not None and is_partition_name(name.rsplit("_", 1)[0]):
        return False
    return bool(
        alembic_helpers.include_object(  # type: ignore[no-untyped-call]
            obj, name, type_, reflected, compare_to
        )
    )

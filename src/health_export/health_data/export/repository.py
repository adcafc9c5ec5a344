"""SQL of the whole-account operations: the streamed export (COPY) and the erase.

Every export row has the same columns, whatever its type, so NDJSON and CSV come from
one query per table, rendered by PostgreSQL (COPY) and streamed in chunks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from health_export.health_data.metrics.repository import Record
from health_export.rollups.maintain import refresh_range

_BOOKKEEPING = "'user_id', 'revision', 'start_at', 'end_at', 'utc_offset_min', 'source_id'"


def local_iso(column: str, offset: str = "t.utc_offset_min") -> str:
    """SQL rendering ``column`` as ISO 8601 at the stored offset (2024-03-14T15:04:00-04:00)."""
    wall = f"to_char(({column} AT TIME ZONE 'UTC') + {offset} * interval '1 minute', "
    wall += "'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    sign = f"CASE WHEN {offset} < 0 THEN '-' ELSE '+' END"
    hours_minutes = (
        f"to_char(abs({offset}) / 60, 'FM00') || ':' || to_char(abs({offset}) % 60, 'FM00')"
    )
    return f"(replace({wall}, '.000000', '') || {sign} || {hours_minutes})"


@dataclass(frozen=True, slots=True)
class ExportTable:
    """How one stored table becomes export rows."""

    table: str
    label: str
    name: str
    details: str
    unit: str = "NULL"
    values: dict[str, str] = field(default_factory=dict)
    start: str = "t.start_at"
    end: str | None = "t.end_at"
    offset: str = "t.utc_offset_min"
    joins: str = ""
    has_source: bool = True

    def select(self) -> str:
        """The export SELECT for one user and a [start, end) range ($1, $2, $3)."""
        end = local_iso(self.end, self.offset) if self.end else "NULL"
        source = "src.name" if self.has_source else "NULL"
        joins = self.joins + (
            " JOIN sources src ON src.id = t.source_id" if self.has_source else ""
        )
        values = ", ".join(
            f"{self.values.get(name, 'NULL')}::float8 AS {name}"
            for name in ("qty", "min", "avg", "max", "systolic", "diastolic")
        )
        return (
            f"SELECT '{self.label}' AS type, {self.name} AS name, "  # noqa: S608 - declared in code
            f'{local_iso(self.start, self.offset)} AS start, {end} AS "end", '
            f"{self.offset} AS utc_offset_min, {source} AS source, {self.unit} AS unit, {values}, "
            f"{self.details} AS details FROM {self.table} t{joins} "
            f"WHERE t.user_id = $1 AND {self.start} >= $2 AND {self.start} < $3"
        )


def _rest(*also: str, local_times: tuple[str, ...] = ()) -> str:
    """Every column not exported on its own, as a jsonb object (null when empty).

    ``local_times`` are timestamp columns shown at the stored offset, like ``start``
    (``to_jsonb`` would render them in the session's UTC).
    """
    dropped = ", ".join([_BOOKKEEPING, *(f"'{name}'" for name in also)])
    rest = f"(to_jsonb(t) - ARRAY[{dropped}])"
    if local_times:
        pairs = ", ".join(f"'{name}', {local_iso(f't.{name}')}" for name in local_times)
        rest = f"({rest} || jsonb_build_object({pairs}))"
    return f"NULLIF({rest}, '{{}}'::jsonb)"


# A route's point times at the workout's offset, in point order.
_ROUTE_TIMES = (
    "(SELECT jsonb_agg(" + local_iso("p.moment", "w.utc_offset_min") + " ORDER BY p.n) "
    "FROM unnest(t.times) WITH ORDINALITY AS p(moment, n))"
)


_METRIC_VALUES = {
    name: f"t.{name}" for name in ("qty", "min", "avg", "max", "systolic", "diastolic")
}
EXPORT_TABLES: dict[str, tuple[ExportTable, ...]] = {
    "metrics": (
        ExportTable(
            "metric_samples",
            "metric",
            "mt.name",
            "t.attrs",
            unit="t.unit",
            values=_METRIC_VALUES,
            joins=" JOIN metric_types mt ON mt.id = t.metric_id",
        ),
    ),
    "sleep": (
        ExportTable(
            "sleep_sessions",
            "sleep_session",
            "'sleep_analysis'",
            _rest(
                "total_sleep_h",
                local_times=("sleep_start", "sleep_end", "in_bed_start", "in_bed_end"),
            ),
            unit="'hr'",
            values={"qty": "t.total_sleep_h"},
            end="t.sleep_end",
        ),
        ExportTable(
            "sleep_stages", "sleep_stage", "t.stage", "t.attrs", "'hr'", {"qty": "t.qty_h"}
        ),
    ),
    "workouts": (
        ExportTable(
            "workouts",
            "workout",
            "t.name",
            _rest("name", "duration_s"),
            unit="'s'",
            values={"qty": "t.duration_s"},
            has_source=False,
        ),
        ExportTable(
            "workout_series",
            "workout_series",
            "t.series",
            "jsonb_build_object('workout_id', t.workout_id) || COALESCE(t.attrs, '{}'::jsonb)",
            unit="t.unit",
            values={name: f"t.{name}" for name in ("qty", "min", "avg", "max")},
            end=None,
        ),
        ExportTable(
            "workout_routes",
            "workout_route",
            "w.name",
            "jsonb_build_object('geometry', ST_AsGeoJSON(t.geom)::jsonb, "
            f"'times', {_ROUTE_TIMES}) || "
            "(to_jsonb(t) - ARRAY['user_id', 'revision', 'geom', 'times'])",
            start="w.start_at",
            end="w.end_at",
            offset="w.utc_offset_min",
            joins=" JOIN workouts w ON w.user_id = t.user_id AND w.workout_id = t.workout_id",
            has_source=False,
        ),
    ),
    "ecg": (
        ExportTable(
            "ecg_recordings",
            "ecg",
            "t.classification",
            _rest("classification", local_times=("first_sample_at",)),
        ),
    ),
    "symptoms": (ExportTable("symptoms", "symptom", "t.name", _rest("name")),),
    "cycle_tracking": (
        ExportTable("cycle_tracking", "cycle_tracking", "t.name", _rest("name"), has_source=False),
    ),
    "state_of_mind": (
        ExportTable("state_of_mind", "state_of_mind", "t.kind", _rest("kind"), has_source=False),
    ),
    "medications": (
        ExportTable(
            "medications", "medication", "t.display_text", _rest("display_text"), has_source=False
        ),
    ),
    "heart_rate_notifications": (
        ExportTable(
            "heart_rate_notifications",
            "heart_rate_notification",
            "t.kind",
            _rest("kind"),
            has_source=False,
        ),
    ),
}
EXPORT_TYPES = tuple(EXPORT_TABLES)

# NDJSON through COPY's CSV mode with quote and delimiter bytes JSON never holds raw
# (json escapes control characters), so each line is the JSON text exactly.
_NDJSON_COPY = {"format": "csv", "quote": "\x01", "delimiter": "\x02"}


def ndjson_query(table: ExportTable) -> str:
    """One JSON object per row, nulls left out."""
    return f"SELECT json_strip_nulls(row_to_json(x)) FROM ({table.select()}) x"  # noqa: S608


async def copy_rows(
    apg: Any,
    table: ExportTable,
    output: Callable[[bytes], Awaitable[None]],
    args: tuple[int, datetime, datetime],
    *,
    as_csv: bool,
    header: bool = False,
) -> None:
    """Stream one table's export rows to ``output`` chunk by chunk (COPY TO STDOUT)."""
    if as_csv:
        await apg.copy_from_query(table.select(), *args, output=output, format="csv", header=header)
    else:
        await apg.copy_from_query(ndjson_query(table), *args, output=output, **_NDJSON_COPY)


# Delete order: dependants before the workouts they hang on.
ERASE_TABLES: dict[str, tuple[str, ...]] = {
    "metrics": ("metric_samples",),
    "sleep": ("sleep_sessions", "sleep_stages"),
    "workouts": ("workout_series", "workout_routes", "workouts"),
    "ecg": ("ecg_recordings",),
    "symptoms": ("symptoms",),
    "cycle_tracking": ("cycle_tracking",),
    "state_of_mind": ("state_of_mind",),
    "medications": ("medications",),
    "heart_rate_notifications": ("heart_rate_notifications",),
    "activity_summaries": ("activity_summaries",),
    "raw_ingestions": ("raw_ingestions",),
    # Uploaded archives (their rows, day counts and stored files): like raw bodies, they
    # hold data of any earlier time.
    "imports": ("imports",),
}
_IN_WORKOUTS = (
    "workout_id IN (SELECT workout_id FROM workouts "
    "WHERE user_id = $1 AND start_at >= $2 AND start_at < $3)"
)
_ERASE_WHERE = {
    "workout_series": _IN_WORKOUTS,
    "workout_routes": _IN_WORKOUTS,
    # A raw body may hold data of any time before it arrived: every body received since
    # the range's start may hold some of it, so all of those go.
    "raw_ingestions": "received_at >= $2",
    "imports": "created_at >= $2",
}
# Tables whose erase depends on when a row arrived, not on the time of its data.
_BY_ARRIVAL = frozenset({"raw_ingestions", "imports"})


async def erase(apg: Any, table: str, user_id: int, start: datetime, end: datetime) -> int:
    """Delete one table's rows of the user in [start, end); how many went."""
    if table == "metric_samples":
        return await _erase_metric_samples(apg, user_id, start, end)
    where = _ERASE_WHERE.get(table, "start_at >= $2 AND start_at < $3")
    sql = f"WITH gone AS (DELETE FROM {table} WHERE user_id = $1 AND {where} RETURNING 1) "  # noqa: S608
    sql += "SELECT count(*) FROM gone"
    args = (user_id, start) if table in _BY_ARRIVAL else (user_id, start, end)
    deleted: Record = await apg.fetchval(sql, *args)
    return int(deleted)


async def _erase_metric_samples(apg: Any, user_id: int, start: datetime, end: datetime) -> int:
    """Delete the user's metric points in [start, end), then every (metric, source) pair of
    ``metric_sources`` that lost its last point, so the list stays exact."""
    gone = await apg.fetch(
        "WITH gone AS (DELETE FROM metric_samples WHERE user_id = $1 AND start_at >= $2 "
        "AND start_at < $3 RETURNING metric_id, source_id) "
        "SELECT metric_id, source_id, count(*) AS n FROM gone GROUP BY metric_id, source_id",
        user_id,
        start,
        end,
    )
    if gone:
        # Only the pairs that lost points can have lost their last one.
        await apg.execute(
            "DELETE FROM metric_sources ms USING unnest($2::int[], $3::int[]) AS p(m, s) "
            "WHERE ms.user_id = $1 AND ms.metric_id = p.m AND ms.source_id = p.s "
            "AND NOT EXISTS (SELECT 1 FROM metric_samples t WHERE t.user_id = $1 "
            "AND t.metric_id = p.m AND t.source_id = p.s)",
            user_id,
            [row["metric_id"] for row in gone],
            [row["source_id"] for row in gone],
        )
        metric_ids = sorted({row["metric_id"] for row in gone})
        await refresh_range(apg, user_id, metric_ids, start, end)
    return sum(int(row["n"]) for row in gone)


async def erase_activity_days(apg: Any, user_id: int, first: date, after: date) -> int:
    """Delete the user's Activity rings of the calendar days [first, after)."""
    deleted: Record = await apg.fetchval(
        "WITH gone AS (DELETE FROM activity_summaries WHERE user_id = $1 AND day >= $2 "
        "AND day < $3 RETURNING 1) SELECT count(*) FROM gone",
        user_id,
        first,
        after,
    )
    return int(deleted)


async def erase_imports(apg: Any, user_id: int, start: datetime) -> list[str]:
    """Delete the user's archive imports uploaded at or after ``start`` (their day counts
    go with them); the paths of their stored archives."""
    rows = await apg.fetch(
        "DELETE FROM imports WHERE user_id = $1 AND created_at >= $2 RETURNING file_path",
        user_id,
        start,
    )
    return [str(row["file_path"]) for row in rows]


async def forget_latest_ingestion(apg: Any, user_id: int) -> None:
    """After an erase no earlier ingest answer describes the data: a byte-identical
    re-send must be processed again (see ``ingest/dedupe.py``)."""
    await apg.execute("DELETE FROM latest_ingestions WHERE user_id = $1", user_id)

"""One run exported as workout version 1 and as version 2 is one workout: the v2 copy.

The app's two export versions identify a workout differently: version 2 by its ``id``,
version 1 (no id) by name and start (``parsing/workouts.py::workout_id``), so the same
run arrives under two ids. Twins are the same user's workouts of the same name, start
and end where one has the app's id and the other has none. The copy with the id is
kept: it is stable across re-sends and carries more (route accuracies, more series).
Nothing valid is lost: a series or a route only the poorer copy has moves onto the kept
workout; the rest of the poorer copy goes.

Per ingest, in its transaction:

1. An incoming workout without an id whose twin is stored, or comes in the same batch,
   is not written (counted ``unchanged``: the twin holds that run). Its series and
   route rows, parsed on their own, are written under its id and sorted out in step 2.
2. After every row is written, each pair (poorer, kept) from step 1, and each pair of
   stored twins (a version 1 workout stored before its version 2 arrived), is merged.
   Rows of a step-1 workout that go were counted as inserted by their upsert; they are
   counted ``unchanged`` instead, so the answer counts only what is stored.

Workouts are few (one per run, not per point), so this adds nothing per metric point.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from health_export.ingest.write.upsert import TableCounts
from health_export.schema.layout import ROW_COLUMNS

_COLUMNS = ROW_COLUMNS["workouts"]
_ID, _APP_ID, _NAME, _START, _END = (
    _COLUMNS.index(name) for name in ("workout_id", "app_id", "name", "start_at", "end_at")
)


# The incoming workouts (a CTE ``incoming``), from a staged batch or array parameters.
# Every statement here is built from constants and generated batch table names.
# Staged text columns are COLLATE "C"; names compare byte for byte on both sides.
_INCOMING_COLUMNS = 'workout_id, app_id, name COLLATE "C" AS name, start_at, end_at'
_INCOMING_STAGED = f"incoming AS (SELECT {_INCOMING_COLUMNS} FROM {{staged}})"  # noqa: S608
_INCOMING_ARRAYS = (
    f"incoming AS (SELECT {_INCOMING_COLUMNS} FROM unnest($2::uuid[], $3::text[], "  # noqa: S608
    "$4::text[], $5::timestamptz[], $6::timestamptz[]) AS i(workout_id, app_id, name, "
    "start_at, end_at))"
)
# (poorer, kept) for each incoming workout without an id that has a twin with one,
# stored or incoming.
_TWINS_OF_INCOMING = (
    "SELECT DISTINCT ON (p.workout_id) p.workout_id AS poorer, r.workout_id AS kept "
    'FROM incoming p JOIN (SELECT workout_id, name COLLATE "C" AS name, start_at, end_at '
    "FROM workouts WHERE user_id = $1 AND app_id IS NOT NULL UNION ALL SELECT workout_id, "
    "name, start_at, end_at FROM incoming WHERE app_id IS NOT NULL) r ON r.name = p.name "
    "AND r.start_at = p.start_at AND r.end_at IS NOT DISTINCT FROM p.end_at "
    "AND r.workout_id <> p.workout_id "
    "WHERE p.app_id IS NULL ORDER BY p.workout_id, r.workout_id"
)
_STORED_TWINS = (
    "SELECT DISTINCT ON (p.workout_id) p.workout_id AS poorer, r.workout_id AS kept "
    "FROM workouts p JOIN workouts r ON r.user_id = p.user_id AND r.start_at = p.start_at "
    "AND r.name = p.name AND r.end_at IS NOT DISTINCT FROM p.end_at "
    "AND r.app_id IS NOT NULL AND r.workout_id <> p.workout_id "
    "WHERE p.user_id = $1 AND p.app_id IS NULL ORDER BY p.workout_id, r.workout_id"
)
_PAIRS = "unnest($2::uuid[], $3::uuid[]) AS pair(poorer, kept)"
# A whole series (by name) or route only the poorer copy has moves to the kept workout;
# moving single points would mix two samplings of one series.
_MOVE_SERIES = (
    f"UPDATE workout_series s SET workout_id = pair.kept FROM {_PAIRS} "  # noqa: S608
    "WHERE s.user_id = $1 AND s.workout_id = pair.poorer AND NOT EXISTS (SELECT 1 FROM "
    "workout_series k WHERE k.user_id = $1 AND k.workout_id = pair.kept AND k.series = s.series)"
)
_MOVE_ROUTE = (
    f"UPDATE workout_routes t SET workout_id = pair.kept FROM {_PAIRS} "  # noqa: S608
    "WHERE t.user_id = $1 AND t.workout_id = pair.poorer AND NOT EXISTS (SELECT 1 FROM "
    "workout_routes k WHERE k.user_id = $1 AND k.workout_id = pair.kept)"
)


def _delete_poorer(table: str) -> str:
    """Delete the poorer copies' rows of ``table``; how many went per workout."""
    return (
        f"WITH gone AS (DELETE FROM {table} WHERE user_id = $1 "  # noqa: S608 - from code
        "AND workout_id = ANY($2::uuid[]) RETURNING workout_id) "
        "SELECT workout_id, count(*) AS n FROM gone GROUP BY workout_id"
    )


@dataclass(slots=True)
class WorkoutTwins:
    """The twins one ingest met: found as workouts are written, merged at the end."""

    # Incoming workouts not written because their twin is kept: poorer id -> kept id.
    skipped: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    async def drop_from_rows(
        self, apg: Any, user_id: int, rows: list[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        """``rows`` (workouts, not yet staged) without the poorer twins; the caller counts
        the rows left out as unchanged."""
        if not any(row[_APP_ID] is None for row in rows):
            return rows
        columns = [[row[index] for row in rows] for index in (_ID, _APP_ID, _NAME, _START, _END)]
        pairs = await apg.fetch(f"WITH {_INCOMING_ARRAYS} {_TWINS_OF_INCOMING}", user_id, *columns)
        self._remember(pairs)
        poorer = {pair["poorer"] for pair in pairs}
        return [row for row in rows if row[_ID] not in poorer]

    async def drop_from_staged(self, apg: Any, user_id: int, staged: str) -> None:
        """Delete the poorer twins from a staged batch of workouts (its row count stays,
        so the writer counts them as unchanged)."""
        incoming = _INCOMING_STAGED.format(staged=staged)
        pairs = await apg.fetch(
            f"WITH {incoming}, pairs AS ({_TWINS_OF_INCOMING}), gone AS (DELETE FROM {staged} "  # noqa: S608 - names from code
            "WHERE workout_id IN (SELECT poorer FROM pairs)) SELECT poorer, kept FROM pairs",
            user_id,
        )
        self._remember(pairs)

    async def merge(self, apg: Any, user_id: int, counts: dict[str, TableCounts]) -> None:
        """Merge every pair of twins this ingest made or met; correct ``counts``."""
        if not self.skipped and "workouts" not in counts:
            return
        pairs = dict(self.skipped)
        stored = {row["poorer"]: row["kept"] for row in await apg.fetch(_STORED_TWINS, user_id)}
        pairs.update(stored)
        if not pairs:
            return
        poorer, kept = list(pairs), list(pairs.values())
        await apg.execute(_MOVE_SERIES, user_id, poorer, kept)
        await apg.execute(_MOVE_ROUTE, user_id, poorer, kept)
        for table in ("workout_series", "workout_routes"):
            gone = await apg.fetch(_delete_poorer(table), user_id, poorer)
            # A workout left out by this ingest never had a row, so its series and route
            # rows were inserted by this ingest; a stored poorer copy's rows were counted
            # as they were (unchanged, updated, or not sent at all), and that stays.
            written_here = sum(int(row["n"]) for row in gone if row["workout_id"] not in stored)
            _count_as_unchanged(counts, table, written_here)
        await apg.execute(
            "DELETE FROM workouts WHERE user_id = $1 AND workout_id = ANY($2::uuid[])",
            user_id,
            list(stored),
        )

    def _remember(self, pairs: list[Any]) -> None:
        for pair in pairs:
            self.skipped[pair["poorer"]] = pair["kept"]


def _count_as_unchanged(counts: dict[str, TableCounts], table: str, rows: int) -> None:
    """Rows an upsert counted as inserted that are gone again: nothing new was stored."""
    table_counts = counts.get(table)
    if table_counts is None or rows == 0:
        return
    moved = min(rows, table_counts.inserted)
    table_counts.inserted -= moved
    table_counts.unchanged += moved

"""Real files' traps and hostile archives: what is imported, what is refused, and how."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from health_export.imports.apple_health.archive import ImportLimits
from health_export.imports.apple_health.errors import ArchiveRefused, ArchiveTooLarge
from tests.fixtures.apple_export import PHONE, WATCH, ExportBuilder, write_zip, zip_bomb
from tests.fixtures.auth import create_user_with_key
from tests.fixtures.captures import capture_path
from tests.imports.conftest import count_rows, fetch, run_import
from tests.imports.test_apple_health_import import write_full_archive

_SAMPLE_TABLES = ("metric_samples", "sleep_stages", "workouts", "ecg_recordings")


async def _stored(app: FastAPI, user_id: int) -> int:
    return sum([await count_rows(app, table, user_id) for table in _SAMPLE_TABLES])


def _steps(count: int) -> ExportBuilder:
    export = ExportBuilder()
    for minute in range(count):
        start = (
            f"2024-03-{1 + minute // 1440:02d} {minute // 60 % 24:02d}:{minute % 60:02d}:00 +0100"
        )
        export.record("StepCount", str(minute % 50 + 1), start, unit="count", source=PHONE)
    return export


async def test_broken_ios16_dtd_and_vertical_tab_import(app: FastAPI, tmp_path: Path) -> None:
    export = ExportBuilder(dtd="ios16")
    export.record(
        "HeartRate", "61", "2024-03-14 15:04:00 +0100", unit="count/min", source="Watch\x0b"
    )
    user = await create_user_with_key(app)

    summary = await run_import(app, user.user_id, write_zip(tmp_path / "export.zip", export.xml()))

    assert summary.control_characters_removed == 1
    assert summary.inserted == 1
    rows = await fetch(
        app,
        "SELECT s.name FROM metric_samples m JOIN sources s ON s.id = m.source_id"
        " WHERE m.user_id = :u",
        u=user.user_id,
    )
    assert rows == [{"name": "Watch"}]


async def test_localised_archive_and_xml_names_are_found(app: FastAPI, tmp_path: Path) -> None:
    export = ExportBuilder(locale="zh_CN")
    export.record("StepCount", "42", "2024-03-14 15:04:00 +0800", unit="count", source=PHONE)
    archive = write_zip(
        tmp_path / "exportar.zip", export.xml(), xml_name="apple_health_export/导出.xml"
    )
    user = await create_user_with_key(app)

    summary = await run_import(app, user.user_id, archive, tz="Asia/Shanghai")

    assert (summary.records, summary.inserted) == (1, 1)


async def test_bare_export_xml_imports_with_routes_beside_it(app: FastAPI, tmp_path: Path) -> None:
    folder = tmp_path / "apple_health_export"
    folder.mkdir()
    with zipfile.ZipFile(write_full_archive(tmp_path)) as archive:
        archive.extractall(tmp_path)
    user = await create_user_with_key(app)

    summary = await run_import(app, user.user_id, folder / "export.xml")

    assert (summary.workouts, summary.routes, summary.ecg) == (4, 2, 1)


async def test_truncated_zip_is_refused_and_nothing_is_stored(app: FastAPI, tmp_path: Path) -> None:
    archive = write_full_archive(tmp_path)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    user = await create_user_with_key(app)

    with pytest.raises(ArchiveRefused, match="truncated or corrupt"):
        await run_import(app, user.user_id, archive)
    assert await _stored(app, user.user_id) == 0


async def test_malformed_xml_after_written_batches_of_one_part_stores_nothing(
    app: FastAPI, tmp_path: Path
) -> None:
    # 30k records in one part: the writer stores a batch before the parse meets the
    # broken end, in the part's transaction (test_import_parts.py cuts off later parts).
    export = _steps(30_000).raw("<Record type=")
    user = await create_user_with_key(app)

    with pytest.raises(ArchiveRefused, match="not well-formed at line .*nothing was stored"):
        await run_import(
            app,
            user.user_id,
            write_zip(tmp_path / "export.zip", export.xml()),
            part_rows=100_000,
        )
    assert await _stored(app, user.user_id) == 0


async def test_zip_bomb_is_refused_by_its_inflated_size(app: FastAPI, tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "export.zip", 64 * 1024 * 1024)
    user = await create_user_with_key(app)

    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(ArchiveTooLarge, match="IMPORT_MAX_INFLATED_BYTES"):
        await run_import(app, user.user_id, bomb, limits=ImportLimits(max_inflated_bytes=8 << 20))


async def test_inflated_size_is_counted_while_reading(app: FastAPI, tmp_path: Path) -> None:
    # A bare export.xml declares no size: the bytes read are counted.
    path = tmp_path / "export.xml"
    path.write_bytes(_steps(5_000).xml())
    user = await create_user_with_key(app)

    with pytest.raises(ArchiveTooLarge, match="inflates past"):
        await run_import(app, user.user_id, path, limits=ImportLimits(max_inflated_bytes=1 << 20))
    assert await _stored(app, user.user_id) == 0


async def test_element_count_is_capped(app: FastAPI, tmp_path: Path) -> None:
    user = await create_user_with_key(app)

    with pytest.raises(ArchiveTooLarge, match="IMPORT_MAX_ELEMENTS"):
        await run_import(
            app, user.user_id, write_full_archive(tmp_path), limits=ImportLimits(max_elements=50)
        )


async def test_entities_are_never_expanded(app: FastAPI, tmp_path: Path) -> None:
    export = ExportBuilder(dtd="laughs")
    # Unescaped on purpose: a reference to the DTD's nine-level entity.
    export.raw(
        '<Record type="HKQuantityTypeIdentifierStepCount" sourceName="&lol9;" unit="count"'
        ' startDate="2024-03-14 15:04:00 +0100" endDate="2024-03-14 15:04:00 +0100" value="1"/>'
    )
    user = await create_user_with_key(app)

    with pytest.raises(ArchiveRefused, match="undefined entity"):
        await run_import(app, user.user_id, write_zip(tmp_path / "export.zip", export.xml()))
    assert await _stored(app, user.user_id) == 0


async def test_archive_without_export_xml_is_refused(app: FastAPI, tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        archive.writestr("apple_health_export/notes.txt", "hello")
    user = await create_user_with_key(app)

    with pytest.raises(ArchiveRefused, match="holds no export.xml"):
        await run_import(app, user.user_id, path)


async def test_a_file_that_is_neither_zip_nor_export_is_refused(
    app: FastAPI, tmp_path: Path
) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(b"%PDF-1.7 not an export")
    user = await create_user_with_key(app)

    with pytest.raises(ArchiveRefused, match="neither a zip archive nor"):
        await run_import(app, user.user_id, path)


async def test_sample_sent_by_the_app_then_imported_is_one_row(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await create_user_with_key(app)
    point = {"date": "2024-03-14 15:04:00 -0400", "Min": 72, "Avg": 72, "Max": 72, "source": WATCH}
    body: dict[str, Any] = {
        "data": {"metrics": [{"name": "heart_rate", "units": "count/min", "data": [point]}]}
    }
    answer = await client.post("/api/v1/ingest", json=body, headers=user.headers)
    assert answer.status_code == 200
    # The archive writes the same instant at the exporting phone's offset.
    export = ExportBuilder()
    export.record("HeartRate", "72", "2024-03-14 20:04:00 +0100", unit="count/min", source=WATCH)

    summary = await run_import(
        app, user.user_id, write_zip(tmp_path / "export.zip", export.xml()), tz="America/New_York"
    )

    assert summary.inserted == 0
    assert summary.updated + summary.unchanged == 1
    rows = await fetch(
        app,
        "SELECT m.avg, m.utc_offset_min FROM metric_samples m"
        " JOIN metric_types t ON t.id = m.metric_id WHERE m.user_id = :u AND t.name = 'heart_rate'",
        u=user.user_id,
    )
    assert rows == [{"avg": 72.0, "utc_offset_min": -240}]


@pytest.mark.parametrize(
    ("name", "records"),
    [
        ("export-v13-with-2-gpx-routes.zip", 8038),
        ("export-v13-broken-dtd.zip", 8038),
        ("export-trimmed-workout-route-activity.xml", 2),
    ],
)
async def test_real_archives_import_whole(
    app: FastAPI, tmp_path: Path, name: str, records: int
) -> None:
    path = capture_path("apple-health", name)
    user = await create_user_with_key(app)

    summary = await run_import(app, user.user_id, path)
    again = await run_import(app, user.user_id, path)

    assert summary.records == records
    assert summary.rejected == {}
    assert summary.inserted > 0
    assert (again.inserted, again.updated) == (0, 0)

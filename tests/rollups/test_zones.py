"""Which zones keep every UTC hour inside one local day (so hourly rollups regroup exactly)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from health_export.rollups.zones import keeps_hours_in_days

RECENT = (datetime(2023, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "key", ["UTC", "America/New_York", "Europe/Paris", "Asia/Tokyo", "America/Sao_Paulo"]
)
def test_zones_of_whole_hours_with_changes_on_utc_hours_regroup_hours(key: str) -> None:
    assert keeps_hours_in_days(ZoneInfo(key), *RECENT)


@pytest.mark.parametrize(
    "key",
    [
        "Asia/Kolkata",  # +05:30
        "Asia/Kathmandu",  # +05:45
        "America/St_Johns",  # -03:30 / -02:30
        "Australia/Adelaide",  # +09:30 / +10:30
        "Australia/Lord_Howe",  # +10:30 / +11:00: a half-hour DST
    ],
)
def test_zones_with_part_hour_offsets_do_not(key: str) -> None:
    assert not keeps_hours_in_days(ZoneInfo(key), *RECENT)


def test_a_whole_hour_zone_before_standard_time_does_not() -> None:
    # New York kept local mean time (-04:56:02) until November 1883.
    zone = ZoneInfo("America/New_York")
    assert not keeps_hours_in_days(zone, datetime(1883, 1, 1, tzinfo=UTC), RECENT[1])
    assert keeps_hours_in_days(zone, datetime(1884, 1, 1, tzinfo=UTC), RECENT[1])

"""Every date form the senders use (docs/hae-format.md §3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from health_export.ingest.parsing import dates
from health_export.ingest.parsing.dates import (
    DateParseError,
    parse_date,
    parse_date_with_offset,
    utc_iso,
)

EDT = timezone(timedelta(hours=-4))


def test_main_form_keeps_local_time_and_offset() -> None:
    moment, offset = parse_date("2024-03-14 15:04:00 -0400")
    assert moment == datetime(2024, 3, 14, 15, 4, tzinfo=EDT)
    assert moment.utcoffset() == timedelta(hours=-4)
    assert offset == -240


def test_half_hour_positive_offset() -> None:
    assert parse_date("2024-03-14 15:04:00 +0530")[1] == 330


@pytest.mark.parametrize("space", [" ", "\u202f", "\u00a0"])
def test_twelve_hour_clock_with_any_space_before_meridiem(space: str) -> None:
    moment, offset = parse_date(f"2024-09-21 7:57:00{space}pm +1000")
    assert (moment.hour, moment.minute, offset) == (19, 57, 600)


def test_twelve_hour_clock_with_narrow_no_break_space() -> None:
    moment, _ = parse_date("2024-09-21 7:57:00\u202fam +1000")
    assert moment == datetime(2024, 9, 21, 7, 57, tzinfo=timezone(timedelta(hours=10)))


def test_twelve_am_is_midnight_and_twelve_pm_is_noon() -> None:
    assert parse_date("2024-09-21 12:00:00 AM -0500")[0].hour == 0
    assert parse_date("2024-09-21 12:30:00 PM -0500")[0].hour == 12


def test_date_only_is_midnight_utc_unless_a_default_offset_is_given() -> None:
    assert parse_date("2024-05-09") == (datetime(2024, 5, 9, tzinfo=UTC), 0)
    moment, offset = parse_date("2024-05-09", -240)
    assert moment == datetime(2024, 5, 9, tzinfo=EDT)
    assert offset == -240


def test_iso_8601_with_z_and_with_colon_offset_and_fraction() -> None:
    assert parse_date("2026-05-05T02:35:56Z") == (datetime(2026, 5, 5, 2, 35, 56, tzinfo=UTC), 0)
    moment, offset = parse_date("2026-05-05T02:35:56.123456789+05:30")
    assert moment.microsecond == 123456
    assert offset == 330


def test_epoch_seconds_float_and_int() -> None:
    moment, offset = parse_date(1476833353.994098)
    assert moment == datetime.fromtimestamp(1476833353.994098, UTC)
    assert offset == 0
    assert parse_date(1476833353)[0] == datetime(2016, 10, 18, 23, 29, 13, tzinfo=UTC)
    assert parse_date(1476833353, -240)[1] == -240


def test_milliseconds_form() -> None:
    moment, offset = parse_date("2024-02-06 14:30:00.250 -0800")
    assert (moment.microsecond, offset) == (250000, -480)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "2024-13-01 00:00:00 -0400",
        "2024-02-30 00:00:00 -0400",
        "2024-09-21 13:00:00 pm +1000",
        "2024-09-21 10:00:00 +2500",
        "2024-09-21 10:00:00 +0099",
        "2024-03-14 15:04:00 -04:00x",
        True,
        None,
        [],
        float("nan"),
        1e20,
    ],
)
def test_invalid_dates_raise_one_error_type(value: object) -> None:
    with pytest.raises(DateParseError):
        parse_date(value)


def test_error_message_never_echoes_huge_input() -> None:
    with pytest.raises(DateParseError) as error:
        parse_date("x" * 10_000)
    assert len(str(error.value)) < 80


def test_strict_reader_refuses_timestamps_without_offset() -> None:
    with pytest.raises(DateParseError):
        parse_date_with_offset("2024-05-09T10:00:00")
    with pytest.raises(DateParseError):
        parse_date_with_offset("2024-05-09")
    with pytest.raises(DateParseError):
        parse_date_with_offset(1476833353)
    assert parse_date_with_offset("2024-05-09T10:00:00-04:00")[1] == -240


def test_repeated_timestamp_comes_from_the_cache() -> None:
    first = parse_date("2024-03-14 15:05:00 -0400")
    assert parse_date("2024-03-14 15:05:00 -0400") is first


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dates, "_MAX_CACHE_ENTRIES", 10)
    for minute in range(30):
        parse_date(f"2024-03-14 15:{minute:02d}:00 -0400")
    assert len(dates._cache) <= 10


def test_utc_iso_is_stable_for_natural_keys() -> None:
    assert utc_iso(datetime(2023, 6, 6, 20, 38, 38, tzinfo=EDT)) == "2023-06-07T00:38:38+00:00"


aware_moments = st.builds(
    lambda naive, quarter_hours: naive.replace(
        tzinfo=timezone(timedelta(minutes=15 * quarter_hours))
    ),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda moment: moment.replace(microsecond=0)
    ),
    st.integers(min_value=-12 * 4, max_value=14 * 4),
)


def _main(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S %z}"


def _twelve_hour(moment: datetime, space: str) -> str:
    hour = moment.hour % 12 or 12
    meridiem = "AM" if moment.hour < 12 else "PM"
    return f"{moment:%Y-%m-%d} {hour}:{moment:%M:%S}{space}{meridiem} {moment:%z}"


@given(aware_moments, st.sampled_from([" ", "\u202f", "\u00a0"]))
def test_every_form_parses_to_the_same_instant(moment: datetime, space: str) -> None:
    offset_min = int(moment.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
    texts = [
        _main(moment),
        _twelve_hour(moment, space),
        moment.isoformat(),
        f"{moment:%Y-%m-%d %H:%M:%S}.000 {moment:%z}",
        moment.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    ]
    parsed = [parse_date(text) for text in texts]
    assert all(instant == moment for instant, _ in parsed)
    assert [offset for _, offset in parsed[:4]] == [offset_min] * 4
    assert parse_date(moment.timestamp())[0] == moment

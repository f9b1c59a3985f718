"""Weekly shift arithmetic: parsing, midnight crossings and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from inbox_tui.core.shifts import (
    ShiftError,
    WeeklyShift,
    describe_shifts,
    describe_start,
    is_on_shift,
    next_shift_start,
    parse_shift_spec,
    parse_shift_specs,
)

LISBON = "Europe/Lisbon"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_parse_day_ranges_lists_and_wraps() -> None:
    assert [s.weekday for s in parse_shift_spec("mon-fri 09:00-17:00")] == [0, 1, 2, 3, 4]
    assert [s.weekday for s in parse_shift_spec("sat,sun 10:00-14:00")] == [5, 6]
    assert [s.weekday for s in parse_shift_spec("fri-mon 08:00-12:00")] == [4, 5, 6, 0]
    assert [s.weekday for s in parse_shift_spec("daily 00:00-24:00")] == list(range(7))
    night = parse_shift_spec("Friday 22:00-06:00")[0]
    assert night == WeeklyShift(4, time(22), time(6)) and night.crosses_midnight


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mon", "DAYS START-END"),
        ("mon 09:00", "START-END"),
        ("funday 09:00-17:00", "'funday' is not a weekday"),
        ("mon 9-17", "not a time like 09:00"),
        ("mon 25:00-26:00", "not a time of day"),
        ("mon 09:00-09:00", "cannot start and end at the same time"),
        ("mon 0900-1700", "not a time like 09:00"),
    ],
)
def test_bad_specs_are_refused_with_a_clear_message(spec: str, message: str) -> None:
    with pytest.raises(ShiftError, match=message):
        parse_shift_spec(spec)


def test_overlapping_shifts_are_refused_even_across_the_week_boundary() -> None:
    with pytest.raises(ShiftError, match="overlap"):
        parse_shift_specs(["mon 09:00-17:00", "mon 16:00-18:00"])
    with pytest.raises(ShiftError, match="overlap"):
        parse_shift_specs(["sun 22:00-06:00", "mon 05:00-08:00"])
    # Back to back is fine.
    assert len(parse_shift_specs(["mon 09:00-13:00", "mon 13:00-17:00", "sun 22:00-06:00", "mon 06:00-07:00"])) == 4


def test_no_shifts_means_always_on_shift() -> None:
    assert is_on_shift([], LISBON, utc(2026, 11, 21, 3, 0))
    assert next_shift_start([], LISBON, utc(2026, 11, 21, 3, 0)) is None


def test_day_shift_in_the_teammates_timezone() -> None:
    shifts = parse_shift_spec("mon-fri 09:00-17:00")
    # Tuesday 2026-11-24; New York is UTC-5 in November.
    assert not is_on_shift(shifts, "America/New_York", utc(2026, 11, 24, 13, 59))
    assert is_on_shift(shifts, "America/New_York", utc(2026, 11, 24, 14, 0))  # start inclusive
    assert is_on_shift(shifts, "America/New_York", utc(2026, 11, 24, 21, 59))
    assert not is_on_shift(shifts, "America/New_York", utc(2026, 11, 24, 22, 0))  # end exclusive
    # Saturday: off; the next start is Monday 09:00 local.
    saturday = utc(2026, 11, 21, 15, 0)
    assert not is_on_shift(shifts, "America/New_York", saturday)
    assert next_shift_start(shifts, "America/New_York", saturday) == utc(2026, 11, 23, 14, 0)


def test_night_shift_crosses_midnight_and_belongs_to_its_start_day() -> None:
    shifts = parse_shift_spec("fri 22:00-06:00")  # Friday night into Saturday
    assert is_on_shift(shifts, "UTC", utc(2026, 11, 20, 23, 0))  # Friday 23:00
    assert is_on_shift(shifts, "UTC", utc(2026, 11, 21, 5, 59))  # Saturday 05:59
    assert not is_on_shift(shifts, "UTC", utc(2026, 11, 21, 6, 0))
    assert not is_on_shift(shifts, "UTC", utc(2026, 11, 19, 23, 0))  # Thursday night: no shift
    assert next_shift_start(shifts, "UTC", utc(2026, 11, 21, 6, 0)) == utc(2026, 11, 27, 22, 0)


def test_until_midnight_and_whole_day() -> None:
    evening = parse_shift_spec("mon 18:00-24:00")
    assert is_on_shift(evening, "UTC", utc(2026, 11, 23, 23, 59))
    assert not is_on_shift(evening, "UTC", utc(2026, 11, 24, 0, 0))
    whole = parse_shift_spec("mon 00:00-24:00")
    assert is_on_shift(whole, "UTC", utc(2026, 11, 23, 0, 0))
    assert is_on_shift(whole, "UTC", utc(2026, 11, 23, 23, 59))
    assert not is_on_shift(whole, "UTC", utc(2026, 11, 24, 0, 0))


def test_lisbon_spring_forward_keeps_wall_clock_hours() -> None:
    """Europe/Lisbon moves from WET (UTC+0) to WEST (UTC+1) on the last Sunday of March
    (2026-03-29, 01:00 UTC). A 09:00 shift starts at 09:00 UTC before, 08:00 UTC after."""
    shifts = parse_shift_spec("daily 09:00-17:00")
    assert next_shift_start(shifts, LISBON, utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 8, 0)
    assert not is_on_shift(shifts, LISBON, utc(2026, 3, 28, 8, 30))  # Saturday, still WET
    assert is_on_shift(shifts, LISBON, utc(2026, 3, 29, 8, 30))  # Sunday, WEST already
    assert not is_on_shift(shifts, LISBON, utc(2026, 3, 29, 16, 0))  # 17:00 WEST


def test_lisbon_night_shift_across_the_spring_change_is_an_hour_shorter() -> None:
    shift = parse_shift_spec("sat 22:00-06:00")[0]
    from zoneinfo import ZoneInfo

    start, end = shift.occurrence(datetime(2026, 3, 28).date(), ZoneInfo(LISBON))
    assert (start, end) == (utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 5, 0))
    assert is_on_shift([shift], LISBON, utc(2026, 3, 29, 4, 59))
    assert not is_on_shift([shift], LISBON, utc(2026, 3, 29, 5, 0))


def test_lisbon_fall_back_night_shift_is_an_hour_longer() -> None:
    """Last Sunday of October (2026-10-25, 01:00 UTC) Lisbon returns to UTC+0."""
    shifts = parse_shift_spec("sat 22:00-06:00")
    # Saturday 22:00 WEST = 21:00 UTC; Sunday 06:00 WET = 06:00 UTC: nine hours.
    assert not is_on_shift(shifts, LISBON, utc(2026, 10, 24, 20, 59))
    assert is_on_shift(shifts, LISBON, utc(2026, 10, 24, 21, 0))
    assert is_on_shift(shifts, LISBON, utc(2026, 10, 25, 5, 59))
    assert not is_on_shift(shifts, LISBON, utc(2026, 10, 25, 6, 0))
    # The Monday shift after the change starts at 09:00 UTC (WET again).
    day = parse_shift_spec("mon 09:00-17:00")
    assert next_shift_start(day, LISBON, utc(2026, 10, 24, 12, 0)) == utc(2026, 10, 26, 9, 0)


def test_shift_starting_in_the_skipped_hour_starts_after_the_gap() -> None:
    # 01:30 does not exist in Lisbon on 2026-03-29: read as 02:30 WEST (01:30 UTC).
    shifts = parse_shift_spec("sun 01:30-05:00")
    assert next_shift_start(shifts, LISBON, utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 1, 30)


def test_describe_start_and_shifts() -> None:
    now = utc(2026, 11, 21, 3, 0)  # Saturday
    assert describe_start(utc(2026, 11, 21, 9, 0), LISBON, now) == "09:00 Europe/Lisbon"
    assert describe_start(utc(2026, 11, 23, 9, 0), LISBON, now) == "Mon 09:00 Europe/Lisbon"
    shifts = parse_shift_specs(["mon-fri 09:00-17:00", "sat 22:00-06:00", "sun 08:00-24:00"])
    assert describe_shifts(shifts) == "mon-fri 09:00-17:00, sat 22:00-06:00, sun 08:00-24:00"
    assert describe_shifts([]) == "always (no shifts)"

"""Weekly shifts: parsing, "is this teammate on shift now?", and "when does the next shift start?".

A shift belongs to the weekday it starts on and is written in the teammate's own
timezone; an end at or before the start crosses midnight ("22:00-06:00"), and
"00:00-24:00" is a whole day. Wall-clock times are turned into instants with
``zoneinfo`` for the actual date, so a 09:00 shift starts at 09:00 local time on both
sides of a daylight-saving change, and a night shift across the change is an hour
shorter or longer, as the clock on the wall says.

A teammate with no shifts at all is always on shift. These are pure rules, with no
database access; reading and writing a teammate's shifts is in :mod:`inbox_tui.core.team`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from inbox_tui.core.store import StoreError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES = {
    **{name: index for index, name in enumerate(WEEKDAYS)},
    **{
        full: index
        for index, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
# How far ahead the next shift is looked for: every weekly shift recurs within 7 days.
_HORIZON_DAYS = 8


class ShiftError(StoreError):
    """A shift that cannot be used; the message says which part and why."""


@dataclass(frozen=True, order=True)
class WeeklyShift:
    """One weekly shift: starts on ``weekday`` (0 = Monday) at ``start`` local time."""

    weekday: int
    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def label(self) -> str:
        # Ending at midnight reads as the end of the start day.
        end = "24:00" if self.end == time(0) else self.end.strftime("%H:%M")
        return f"{WEEKDAYS[self.weekday]} {self.start.strftime('%H:%M')}-{end}"

    def occurrence(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC start and end of this shift when it starts on ``day`` (local date)."""
        end_day = day + timedelta(days=1) if self.crosses_midnight else day
        return _instant(day, self.start, zone), _instant(end_day, self.end, zone)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (PEP 495 rules: an ambiguous time in
    the repeated autumn hour is its first occurrence; a time in the skipped spring hour
    is read with the offset before the gap, so 01:30 becomes 02:30)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def parse_time(text: str, *, allow_24: bool = False) -> time:
    match = _TIME.match(text.strip())
    if not match:
        raise ShiftError(f"{text!r} is not a time like 09:00")
    hour, minute = int(match.group(1)), int(match.group(2))
    if allow_24 and hour == 24 and minute == 0:
        return time(0)
    if hour > 23 or minute > 59:
        raise ShiftError(f"{text!r} is not a time of day (00:00–23:59)")
    return time(hour, minute)


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.lower().split(","):
        part = part.strip()
        if not part:
            raise ShiftError(f"{text!r}: empty day in the list")
        if "-" in part:
            first, _, last = part.partition("-")
            start, stop = _weekday(first), _weekday(last)
            span = range(start, stop + 1) if start <= stop else [*range(start, 7), *range(stop + 1)]
            days.extend(span)
        else:
            days.append(_weekday(part))
    return days


def _weekday(text: str) -> int:
    try:
        return _WEEKDAY_ALIASES[text.strip().lower()]
    except KeyError:
        raise ShiftError(f"{text.strip()!r} is not a weekday (mon, tue, wed, thu, fri, sat, sun)") from None


def parse_shift_spec(spec: str) -> list[WeeklyShift]:
    """Parse ``"mon-fri 09:00-17:00"``, ``"sat,sun 10:00-14:00"``, ``"fri 22:00-06:00"``
    or ``"daily 00:00-24:00"`` into weekly shifts."""
    parts = spec.split()
    if len(parts) != 2:
        raise ShiftError(f'{spec!r}: write a shift as DAYS START-END, e.g. "mon-fri 09:00-17:00"')
    days_text, hours_text = parts
    days = list(range(7)) if days_text.lower() in ("daily", "everyday", "mon-sun") else _parse_days(days_text)
    start_text, dash, end_text = hours_text.partition("-")
    if not dash:
        raise ShiftError(f"{hours_text!r}: write the hours as START-END, e.g. 09:00-17:00")
    start = parse_time(start_text)
    end = parse_time(end_text, allow_24=True)
    if start == end and end_text.strip() != "24:00":
        raise ShiftError(
            f"{hours_text!r}: a shift cannot start and end at the same time (use 00:00-24:00 for a whole day)"
        )
    if end_text.strip() == "24:00" and start != time(0):
        end = time(0)  # until midnight: crosses into the next day at 00:00
    return [WeeklyShift(day, start, end) for day in days]


def parse_shift_specs(specs: Iterable[str]) -> list[WeeklyShift]:
    """Several specs; overlapping shifts on the same day are refused."""
    shifts = sorted({shift for spec in specs for shift in parse_shift_spec(spec)})
    check_no_overlap(shifts)
    return shifts


def check_no_overlap(shifts: Sequence[WeeklyShift]) -> None:
    """Refuse shifts that overlap in the week (measured in wall-clock minutes)."""
    week = 7 * 24 * 60
    spans: list[tuple[int, int, WeeklyShift]] = []
    for shift in shifts:
        start = shift.weekday * 24 * 60 + shift.start.hour * 60 + shift.start.minute
        length = (shift.end.hour * 60 + shift.end.minute) - (shift.start.hour * 60 + shift.start.minute)
        if length <= 0:
            length += 24 * 60
        spans.append((start, start + length, shift))
    spans.sort(key=lambda s: s[0])
    for index, (_start, end, shift) in enumerate(spans):
        for other_start, _other_end, other in spans[index + 1 :]:
            if other_start < end:
                raise ShiftError(f"shifts overlap: {shift.label()} and {other.label()}")
        # The week wraps: a Sunday night shift may run into Monday's first one.
        if end > week and spans and spans[0][0] < end - week and spans[0][2] != shift:
            raise ShiftError(f"shifts overlap: {shift.label()} and {spans[0][2].label()}")


def _occurrences(
    shifts: Sequence[WeeklyShift], zone: ZoneInfo, around: datetime, days_before: int, days_after: int
) -> Iterator[tuple[datetime, datetime, WeeklyShift]]:
    today = around.astimezone(zone).date()
    for offset in range(-days_before, days_after + 1):
        day = today + timedelta(days=offset)
        for shift in shifts:
            if shift.weekday == day.weekday():
                start, end = shift.occurrence(day, zone)
                yield start, end, shift


def is_on_shift(shifts: Sequence[WeeklyShift], timezone_name: str, now: datetime) -> bool:
    """True while a shift runs (start inclusive, end exclusive); always with no shifts."""
    if not shifts:
        return True
    zone = ZoneInfo(timezone_name)
    return any(start <= now < end for start, end, _ in _occurrences(shifts, zone, now, 1, 0))


def next_shift_start(shifts: Sequence[WeeklyShift], timezone_name: str, now: datetime) -> datetime | None:
    """The UTC instant the next shift starts, strictly after ``now``; None without shifts."""
    if not shifts:
        return None
    zone = ZoneInfo(timezone_name)
    starts = [start for start, _, _ in _occurrences(shifts, zone, now, 0, _HORIZON_DAYS) if start > now]
    return min(starts) if starts else None


def describe_start(start: datetime, timezone_name: str, now: datetime) -> str:
    """``09:00 Europe/Lisbon`` today in that zone, else ``Mon 09:00 Europe/Lisbon``."""
    zone = ZoneInfo(timezone_name)
    local = start.astimezone(zone)
    clock = local.strftime("%H:%M")
    if local.date() == now.astimezone(zone).date():
        return f"{clock} {timezone_name}"
    return f"{WEEKDAYS[local.weekday()].capitalize()} {clock} {timezone_name}"


def describe_shifts(shifts: Sequence[WeeklyShift]) -> str:
    """A compact, human form: ``mon-fri 09:00-17:00, sat 10:00-14:00``."""
    if not shifts:
        return "always (no shifts)"
    by_hours: dict[tuple[time, time], list[int]] = {}
    for shift in sorted(shifts):
        by_hours.setdefault((shift.start, shift.end), []).append(shift.weekday)
    parts = []
    for (start, end), days in by_hours.items():
        hours = WeeklyShift(0, start, end).label().split(" ", 1)[1]
        parts.append(f"{_days_label(days)} {hours}")
    return ", ".join(parts)


def _days_label(days: list[int]) -> str:
    if days == list(range(7)):
        return "daily"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(WEEKDAYS[r[0]] if len(r) == 1 else f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}" for r in runs)

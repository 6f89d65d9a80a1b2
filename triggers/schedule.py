"""When a campaign runs and when a store is open, on the store's wall clock.

All times are evaluated in the store's time zone (``zoneinfo``), so "09:00–17:00" means nine to
five on the shop floor across daylight-saving changes. A window whose end is not after its
start runs past midnight (``22:00–02:00``): the part after midnight belongs to the day it began
on, so a Friday-only late window still runs at 01:00 on Saturday.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


class ScheduleError(ValueError):
    """An unreadable time, window, date or time zone."""


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A moment on the store's wall clock."""

    date: dt.date
    weekday: int  # 0 = Monday
    minute: int  # minute of the day, 0..1439

    @property
    def yesterday(self) -> dt.date:
        return self.date - dt.timedelta(days=1)

    def __str__(self) -> str:
        hh, mm = divmod(self.minute, 60)
        return f"{WEEKDAYS[self.weekday].capitalize()} {self.date.isoformat()} {hh:02d}:{mm:02d}"


def store_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}") from None


def local_time(now_ms: int, zone: ZoneInfo) -> LocalTime:
    wall = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone)
    return LocalTime(wall.date(), wall.weekday(), wall.hour * 60 + wall.minute)


def parse_clock(text: str) -> int:
    """``"HH:MM"`` → minute of the day; ``"24:00"`` is the end of the day."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ScheduleError(f"time {text!r} is not HH:MM")
    hh, mm = int(match[1]), int(match[2])
    if mm >= 60 or hh > 24 or (hh == 24 and mm):
        raise ScheduleError(f"time {text!r} is not a clock time")
    return hh * 60 + mm


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Minutes of the day [start, end); ``end ≤ start`` runs past midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> TimeWindow:
        parts = text.split("-")
        if len(parts) != 2:
            raise ScheduleError(f"window {text!r} is not HH:MM-HH:MM")
        start, end = parse_clock(parts[0]), parse_clock(parts[1])
        if start == MINUTES_PER_DAY:
            raise ScheduleError(f"window {text!r} starts at 24:00")
        return cls(start, end)

    @property
    def wraps(self) -> bool:
        return self.end <= self.start

    def covers_same_day(self, minute: int) -> bool:
        """Covered by the part of the window on the day it began."""
        return self.start <= minute < (MINUTES_PER_DAY if self.wraps else self.end)

    def covers_next_day(self, minute: int) -> bool:
        """Covered by the part after midnight of a window that began the day before."""
        return self.wraps and minute < self.end

    def __str__(self) -> str:
        return f"{_clock(self.start)}–{_clock(self.end)}"


def _windows(texts: Iterable[str]) -> tuple[TimeWindow, ...]:
    return tuple(TimeWindow.parse(t) for t in texts)


def _weekday(name: str) -> int:
    key = name.strip().lower()[:3]
    if key not in WEEKDAYS:
        raise ScheduleError(f"unknown weekday {name!r}")
    return WEEKDAYS.index(key)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Per weekday (0 = Monday) the opening windows; a weekday missing from the map is closed."""

    by_weekday: Mapping[int, tuple[TimeWindow, ...]]

    def is_open(self, at: LocalTime) -> bool:
        today = self.by_weekday.get(at.weekday, ())
        if any(w.covers_same_day(at.minute) for w in today):
            return True
        yesterday = self.by_weekday.get((at.weekday - 1) % 7, ())
        return any(w.covers_next_day(at.minute) for w in yesterday)

    @classmethod
    def from_dict(cls, body: Mapping[str, Iterable[str]]) -> OpeningHours:
        """``{"mon": ["08:00-20:00"], "fri": ["08:00-02:00"]}``."""
        return cls({_weekday(day): _windows(windows) for day, windows in body.items()})

    def to_dict(self) -> dict[str, list[str]]:
        return {
            WEEKDAYS[d]: [f"{_clock(w.start)}-{_clock(w.end)}" for w in ws]
            for d, ws in sorted(self.by_weekday.items())
        }


@dataclass(frozen=True, slots=True)
class Schedule:
    """Dates (inclusive, store-local), weekdays (empty = every day), hours (empty = all day).

    ``during_opening_hours``: run only while the store is open.
    """

    start_date: dt.date | None = None
    end_date: dt.date | None = None
    weekdays: frozenset[int] = frozenset()
    hours: tuple[TimeWindow, ...] = ()
    during_opening_hours: bool = True
    # No dates, weekdays or hours: runs whenever the store is open (worked out once).
    always: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        always = not self.hours and not self.weekdays and self.start_date is None
        object.__setattr__(self, "always", always and self.end_date is None)

    def _day_ok(self, day: dt.date) -> bool:
        if self.start_date is not None and day < self.start_date:
            return False
        if self.end_date is not None and day > self.end_date:
            return False
        return not self.weekdays or day.weekday() in self.weekdays

    def runs_at(self, at: LocalTime) -> bool:
        """Dates, weekdays and hours allow ``at`` (opening hours are the caller's check)."""
        if not self.hours:
            return self._day_ok(at.date)
        for w in self.hours:
            if w.covers_same_day(at.minute) and self._day_ok(at.date):
                return True
            if w.covers_next_day(at.minute) and self._day_ok(at.yesterday):
                return True
        return False

    def why_not_running(self, at: LocalTime, opening: OpeningHours | None) -> str | None:
        """None when the campaign runs at ``at``, else the reason in words."""
        if self.during_opening_hours and opening is not None and not opening.is_open(at):
            return "the store is closed"
        if self.runs_at(at):
            return None
        if not self._day_ok(at.date):
            return self._day_reason(at.date)
        return "outside its hours " + ", ".join(str(w) for w in self.hours)

    def _day_reason(self, day: dt.date) -> str:
        if self.start_date is not None and day < self.start_date:
            return f"it starts on {self.start_date.isoformat()}"
        if self.end_date is not None and day > self.end_date:
            return f"it ended on {self.end_date.isoformat()}"
        days = ", ".join(WEEKDAYS[d].capitalize() for d in sorted(self.weekdays))
        return f"it runs only on {days}"

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Schedule:
        def date(key: str) -> dt.date | None:
            value = body.get(key)
            if value is None:
                return None
            try:
                return dt.date.fromisoformat(value)
            except (TypeError, ValueError):
                raise ScheduleError(f"{key} {value!r} is not a YYYY-MM-DD date") from None

        unknown = set(body) - {
            "start_date",
            "end_date",
            "weekdays",
            "hours",
            "during_opening_hours",
        }
        if unknown:
            raise ScheduleError(f"unknown schedule keys {sorted(unknown)}")
        schedule = cls(
            start_date=date("start_date"),
            end_date=date("end_date"),
            weekdays=frozenset(_weekday(d) for d in body.get("weekdays", ())),
            hours=_windows(body.get("hours", ())),
            during_opening_hours=bool(body.get("during_opening_hours", True)),
        )
        if schedule.start_date and schedule.end_date and schedule.start_date > schedule.end_date:
            raise ScheduleError("start_date is after end_date")
        return schedule

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"during_opening_hours": self.during_opening_hours}
        if self.start_date is not None:
            body["start_date"] = self.start_date.isoformat()
        if self.end_date is not None:
            body["end_date"] = self.end_date.isoformat()
        if self.weekdays:
            body["weekdays"] = [WEEKDAYS[d] for d in sorted(self.weekdays)]
        if self.hours:
            body["hours"] = [f"{_clock(w.start)}-{_clock(w.end)}" for w in self.hours]
        return body


def in_quiet_hours(at: LocalTime, quiet: tuple[TimeWindow, ...]) -> bool:
    """Quiet hours hold every day; a window past midnight covers both sides of it."""
    return any(w.covers_same_day(at.minute) or w.covers_next_day(at.minute) for w in quiet)

"""Visits by time of day and weekday (store's time zone), visit lengths, returning visitors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from zones.analytics.columns import VisitColumns
from zones.analytics.grid import DEFAULT_K_ANONYMITY, suppression_note

MINUTE_MS = 60_000
# Visit length bins in minutes: quick errands, a normal shop, a long one, the rare very long stay.
VISIT_LENGTH_EDGES_MIN = (0.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, float("inf"))


@dataclass(frozen=True)
class WeekHours:
    """Visits started per (weekday 0 = Monday, local hour); None where suppressed."""

    visits: NDArray[np.int64]  # (7, 24)
    visitors: NDArray[np.int64]  # (7, 24)
    suppressed: NDArray[np.bool_]
    k: int

    @property
    def note(self) -> str:
        return suppression_note(int(self.suppressed.sum()), self.k, "cells")


def _offset_s(unix_s: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(unix_s, UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def local_offset_ms(t_ms: NDArray[np.int64], time_zone: str) -> NDArray[np.int64]:
    """UTC offset of the zone at each instant. One tz lookup per distinct minute, not per visit:
    every real zone changes its offset on a whole minute."""
    zone = ZoneInfo(time_zone)
    minutes, back = np.unique(t_ms // MINUTE_MS, return_inverse=True)
    offsets = np.asarray([_offset_s(int(m) * 60, zone) for m in minutes], dtype=np.int64)
    return offsets[back] * 1000


def week_hours(
    visits: VisitColumns, time_zone: str, k: int = DEFAULT_K_ANONYMITY, consented_only: bool = False
) -> WeekHours:
    counted = visits.counted(consented_only)
    started = visits.started_ms[counted]
    local_ms = started + local_offset_ms(started, time_zone)
    days = local_ms // 86_400_000
    hour = (local_ms % 86_400_000) // 3_600_000
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    slot = weekday * 24 + hour
    counts = np.bincount(slot, minlength=7 * 24).reshape(7, 24)
    owners = visits.visitor[counted]
    pairs = (
        np.unique(np.stack([slot, owners], axis=1), axis=0) if slot.size else np.zeros((0, 2), int)
    )
    people = np.bincount(pairs[:, 0], minlength=7 * 24).reshape(7, 24)
    suppressed = (people > 0) & (people < k)
    return WeekHours(np.where(suppressed, 0, counts), people, suppressed, k)


@dataclass(frozen=True)
class VisitLengths:
    edges_min: tuple[float, ...]
    visits: NDArray[np.int64]  # per bin; 0 where suppressed
    suppressed: NDArray[np.bool_]
    median_min: float | None
    k: int

    @property
    def note(self) -> str:
        return suppression_note(int(self.suppressed.sum()), self.k, "bins")


def visit_lengths(
    visits: VisitColumns,
    k: int = DEFAULT_K_ANONYMITY,
    consented_only: bool = False,
    edges_min: tuple[float, ...] = VISIT_LENGTH_EDGES_MIN,
) -> VisitLengths:
    counted = visits.counted(consented_only)
    minutes = (visits.ended_ms[counted] - visits.started_ms[counted]) / MINUTE_MS
    bin_of = np.searchsorted(np.asarray(edges_min), minutes, side="right") - 1
    n_bins = len(edges_min) - 1
    counts = np.bincount(bin_of, minlength=n_bins)[:n_bins]
    owners = visits.visitor[counted]
    pairs = (
        np.unique(np.stack([bin_of, owners], axis=1), axis=0)
        if owners.size
        else np.zeros((0, 2), int)
    )
    people = np.bincount(pairs[:, 0], minlength=n_bins)[:n_bins]
    suppressed = (people > 0) & (people < k)
    median = float(np.median(minutes)) if minutes.size else None
    return VisitLengths(tuple(edges_min), np.where(suppressed, 0, counts), suppressed, median, k)


@dataclass(frozen=True)
class ReturningVisitors:
    """Identified view: consented visits only. ``returning``: people with two or more visits."""

    visitors: int
    returning: int
    suppressed: bool
    k: int

    @property
    def share(self) -> float | None:
        if self.suppressed or self.visitors == 0:
            return None
        return self.returning / self.visitors


def returning_visitors(visits: VisitColumns, k: int = DEFAULT_K_ANONYMITY) -> ReturningVisitors:
    owners = visits.visitor[visits.location_consent]
    _, n_visits = np.unique(owners, return_counts=True)
    returning = int((n_visits >= 2).sum())
    people = int(n_visits.size)
    # Both the count and its complement must cover k people, or the share exposes someone.
    suppressed = 0 < min(returning, people - returning) < k
    return ReturningVisitors(people, returning if not suppressed else 0, suppressed, k)

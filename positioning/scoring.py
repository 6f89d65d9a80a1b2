"""Scoring estimates against a walk's waypoints (after the fact; never inside a tracker)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from positioning.estimate import Estimate
from positioning.walkfile import Waypoint

# Heading is scored on legs at least this long: shorter legs have no clear direction.
HEADING_LEG_M = 3.0


@dataclass(frozen=True)
class WalkErrors:
    """Position error per waypoint that had an estimate, heading error per scored leg."""

    position_m: tuple[float, ...]
    missing: int
    heading_deg: tuple[float, ...]
    accuracy_m: tuple[float, ...] = ()  # the claimed accuracy of each scored estimate


def last_at_or_before(times_ms: np.ndarray, t_ms: int) -> int:
    """Index of the last estimate with time ≤ t_ms, −1 if none."""
    return int(np.searchsorted(times_ms, t_ms, side="right")) - 1


def score_walk(estimates: Sequence[Estimate], waypoints: Sequence[Waypoint]) -> WalkErrors:
    """Each waypoint against the last estimate at or before its time; heading at each leg's
    mid-time against the direction from one waypoint to the next (legs ≥ HEADING_LEG_M)."""
    times = np.array([e.t_ms for e in estimates], dtype=np.int64)
    errors, missing, headings, claimed = [], 0, [], []
    for wp in waypoints:
        i = last_at_or_before(times, wp.t_ms)
        if i < 0:
            missing += 1
        else:
            errors.append(math.hypot(estimates[i].x - wp.x, estimates[i].y - wp.y))
            claimed.append(estimates[i].accuracy_m)
    for a, b in itertools.pairwise(waypoints):
        if math.hypot(b.x - a.x, b.y - a.y) < HEADING_LEG_M:
            continue
        i = last_at_or_before(times, (a.t_ms + b.t_ms) // 2)
        if i < 0 or estimates[i].t_ms < a.t_ms:
            continue
        true = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
        headings.append(abs((estimates[i].heading_deg - true + 180.0) % 360.0 - 180.0))
    return WalkErrors(tuple(errors), missing, tuple(headings), tuple(claimed))

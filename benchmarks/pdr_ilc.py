"""Where map-constrained PDR's error comes from on the recordings: step length or heading.

Per walk, the detected steps' Weinberg lengths (K calibrated on the floor's *other* walks) against
the waypoint path; per waypoint leg ≥ 3 m, the same ratio and the error of the walking direction
(the length-weighted mean of the steadied heading at the leg's steps) against the leg's direction.
Then ``pdr-only`` (the benchmark's: particles on the floor plan, started at the true first
waypoint, no radio) re-run with oracles, each removing one error source using the waypoints:

- ``walk scale``: every step length × the walk's own true/estimated path ratio (one constant);
- ``walk bias``: the heading less the walk's own mean leg heading error (one constant);
- ``leg scale`` / ``leg heading``: the same per leg (the truth at every waypoint: a bound).

Usage: ``python benchmarks/pdr_ilc.py --data ../shared/data/ilc [--jobs 2] [--seed-offset N]``
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from aislecast.bench import format_table
from aislecast.paths import ilc_floors, ilc_root
from positioning import Estimate, read_floor
from positioning.heading import HeadingFilter, wrap_rad
from positioning.readings import AccelReading, GyroReading, RotationVectorReading
from positioning.scoring import HEADING_LEG_M, score_walk
from positioning.steps import StepDetector, StepEvent, calibrate_weinberg_k, weinberg_length
from positioning.survey import step_sums
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk, read_walk

ORACLES = ("none", "walk scale", "walk bias", "walk scale + bias", "leg scale", "leg heading")


@dataclass(frozen=True)
class WalkMotion:
    """One walk's steps (time, Weinberg length, steadied heading) and its waypoints."""

    steps_ms: np.ndarray
    length_m: np.ndarray
    heading_rad: np.ndarray
    waypoints: np.ndarray  # (t_ms, x, y) rows in time order

    def leg_steps(self, i: int) -> np.ndarray:
        """The steps reported within leg i: (t_i, t_i+1]."""
        t0, t1 = self.waypoints[i, 0], self.waypoints[i + 1, 0]
        return (self.steps_ms > t0) & (self.steps_ms <= t1)

    def leg_length_m(self, i: int) -> float:
        return float(np.hypot(*(self.waypoints[i + 1, 1:] - self.waypoints[i, 1:])))

    def leg_direction_rad(self, i: int) -> float:
        (x0, y0), (x1, y1) = self.waypoints[i, 1:], self.waypoints[i + 1, 1:]
        return math.atan2(y1 - y0, x1 - x0)

    def leg_scale(self, i: int) -> float:
        """True leg length / Σ Weinberg lengths of its steps (0: no step)."""
        walked = float(self.length_m[self.leg_steps(i)].sum())
        return self.leg_length_m(i) / walked if walked > 0 else 0.0

    def leg_heading_error_rad(self, i: int) -> float:
        """The steps' length-weighted mean heading minus the leg's direction."""
        m = self.leg_steps(i)
        h, w = self.heading_rad[m], self.length_m[m]
        mean = math.atan2(float(w @ np.sin(h)), float(w @ np.cos(h)))
        return wrap_rad(mean - self.leg_direction_rad(i))

    def scored_legs(self) -> list[int]:
        return [
            i
            for i in range(len(self.waypoints) - 1)
            if self.leg_length_m(i) >= HEADING_LEG_M and self.leg_steps(i).any()
        ]

    def walk_scale(self) -> float:
        """True path length / Σ Weinberg lengths between the first and last waypoint."""
        inside = (self.steps_ms >= self.waypoints[0, 0]) & (self.steps_ms <= self.waypoints[-1, 0])
        path = float(np.sum(np.hypot(*np.diff(self.waypoints[:, 1:], axis=0).T)))
        return path / float(self.length_m[inside].sum())

    def walk_bias_rad(self) -> float:
        """The walk's mean leg heading error, weighted by leg length."""
        legs = self.scored_legs()
        e = np.array([self.leg_heading_error_rad(i) for i in legs])
        w = np.array([self.leg_length_m(i) for i in legs])
        return math.atan2(float(w @ np.sin(e)), float(w @ np.cos(e)))


def walk_motion(walk: Walk, k: float) -> WalkMotion:
    """The walk's steps as the tracker sees them: ``StepDetector`` and ``HeadingFilter``."""
    heading, detector = HeadingFilter(), StepDetector()
    t, length, psi = [], [], []
    for r in walk.readings:
        if isinstance(r, RotationVectorReading):
            heading.on_rotation_vector(r.t_ms, r.x, r.y, r.z)
        elif isinstance(r, GyroReading):
            heading.on_gyro(r.t_ms, r.x, r.y, r.z)
        elif isinstance(r, AccelReading):
            step = detector.push(r.t_ms, r.x, r.y, r.z)
            if step is not None and heading.heading_rad is not None:
                t.append(step.t_ms)
                length.append(weinberg_length(step.weinberg_feature, k))
                psi.append(heading.heading_rad)
    waypoints = np.array(sorted((w.t_ms, w.x, w.y) for w in walk.waypoints), dtype=float)
    return WalkMotion(np.array(t, float), np.array(length), np.array(psi), waypoints)


class OracleTracker(Tracker):
    """``pdr-only`` with one error source removed using the waypoints (diagnosis only)."""

    def __init__(
        self, grid: WalkableGrid, settings: TrackerSettings, motion: WalkMotion, oracle: str
    ):
        super().__init__(None, grid, settings=settings)
        self._motion, self._oracle = motion, oracle
        self._step_ms = 0.0

    def _leg_of(self, t_ms: float) -> int | None:
        wp = self._motion.waypoints[:, 0]
        i = int(np.searchsorted(wp, t_ms, side="left")) - 1
        return i if 0 <= i < len(wp) - 1 else None

    def _on_step(self, step: StepEvent) -> list[Estimate]:
        self._step_ms = step.t_ms
        scale = 1.0
        if "walk scale" in self._oracle:
            scale = self._motion.walk_scale()
        elif self._oracle == "leg scale":
            leg = self._leg_of(step.t_ms)
            scale = self._motion.leg_scale(leg) if leg is not None else 1.0
        if scale > 0:
            step = replace(step, weinberg_feature=step.weinberg_feature * scale)
        return super()._on_step(step)

    def _heading_rad(self, kind: str) -> float:
        heading = super()._heading_rad(kind)
        if kind != self.settings.motion_heading:
            return heading
        if "bias" in self._oracle:
            return heading - self._motion.walk_bias_rad()
        if self._oracle == "leg heading":
            leg = self._leg_of(self._step_ms)
            if leg is not None:
                return self._motion.leg_direction_rad(leg)
        return heading


_FLOORS: dict[str, tuple[list[Walk], WalkableGrid, dict[str, tuple[float, float]]]] = {}
_SEED_OFFSET = [0]


def held_out_k(floor: str, walk: Walk) -> float:
    sums = _FLOORS[floor][2]
    d = sum(a for a, _ in sums.values()) - sums[walk.name][0]
    f = sum(b for _, b in sums.values()) - sums[walk.name][1]
    return calibrate_weinberg_k([(d, f)])


def run_walk(
    job: tuple[str, int],
) -> tuple[str, dict[str, list[float]], list[tuple[float, float, float]]]:
    floor, index = job
    walks, grid, _ = _FLOORS[floor]
    walk = walks[index]
    k = held_out_k(floor, walk)
    motion = walk_motion(walk, k)
    legs = [
        (motion.leg_length_m(i), motion.leg_scale(i), math.degrees(motion.leg_heading_error_rad(i)))
        for i in motion.scored_legs()
    ]
    errors: dict[str, list[float]] = {}
    if len(motion.waypoints) < 2 or not legs:
        return floor, errors, legs
    start = (float(motion.waypoints[0, 1]), float(motion.waypoints[0, 2]))
    settings = TrackerSettings(
        weinberg_k=k, seed=index + _SEED_OFFSET[0], use_radio=False, start_xy=start
    )
    for oracle in ORACLES:
        tracker = OracleTracker(grid, settings, motion, oracle)
        estimates = [e for r in walk.readings for e in tracker.push(r)]
        errors[oracle] = list(score_walk(estimates, walk.waypoints).position_m)
    legs.append((-1.0, motion.walk_scale(), math.degrees(motion.walk_bias_rad())))
    return floor, errors, legs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=None, help="the ilc folder")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--seed-offset", type=int, default=0, help="added to each walk's seed")
    args = parser.parse_args(argv)
    _SEED_OFFSET[0] = args.seed_offset
    root = ilc_root(args.data)
    if root is None:
        print("recordings not found: pass --data or set $AISLECAST_ILC_DATA", file=sys.stderr)
        return 2
    jobs = []
    for floor_dir in ilc_floors(root):
        walks = [read_walk(p) for p in sorted((floor_dir / "path_data_files").glob("*.txt"))]
        grid = WalkableGrid.from_plan(read_floor(floor_dir))
        _FLOORS[floor_dir.parent.name] = (walks, grid, {w.name: step_sums(w) for w in walks})
        jobs += [(floor_dir.parent.name, i) for i in range(len(walks))]
    with mp.get_context("fork").Pool(args.jobs) as pool:
        results = pool.map(run_walk, jobs, chunksize=1)
    sites = [*_FLOORS, "all"]

    def chosen(
        site: str,
    ) -> list[tuple[str, dict[str, list[float]], list[tuple[float, float, float]]]]:
        return [r for r in results if site in (r[0], "all")]

    rows = []
    for site in sites:
        walk_rows = np.array([leg for r in chosen(site) for leg in r[2] if leg[0] < 0])
        legs = np.array([leg for r in chosen(site) for leg in r[2] if leg[0] >= 0])
        along = np.abs(legs[:, 1] - 1.0) * legs[:, 0]  # |scale − 1|·leg: along-track, m
        cross = np.abs(np.sin(np.radians(legs[:, 2]))) * legs[:, 0]  # cross-track, m
        rows.append(
            [
                site,
                len(walk_rows),
                "{:.2f} … {:.2f}".format(*np.percentile(walk_rows[:, 1], [10, 90])),
                "{:+.1f} … {:+.1f}".format(*np.percentile(walk_rows[:, 2], [10, 90])),
                len(legs),
                f"{np.median(np.abs(np.log(legs[:, 1]))):.3f}",
                f"{np.median(np.abs(legs[:, 2])):.1f}",
                f"{np.median(along):.2f} / {np.median(cross):.2f}",
            ]
        )
    print(
        format_table(
            [
                "floor",
                "walks",
                "walk scale true/est 10–90 %",
                "walk bias ° 10–90 %",
                "legs ≥ 3 m",
                "leg median |log scale|",
                "leg median |heading err| °",
                "leg median along / cross-track m",
            ],
            rows,
        )
    )
    rows = []
    for oracle in ORACLES:
        row: list[object] = [oracle]
        for site in sites:
            e = np.array([x for r in chosen(site) for x in r[1].get(oracle, [])])
            row.append(f"{np.median(e):.2f} / {np.percentile(e, 90):.2f}")
        rows.append(row)
    print(format_table(["pdr-only with oracle", *(f"{s} median / p90 m" for s in sites)], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What a store's survey walks teach the tracker: the radio map and the step-length constant.

Loaders live at this edge (``load_survey`` reads files); the rest takes walks in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from positioning.floorplan import WALKS_DIR
from positioning.radiomap import RadioMap
from positioning.readings import AccelReading
from positioning.steps import calibrate_weinberg_k, detect_steps, path_length_m
from positioning.walkfile import Walk, WalkFormatError, read_walk


@dataclass(frozen=True)
class Survey:
    """A radio map and a calibrated Weinberg K, with the walks they came from."""

    radio_map: RadioMap
    weinberg_k: float
    walk_names: tuple[str, ...]


def step_sums(walk: Walk) -> tuple[float, float]:
    """(waypoint path length m, Σ Weinberg features of steps between first and last waypoint)."""
    points = sorted((w.t_ms, w.x, w.y) for w in walk.waypoints)
    if len(points) < 2:
        return 0.0, 0.0
    accel = ((r.t_ms, r.x, r.y, r.z) for r in walk.readings if isinstance(r, AccelReading))
    lo, hi = points[0][0], points[-1][0]
    features = sum(s.weinberg_feature for s in detect_steps(accel) if lo <= s.t_ms <= hi)
    return path_length_m(points, lo, hi), features


def build_survey(walks: Sequence[Walk]) -> Survey:
    """Radio map and Weinberg K from survey walks (those with waypoints)."""
    surveyed = [w for w in walks if len(w.waypoints) >= 2]
    return Survey(
        RadioMap.from_walks(surveyed),
        calibrate_weinberg_k(step_sums(w) for w in surveyed),
        tuple(w.name for w in surveyed),
    )


def survey_walk_paths(floor_dir: Path | str, exclude: Iterable[Path | str] = ()) -> list[Path]:
    """The floor's survey walk files, minus any being replayed (matched by file name stem)."""
    skip = {Path(p).stem for p in exclude}
    folder = Path(floor_dir) / WALKS_DIR
    return [p for p in sorted(folder.glob("*.txt")) if p.stem not in skip]


def load_survey(
    floor_dir: Path | str, exclude: Iterable[Path | str] = ()
) -> tuple[Survey, dict[str, int]]:
    """Read and build the survey of a floor folder; unreadable walks are skipped and counted."""
    walks, skipped = [], {}
    for path in survey_walk_paths(floor_dir, exclude):
        try:
            walks.append(read_walk(path))
        except WalkFormatError:
            skipped[path.name] = 1
    return build_survey(walks), skipped

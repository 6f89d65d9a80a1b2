"""Is the indoor magnetic field repeatable between survey walks? (issue 3, docs/positioning.md)

`python benchmarks/magnetic_repeatability.py --data ../shared/data/ilc`: per floor, the earth-frame
field's up, horizontal and total magnitude averaged over 0.5 s and placed at the interpolated
survey position; the RMS difference between means of two different walks less than 1 m apart
against random pairs of different walks, and their correlation; the total's RMS difference by
distance apart (a variogram); and the held-out check of the 1 s magnetic map: each third walk's
windows scored against the map built without it, at the true place against 200 random surveyed
places (log-likelihood gain, nats per window).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from aislecast.bench import format_table
from aislecast.paths import ilc_floors, ilc_root
from positioning.heading import rotation_matrix
from positioning.magnetic import MagneticMap, survey_windows
from positioning.radiomap import interpolate_position
from positioning.readings import MagReading, RotationVectorReading
from positioning.walkfile import Walk, read_walk

FEATURES = ("up", "horizontal", "total")
DISTANCES_M = (0, 1, 2, 4, 8, 15, 30, 60)


def feature_means(walk: Walk, window_ms: int = 500) -> np.ndarray:
    """Rows (x, y, up, horizontal, total) of a walk's window means, µT."""
    waypoints = sorted(walk.waypoints, key=lambda w: w.t_ms)
    rv: tuple[float, float, float] | None = None
    start: int | None = None
    acc: list[tuple[float, float, float]] = []
    rows: list[tuple[float, ...]] = []
    for r in sorted(walk.readings, key=lambda r: r.t_ms):
        if isinstance(r, RotationVectorReading):
            rv = (r.x, r.y, r.z)
        elif isinstance(r, MagReading) and rv is not None:
            if start is None:
                start = r.t_ms
            if r.t_ms - start >= window_ms:
                xy = interpolate_position(waypoints, start + window_ms // 2)
                if xy is not None and acc:
                    rows.append((*xy, *np.mean(acc, axis=0)))
                start, acc = r.t_ms, []
            b = rotation_matrix(*rv) @ np.array([r.x, r.y, r.z])
            acc.append((float(b[2]), float(np.hypot(b[0], b[1])), float(np.linalg.norm(b))))
    return np.array(rows, dtype=float).reshape(-1, 5)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=None, help="the ilc folder")
    args = parser.parse_args(argv)
    root = ilc_root(args.data)
    if root is None:
        print("recordings not found: pass --data or set $AISLECAST_ILC_DATA", file=sys.stderr)
        return 2
    rng = np.random.default_rng(0)
    matched_rows, vario_rows, heldout_rows = [], [], []
    for floor_dir in ilc_floors(root):
        name = f"{floor_dir.parent.name}/{floor_dir.name}"
        walks = [read_walk(p) for p in sorted((floor_dir / "path_data_files").glob("*.txt"))]
        walks = [w for w in walks if len(w.waypoints) >= 2]
        per_walk = [feature_means(w) for w in walks]
        data = np.vstack(per_walk)
        walk_of = np.concatenate([np.full(len(m), i) for i, m in enumerate(per_walk)])
        pairs = cKDTree(data[:, :2]).query_pairs(DISTANCES_M[-1], output_type="ndarray")
        pairs = pairs[walk_of[pairs[:, 0]] != walk_of[pairs[:, 1]]]
        apart = np.hypot(*(data[pairs[:, 0], :2] - data[pairs[:, 1], :2]).T)
        close = pairs[apart < 1.0]
        random = rng.integers(0, len(data), (20000, 2))
        random = random[walk_of[random[:, 0]] != walk_of[random[:, 1]]]
        for j, feature in enumerate(FEATURES):
            v = data[:, 2 + j]
            d_close = v[close[:, 0]] - v[close[:, 1]]
            d_random = v[random[:, 0]] - v[random[:, 1]]
            corr = np.corrcoef(v[close[:, 0]], v[close[:, 1]])[0, 1]
            matched_rows.append(
                [
                    name,
                    feature,
                    len(close),
                    f"{np.sqrt(np.mean(d_close**2)):.2f}",
                    f"{np.sqrt(np.mean(d_random**2)):.2f}",
                    f"{corr:.2f}",
                ]
            )
        total = data[:, 4]
        d_total = total[pairs[:, 0]] - total[pairs[:, 1]]
        cells = []
        for lo, hi in itertools.pairwise(DISTANCES_M):
            inside = (apart >= lo) & (apart < hi)
            cells.append(f"{np.sqrt(np.mean(d_total[inside] ** 2)):.2f}")
        vario_rows.append([name, *cells])
        windows = {w.name: survey_windows(w) for w in walks}
        gains = []
        for walk in walks[::3]:
            others = {n: w for n, w in windows.items() if n != walk.name}
            magnetic = MagneticMap.from_windows(others)
            places = np.vstack([w for w in others.values() if len(w)])
            for x, y, value in windows[walk.name]:
                truth = magnetic.log_likelihood(value, np.array([x]), np.array([y]))[0]
                pick = rng.integers(0, len(places), 200)
                elsewhere = magnetic.log_likelihood(value, places[pick, 0], places[pick, 1])
                gains.append(truth - np.log(np.mean(np.exp(elsewhere))))
        g = np.array(gains)
        h = MagneticMap.from_windows(windows).hyper
        heldout_rows.append(
            [
                name,
                len(g),
                f"{g.mean():+.3f}",
                f"{np.mean(g > 0):.2f}",
                f"{np.sqrt(h.signal_var):.1f}",
                f"{np.sqrt(h.noise_var):.1f}",
            ]
        )
    print(
        format_table(
            ["floor", "feature", "pairs < 1 m", "RMS matched µT", "RMS random µT", "corr"],
            matched_rows,
        )
    )
    spans = [f"{a}-{b} m" for a, b in itertools.pairwise(DISTANCES_M)]
    print(format_table(["floor (total, RMS µT)", *spans], vario_rows))
    print(
        format_table(
            ["floor", "held-out windows", "gain nats/window", "gain > 0", "σ_s µT", "σ_n µT"],
            heldout_rows,
        )
    )
    print("magnetic repeatability: matched vs random RMS and the held-out gain per floor above")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

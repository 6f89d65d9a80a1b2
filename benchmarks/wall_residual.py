"""Does the radio field's mean miss what the walls take? Held-out survey scans of the recordings.

For every ``--every``-th walk W of each floor: the radio map without W, its field's free-space
mean m(p) (``RadioField``) and its multi-wall mean m(p) − L·k (``RadioField(walls=True)``, L fitted
on the map's own references); then each of W's survey scans, placed by W's waypoints, gives per
heard source the residual z − mean at the true place and the walls k the ray from the source's
fitted position crosses. Printed: the correlation of today's residual with k, its mean per k,
and the held-out RMS / mean |residual| of both means, overall and > 6 m from the other walks'
references (where the mean is all the field has).

Usage: ``python benchmarks/wall_residual.py --data ../shared/data/ilc [--every 6]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree

from aislecast.bench import format_table
from aislecast.paths import ilc_floors, ilc_root
from positioning import read_floor
from positioning import walls as walls_mod
from positioning.radiofield import RadioField
from positioning.radiomap import RadioMap, survey_fingerprints
from positioning.walkable import WalkableGrid
from positioning.walkfile import read_walk

FAR_M = 6.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", default=None, help="the ilc folder (../shared/data/ilc)")
    parser.add_argument("--every", type=int, default=6, help="hold out every k-th walk")
    parser.add_argument(
        "--max-walls", type=int, default=walls_mod.MAX_WALLS, help="walls beyond add no loss"
    )
    args = parser.parse_args(argv)
    walls_mod.MAX_WALLS = args.max_walls
    root = ilc_root(args.data)
    if root is None:
        print("recordings not found: pass --data or set $AISLECAST_ILC_DATA", file=sys.stderr)
        return 2
    rows = []
    by_k_rows = []
    for floor_dir in ilc_floors(root):
        name = f"{floor_dir.parent.name}/{floor_dir.name}"
        walks = [read_walk(p) for p in sorted((floor_dir / "path_data_files").glob("*.txt"))]
        full = RadioMap.from_survey([s for w in walks for s in survey_fingerprints(w)])
        grid = WalkableGrid.from_plan(read_floor(floor_dir))
        r0_all, r1_all, k_all, far_all, losses, build = [], [], [], [], [], []
        for walk in walks[:: args.every]:
            radio_map = full.without([walk.name])
            free = RadioField(radio_map, grid)
            start = time.process_time()
            wall = RadioField(radio_map, grid, walls=True)
            build.append(time.process_time() - start)
            losses.append(wall.wall_loss_db)
            tree = cKDTree(radio_map.positions)
            held = survey_fingerprints(walk, radio_map.ignored_ids)
            per_col: dict[int, list[tuple[float, float, float]]] = {}
            for s in held:
                for source, level in s.fingerprint.rssi_dbm.items():
                    col = radio_map.column.get(source)
                    if col is not None and free.models.fitted[col]:
                        per_col.setdefault(col, []).append((s.x, s.y, level))
            for col, obs in per_col.items():
                a = np.array(obs)
                xy, z = a[:, :2], a[:, 2]
                r0_all.append(z - free.mean_level(col, xy))
                r1_all.append(z - wall.mean_level(col, xy))
                k_all.append(wall.walls_to(col, xy))
                far_all.append(tree.query(xy)[0] > FAR_M)
        r0, r1 = np.concatenate(r0_all), np.concatenate(r1_all)
        k, far = np.concatenate(k_all), np.concatenate(far_all)
        corr = float(np.corrcoef(r0, k)[0, 1])
        for label, sel in (("all", np.ones_like(far)), (f"> {FAR_M:.0f} m", far)):
            rows.append(
                [
                    name,
                    label,
                    int(sel.sum()),
                    f"{corr:+.2f}" if label == "all" else "",
                    f"{np.sqrt(np.mean(r0[sel] ** 2)):.2f}",
                    f"{np.sqrt(np.mean(r1[sel] ** 2)):.2f}",
                    f"{np.mean(np.abs(r0[sel])):.2f}",
                    f"{np.mean(np.abs(r1[sel])):.2f}",
                ]
            )
        for walls in range(int(k.max()) + 1):
            sel = k == walls
            if sel.sum():
                by_k_rows.append(
                    [
                        name,
                        walls,
                        int(sel.sum()),
                        f"{r0[sel].mean():+.2f}",
                        f"{r1[sel].mean():+.2f}",
                    ]
                )
        fitted = ", ".join(f"{v:.1f}" for v in losses if v is not None)
        print(f"{name}: fitted L per held-out map {fitted} dB; wall fit + field build")
        print(f"  {np.mean(build):.2f} s CPU per map (mean)")
    headers = [
        "floor",
        "scans",
        "pairs",
        "corr(r, k)",
        "RMS free dB",
        "RMS walls dB",
        "mean|r| free dB",
        "mean|r| walls dB",
    ]
    print(format_table(headers, rows))
    print(
        format_table(
            ["floor", "walls k", "pairs", "mean r free dB", "mean r walls dB"],
            by_k_rows,
        )
    )
    print("held-out residual of the field's mean (no GP residual) against walls crossed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Realism check: simulated walks beside the recorded ones, measured by the same estimators.

Runs the simulator (demo supermarket, and the recorded mall floor site1/F1 with gridded beacons),
then reads simulated and real walk files with one parser and computes, per walk: steps (peaks in
the accelerometer magnitude), cadence, step length (waypoint path length / steps), turn rates
(|gyro z| while walking), beacon RSSI, reports per beacon per second, Wi-Fi scan intervals, and
RSSI against distance. For the real walks beacon positions are unknown, so distance uses an
estimated position (where the walk was when that beacon was strongest); the same estimator is
applied to the simulated walks, beside the true simulated curve, so the comparison is like for
like. Also times the simulator (CPU s per simulated walk minute) for each BLE mode.

    python benchmarks/simulator_realism.py [--shoppers 12] [--plots docs/img]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter
from scipy.signal import find_peaks

from aislecast.bench import cpu_timed, format_table
from aislecast.paths import ilc_floors, ilc_root
from simulator.customers import make_customer_base
from simulator.radio import RadioEnvironment
from simulator.routes import RouteGrid
from simulator.run import (
    FIRST_VISIT_MS,
    MIN_CUSTOMERS,
    RunSummary,
    SimulationSettings,
    resolve_store,
    simulate_to_folder,
    simulate_visit,
)
from simulator.scanners import ScannerSettings
from simulator.store import Store, load_store

SAMPLE_HZ = 50
# Step detector shared by both sides: smoothed |a| peaks above g + 1 m/s², ≥ 0.3 s apart.
STEP_HEIGHT_MPS2 = 9.81 + 1.0
STEP_MIN_GAP_S = 0.3
# A sample counts as walking within this long of a detected step.
WALKING_NEAR_STEP_S = 0.6
# Fingerprint probe (a stand-in for the tracker, to compare difficulty): 2 s BLE windows,
# Wi-Fi entries measured within 3 s of their scan, unheard radios at −105 dBm, k = 3.
FINGERPRINT_WINDOW_MS = 2000
WIFI_FRESH_MS = 3000
MISSING_DBM = -105.0
K_NEAREST = 3
# Fingerprints only while walking: simulated shoppers stand at the same shelves for minutes,
# which would make matching them trivially easy and unlike the surveyors' walks.
MOVING_MPS = 0.3
# The recordings' sparse Android 8 beacon reports: ~0.2 per beacon per second.
SPARSE = 0.02
# Distance range for the RSSI fits (closer, the estimate of the beacon position dominates).
FIT_RANGE_M = (2.0, 20.0)


@dataclass
class WalkStats:
    steps: int = 0
    step_peak_mps2: float = float("nan")
    cadence_hz: float = float("nan")
    step_length_m: float = float("nan")
    turn_rates_dps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rssi_dbm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    reports_per_beacon_s: float = float("nan")
    wifi_scan_gap_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    est_distance_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    est_rssi_dbm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    true_distance_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    true_rssi_dbm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ble_prints: list[tuple[float, float, dict[str, float]]] = field(default_factory=list)
    wifi_prints: list[tuple[float, float, dict[str, float]]] = field(default_factory=list)


def read_rows(path: Path) -> dict[str, list[list[str]]]:
    """{type: [[t_ms, values...]]}: the walk-file columns, nothing interpreted."""
    rows: dict[str, list[list[str]]] = defaultdict(list)
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) > 2:
                rows[fields[1]].append([fields[0], *fields[2:]])
    return rows


def _floats(rows: list[list[str]], columns: list[int]) -> np.ndarray:
    return np.array([[float(r[c]) for c in columns] for r in rows]).reshape(-1, len(columns))


def walk_stats(path: Path, beacon_xyz: dict[str, tuple[float, float, float]] | None) -> WalkStats:
    rows = read_rows(path)
    stats = WalkStats()
    accel = _floats(rows["TYPE_ACCELEROMETER"], [0, 1, 2, 3])
    waypoints = _floats(rows["TYPE_WAYPOINT"], [0, 1, 2])
    if len(accel) < SAMPLE_HZ * 5 or len(waypoints) < 2:
        return stats
    t = accel[:, 0]
    magnitude = np.convolve(np.linalg.norm(accel[:, 1:], axis=1), np.ones(5) / 5, mode="same")
    peaks, _ = find_peaks(
        magnitude, height=STEP_HEIGHT_MPS2, distance=int(STEP_MIN_GAP_S * SAMPLE_HZ)
    )
    stats.steps = len(peaks)
    if len(peaks):
        stats.step_peak_mps2 = float(np.median(magnitude[peaks]) - 9.81)
    gaps = np.diff(t[peaks]) / 1000.0
    if len(gaps):
        stats.cadence_hz = (
            float(1.0 / np.median(gaps[gaps < 1.0])) if (gaps < 1.0).any() else float("nan")
        )
    in_span = (t[peaks] >= waypoints[0, 0]) & (t[peaks] <= waypoints[-1, 0])
    walked = float(np.hypot(*np.diff(waypoints[:, 1:], axis=0).T).sum())
    if in_span.sum() > 10:
        stats.step_length_m = walked / int(in_span.sum())
    gyro = _floats(rows["TYPE_GYROSCOPE"], [0, 3])
    near_step = np.zeros(len(gyro), dtype=bool)
    if len(peaks):
        idx = np.searchsorted(t[peaks], gyro[:, 0])
        before = np.abs(gyro[:, 0] - t[peaks][np.clip(idx - 1, 0, len(peaks) - 1)])
        after = np.abs(t[peaks][np.clip(idx, 0, len(peaks) - 1)] - gyro[:, 0])
        near_step = np.minimum(before, after) < WALKING_NEAR_STEP_S * 1000
    stats.turn_rates_dps = np.degrees(np.abs(gyro[near_step, 1]))
    _beacon_stats(rows, waypoints, stats, beacon_xyz)
    stats.ble_prints = _ble_prints(rows, waypoints)
    stats.wifi_prints = _wifi_prints(rows, waypoints)
    wifi_times = (
        np.unique(_floats(rows["TYPE_WIFI"], [0])[:, 0]) if rows["TYPE_WIFI"] else np.zeros(0)
    )
    stats.wifi_scan_gap_s = np.diff(wifi_times) / 1000.0
    return stats


def _beacon_stats(
    rows: dict[str, list[list[str]]],
    waypoints: np.ndarray,
    stats: WalkStats,
    beacon_xyz: dict[str, tuple[float, float, float]] | None,
) -> None:
    beacon_rows = rows["TYPE_BEACON"]
    if not beacon_rows:
        return
    t = np.array([float(r[0]) for r in beacon_rows])
    rssi = np.array([float(r[5]) for r in beacon_rows])
    ids = np.array([f"{r[1]}_{r[2]}_{r[3]}_{r[7]}" for r in beacon_rows])
    stats.rssi_dbm = rssi
    span_s = (waypoints[-1, 0] - waypoints[0, 0]) / 1000.0
    stats.reports_per_beacon_s = len(rssi) / len(set(ids)) / max(span_s, 1.0)
    inside = (t >= waypoints[0, 0]) & (t <= waypoints[-1, 0])
    t, rssi, ids = t[inside], rssi[inside], ids[inside]
    x = np.interp(t, waypoints[:, 0], waypoints[:, 1])
    y = np.interp(t, waypoints[:, 0], waypoints[:, 2])
    est_d, est_r = [], []
    for beacon in set(ids.tolist()):
        mine = ids == beacon
        if mine.sum() < 3:
            continue
        strongest = np.argmax(rssi[mine])
        bx, by = x[mine][strongest], y[mine][strongest]
        others = np.arange(mine.sum()) != strongest
        est_d.append(np.hypot(x[mine][others] - bx, y[mine][others] - by))
        est_r.append(rssi[mine][others])
    if est_d:
        stats.est_distance_m, stats.est_rssi_dbm = np.concatenate(est_d), np.concatenate(est_r)
    if beacon_xyz:
        known = np.array([i in beacon_xyz for i in ids])
        xyz = np.array([beacon_xyz[i] for i in ids[known]]).reshape(-1, 3)
        d = np.sqrt(
            (xyz[:, 0] - x[known]) ** 2 + (xyz[:, 1] - y[known]) ** 2 + (xyz[:, 2] - 1.2) ** 2
        )
        stats.true_distance_m, stats.true_rssi_dbm = d, rssi[known]


def _moving(t: float, waypoints: np.ndarray) -> bool:
    """Whether the walker moves at time t: speed over the waypoint segment around t."""
    k = int(np.clip(np.searchsorted(waypoints[:, 0], t), 1, len(waypoints) - 1))
    (t0, x0, y0), (t1, x1, y1) = waypoints[k - 1], waypoints[k]
    return bool(np.hypot(x1 - x0, y1 - y0) / max((t1 - t0) / 1000.0, 1e-3) > MOVING_MPS)


def _ble_prints(
    rows: dict[str, list[list[str]]], waypoints: np.ndarray
) -> list[tuple[float, float, dict[str, float]]]:
    """Per FINGERPRINT_WINDOW_MS window: (x, y, {beacon: mean RSSI}) at the window's middle."""
    prints = []
    groups: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows["TYPE_BEACON"]:
        t = float(r[0])
        if waypoints[0, 0] <= t <= waypoints[-1, 0]:
            groups[int(t // FINGERPRINT_WINDOW_MS)][f"{r[1]}_{r[2]}_{r[3]}_{r[7]}"].append(
                float(r[5])
            )
    for window, heard in sorted(groups.items()):
        t = (window + 0.5) * FINGERPRINT_WINDOW_MS
        if not _moving(t, waypoints):
            continue
        x = float(np.interp(t, waypoints[:, 0], waypoints[:, 1]))
        y = float(np.interp(t, waypoints[:, 0], waypoints[:, 2]))
        prints.append((x, y, {b: float(np.mean(v)) for b, v in heard.items()}))
    return prints


def _wifi_prints(
    rows: dict[str, list[list[str]]], waypoints: np.ndarray
) -> list[tuple[float, float, dict[str, float]]]:
    """Per scan: (x, y, {bssid: RSSI}) keeping entries measured within WIFI_FRESH_MS of the scan."""
    scans: dict[float, dict[str, float]] = defaultdict(dict)
    for r in rows["TYPE_WIFI"]:
        t = float(r[0])
        if waypoints[0, 0] <= t <= waypoints[-1, 0] and t - float(r[5]) <= WIFI_FRESH_MS:
            scans[t][r[2]] = float(r[3])
    return [
        (
            float(np.interp(t, waypoints[:, 0], waypoints[:, 1])),
            float(np.interp(t, waypoints[:, 0], waypoints[:, 2])),
            heard,
        )
        for t, heard in sorted(scans.items())
        if _moving(t, waypoints)
    ]


def fingerprint_errors(
    walk_prints: list[list[tuple[float, float, dict[str, float]]]],
) -> np.ndarray:
    """Leave-one-walk-out kNN fingerprinting: each sample located as the mean position of its
    K_NEAREST nearest samples (Euclidean over RSSI, unheard = MISSING_DBM) from the other walks.
    Returns the position errors (m)."""
    ids = sorted({k for prints in walk_prints for _, _, heard in prints for k in heard})
    column = {k: i for i, k in enumerate(ids)}
    walk_of, xy, vectors = [], [], []
    for w, prints in enumerate(walk_prints):
        for x, y, heard in prints:
            vector = np.full(len(ids), MISSING_DBM)
            for k, rssi in heard.items():
                vector[column[k]] = rssi
            walk_of.append(w)
            xy.append((x, y))
            vectors.append(vector)
    if len(set(walk_of)) < 2:
        return np.zeros(0)
    walk_arr, xy_arr, v = np.array(walk_of), np.array(xy), np.array(vectors)
    squared = (v**2).sum(axis=1)
    errors = []
    for w in np.unique(walk_arr):
        test, ref = walk_arr == w, walk_arr != w
        # ‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b, for all test x reference pairs at once
        d2 = squared[test][:, None] + squared[ref][None, :] - 2.0 * v[test] @ v[ref].T
        nearest = np.argsort(d2, axis=1)[:, :K_NEAREST]
        guess = xy_arr[ref][nearest].mean(axis=1)
        errors.append(np.hypot(*(guess - xy_arr[test]).T))
    return np.concatenate(errors)


def _exponent(distance: np.ndarray, rssi: np.ndarray) -> float:
    keep = (distance > FIT_RANGE_M[0]) & (distance < FIT_RANGE_M[1])
    if keep.sum() < 20:
        return float("nan")
    slope, _ = np.polyfit(np.log10(distance[keep]), rssi[keep], 1)
    return float(-slope / 10.0)


@dataclass
class Group:
    name: str
    walks: list[WalkStats]

    def cat(self, name: str) -> np.ndarray:
        parts = [getattr(w, name) for w in self.walks]
        return np.concatenate(parts) if parts else np.zeros(0)

    def per_walk(self, name: str) -> np.ndarray:
        values = np.array([getattr(w, name) for w in self.walks], dtype=float)
        return values[np.isfinite(values)]


def _beacon_xyz(store: Store) -> dict[str, tuple[float, float, float]]:
    return {f"{b.uuid}_{b.major}_{b.minor}_{b.mac}": (b.x, b.y, b.height_m) for b in store.beacons}


def simulated_group(name: str, summary: RunSummary, store_path: Path) -> Group:
    beacons = _beacon_xyz(load_store(store_path))
    return Group(name, [walk_stats(w.path, beacons) for w in summary.walks])


def real_group(floor_dir: Path, limit: int) -> Group:
    walks = sorted((floor_dir / "path_data_files").glob("*.txt"))[:limit]
    return Group(
        f"real {floor_dir.parent.name}/{floor_dir.name}", [walk_stats(p, None) for p in walks]
    )


def _fmt(values: np.ndarray, digits: int = 2) -> str:
    if values.size == 0:
        return "—"
    mid, lo, hi = np.median(values), np.percentile(values, 10), np.percentile(values, 90)
    return f"{mid:.{digits}f} [{lo:.{digits}f}–{hi:.{digits}f}]"


def table(groups: list[Group]) -> str:
    rows = []
    for g in groups:
        rows.append(
            [
                g.name,
                len(g.walks),
                _fmt(g.per_walk("cadence_hz")),
                _fmt(g.per_walk("step_length_m")),
                _fmt(g.per_walk("step_peak_mps2"), 1),
                _fmt(g.cat("turn_rates_dps"), 1),
                _fmt(g.cat("rssi_dbm"), 0),
                _fmt(g.per_walk("reports_per_beacon_s"), 2),
                _fmt(g.cat("wifi_scan_gap_s"), 1),
                f"{_exponent(g.cat('est_distance_m'), g.cat('est_rssi_dbm')):.2f}",
                f"{_exponent(g.cat('true_distance_m'), g.cat('true_rssi_dbm')):.2f}",
                _fmt(fingerprint_errors([w.ble_prints for w in g.walks]), 1),
                _fmt(fingerprint_errors([w.wifi_prints for w in g.walks]), 1),
            ]
        )
    headers = [
        "walks",
        "n",
        "cadence Hz",
        "step length m",
        "step peak m/s² over g",
        "|turn rate| °/s walking",
        "beacon RSSI dBm",
        "reports/beacon/s",
        "Wi-Fi scan gap s",
        "n (est. positions)",
        "n (true positions)",
        "BLE kNN error m",
        "Wi-Fi kNN error m",
    ]
    return format_table(headers, rows)


def plot(groups: list[Group], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    # Motion does not depend on the BLE settings: one simulated group per store is enough there.
    motion_groups = [g for g in groups if "ios" not in g.name and "receive" not in g.name]
    colours = [f"C{k}" for k in range(10)]

    fig = Figure(figsize=(10, 3.5), dpi=100)
    for k, (attr, label, bins) in enumerate(
        [
            ("cadence_hz", "cadence (Hz, per walk)", np.linspace(1.2, 2.4, 25).tolist()),
            ("step_length_m", "step length (m, per walk)", np.linspace(0.3, 1.0, 29).tolist()),
        ]
    ):
        ax = fig.add_subplot(1, 2, k + 1)
        for g, c in zip(motion_groups, colours, strict=False):
            ax.hist(g.per_walk(attr), bins=bins, alpha=0.5, density=True, color=c, label=g.name)
        ax.set_xlabel(label)
        ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(out_dir / "simulator_steps.png")
    fig.savefig(paths[-1], metadata={"Software": None})

    fig = Figure(figsize=(10, 3.5), dpi=100)
    ax = fig.add_subplot(1, 2, 1)
    for g, c in zip(motion_groups, colours, strict=False):
        ax.hist(
            g.cat("turn_rates_dps"),
            bins=np.linspace(0, 120, 61).tolist(),
            density=True,
            histtype="step",
            color=c,
            label=g.name,
        )
    ax.set_xlabel("|gyro z| while walking (°/s)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(1, 2, 2)
    for g, c in zip(groups, colours, strict=False):
        ax.hist(
            g.cat("rssi_dbm"),
            bins=list(range(-105, -40, 2)),
            density=True,
            histtype="step",
            color=c,
            label=g.name,
        )
    ax.set_xlabel("beacon RSSI (dBm)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(out_dir / "simulator_turns_rssi.png")
    fig.savefig(paths[-1], metadata={"Software": None})

    fig = Figure(figsize=(10, 4), dpi=100)
    for k, (dist, rssi, title) in enumerate(
        [
            ("est_distance_m", "est_rssi_dbm", "distance from estimated beacon position"),
            ("true_distance_m", "true_rssi_dbm", "distance from true position (simulated only)"),
        ]
    ):
        ax = fig.add_subplot(1, 2, k + 1)
        bins = np.logspace(0, np.log10(40), 16)
        for g, c in zip(groups, colours, strict=False):
            d, r = g.cat(dist), g.cat(rssi)
            if d.size < 20:
                continue
            which = np.digitize(d, bins)
            centres, medians = [], []
            for b in range(1, len(bins)):
                sel = which == b
                if sel.sum() >= 10:
                    centres.append(np.sqrt(bins[b - 1] * bins[b]))
                    medians.append(np.median(r[sel]))
            ax.plot(centres, medians, "o-", color=c, label=f"{g.name} (n={_exponent(d, r):.2f})")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel("distance (m)")
        ax.set_ylabel("median RSSI (dBm)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(out_dir / "simulator_rssi_distance.png")
    fig.savefig(paths[-1], metadata={"Software": None})
    return paths


def plot_demo_walks(store: Store, shoppers: int, out_path: Path) -> Path:
    """The demo floor with the true paths of the first few shoppers of seed 0."""
    grid = RouteGrid.build(store.floor_plan().walkable)
    environment = RadioEnvironment.for_store(store, 0)
    categories = sorted({c for z in store.zones for c in z.categories})
    customers = make_customer_base(categories, max(MIN_CUSTOMERS, shoppers), FIRST_VISIT_MS, 0)
    fig = Figure(figsize=(8, 8 * store.height_m / store.width_m), dpi=100)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    for obstacle in store.obstacles:
        xs, ys = obstacle.polygon.exterior.xy
        ax.fill(xs, ys, color="#999999")
    for zone in store.zones:
        if zone.kind in ("shelf", "screen", "checkout"):
            xs, ys = zone.polygon.exterior.xy
            ax.fill(xs, ys, color="#f6c85f" if zone.kind == "shelf" else "#9dd866", alpha=0.25)
    for b in store.beacons:
        ax.plot(b.x, b.y, "^", color="#0b84a5", markersize=5)
    settings = SimulationSettings()
    for index in range(min(shoppers, 6)):
        _, trajectory, _ = simulate_visit(store, grid, environment, customers, index, 0, settings)
        ax.plot(trajectory.x, trajectory.y, "-", lw=1)
    ax.set_xlim(0, store.width_m)
    ax.set_ylim(0, store.height_m)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.savefig(out_path, metadata={"Software": None})
    return out_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=12)
    parser.add_argument("--real-walks", type=int, default=40, help="real walks per floor")
    parser.add_argument("--plots", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    args.plots.mkdir(parents=True, exist_ok=True)
    root = ilc_root()
    groups: list[Group] = []
    timing_rows = []
    demo_summary = None
    with tempfile.TemporaryDirectory() as tmp:
        specs = [("demo", "android", None), ("demo", "ios", None), ("demo", "android", SPARSE)]
        if root is not None:
            specs += [("ilc:site1/F1", "android", None), ("ilc:site1/F1", "android", SPARSE)]
        for spec, mode, ratio in specs:
            store = resolve_store(spec, 0, root)
            settings = SimulationSettings(ScannerSettings(ble_mode=mode, ble_receive_ratio=ratio))
            mode = mode if ratio is None else f"{mode} receive {ratio}"
            out = Path(tmp) / f"{spec.replace(':', '_').replace('/', '_')}_{mode.replace(' ', '_')}"
            run = partial(simulate_to_folder, store, args.shoppers, 0, out, settings)
            summary, cpu_s = cpu_timed(run)
            walk_min = sum(w.duration_s for w in summary.walks) / 60.0
            timing_rows.append(
                [
                    f"{spec} {mode}",
                    args.shoppers,
                    f"{walk_min:.1f}",
                    f"{cpu_s:.1f}",
                    f"{cpu_s / walk_min:.3f}",
                ]
            )
            groups.append(simulated_group(f"sim {spec} {mode}", summary, summary.store_path))
            if spec == "demo" and mode == "android" and ratio is None:
                demo_summary = summary
                plot_demo_walks(store, args.shoppers, args.plots / "simulator_demo_walks.png")
        if root is not None:
            groups += [real_group(f, args.real_walks) for f in ilc_floors(root)]
        print(
            format_table(
                ["store, BLE mode", "shoppers", "walk min", "CPU s", "CPU s per walk min"],
                timing_rows,
            )
        )
        print()
        print(table(groups))
        plot(groups, args.plots)
    assert demo_summary is not None
    sim, real = groups[0], [g for g in groups if g.name.startswith("real")]
    real_cadence = np.concatenate([g.per_walk("cadence_hz") for g in real]) if real else np.zeros(1)
    real_rssi = np.concatenate([g.cat("rssi_dbm") for g in real]) if real else np.zeros(1)
    real_turn = np.concatenate([g.cat("turn_rates_dps") for g in real]) if real else np.zeros(1)
    print(
        f"\nsim demo cadence {np.median(sim.per_walk('cadence_hz')):.2f} Hz "
        f"vs real {np.median(real_cadence):.2f} Hz; "
        f"sim step {np.median(sim.per_walk('step_length_m')):.2f} m; "
        f"sim |turn rate| {np.median(sim.cat('turn_rates_dps')):.1f} °/s "
        f"vs real {np.median(real_turn):.1f} °/s; "
        f"sim RSSI median {np.median(sim.cat('rssi_dbm')):.0f} dBm "
        f"vs real {np.median(real_rssi):.0f} dBm; "
        f"simulator {float(timing_rows[0][4]):.3f} CPU s per walk minute"
    )


if __name__ == "__main__":
    main()

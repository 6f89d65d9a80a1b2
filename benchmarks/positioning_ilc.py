"""Leave-one-walk-out positioning on the real recordings (../shared/data/ilc).

For every walk of every floor: build the radio map and Weinberg K from the floor's *other*
walks (the full map is built once; the held-out walk's rows are masked out, its step sums
subtracted), replay the walk's readings through a ``Tracker`` (waypoints never fed), and score
each waypoint against the last estimate at or before its time. Variants side by side:

- ``fused``: the product tracker (particle layer on the floor plan + radio, no known start);
- ``fused-ekf``: the same run reporting the filterpy EKF state instead of the particle cluster;
- ``radio-only``: each radio fix on its own (weighted k-NN);
- ``pdr-only``: map-constrained PDR started at the walk's true first waypoint, no radio.

Usage: ``python benchmarks/positioning_ilc.py --data ../shared/data/ilc [--jobs 2] [--quick]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from aislecast.bench import format_table
from aislecast.paths import ilc_floors, ilc_root
from positioning import Estimate, read_floor
from positioning.injection import INJECTIONS
from positioning.magnetic import MagneticMap, survey_windows
from positioning.radiofield import RadioField
from positioning.radiomap import STRENGTH_SCALE_DB, RadioMap, survey_fingerprints
from positioning.readings import BeaconReading, WifiReading
from positioning.scoring import score_walk
from positioning.steps import calibrate_weinberg_k
from positioning.survey import step_sums
from positioning.tempering import fit_tempering
from positioning.tracker import (
    BETWEEN_STEPS,
    FIRST_FIXES,
    HANDOVERS,
    HEADING_REPORTS,
    MAGNETICS,
    OFFSET_PRIORS,
    PRIORS,
    RADIO_LIKELIHOODS,
    RADIO_MEANS,
    REPORTS,
    RSSI_OFFSETS,
    SCALE_DRIFTS,
    TEMPERINGS,
    Tracker,
    TrackerSettings,
)
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk, read_walk

VARIANTS = ("fused", "fused-ekf", "radio-only", "pdr-only")


@dataclass
class FloorContext:
    name: str
    walks: list[Walk]
    radio_map: RadioMap
    grid: WalkableGrid
    step_sums: dict[str, tuple[float, float]]
    # Each survey walk's magnetometer windows (x, y, |B|), for --magnetic; empty when off.
    mag_windows: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class WalkScore:
    floor: str
    variant: str
    errors_m: list[float] = field(default_factory=list)
    missing: int = 0
    heading_errors_deg: list[float] = field(default_factory=list)
    first_fix_s: float | None = None
    walk_s: float = 0.0
    cpu_s: float = 0.0
    within_accuracy: int = 0
    field_cpu_s: float = 0.0  # building the held-out map's GP radio field (survey-time work)
    offset_db: float | None = None  # the RSSI offset learnt by the walk's end (--rssi-offset)


_FLOORS: dict[str, FloorContext] = {}
# The fused tracker's radio likelihood (--radio-likelihood); a list so forked workers see it.
_RADIO_LIKELIHOOD = [TrackerSettings().radio_likelihood]
_HEADING_REPORT = [TrackerSettings().heading_report]
_MOTION_HEADING = [TrackerSettings().motion_heading]
# Hypothesis and prior settings of the fused tracker, one --flag each: (setting, choices, help).
HYPOTHESIS_OPTIONS = (
    ("report", REPORTS, "which of the fused tracker's hypotheses the estimate reports"),
    ("prior", PRIORS, "the fused tracker's cloud before any radio fix"),
    ("handover", HANDOVERS, "what the fused tracker's first fix does to a prior cloud"),
)
# Their chosen values (a dict so forked workers see it).
_HYPOTHESIS: dict[str, Any] = {}
_SEED_OFFSET = [0]
_FIRST_FIX = [TrackerSettings().first_fix]
_TEMPERING = [TrackerSettings().tempering]
# --radio-mean, --rssi-offset, and --rssi-shift: dB added to every Wi-Fi and beacon level of the
# held-out walk (a phone that reads all sources that much louder than the surveying one).
_RADIO_MEAN = [TrackerSettings().radio_mean]
_RSSI_OFFSET = [TrackerSettings().rssi_offset]
_RSSI_SHIFT = [0.0]
_MAGNETIC = [TrackerSettings().magnetic]
_MAGNETIC_POWER = [TrackerSettings().magnetic_power]
# A control for --magnetic: the survey windows' strengths shuffled among their places (same
# spread, no location information), to tell a gain from the changed random stream.
_MAGNETIC_SHUFFLED = [False]
# --injection: where the fused tracker re-draws particles from (``positioning.injection``).
_INJECTION = [TrackerSettings().injection]
# --between-steps: what the fused and pdr-only estimates do between steps.
_BETWEEN_STEPS = [TrackerSettings().between_steps]
# --offset-prior: the fused and pdr-only particles' heading-offset prior.
_OFFSET_PRIOR = [TrackerSettings().offset_prior]
_SCALE_DRIFT = [TrackerSettings().scale_drift]
# --wall-floor: the weight a fused or pdr-only particle keeps for a step off walkable floor.
_WALL_FLOOR = [TrackerSettings().wall_floor]


def shifted(walk: Walk, shift_db: float) -> Walk:
    """The walk with every Wi-Fi and beacon level raised by ``shift_db`` (waypoints kept)."""
    if shift_db == 0.0:
        return walk
    readings = tuple(
        replace(r, rssi_dbm=r.rssi_dbm + shift_db)
        if isinstance(r, WifiReading | BeaconReading)
        else r
        for r in walk.readings
    )
    return replace(walk, readings=readings)


# --knn-distance: the k-NN's weights per source (``RadioMap(strength_scale_db=)``).
KNN_DISTANCES = {"strength": STRENGTH_SCALE_DB, "uniform": None}


def load_floor(floor_dir: Path, knn_distance: str = "strength") -> FloorContext:
    walks = [read_walk(p) for p in sorted((floor_dir / "path_data_files").glob("*.txt"))]
    survey = [s for w in walks for s in survey_fingerprints(w)]
    radio_map = RadioMap.from_survey(survey, strength_scale_db=KNN_DISTANCES[knn_distance])
    grid = WalkableGrid.from_plan(read_floor(floor_dir))
    sums = {w.name: step_sums(w) for w in walks}
    name = f"{floor_dir.parent.name}/{floor_dir.name}"
    mag = {w.name: survey_windows(w) for w in walks} if _MAGNETIC[0] != "off" else {}
    return FloorContext(name, walks, radio_map, grid, sums, mag)


def score(
    floor: str, variant: str, walk: Walk, estimates: Sequence[Estimate], walk_s: float, cpu_s: float
) -> WalkScore:
    errors = score_walk(estimates, walk.waypoints)
    result = WalkScore(floor, variant, walk_s=walk_s, cpu_s=cpu_s)
    result.errors_m, result.missing = list(errors.position_m), errors.missing
    result.heading_errors_deg = list(errors.heading_deg)
    result.within_accuracy = sum(
        e <= a for e, a in zip(errors.position_m, errors.accuracy_m, strict=True)
    )
    if estimates:
        result.first_fix_s = (estimates[0].t_ms - (walk.start_ms or 0)) / 1000.0
    return result


def replay(tracker: Tracker, walk: Walk) -> tuple[list[Estimate], float]:
    start = time.process_time()
    out: list[Estimate] = []
    for reading in walk.readings:
        out += tracker.push(reading)
    return out, time.process_time() - start


def run_walk(job: tuple[str, int, tuple[str, ...]]) -> list[WalkScore]:
    floor_name, index, variants = job
    ctx = _FLOORS[floor_name]
    walk = ctx.walks[index]
    radio_map = ctx.radio_map.without([walk.name])
    # Only the positioned walk is shifted; the survey (the other walks) is as recorded.
    walk = shifted(walk, _RSSI_SHIFT[0])
    d_all = sum(d for d, _ in ctx.step_sums.values()) - ctx.step_sums[walk.name][0]
    f_all = sum(f for _, f in ctx.step_sums.values()) - ctx.step_sums[walk.name][1]
    k = calibrate_weinberg_k([(d_all, f_all)])
    times = [r.t_ms for r in walk.readings]
    walk_s = (max(times) - min(times)) / 1000.0 if times else 0.0
    scores = []
    fused = TrackerSettings(
        weinberg_k=k,
        seed=index + _SEED_OFFSET[0],
        radio_likelihood=_RADIO_LIKELIHOOD[0],
        heading_report=_HEADING_REPORT[0],
        motion_heading=_MOTION_HEADING[0],
        first_fix=_FIRST_FIX[0],
        tempering=_TEMPERING[0],
        radio_mean=_RADIO_MEAN[0],
        rssi_offset=_RSSI_OFFSET[0],
        magnetic=_MAGNETIC[0],
        magnetic_power=_MAGNETIC_POWER[0],
        between_steps=_BETWEEN_STEPS[0],
        offset_prior=_OFFSET_PRIOR[0],
        scale_drift=_SCALE_DRIFT[0],
        wall_floor=_WALL_FLOOR[0],
    )
    fused = replace(fused, **_HYPOTHESIS)
    fused = replace(fused, injection=_INJECTION[0])
    field, field_cpu = None, 0.0
    if (
        fused.radio_likelihood.endswith(("gp", "fitted"))
        or fused.first_fix == "field"
        or fused.injection.startswith("field")
    ):
        # The field is survey-time work (once per map in a store), so it is timed apart from the
        # tracker; fields of sources this walk never hears are not computed (same estimates).
        start = time.process_time()
        field = RadioField(radio_map, ctx.grid, walls=fused.radio_mean == "multi-wall")
        field.prepare({r.bssid for r in walk.readings if isinstance(r, WifiReading)})
        field.prepare({r.beacon_id for r in walk.readings if isinstance(r, BeaconReading)})
        field_cpu = time.process_time() - start
    tempering = None
    if fused.tempering.startswith("fitted"):
        # Fitted on the held-out map (this walk is not in it): survey-time work, timed with
        # the field.
        start = time.process_time()
        tempering = fit_tempering(radio_map, ctx.grid, pairs=fused.tempering == "fitted-pairs")
        field_cpu += time.process_time() - start
    magnetic_map = None
    if fused.magnetic != "off":
        # Built from the other walks only (survey-time work, timed with the field).
        start = time.process_time()
        others = {name: w for name, w in ctx.mag_windows.items() if name != walk.name}
        if _MAGNETIC_SHUFFLED[0]:
            others = _shuffled(others, np.random.default_rng(index))
        magnetic_map = MagneticMap.from_windows(others)
        field_cpu += time.process_time() - start
    tracker = Tracker(
        radio_map,
        ctx.grid,
        settings=fused,
        radio_field=field,
        tempering=tempering,
        magnetic_map=magnetic_map,
    )
    estimates, cpu = replay(tracker, walk)
    scores.append(score(floor_name, "fused", walk, estimates, walk_s, cpu))
    scores[-1].field_cpu_s = field_cpu
    if fused.rssi_offset == "online":
        scores[-1].offset_db = tracker.rssi_offset.mean_db
    if "fused-ekf" in variants:
        settings = replace(fused, output="ekf")
        ekf = Tracker(
            radio_map, ctx.grid, settings=settings, radio_field=field, magnetic_map=magnetic_map
        )
        estimates, cpu = replay(ekf, walk)
        scores.append(score(floor_name, "fused-ekf", walk, estimates, walk_s, cpu))
    if "radio-only" in variants:
        # The fused run's radio fixes, each taken on its own; scored at the time it was ready.
        radio = [Estimate(f.t_ms, f.x, f.y, 0.0, f.sigma_m) for f in tracker.fixes]
        scores.append(score(floor_name, "radio-only", walk, radio, walk_s, cpu))
    if "pdr-only" in variants and walk.waypoints:
        w0 = walk.waypoints[0]
        pdr = Tracker(
            None,
            ctx.grid,
            settings=TrackerSettings(
                weinberg_k=k,
                seed=index + _SEED_OFFSET[0],
                use_radio=False,
                start_xy=(w0.x, w0.y),
                motion_heading=_MOTION_HEADING[0],
                between_steps=_BETWEEN_STEPS[0],
                offset_prior=_OFFSET_PRIOR[0],
                scale_drift=_SCALE_DRIFT[0],
                wall_floor=_WALL_FLOOR[0],
            ),
        )
        estimates, cpu = replay(pdr, walk)
        scores.append(score(floor_name, "pdr-only", walk, estimates, walk_s, cpu))
    return scores


def _shuffled(windows: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The windows with their strengths permuted across all places (the control)."""
    names = [n for n, w in windows.items() if len(w)]
    values = rng.permutation(np.concatenate([windows[n][:, 2] for n in names]))
    out, i = {}, 0
    for n in names:
        w = windows[n].copy()
        w[:, 2] = values[i : i + len(w)]
        out[n], i = w, i + len(w)
    return out


def write_per_walk(
    path: Path, jobs: Sequence[tuple[str, int, tuple[str, ...]]], results: Sequence[list[WalkScore]]
) -> None:
    """One row per walk and variant: its waypoint errors, space-separated (for paired diffs)."""
    with path.open("w") as out:
        out.write("variant,floor,walk,errors_m\n")
        for (floor, index, _), walk_scores in zip(jobs, results, strict=True):
            for s in walk_scores:
                errors = " ".join(f"{e:.3f}" for e in s.errors_m)
                out.write(f"{s.variant},{floor},{index},{errors}\n")


def summarise(scores: Sequence[WalkScore]) -> list[object]:
    errors = np.array([e for s in scores for e in s.errors_m])
    heading = np.array([h for s in scores for h in s.heading_errors_deg])
    missing = sum(s.missing for s in scores)
    total = missing + len(errors)
    fixes = [s.first_fix_s for s in scores if s.first_fix_s is not None]
    cpu = sum(s.cpu_s for s in scores)
    speed = sum(s.walk_s for s in scores) / cpu if cpu > 0 else float("inf")

    def pct(a: np.ndarray, q: float) -> str:
        return f"{np.percentile(a, q):.2f}" if len(a) else "-"

    return [
        total,
        pct(errors, 50),
        pct(errors, 75),
        pct(errors, 90),
        f"{errors.mean():.2f}" if len(errors) else "-",
        f"{np.median(heading):.1f}" if len(heading) else "-",
        f"{np.percentile(heading, 90):.1f}" if len(heading) else "-",
        f"{100.0 * missing / max(total, 1):.1f}",
        f"{np.median(fixes):.1f}" if fixes else "-",
        f"{100.0 * sum(s.within_accuracy for s in scores) / max(len(errors), 1):.0f}",
        f"{speed:.0f}x",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--data", type=Path, default=None, help="the ilc folder (../shared/data/ilc)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (walks in parallel)")
    parser.add_argument("--quick", action="store_true", help="every 4th walk only, for iteration")
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated subset of " + ", ".join(VARIANTS),
    )
    parser.add_argument(
        "--radio-likelihood",
        default=TrackerSettings().radio_likelihood,
        choices=RADIO_LIKELIHOODS,
        help="the fused tracker's radio likelihood (default: the product's)",
    )
    parser.add_argument(
        "--heading-report",
        default=TrackerSettings().heading_report,
        choices=HEADING_REPORTS,
        help="the fused tracker's reported heading (default: the product's)",
    )
    parser.add_argument(
        "--motion-heading",
        default=TrackerSettings().motion_heading,
        choices=HEADING_REPORTS,
        help="the heading steps move the particles along (default: the product's)",
    )
    for name, choices, help_text in HYPOTHESIS_OPTIONS:
        default = getattr(TrackerSettings(), name)
        parser.add_argument(f"--{name}", default=default, choices=choices, help=help_text)
    parser.add_argument(
        "--first-fix",
        default=TrackerSettings().first_fix,
        choices=FIRST_FIXES,
        help="where the fused tracker's first fix seeds its particles (default: the product's)",
    )
    parser.add_argument(
        "--tempering",
        default=TrackerSettings().tempering,
        choices=TEMPERINGS,
        help="the fused tracker's scan-likelihood tempering (default: the product's)",
    )
    parser.add_argument(
        "--radio-mean",
        default=TrackerSettings().radio_mean,
        choices=RADIO_MEANS,
        help="the radio field's mean: log-distance, or with a loss per plan wall crossed",
    )
    parser.add_argument(
        "--rssi-offset",
        default=TrackerSettings().rssi_offset,
        choices=RSSI_OFFSETS,
        help="the phone's RSSI offset: ignored, or learnt online per walk",
    )
    parser.add_argument(
        "--rssi-shift",
        type=float,
        default=0.0,
        help="dB added to the positioned walk's Wi-Fi and beacon levels (a different phone)",
    )
    parser.add_argument(
        "--magnetic",
        default=TrackerSettings().magnetic,
        choices=MAGNETICS,
        help="the fused tracker's magnetic-field likelihood (default: the product's)",
    )
    parser.add_argument(
        "--magnetic-power",
        type=float,
        default=TrackerSettings().magnetic_power,
        help="power on the magnetic likelihood (with --magnetic total)",
    )
    parser.add_argument(
        "--magnetic-shuffled",
        action="store_true",
        help="control: the magnetic map from survey strengths shuffled among their places",
    )
    parser.add_argument(
        "--between-steps",
        default=TrackerSettings().between_steps,
        choices=BETWEEN_STEPS,
        help="the fused and pdr-only estimates between steps: hold, or extrapolate the last step",
    )
    parser.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="added to each walk's tracker seed: a second seed set shows the run-to-run noise",
    )
    parser.add_argument(
        "--injection",
        default=TrackerSettings().injection,
        choices=INJECTIONS,
        help="where the fused tracker re-draws particles from at each fix (default: the product's)",
    )
    parser.add_argument(
        "--offset-prior",
        default=TrackerSettings().offset_prior,
        choices=OFFSET_PRIORS,
        help="the fused and pdr-only particles' heading-offset prior (default: the product's)",
    )
    parser.add_argument(
        "--scale-drift",
        default=TrackerSettings().scale_drift,
        choices=SCALE_DRIFTS,
        help="the fused and pdr-only particles' step-scale random walk (default: the product's)",
    )
    parser.add_argument(
        "--wall-floor",
        type=float,
        default=TrackerSettings().wall_floor,
        help="weight a fused or pdr-only particle keeps for a step off the floor, in [0, 1) "
        "(0: dropped, the product's)",
    )
    parser.add_argument(
        "--knn-distance",
        default="strength",
        choices=list(KNN_DISTANCES),
        help="the k-NN's distance: sources weighted by their louder level (the product's), or "
        "all alike (before session 12)",
    )
    parser.add_argument(
        "--per-walk",
        type=Path,
        default=None,
        help="also write each walk's errors (variant, floor, walk, waypoint errors) to this CSV",
    )
    args = parser.parse_args(argv)
    _OFFSET_PRIOR[0] = args.offset_prior
    _SCALE_DRIFT[0] = args.scale_drift
    if not 0.0 <= args.wall_floor < 1.0:
        parser.error(f"--wall-floor must be in [0, 1), not {args.wall_floor}")
    _WALL_FLOOR[0] = args.wall_floor
    _INJECTION[0] = args.injection
    _RADIO_LIKELIHOOD[0] = args.radio_likelihood
    _HEADING_REPORT[0] = args.heading_report
    _MOTION_HEADING[0] = args.motion_heading
    _HYPOTHESIS.update({name: getattr(args, name) for name, _, _ in HYPOTHESIS_OPTIONS})
    _SEED_OFFSET[0] = args.seed_offset
    _FIRST_FIX[0] = args.first_fix
    _TEMPERING[0] = args.tempering
    _RADIO_MEAN[0] = args.radio_mean
    _RSSI_OFFSET[0] = args.rssi_offset
    _RSSI_SHIFT[0] = args.rssi_shift
    _MAGNETIC[0] = args.magnetic
    _MAGNETIC_POWER[0] = args.magnetic_power
    _MAGNETIC_SHUFFLED[0] = args.magnetic_shuffled
    _BETWEEN_STEPS[0] = args.between_steps
    root = ilc_root(args.data)
    if root is None:
        print("recordings not found: pass --data or set $AISLECAST_ILC_DATA", file=sys.stderr)
        return 2
    jobs: list[tuple[str, int, tuple[str, ...]]] = []
    for floor_dir in ilc_floors(root):
        ctx = load_floor(floor_dir, args.knn_distance)
        _FLOORS[ctx.name] = ctx
        picks = range(0, len(ctx.walks), 4) if args.quick else range(len(ctx.walks))
        variants = tuple(v.strip() for v in args.variants.split(","))
        jobs += [(ctx.name, i, variants) for i in picks]
    wall = time.perf_counter()
    if args.jobs > 1:
        with mp.get_context("fork").Pool(args.jobs) as pool:
            results = pool.map(run_walk, jobs, chunksize=1)
    else:
        results = [run_walk(j) for j in jobs]
    scores = [s for r in results for s in r]
    if args.per_walk is not None:
        write_per_walk(args.per_walk, jobs, results)
    headers = [
        "variant",
        "floor",
        "waypoints",
        "median m",
        "p75 m",
        "p90 m",
        "mean m",
        "heading med °",
        "heading p90 °",
        "missing %",
        "first fix s",
        "within accuracy_m %",
        "speed",
    ]
    rows = []
    for variant in VARIANTS:
        for floor in [*_FLOORS, "all"]:
            chosen = [s for s in scores if s.variant == variant and floor in (s.floor, "all")]
            if chosen:
                rows.append([variant, floor, *summarise(chosen)])
    print(format_table(headers, rows))
    print(f"walks: {len(jobs)}, jobs: {args.jobs}, wall: {time.perf_counter() - wall:.1f}s")
    fused = [s for s in scores if s.variant == "fused"]
    field_cpu = [s.field_cpu_s for s in fused if s.field_cpu_s > 0]
    if field_cpu:
        print(f"radio field build: {np.mean(field_cpu):.2f} s CPU per held-out map (mean)")
    offsets = [s.offset_db for s in fused if s.offset_db is not None]
    if offsets:
        q10, q50, q90 = np.percentile(offsets, [10, 50, 90])
        print(f"learnt RSSI offset at the walk's end: median {q50:+.1f} dB (10-90 %: ", end="")
        print(f"{q10:+.1f} … {q90:+.1f}); shift applied {_RSSI_SHIFT[0]:+.1f} dB")
    summary = summarise(fused)
    errors = np.array([e for s in fused for e in s.errors_m])
    print(f"fused waypoints over 10 m off: {int((errors > 10.0).sum())} of {len(errors)}")
    heading = np.array([h for s in fused for h in s.heading_errors_deg])
    print(
        f"positioning dev: median={np.median(errors):.2f}m p90={np.percentile(errors, 90):.2f}m "
        f"heading_median={np.median(heading):.1f}deg missing={summary[7]}% speed={summary[10]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

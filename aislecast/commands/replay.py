"""``aislecast replay``: position recorded walks against a floor's survey; CSV and a plot."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from positioning import Estimate, FloorPlan, FloorPlanError, read_floor
from positioning.survey import Survey, load_survey
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk, WalkFormatError, read_walk

CSV_HEADER = ("walk_id", "t_ms", "x", "y", "heading_deg")
# The plot zooms to the walks with this much floor around them, m.
PLOT_MARGIN_M = 25.0


@dataclass(frozen=True)
class ReplayedWalk:
    walk: Walk
    estimates: list[Estimate]


def replay_walks(
    floor_dir: Path, walk_paths: Sequence[Path]
) -> tuple[FloorPlan, Survey, list[ReplayedWalk]]:
    """Survey from the floor's other walks, then each walk through its own tracker.

    Waypoints of the replayed walks are never fed to a tracker (``Walk.readings`` holds none).
    """
    plan = read_floor(floor_dir)
    survey, _ = load_survey(floor_dir, exclude=walk_paths)
    grid = WalkableGrid.from_plan(plan)
    replayed = []
    field = None  # the survey's GP radio field, built by the first tracker, shared by the rest
    for i, path in enumerate(walk_paths):
        walk = read_walk(path)
        settings = TrackerSettings(weinberg_k=survey.weinberg_k, seed=i)
        tracker = Tracker(survey.radio_map, grid, settings=settings, radio_field=field)
        field = tracker.radio_field
        estimates = [e for reading in walk.readings for e in tracker.push(reading)]
        replayed.append(ReplayedWalk(walk, estimates))
    return plan, survey, replayed


def write_estimates_csv(path: Path, replayed: Sequence[ReplayedWalk]) -> None:
    """``walk_id,t_ms,x,y,heading_deg``, one row per emitted estimate."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_HEADER)
        for r in replayed:
            for e in r.estimates:
                writer.writerow(
                    (r.walk.name, e.t_ms, f"{e.x:.3f}", f"{e.y:.3f}", f"{e.heading_deg:.1f}")
                )


def plot_replay(path: Path, plan: FloorPlan, replayed: Sequence[ReplayedWalk]) -> None:
    """Floor plan (outline and shops), each walk's estimates and, when present, its waypoints."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 10))
    for part in getattr(plan.outline, "geoms", [plan.outline]):
        ax.plot(*part.exterior.xy, color="0.3", linewidth=1)
    for obstacle in plan.obstacles:
        ax.fill(*obstacle.polygon.exterior.xy, color="0.85", edgecolor="0.6", linewidth=0.5)
    for r in replayed:
        if r.estimates:
            line = ax.plot(
                [e.x for e in r.estimates],
                [e.y for e in r.estimates],
                ".-",
                ms=2,
                lw=1,
                label=f"{r.walk.name} estimate",
            )
            ax.plot(r.estimates[0].x, r.estimates[0].y, "o", color=line[0].get_color())
        if r.walk.waypoints:
            ax.plot(
                [w.x for w in r.walk.waypoints],
                [w.y for w in r.walk.waypoints],
                "k--o",
                ms=4,
                lw=1,
                label=f"{r.walk.name} waypoints (truth)",
            )
    xs = [e.x for r in replayed for e in r.estimates] + [
        w.x for r in replayed for w in r.walk.waypoints
    ]
    ys = [e.y for r in replayed for e in r.estimates] + [
        w.y for r in replayed for w in r.walk.waypoints
    ]
    margin = PLOT_MARGIN_M
    ax.set_xlim(
        max(0.0, min(xs, default=0.0) - margin), min(plan.width_m, max(xs, default=1e9) + margin)
    )
    ax.set_ylim(
        max(0.0, min(ys, default=0.0) - margin), min(plan.height_m, max(ys, default=1e9) + margin)
    )
    ax.set_aspect("equal")
    ax.set_xlabel("x (m, east)")
    ax.set_ylabel("y (m, north)")
    ax.set_title(f"floor {plan.name}: replayed walks")
    ax.legend(loc="upper right", fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def replay(
    ctx: typer.Context,
    floor: Annotated[
        Path,
        typer.Option(
            "--floor", help="floor folder (floor_info.json, geojson_map.json, path_data_files/)"
        ),
    ],
    walks: Annotated[
        list[Path],
        typer.Option("--walks", help="walk files to replay (several may follow one --walks)"),
    ],
    out: Annotated[Path, typer.Option("--out", help="estimates CSV to write")],
    plot: Annotated[
        Path | None, typer.Option("--plot", help="PNG of the floor, estimates and waypoints")
    ] = None,
) -> None:
    """Replay walks: radio map from the floor's survey minus the replayed walks; estimates CSV."""
    walk_paths = [*walks, *(Path(a) for a in ctx.args)]
    unknown = [a for a in ctx.args if a.startswith("-")]
    if unknown:
        raise typer.BadParameter(f"unknown option(s): {' '.join(unknown)}")
    try:
        plan, survey, replayed = replay_walks(floor, walk_paths)
    except (FloorPlanError, WalkFormatError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not survey.walk_names:
        typer.echo(
            f"warning: no survey walks left in {floor} once the replayed ones are set aside: "
            "without a radio map there is no first fix, so no estimates",
            err=True,
        )
    write_estimates_csv(out, replayed)
    rows = sum(len(r.estimates) for r in replayed)
    typer.echo(
        f"survey: {len(survey.walk_names)} walks, radio map {len(survey.radio_map)} fingerprints"
    )
    typer.echo(f"wrote {rows} estimates for {len(replayed)} walk(s) to {out}")
    if plot is not None:
        plot_replay(plot, plan, replayed)
        typer.echo(f"plot: {plot}")

"""``aislecast demo``: replay one real walk (left out of the survey) and show where to look."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from aislecast.commands.replay import plot_replay, replay_walks, write_estimates_csv
from aislecast.paths import REPO_ROOT, ilc_floors, ilc_root
from positioning.floorplan import WALKS_DIR
from positioning.scoring import score_walk

DEMO_OUT = REPO_ROOT / "build" / "demo"


def demo(
    data: Annotated[
        Path | None, typer.Option("--data", help="the recordings (default ../shared/data/ilc)")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="where the CSV and the plot go")
    ] = DEMO_OUT,
) -> None:
    """Replay the first walk of the first recorded floor and print its error figures."""
    root = ilc_root(data) if data is None or data.is_dir() else None
    if root is None:
        typer.echo(
            "demo needs the recorded walks: ../shared/data/ilc (or --data DIR, or "
            "$AISLECAST_ILC_DATA) was not found",
            err=True,
        )
        raise typer.Exit(1)
    floors = ilc_floors(root)
    walks = sorted((floors[0] / WALKS_DIR).glob("*.txt")) if floors else []
    if not walks:
        typer.echo(f"demo: no walk files under {root}/<site>/<floor>/{WALKS_DIR}", err=True)
        raise typer.Exit(1)
    walk_path = walks[0]
    typer.echo(f"replaying {walk_path} (left out of the survey of {floors[0]})")
    plan, survey, replayed = replay_walks(floors[0], [walk_path])
    csv_path, png_path = out_dir / f"{walk_path.stem}.csv", out_dir / f"{walk_path.stem}.png"
    write_estimates_csv(csv_path, replayed)
    plot_replay(png_path, plan, replayed)
    result = replayed[0]
    errors = score_walk(result.estimates, result.walk.waypoints)
    typer.echo(f"survey: {len(survey.walk_names)} walks; {len(result.estimates)} estimates")
    typer.echo(f"estimates CSV: {csv_path}")
    typer.echo(f"plot (floor, estimate, true waypoints): {png_path}")
    if errors.position_m:
        err = np.asarray(errors.position_m)
        typer.echo(
            f"error over {len(err)} waypoints: median {np.median(err):.2f} m, p90 "
            f"{np.percentile(err, 90):.2f} m, max {err.max():.2f} m; "
            f"{errors.missing} waypoint(s) before the first estimate"
        )
    if errors.heading_deg:
        typer.echo(f"heading error median {np.median(errors.heading_deg):.1f}°")

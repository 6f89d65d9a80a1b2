import csv

import numpy as np
from typer.testing import CliRunner

from aislecast.cli import app
from positioning import write_floor
from positioning.walkfile import write_walk
from tests.positioning.synthetic import walk_readings
from tests.positioning.test_tracker import CORRIDOR

APS = {f"ap{i}": (5.0 + 10.0 * i, 10.0 + (4.0 if i % 2 else -4.0), -35.0) for i in range(8)}


def synthetic_floor(tmp_path):
    floor = write_floor(CORRIDOR, tmp_path / "store" / "F1")
    walks = floor / "path_data_files"
    for i, path in enumerate(
        [[(4.0, 10.0), (76.0, 10.0)], [(76.0, 9.0), (4.0, 9.0)], [(4.0, 11.0), (76.0, 11.0)]]
    ):
        readings, waypoints = walk_readings(path, seed=i, access_points=APS)
        write_walk(
            walks / f"survey{i}.txt", readings, waypoints, {"startTime": str(readings[0].t_ms)}
        )
    readings, waypoints = walk_readings([(10.0, 10.0), (60.0, 10.0)], seed=42, access_points=APS)
    write_walk(walks / "shopper.txt", readings, waypoints, {"startTime": str(readings[0].t_ms)})
    return floor


def test_replay_writes_one_row_per_estimate_in_the_floor_frame(tmp_path):
    floor = synthetic_floor(tmp_path)
    out, plot = tmp_path / "est.csv", tmp_path / "est.png"
    shopper, survey0 = (
        floor / "path_data_files" / "shopper.txt",
        floor / "path_data_files" / "survey0.txt",
    )
    result = CliRunner().invoke(
        app,
        [
            "replay",
            "--floor",
            str(floor),
            "--walks",
            str(shopper),
            str(survey0),
            "--out",
            str(out),
            "--plot",
            str(plot),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "survey: 2 walks" in result.output  # both replayed walks left out of the radio map
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"walk_id", "t_ms", "x", "y", "heading_deg"}
    assert {r["walk_id"] for r in rows} == {"shopper", "survey0"}
    shopper_rows = [r for r in rows if r["walk_id"] == "shopper"]
    ys = np.array([float(r["y"]) for r in shopper_rows])
    assert np.all((ys > 7.0) & (ys < 13.0))  # in the corridor, not in the shops
    assert plot.stat().st_size > 10_000


def test_replay_reports_a_missing_floor_clearly(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "replay",
            "--floor",
            str(tmp_path / "nope"),
            "--walks",
            "a.txt",
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "missing" in result.output


def test_demo_without_recordings_says_so_and_fails(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--data", str(tmp_path / "absent")])
    assert result.exit_code == 1
    assert "needs the recorded walks" in result.output

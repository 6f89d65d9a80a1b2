"""The simulator writes walks for positioning to read: its files must parse cleanly there."""

from __future__ import annotations

from pathlib import Path

import shapely

from positioning.floorplan import read_floor
from positioning.readings import (
    AccelReading,
    BeaconReading,
    GyroReading,
    RotationVectorReading,
    WifiReading,
)
from positioning.walkfile import read_walk
from simulator import SimulationSettings, demo_store, simulate_to_folder


def test_positioning_reads_every_row_the_simulator_writes(tmp_path: Path) -> None:
    simulate_to_folder(demo_store(), 1, 3, tmp_path, SimulationSettings(max_stops=2))
    (floor_dir,) = [p.parent for p in tmp_path.glob("*/path_data_files")]
    plan = read_floor(floor_dir)
    (walk_file,) = sorted((floor_dir / "path_data_files").glob("*.txt"))

    walk = read_walk(walk_file)

    kinds = {type(r) for r in walk.readings}
    assert {AccelReading, GyroReading, RotationVectorReading, BeaconReading, WifiReading} <= kinds
    # Rows of a type the reader does not use may be skipped; none may be short, badly timed,
    # non-finite or of a type the recordings do not have.
    assert set(walk.skipped) <= {"unused type"}
    times = [r.t_ms for r in walk.readings]
    assert walk.waypoints
    assert min(times) <= walk.waypoints[0].t_ms
    standing_room = plan.walkable.buffer(0.5)
    assert all(standing_room.contains(shapely.Point(w.x, w.y)) for w in walk.waypoints)

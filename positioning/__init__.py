"""Positioning: fuse phone motion sensors and radio readings into position and heading.

Pure: readings and times in, estimates out. No clocks, sockets or databases here.
"""

from positioning.beacons import BeaconMap, PathLossModel
from positioning.estimate import Estimate
from positioning.floorplan import FloorPlan, FloorPlanError, Obstacle, read_floor, write_floor
from positioning.radiomap import RadioMap
from positioning.readings import (
    AccelReading,
    BeaconReading,
    GyroReading,
    MagReading,
    Reading,
    RotationVectorReading,
    WifiReading,
)
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk, WalkFormatError, Waypoint, read_walk, write_walk

__all__ = [
    "AccelReading",
    "BeaconMap",
    "BeaconReading",
    "Estimate",
    "FloorPlan",
    "FloorPlanError",
    "GyroReading",
    "MagReading",
    "Obstacle",
    "PathLossModel",
    "RadioMap",
    "Reading",
    "RotationVectorReading",
    "Tracker",
    "TrackerSettings",
    "Walk",
    "WalkFormatError",
    "WalkableGrid",
    "Waypoint",
    "WifiReading",
    "read_floor",
    "read_walk",
    "write_floor",
    "write_walk",
]

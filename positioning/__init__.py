"""Positioning: fuse phone motion sensors and radio readings into position and heading.

Pure: readings and times in, estimates out. No clocks, sockets or databases here.
"""

from positioning.estimate import Estimate
from positioning.floorplan import FloorPlan, FloorPlanError, Obstacle, read_floor, write_floor

__all__ = ["Estimate", "FloorPlan", "FloorPlanError", "Obstacle", "read_floor", "write_floor"]

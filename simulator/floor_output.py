"""Writing a store as a floor folder in the recordings' layout, and drawing its floor image.

``geojson_map.json`` holds, as in the recordings, the outline first and then the footprints
that block walking (shelves, counters, shops): ``positioning.read_floor`` turns every feature
after the first into an obstacle, so the zones (floor areas shoppers stand in) must not be
there. They go to ``zones.geojson`` beside ``store.json``, in the same lon/lat frame.
"""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import Polygon as PolygonPatch
from shapely.geometry import MultiPolygon, Polygon

from positioning.floorplan import FLOOR_IMAGE, FloorPlan, Obstacle, floor_to_geojson, write_floor
from simulator.store import Store

# Floor image resolution: the recordings' images are ~800 px wide; small stores get 20 px/m.
IMAGE_MAX_PX, IMAGE_PX_PER_M = 1200, 20.0
ZONE_COLOURS = {
    "shelf": "#f6c85f",
    "screen": "#6f4e7c",
    "checkout": "#9dd866",
    "entrance": "#0b84a5",
    "area": "#cccccc",
}


def _patches(geom: Polygon | MultiPolygon) -> list[list[tuple[float, float]]]:
    return [list(p.exterior.coords) for p in getattr(geom, "geoms", [geom])]


def draw_floor_image(store: Store, path: Path | str) -> Path:
    """A PNG of the floor covering exactly [0, width] x [0, height] (north up)."""
    scale = min(IMAGE_PX_PER_M, IMAGE_MAX_PX / max(store.width_m, store.height_m))
    width_px, height_px = round(store.width_m * scale), round(store.height_m * scale)
    fig = Figure(figsize=(width_px / 100, height_px / 100), dpi=100)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, store.width_m)
    ax.set_ylim(0, store.height_m)
    ax.set_axis_off()
    ax.set_facecolor("white")
    for ring in _patches(store.outline):
        ax.add_patch(
            PolygonPatch(ring, closed=True, facecolor="#f4f4f0", edgecolor="#333333", lw=1.5)
        )
    for zone in store.zones:
        if zone.kind != "area":
            colour = ZONE_COLOURS.get(zone.kind, "#cccccc")
            ax.add_patch(
                PolygonPatch(list(zone.polygon.exterior.coords), facecolor=colour, alpha=0.3, lw=0)
            )
    for obstacle in store.obstacles:
        for ring in _patches(obstacle.polygon):
            ax.add_patch(
                PolygonPatch(ring, closed=True, facecolor="#8c8c8c", edgecolor="#555555", lw=0.5)
            )
    for screen in store.screens:
        ax.plot(screen.x, screen.y, marker="s", color=ZONE_COLOURS["screen"], markersize=4)
    path = Path(path)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    return path


def zones_geojson(store: Store) -> dict[str, object]:
    """The zones as a GeoJSON FeatureCollection in the floor folder's lon/lat frame
    (outline first, as in ``geojson_map.json``, so readers can map it back the same way)."""
    as_features = tuple(
        Obstacle(
            z.id,
            z.name,
            z.polygon,
            {
                "kind": z.kind,
                "categories": list(z.categories),
                "facing_deg": z.facing_deg,
                "view_distance_m": z.view_distance_m,
            },
        )
        for z in store.zones
    )
    plan = FloorPlan(store.name, store.width_m, store.height_m, store.outline, as_features)
    return floor_to_geojson(plan)


def write_floor_folder(store: Store, floor_dir: Path | str) -> Path:
    """``floor_info.json``, ``geojson_map.json``, ``floor_image.png`` and an empty
    ``path_data_files/`` for the store."""
    floor_dir = write_floor(store.floor_plan(), floor_dir)
    draw_floor_image(store, floor_dir / FLOOR_IMAGE)
    return floor_dir


def write_zones_geojson(store: Store, path: Path | str) -> Path:
    path = Path(path)
    path.write_text(json.dumps(zones_geojson(store)) + "\n", encoding="utf-8")
    return path

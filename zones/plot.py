"""Pictures of a floor, its zones, the debounce margins and a shopper's events (matplotlib).

``draw_floor`` draws on an axes it is given; ``save_floor_picture`` is the one function here that
writes a file, for the docs and the admin pages.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.image
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from zones.demo import demo_store, demo_walk
from zones.detector import ZoneEventDetector
from zones.events import ZoneEvent
from zones.facing import view_area
from zones.mall import read_mall_floor, read_waypoints
from zones.model import Floor, Zone
from zones.settings import ZoneSettings

KIND_COLOURS = {
    "area": "#4e79a7",
    "shelf": "#f28e2b",
    "screen": "#e15759",
    "entrance": "#59a14f",
    "checkout": "#b07aa1",
    "obstacle": "#555555",
}
EVENT_MARKERS = {
    "enter": ("^", "#2ca02c"),
    "exit": ("v", "#d62728"),
    "dwell": ("o", "#9467bd"),
    "facing": ("*", "#ff7f0e"),
}


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]


def _fill(ax: Axes, geometry: BaseGeometry, **style: object) -> None:
    for polygon in _polygons(geometry):
        x, y = polygon.exterior.xy
        ax.fill(x, y, **style)  # type: ignore[arg-type]


def _outline(ax: Axes, geometry: BaseGeometry, **style: object) -> None:
    for polygon in _polygons(geometry):
        for ring in (polygon.exterior, *polygon.interiors):
            x, y = ring.xy
            ax.plot(x, y, **style)  # type: ignore[arg-type]


def draw_floor(
    ax: Axes,
    floor: Floor,
    settings: ZoneSettings | None = None,
    track: tuple[np.ndarray, np.ndarray] | None = None,
    events: Sequence[ZoneEvent] = (),
    event_xy: Sequence[tuple[float, float]] = (),
    margins: bool = False,
    labels: bool = True,
) -> None:
    """Draw the plan outline, each zone by kind, view areas and facing arrows, a track and events.

    ``margins`` adds each zone's enter line (shrunk by ``enter_margin_m``) and exit line (grown by
    ``exit_margin_m``); ``event_xy`` gives where each of ``events`` happened.
    """
    settings = settings or ZoneSettings()
    if floor.image_path is not None:
        plan = matplotlib.image.imread(floor.image_path)
        ax.imshow(plan, extent=(0, floor.width_m, 0, floor.height_m), alpha=0.5, zorder=0)
    _outline(ax, floor.outline, color="#333333", lw=1.0)
    for zone in floor.zones:
        _draw_zone(ax, zone, settings, margins, labels)
    if track is not None:
        ax.plot(track[0], track[1], color="#555555", lw=0.8, alpha=0.8, label="shopper track")
    for kind, (marker, colour) in EVENT_MARKERS.items():
        xy = [p for e, p in zip(events, event_xy, strict=True) if e.kind == kind]
        if xy:
            xs, ys = zip(*xy, strict=True)
            ax.scatter(
                xs,
                ys,
                marker=marker,
                color=colour,
                s=45,
                zorder=5,
                label=kind,
                edgecolors="black",
                linewidths=0.4,
            )
    ax.set_aspect("equal")
    ax.set_xlim(0, floor.width_m)
    ax.set_ylim(0, floor.height_m)
    ax.set_xlabel("x (m, east)")
    ax.set_ylabel("y (m, north)")


def _draw_zone(ax: Axes, zone: Zone, settings: ZoneSettings, margins: bool, labels: bool) -> None:
    colour = KIND_COLOURS.get(zone.kind, "#999999")
    seen_from = view_area(zone)
    if seen_from is not None and not seen_from.is_empty:
        _fill(ax, seen_from, color=colour, alpha=0.12, lw=0)
    _fill(ax, zone.polygon, color=colour, alpha=0.45, lw=0)
    _outline(ax, zone.polygon, color=colour, lw=1.0)
    if margins:
        _outline(ax, zone.polygon.buffer(-settings.enter_margin_m), color=colour, lw=0.8, ls="--")
        _outline(ax, zone.polygon.buffer(settings.exit_margin_m), color=colour, lw=0.8, ls=":")
    centre = zone.polygon.representative_point()
    if zone.facing_deg is not None and zone.view_distance_m is not None:
        # Arrow from the viewing side toward the zone, along the facing direction.
        theta = math.radians(zone.facing_deg)
        length = zone.view_distance_m
        start = (centre.x - length * math.cos(theta), centre.y - length * math.sin(theta))
        ax.annotate(
            "",
            xy=(centre.x, centre.y),
            xytext=start,
            arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.2},
        )
    if labels:
        ax.text(centre.x, centre.y, zone.name, fontsize=6, ha="center", va="center")


def save_floor_picture(
    path: Path | str, panels: Sequence[dict[str, object]], title: str = ""
) -> Path:
    """Render one panel per ``draw_floor`` keyword set (plus ``title``) to a PNG."""
    path = Path(path)
    # A bare Figure renders through Agg on savefig: no pyplot state, no window, no backend switch.
    fig = Figure(figsize=(6.5 * len(panels), 6.0))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        options = dict(panel)
        ax.set_title(str(options.pop("title", "")), fontsize=10)
        draw_floor(ax, **options)  # type: ignore[arg-type]
        ax.legend(loc="upper right", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def events_with_places(
    floor: Floor, walk: tuple[np.ndarray, ...], shopper: str
) -> tuple[list[ZoneEvent], list[tuple[float, float]]]:
    t, x, y, heading, accuracy = walk
    detector = ZoneEventDetector.for_floor(floor)
    events = detector.update_batch([shopper] * t.size, t, x, y, heading, accuracy)
    places = []
    for event in events:
        k = min(int(np.searchsorted(t, event.t_ms)), t.size - 1)
        places.append((float(x[k]), float(y[k])))
    return events, places


def main(argv: Sequence[str]) -> None:
    """``python -m zones.plot OUT.png [MALL_FLOOR_DIR]``: the picture in docs/zones.md."""
    out = Path(argv[0])
    demo = demo_store()
    walk = demo_walk()
    events, places = events_with_places(demo, walk, "demo")
    panels: list[dict[str, object]] = [
        {
            "floor": demo,
            "title": "Demo grocery: zones, enter (--) and exit (··) margins, view areas",
            "track": (walk[1], walk[2]),
            "events": events,
            "event_xy": places,
            "margins": True,
        },
    ]
    if len(argv) > 1:
        mall = read_mall_floor(argv[1], view_distance_m=4.0)
        walks = sorted((Path(argv[1]) / "path_data_files").glob("*.txt"))[:20]
        # The longest of the first walks shows the most of the floor.
        routes = [np.asarray(read_waypoints(w), dtype=float) for w in walks]
        waypoints = max(routes, key=lambda r: float(np.hypot(*np.diff(r[:, 1:], axis=0).T).sum()))
        t = np.arange(waypoints[0, 0], waypoints[-1, 0], 500).astype(np.int64)
        x = np.interp(t, waypoints[:, 0], waypoints[:, 1])
        y = np.interp(t, waypoints[:, 0], waypoints[:, 2])
        heading = np.degrees(np.arctan2(np.gradient(y), np.gradient(x))) % 360.0
        mall_walk = (t, x, y, heading, np.full(t.size, 1.5))
        mall_events, mall_places = events_with_places(mall, mall_walk, "walk")
        panels.append(
            {
                "floor": mall,
                "title": f"Recorded mall {mall.name}: shops as zones, one walk replayed",
                "track": (x, y),
                "events": mall_events,
                "event_xy": mall_places,
                "labels": False,
            }
        )
    save_floor_picture(out, panels)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""The analytics as plain tables (JSON rows, CSV) and pictures (PNG), for the REST API and the
``aislecast report`` export (issue 9). Every table carries k, how many rows or cells it hid and
the sentence to show beside it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from server.analytics_campaigns import CampaignTable
from server.analytics_queries import FloorHeatmaps
from triggers.measure import MIN_HOLDOUT_SHOPPERS
from zones.analytics import (
    CellGrid,
    FacingHeatmap,
    Paths,
    PathTable,
    PresenceHeatmap,
    ReturningVisitors,
    VisitLengths,
    WeekHours,
    ZoneTable,
)
from zones.analytics.grid import suppression_note

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: list[list[Any]]
    k: int
    n_suppressed: int
    note: str
    suppressed: list[Any] = field(default_factory=list)  # which rows or cells were hidden
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.name, "columns": list(self.columns),
            "rows": [dict(zip(self.columns, row, strict=True)) for row in self.rows],
            "k": self.k, "n_suppressed": self.n_suppressed, "suppressed": self.suppressed,
            "note": self.note, **self.extra,
        }  # fmt: skip

    def as_csv(self) -> str:
        out = io.StringIO()
        out.write(f"# {self.note}\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if v is None else v for v in row])
        return out.getvalue()


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def zone_rows(table: ZoneTable) -> Table:
    columns = ("zone_id", "name", "visitors", "entries", "median_dwell_s", "p90_dwell_s",
               "faced_share", "conversion", "suppressed")  # fmt: skip
    rows = [
        [r.zone_id, r.name, r.visitors, r.entries, _r(r.median_dwell_s), _r(r.p90_dwell_s),
         _r(r.faced_share), _r(r.conversion), r.suppressed]
        for r in table.rows
    ]  # fmt: skip
    hidden = [r.zone_id for r in table.rows if r.suppressed]
    return Table("zones", columns, rows, table.k, table.n_suppressed, table.note, hidden)


def path_rows(name: str, table: PathTable) -> Table:
    columns = ("steps", "visits", "visitors")
    rows = [[" > ".join(r.steps), r.visits, r.visitors] for r in table.rows]
    # Suppressed paths are dropped, not listed: naming a rare route would point to its walker.
    return Table(name, columns, rows, table.k, table.n_suppressed, table.note)


def paths_tables(result: Paths) -> dict[str, Table]:
    return {
        "transitions": path_rows("transitions", result.transitions),
        "routes": path_rows("routes", result.routes),
        "visit_ends": path_rows("visit_ends", result.visit_ends),
    }


def week_hour_rows(result: WeekHours) -> Table:
    columns = ("weekday", "hour", "visits", "suppressed")
    rows, hidden = [], []
    for day in range(7):
        for hour in range(24):
            hide = bool(result.suppressed[day, hour])
            rows.append(
                [WEEKDAYS[day], hour, None if hide else int(result.visits[day, hour]), hide]
            )
            if hide:
                hidden.append([WEEKDAYS[day], hour])
    return Table("week_hours", columns, rows, result.k, len(hidden), result.note, hidden)


def visit_length_rows(result: VisitLengths) -> Table:
    columns = ("from_min", "to_min", "visits", "suppressed")
    rows, hidden = [], []
    for i, hide in enumerate(result.suppressed.tolist()):
        high = result.edges_min[i + 1]
        rows.append([result.edges_min[i], None if high == float("inf") else high,
                     None if hide else int(result.visits[i]), hide])  # fmt: skip
        if hide:
            hidden.append(i)
    return Table("visit_lengths", columns, rows, result.k, len(hidden), result.note, hidden,
                 {"median_min": _r(result.median_min)})  # fmt: skip


def returning_rows(result: ReturningVisitors) -> Table:
    columns = ("visitors", "returning", "share", "suppressed")
    row = [
        None if result.suppressed else result.visitors,
        None if result.suppressed else result.returning,
        _r(result.share),
        result.suppressed,
    ]
    n = int(result.suppressed)
    note = suppression_note(n, result.k, "rows") + " Counts consented shoppers only."
    return Table("returning", columns, [row], result.k, n, note, ["returning"] if n else [])


def campaign_rows(table: CampaignTable) -> Table:
    columns = ("campaign_id", "name", "zone_id", "shoppers", "exposed_app", "exposed_signage",
               "opened", "redeemed", "purchases", "conversion", "average_order_value",
               "treated_shoppers", "holdout_shoppers", "uplift", "uplift_low", "uplift_high",
               "too_small_to_tell", "verdict", "suppressed")  # fmt: skip
    rows, hidden = [], []
    for r in table.rows:
        rep = r.report
        if rep is None:
            hidden.append([r.campaign_id, r.zone_id])
            rows.append([r.campaign_id, r.name, r.zone_id, None, None, None, None, None, None,
                         None, None, None, None, None, None, None, None, None, True])  # fmt: skip
            continue
        up = rep.uplift
        rows.append([
            r.campaign_id, r.name, r.zone_id, r.shoppers, r.exposed_app, r.exposed_signage,
            rep.opened, rep.redeemed, r.purchases, _r(rep.conversion_rate, 4),
            _r(rep.average_order_value, 2), rep.treated_shoppers, rep.holdout_shoppers,
            _r(up.difference if up else None, 4), _r(up.low if up else None, 4),
            _r(up.high if up else None, 4), rep.holdout_shoppers < MIN_HOLDOUT_SHOPPERS,
            rep.verdict, False,
        ])  # fmt: skip
    return Table("campaigns", columns, rows, table.k, table.n_suppressed, table.note, hidden)


def _grid_cells(hidden: NDArray[np.bool_]) -> list[list[int]]:
    """[ix, iy] of each hidden cell (column from the west, row from the south)."""
    return [[int(ix), int(iy)] for iy, ix in zip(*np.nonzero(hidden), strict=True)]


def _grid_extent(grid: CellGrid) -> dict[str, Any]:
    return {"cell_m": grid.cell_m, "nx": grid.nx, "ny": grid.ny, "width_m": grid.width_m,
            "height_m": grid.height_m}  # fmt: skip


def presence_table(maps: FloorHeatmaps) -> Table:
    """Visited, shown cells as rows (x, y of the cell's SW corner); hidden cells listed apart.
    (No visitor count per cell: where k is met on one day only a lower bound is computed.)"""
    heat: PresenceHeatmap = maps.presence
    per_m2 = heat.seconds_per_m2()
    cell = heat.grid.cell_m
    rows = [
        [round(ix * cell, 3), round(iy * cell, 3), round(float(per_m2[iy, ix]), 3)]
        for iy, ix in zip(*np.nonzero((heat.seconds > 0) & ~heat.suppressed), strict=True)
    ]  # fmt: skip
    grid = [[None if np.isnan(v) else round(float(v), 3) for v in row] for row in per_m2]
    return Table(
        "heatmap_presence", ("x_m", "y_m", "seconds_per_m2"), rows, heat.k,
        heat.n_suppressed, heat.note, _grid_cells(heat.suppressed),
        {**_grid_extent(heat.grid), "grid": grid, "total_s": round(float(heat.seconds.sum()), 3),
         "days_from_rollups": maps.days_from_rollups},
    )  # fmt: skip


def facing_table(maps: FloorHeatmaps, zone_id: str | None) -> Table:
    """Facing moments per (zone, cell); one zone's grid when ``zone_id`` is given."""
    face: FacingHeatmap = maps.facing
    cell = face.grid.cell_m
    rows = []
    for z, iy, ix in zip(*np.nonzero((face.moments > 0) & ~face.suppressed), strict=True):
        rows.append([face.zone_ids[z], round(ix * cell, 3), round(iy * cell, 3),
                     int(face.moments[z, iy, ix]), int(face.visitors[z, iy, ix])])  # fmt: skip
    hidden = [
        [face.zone_ids[z], int(ix), int(iy)]
        for z, iy, ix in zip(*np.nonzero(face.suppressed), strict=True)
    ]
    extra: dict[str, Any] = _grid_extent(face.grid)
    if zone_id is not None:
        rows = [r for r in rows if r[0] == zone_id]
        shown = face.shown(zone_id)
        extra["grid"] = [[None if np.isnan(v) else int(v) for v in row] for row in shown]
    else:
        total = np.where(face.suppressed, 0, face.moments).sum(axis=0).astype(float)
        total[face.suppressed.any(axis=0) & (total == 0)] = np.nan
        extra["grid"] = [[None if np.isnan(v) else int(v) for v in row] for row in total]
    return Table("heatmap_facing", ("zone_id", "x_m", "y_m", "moments", "visitors"), rows, face.k,
                 face.n_suppressed, face.note, hidden, extra)  # fmt: skip


def heatmap_png(
    values: Sequence[Sequence[float | None]], width_m: float, height_m: float, title: str,
    unit: str, note: str,
) -> bytes:  # fmt: skip
    """The grid over the floor's extent (origin SW, metres); hidden and empty cells transparent."""
    grid = np.asarray([[np.nan if v is None else v for v in row] for row in values], dtype=float)
    grid[grid == 0] = np.nan
    figure = Figure(figsize=(8, 8 * height_m / max(width_m, 1e-9) + 1.2), dpi=100)
    axes = figure.add_subplot()
    image = axes.imshow(grid, origin="lower", extent=(0, width_m, 0, height_m), cmap="inferno_r")
    figure.colorbar(image, ax=axes, label=unit, shrink=0.8)
    axes.set_title(title)
    axes.set_xlabel("x (m, east)")
    axes.set_ylabel("y (m, north)")
    figure.text(0.01, 0.01, note, fontsize=7, wrap=True)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def flow_png(table: Table, title: str, limit: int = 15) -> bytes:
    """The top transitions as horizontal bars (visits), most common first."""
    rows = table.rows[:limit]
    figure = Figure(figsize=(8, 1.5 + 0.35 * max(len(rows), 1)), dpi=100)
    axes = figure.add_subplot()
    axes.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1], color="#3b6ea8")
    axes.set_xlabel("visits")
    axes.set_title(title)
    figure.text(0.01, 0.01, table.note, fontsize=7, wrap=True)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()

"""Store analytics over positions, zone events, visits and purchases: pure numpy, no database.

Anonymous aggregates (heatmaps, zone table, paths, week hours, visit lengths) count every visit
unless ``consented_only``; identified views (returning visitors, anything joined to a person's
segment) count only visits with ``location_analytics`` consent. Every view suppresses cells or
rows with fewer than ``k`` distinct visitors and says how many it hid (``note``).
"""

from zones.analytics.columns import KIND_CODES, PurchaseColumns, VisitColumns, ZoneEventColumns
from zones.analytics.grid import DEFAULT_K_ANONYMITY, CellGrid
from zones.analytics.heatmap import (
    DEFAULT_MAX_GAP_S,
    FacingHeatmap,
    PresenceAccumulator,
    PresenceHeatmap,
    PresenceRollup,
    chunk_point_columns,
    facing_heatmap,
    facing_heatmap_of_cells,
    hold_seconds,
    hold_seconds_chunked,
    positions_at,
    presence_heatmap,
)
from zones.analytics.paths import PathRow, Paths, PathTable, paths
from zones.analytics.visits import (
    ReturningVisitors,
    VisitLengths,
    WeekHours,
    returning_visitors,
    visit_lengths,
    week_hours,
)
from zones.analytics.zone_table import ZoneRow, ZoneTable, enter_exit_dwell_s, zone_table

__all__ = [
    "DEFAULT_K_ANONYMITY",
    "DEFAULT_MAX_GAP_S",
    "KIND_CODES",
    "CellGrid",
    "FacingHeatmap",
    "PathRow",
    "PathTable",
    "Paths",
    "PresenceAccumulator",
    "PresenceHeatmap",
    "PresenceRollup",
    "PurchaseColumns",
    "ReturningVisitors",
    "VisitColumns",
    "VisitLengths",
    "WeekHours",
    "ZoneEventColumns",
    "ZoneRow",
    "ZoneTable",
    "chunk_point_columns",
    "enter_exit_dwell_s",
    "facing_heatmap",
    "facing_heatmap_of_cells",
    "hold_seconds",
    "hold_seconds_chunked",
    "paths",
    "positions_at",
    "presence_heatmap",
    "returning_visitors",
    "visit_lengths",
    "week_hours",
    "zone_table",
]

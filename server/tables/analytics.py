"""Daily analytics rollups (issue 9): what a closed store day leaves for the month views.

A 30-day heatmap read from raw positions fetches ~100 M points; from rollups it reads 30 rows.
Both rows are exact, not sketches: the presence row holds seconds per cell and the day's distinct
(visitor, cell) pairs, the events row the day's zone events as packed columns, so medians, p90s
and distinct-people counts over any set of days equal the raw computation. Visitors and visits
are named by their ids (listed once per row; the packed arrays index those lists), so the same
shopper on two days is one person when days are merged: k-anonymity stays exact.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.tables.base import Base, Millis


class PresenceRollupRow(Base):
    """One floor's presence and facing for one store-local day (chunks starting in the day)."""

    __tablename__ = "presence_rollups"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    floor_id: Mapped[int] = mapped_column(
        ForeignKey("floors.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, store time zone
    day_start_ms: Mapped[int] = mapped_column(Millis)
    day_end_ms: Mapped[int] = mapped_column(Millis)
    # The grid the cells were counted on; a floor resized later is recomputed from raw positions.
    width_m: Mapped[float]
    height_m: Mapped[float]
    cell_m: Mapped[float]
    customer_ids: Mapped[bytes] = mapped_column(LargeBinary)  # zlib, newline-joined
    seconds: Mapped[bytes] = mapped_column(LargeBinary)  # float64 per cell
    # int32 per cell: the day's distinct visitors there. Merging days, max ≤ distinct ≤ sum, which
    # settles k-anonymity for most cells without reading the keys below.
    cell_visitors: Mapped[bytes] = mapped_column(LargeBinary)
    # Distinct (customer_index * n_cells + cell) keys, sorted, as zlib'd uint32 gaps.
    visitor_cells: Mapped[bytes] = mapped_column(LargeBinary)
    off_floor_s: Mapped[float]
    facing_zone_ids: Mapped[bytes] = mapped_column(LargeBinary)  # zlib, newline-joined
    facing: Mapped[bytes] = mapped_column(LargeBinary)  # int32 (zone index, cell, customer index)
    n_points: Mapped[int]
    created_ms: Mapped[int] = mapped_column(Millis)


class ZoneEventRollupRow(Base):
    """One store-local day's zone events as packed columns (visit, zone, kind, t_ms)."""

    __tablename__ = "zone_event_rollups"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    day_start_ms: Mapped[int] = mapped_column(Millis)
    day_end_ms: Mapped[int] = mapped_column(Millis)
    visit_ids: Mapped[bytes] = mapped_column(LargeBinary)  # zlib, newline-joined
    zone_ids: Mapped[bytes] = mapped_column(LargeBinary)  # zlib, newline-joined
    events: Mapped[bytes] = mapped_column(LargeBinary)  # server.analytics_rollup.EVENT_DTYPE
    n_events: Mapped[int]
    created_ms: Mapped[int] = mapped_column(Millis)

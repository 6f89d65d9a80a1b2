"""Stored visits, zone events, packed positions and purchases read back into the analytics."""

from __future__ import annotations

import pytest

from positioning import Estimate
from server.analytics_queries import RangeError, load_activity
from server.database import Database
from server.positions_codec import pack_estimates
from server.tables.activity import PositionChunk, Visit, ZoneEventRow
from server.tables.commerce import Customer, Product, Purchase
from server.tables.stores import Store
from zones.analytics import zone_table
from zones.model import Zone

T0 = 1_780_000_000_000
MILK = Zone.from_coords(
    "milk", "Milk", "shelf", [(0, 0), (2, 0), (2, 2), (0, 2)], categories=("dairy",)
)


def _seed(db: Database) -> None:
    with db.session() as session:
        session.add(Store(id=1, name="s", timezone="Europe/Berlin", created_ms=T0))
        session.add(Product(sku="m1", name="milk", category="dairy", price=1.0))
        for c in ("ann", "bob", "cy"):
            session.add(Customer(id=c, cap_ledger={}))
        session.flush()
        consents = {"ann": "location_analytics;signage", "bob": "", "cy": "location_analytics"}
        for i, c in enumerate(("ann", "bob", "cy")):
            visit_id = f"v-{c}"
            start = T0 + i * 1000
            session.add(
                Visit(
                    id=visit_id, store_id=1, customer_id=c, started_ms=start,
                    last_seen_ms=start + 120_000, ended_ms=start + 120_000, app_version="1",
                    consents=consents[c],
                )
            )  # fmt: skip
            session.flush()
            # Two one-minute chunks: 60 s at (0.5, 0.5), then 10 s at (1.5, 0.5).
            first = [Estimate(start + s * 1000, 0.5, 0.5, 0.0, 1.0) for s in range(60)]
            second = [Estimate(start + 60_000 + s * 1000, 1.5, 0.5, 0.0, 1.0) for s in range(11)]
            for chunk in (second, first):  # stored out of order on purpose
                session.add(
                    PositionChunk(
                        visit_id=visit_id, store_id=1, floor_id=None, t_start_ms=chunk[0].t_ms,
                        t_end_ms=chunk[-1].t_ms, n_points=len(chunk),
                        payload=pack_estimates(chunk, chunk[0].t_ms),
                    )
                )  # fmt: skip
            for kind, t in (("enter", start + 1000), ("exit", start + 31_000)):
                session.add(
                    ZoneEventRow(visit_id=visit_id, store_id=1, zone_id="milk", kind=kind, t_ms=t)
                )
        session.add(Purchase(basket_id="b", customer_id="ann", t_ms=T0 + 200_000, sku="m1",
                             quantity=1, price=1.0))  # fmt: skip


def test_stored_activity_feeds_the_zone_table(database: Database) -> None:
    _seed(database)
    with database.session() as session:
        activity = load_activity(session, 1, T0, T0 + 3_600_000, ["milk"])
    assert activity.visits.location_consent.tolist() == [True, False, True]
    assert activity.purchases.category.tolist() == ["dairy"]  # within the grace after the visit
    table = zone_table([MILK], activity.events, activity.visits, activity.purchases, k=1)
    row = table.row("milk")
    assert (row.visitors, row.median_dwell_s) == (3, 30.0)
    assert row.conversion == pytest.approx(1 / 3)
    consented = zone_table([MILK], activity.events, activity.visits, k=1, consented_only=True)
    assert consented.row("milk").visitors == 2


def test_an_empty_range_is_refused(database: Database) -> None:
    with database.session() as session, pytest.raises(RangeError, match="empty time range"):
        load_activity(session, 1, T0, T0, [])

"""Known synthetic store days for the analytics tests: rows written straight into the tables.

Three days (Europe/Paris) of six shoppers, the same six every day, each visit walking
entrance ``a`` (10 s) → shelf ``b`` (30 s, one facing) → checkout ``c`` (10 s), standing 60 s in
the cell at (0.5, 0.5) then 30 s in the cell at (1.5, 0.5). On day two one more shopper, ``loner``,
stands 30 s alone at (8.5, 8.5): a cell k-anonymity must hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy.orm import Session

from positioning import Estimate
from server.analytics_rollup import day_bounds
from server.positions_codec import pack_estimates
from server.tables import (
    Customer,
    Floor,
    Offer,
    PositionChunk,
    Product,
    Purchase,
    Store,
    Visit,
    Zone,
    ZoneEventRow,
)

TIME_ZONE = "Europe/Paris"
FIRST_DAY = date(2026, 11, 10)
DAYS = 3
SHOPPERS = tuple(f"shopper-{i}" for i in range(6))
# Per visit: the first cell holds 59 s inside its chunk + 1 s to the next chunk; the second 29 s.
FIRST_CELL_S, SECOND_CELL_S, LONER_S = 60.0, 29.0, 29.0
ZONE_KINDS = {"a": "entrance", "b": "shelf", "c": "checkout"}


@dataclass(frozen=True)
class Seeded:
    store_id: int
    floor_id: int


def add_store(session: Session, created_ms: int) -> Seeded:
    store = Store(name="Analytics test store", timezone=TIME_ZONE, created_ms=created_ms)
    session.add(store)
    session.flush()
    floor = Floor(store_id=store.id, name="ground", width_m=10.0, height_m=10.0,
                  created_ms=created_ms)  # fmt: skip
    session.add(floor)
    session.flush()
    for i, (zone_id, kind) in enumerate(ZONE_KINDS.items()):
        x0 = 3.0 * i
        session.add(Zone(
            store_id=store.id, id=zone_id, floor_id=floor.id, version=1,
            document={"name": zone_id.upper(), "kind": kind,
                      "polygon": [[x0, 3], [x0 + 2, 3], [x0 + 2, 5], [x0, 5]],
                      "categories": ["coffee"] if zone_id == "b" else []},
        ))  # fmt: skip
    session.add(Product(sku="coffee-1", name="Coffee", category="coffee", price=4.0))
    session.flush()
    return Seeded(store.id, floor.id)


def _chunk(visit_id: str, store_id: int, floor_id: int, points: list[Estimate]) -> PositionChunk:
    t0 = points[0].t_ms
    return PositionChunk(
        visit_id=visit_id, store_id=store_id, floor_id=floor_id, t_start_ms=t0,
        t_end_ms=points[-1].t_ms, n_points=len(points), payload=pack_estimates(points, t0),
    )  # fmt: skip


def add_visit(
    session: Session, seeded: Seeded, visit_id: str, customer_id: str, start: int,
    walk: bool = True, spot: tuple[float, float] = (0.5, 0.5),
) -> None:  # fmt: skip
    session.add(Visit(
        id=visit_id, store_id=seeded.store_id, customer_id=customer_id, started_ms=start,
        last_seen_ms=start + 90_000, ended_ms=start + 90_000, app_version="1",
        consents="location_analytics",
    ))  # fmt: skip
    session.flush()
    if not walk:  # the loner: 30 points at one spot
        points = [Estimate(start + s * 1000, *spot, 0.0, 1.0) for s in range(30)]
        session.add(_chunk(visit_id, seeded.store_id, seeded.floor_id, points))
        return
    first = [Estimate(start + s * 1000, 0.5, 0.5, 0.0, 1.0) for s in range(60)]
    second = [Estimate(start + 60_000 + s * 1000, 1.5, 0.5, 0.0, 1.0) for s in range(30)]
    for points in (second, first):  # stored out of order on purpose
        session.add(_chunk(visit_id, seeded.store_id, seeded.floor_id, points))
    for zone_id, kind, dt_s in (
        ("a", "enter", 1), ("a", "exit", 11), ("b", "enter", 12), ("b", "facing", 20),
        ("b", "exit", 42), ("c", "enter", 45), ("c", "exit", 55), (None, "visit_end", 90),
    ):  # fmt: skip
        session.add(ZoneEventRow(visit_id=visit_id, store_id=seeded.store_id, zone_id=zone_id,
                                 kind=kind, t_ms=start + dt_s * 1000))  # fmt: skip


def add_days(session: Session, seeded: Seeded) -> None:
    for customer_id in (*SHOPPERS, "loner"):
        if session.get(Customer, customer_id) is None:
            session.add(Customer(id=customer_id, consents="location_analytics", cap_ledger={}))
    session.flush()
    for d in range(DAYS):
        lo, _ = day_bounds(TIME_ZONE, FIRST_DAY + timedelta(days=d))
        for i, customer_id in enumerate(SHOPPERS):
            add_visit(session, seeded, f"v{d}-{i}", customer_id, lo + 10 * 3_600_000 + i * 120_000)
        if d == 1:
            add_visit(session, seeded, "v-loner", "loner", lo + 12 * 3_600_000, walk=False,
                      spot=(8.5, 8.5))  # fmt: skip


def add_campaign_offers(
    session: Session, store_id: int, campaign_id: int, t0: int, shoppers: int, holdout: int,
    treated_rate: float, control_rate: float, seed: int,
) -> None:  # fmt: skip
    """Offers (app, delivered) and hold-out ghosts; each shopper buys the promoted coffee within
    a day with the planted probability of their group."""
    rng = np.random.default_rng(seed)
    for i in range(shoppers + holdout):
        held_out = i >= shoppers
        customer_id = f"cmp{campaign_id}-{i}"
        session.add(Customer(id=customer_id, consents="location_analytics", cap_ledger={}))
        session.flush()
        t = t0 + i * 1000
        session.add(Offer(
            id=f"o{campaign_id}-{i}", customer_id=customer_id, seq=1, store_id=store_id,
            campaign_id=campaign_id, channel="app", zone_id="b", occasion="enter",
            content={"promoted_sku": "coffee-1", "title": "Coffee"},
            status="held_out" if held_out else "delivered", issued_ms=t,
        ))  # fmt: skip
        if rng.random() < (control_rate if held_out else treated_rate):
            session.add(Purchase(
                basket_id=f"b{campaign_id}-{i}", customer_id=customer_id, t_ms=t + 3_600_000,
                sku="coffee-1", quantity=1, price=4.0,
            ))  # fmt: skip

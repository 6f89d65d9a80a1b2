"""Uplift end to end: simulated shoppers walk live against a real server (SQLite file, uvicorn,
real sockets), the store's till posts their baskets over REST, and the server measures the
campaign's uplift from its own offers and purchases with ``triggers.measure``.

The server runs triggers' real decision (hold-out included); positions come from the test
stand-in tracker (``tests/server/fakes.py``), since an ``app_open`` campaign does not need them.
Everything is seeded: which shoppers are held out is a hash of campaign and customer, and every
purchase draw is seeded per shopper, so one seed gives one result (checked over seeds 1–6
offline: the planted uplift, ~0.13, fell inside the interval each time; docs/simulator.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from itertools import islice
from pathlib import Path

import pytest
from sqlalchemy import select

from server.clock import now_ms
from server.database import Database, upgrade_to_head
from server.pipeline import PipelineWiring
from server.seed import SeedReport, seed_store
from server.tables import Offer, Purchase
from server.trigger_decisions import TriggersDecider
from server.uplift_report import store_uplift
from simulator import demo_store, simulate_to_folder
from simulator.live import LiveSettings, LiveStats, Till, load_cast, simulate_live
from tests.server.fakes import fake_wiring_with_tracker
from tests.server.harness import LiveServer, settings_for

SEED = 3
SHOPPERS = 40
VISIT_S = 30  # simulated seconds of each visit (3 s of wall time at x10)
PROMOTED = "SKU00101"
# Everyone on opening the app, half of them held out: the two arms are about the same size.
COUPON = {
    "context": {"event": "app_open"},
    "channel": "app",
    "content": {"title": "-50 % today", "coupon_code": "TRY50", "promoted_sku": PROMOTED},
    "holdout_share": 0.5,
}


@pytest.fixture(scope="module")
def store_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("uplift-store")
    simulate_to_folder(demo_store(SEED), 0, SEED, folder)
    campaigns = [{"name": "try it", "status": "active", "document": COUPON}]
    (folder / "campaigns.json").write_text(json.dumps(campaigns), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def walked(
    store_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, SeedReport, LiveStats]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'uplift.sqlite3'}"
    database = Database.connect(url)
    upgrade_to_head(database.engine)
    report = seed_store(database, store_folder, now_ms())
    stand_in = fake_wiring_with_tracker({b.id: (b.x, b.y) for b in demo_store(SEED).beacons})
    wiring = PipelineWiring(
        decide=TriggersDecider(database),
        tracker_for=stand_in.tracker_for,
        zone_detector_for=stand_in.zone_detector_for,
    )
    cast = load_cast(str(store_folder), SHOPPERS, SEED, max_stops=2)
    # Sensed up front: sensing 40 phones inside the event loop (shared with the in-process
    # server) would make the phones lag and then burst past the server's rate limit.
    sensed = tuple((c, t, list(islice(w, VISIT_S))) for c, t, w in cast.visits)
    cast = replace(cast, visits=sensed)
    settings = LiveSettings(speed=10, max_visit_s=VISIT_S, stagger_s=0.1)
    with LiveServer(settings_for(url), wiring) as server:
        stats = simulate_live(server.http_url, cast, report.app_tokens, report.store_id, settings,
                              SEED, till=Till(server.http_url, report.pos_token))  # fmt: skip
    yield database, report, stats
    database.dispose()


def test_every_shopper_pays_and_the_basket_joins_their_visit(
    walked: tuple[Database, SeedReport, LiveStats],
) -> None:
    database, report, stats = walked
    # "no bye_ack" only says the server took over DRAIN_S to answer the bye on a busy machine.
    late_ack = "no bye_ack"
    trouble = [(p.index, p.finished, errors) for p in stats.phones
               if (errors := [e for e in p.errors if e != late_ack]) or not p.finished]  # fmt: skip
    assert trouble == []
    paying = [p for p in stats.phones if p.basket]
    assert len(paying) > SHOPPERS // 2
    assert all(p.basket_recorded for p in paying)
    with database.session() as session:
        rows = session.scalars(select(Purchase).where(Purchase.store_id == report.store_id)).all()
    baskets = {(r.customer_id, r.sku) for r in rows}
    for phone in paying:
        assert {(phone.customer_id, item.sku) for item in phone.basket} <= baskets
    # Paid right after the visit: the till's basket is linked to the app's visit.
    assert rows
    assert all(r.visit_id is not None for r in rows)


def test_server_measures_the_planted_uplift(walked: tuple[Database, SeedReport, LiveStats]) -> None:
    database, report, stats = walked
    with database.session() as session:
        [uplift] = store_uplift(session, report.store_id)
        held_out = set(session.scalars(select(Offer.customer_id).where(
            Offer.status == "held_out")))  # fmt: skip
    treated = [p for p in stats.phones if p.offers]
    assert uplift.promoted_sku == PROMOTED
    assert uplift.treated_shoppers == len(treated) >= 8
    assert uplift.holdout_shoppers == len(held_out) >= 8
    assert not held_out & {p.customer_id for p in treated}  # hold-outs never got the offer
    assert uplift.opened == sum(o.opened for p in treated for o in p.offers)
    assert uplift.redeemed == sum(o.redeemed for p in treated for o in p.offers)
    # The server's conversions are the shoppers the model put the product in the basket for.
    buyers = {p.customer_id for p in stats.phones if any(i.sku == PROMOTED for i in p.basket)}
    assert uplift.uplift is not None
    assert uplift.uplift.treated_rate == pytest.approx(
        len(buyers & {p.customer_id for p in treated}) / len(treated)
    )
    assert uplift.uplift.control_rate == pytest.approx(len(buyers & held_out) / len(held_out))
    # The model's true uplift for the shoppers who got the offer lies in the measured interval.
    planted = sum(p.offers[0].p_offered - p.offers[0].p_baseline for p in treated) / len(treated)
    assert planted > 0
    assert uplift.uplift.low <= planted <= uplift.uplift.high

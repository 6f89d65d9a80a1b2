"""Baskets from a store's till (``POST /api/stores/{id}/purchases``), purchases' store and visit in
the CSV import, per-store co-purchase models, and the uplift report from stored offers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from server.database import Database
from server.tables import Customer, Offer, Product, Purchase, Store
from server.trigger_decisions import MIN_STORE_BASKETS, RecommenderCache
from server.uplift_report import store_uplift
from tests.server.harness import LiveServer, Phone, Staff, eventually, now_ms, seed_store
from tests.server.harness import Store as SeededStore

PRODUCTS = "sku,name,category,price\nP-COFFEE,Coffee,coffee,4.50\nP-MILK,Milk,dairy,1.20\n"
T0 = 1_795_000_000_000


@pytest.fixture
def store(admin: Staff) -> SeededStore:
    admin.ok("POST", "/api/products/import", files={"file": ("p.csv", PRODUCTS, "text/csv")})
    return seed_store(admin)


def pos_token(admin: Staff, store_id: int) -> str:
    created = admin.ok("POST", "/api/tokens", json={"kind": "pos", "store_id": store_id})
    assert created["kind"] == "pos"
    return str(created["token"])


def basket(store: SeededStore, **changes: Any) -> dict[str, Any]:
    body = {
        "basket_id": f"B-{uuid.uuid4().hex[:10]}", "customer_id": store.customer_id,
        "t_ms": now_ms(),
        "lines": [{"sku": "P-COFFEE", "quantity": 2, "price": 4.5},
                  {"sku": "P-MILK", "quantity": 1, "price": 1.2}],
    }  # fmt: skip
    return {**body, **changes}


def post(live: LiveServer, store_id: int, token: str, body: object) -> httpx.Response:
    with httpx.Client(base_url=live.http_url, timeout=10.0) as client:
        return client.post(
            f"/api/stores/{store_id}/purchases",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )


def test_till_basket_joins_the_open_visit_and_reposting_it_writes_nothing(
    live: LiveServer, admin: Staff, store: SeededStore
) -> None:
    till = pos_token(admin, store.id)
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)  # the app opens a visit in the store
        body = basket(store)
        first = post(live, store.id, till, body)
        assert first.status_code == 201, first.text
        again = post(live, store.id, till, body)  # the till retries after a timeout
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    recorded = first.json()
    assert recorded["total"] == pytest.approx(10.2)
    [visit] = [v for v in admin.ok("GET", f"/api/stores/{store.id}/visits")
               if v["customer_id"] == store.customer_id]  # fmt: skip
    assert recorded["visit_id"] == visit["id"] == again.json()["visit_id"]
    rows = admin.ok("GET", f"/api/stores/{store.id}/purchases")
    mine = [r for r in rows if r["basket_id"] == body["basket_id"]]
    assert len(mine) == 2  # two lines, once
    assert {(r["store_id"], r["visit_id"]) for r in mine} == {(store.id, visit["id"])}


def test_basket_without_a_recent_visit_is_kept_without_one(
    live: LiveServer, admin: Staff, store: SeededStore
) -> None:
    till = pos_token(admin, store.id)
    response = post(live, store.id, till, basket(store))
    assert response.status_code == 201, response.text
    assert response.json()["visit_id"] is None


def test_bad_baskets_and_wrong_tokens_are_refused_with_a_reason(
    live: LiveServer, admin: Staff, store: SeededStore
) -> None:
    till = pos_token(admin, store.id)
    other = seed_store(admin)
    cases: list[tuple[str, object, int, str]] = [
        (till, basket(store, lines=[{"sku": "P-MILK", "quantity": 1, "price": 1.2},
                                    {"sku": "NOPE", "quantity": 1, "price": 1.0}]),
         422, "lines[1]: sku 'NOPE'"),
        (till, basket(store, customer_id="c-unknown"), 422, "unknown customer"),
        (till, basket(store, visit_id="no-such-visit"), 422, "unknown visit"),
        (till, basket(store, t_ms=1_795_000_000), 422, "t_ms"),  # seconds, not ms
        (till, basket(store, lines=[]), 422, "lines"),
        (till, basket(store, lines=[{"sku": "P-MILK", "quantity": -1, "price": 1.0}]),
         422, "quantity"),
        (till, {"basket_id": "x"}, 422, "customer_id"),
        (pos_token(admin, other.id), basket(store), 403, f"for store {other.id}"),
        (store.app_token, basket(store), 403, "point-of-sale"),
        (store.screen_token, basket(store), 403, "point-of-sale"),
        ("forged", basket(store), 401, "unknown"),
    ]  # fmt: skip
    for token, body, code, reason in cases:
        response = post(live, store.id, token, body)
        assert response.status_code == code, (body, response.text)
        assert reason in response.text, (reason, response.text)
    body = basket(store)
    assert post(live, store.id, till, body).status_code == 201
    changed = {**body, "lines": [{"sku": "P-MILK", "quantity": 3, "price": 1.2}]}
    conflict = post(live, store.id, till, changed)
    assert conflict.status_code == 409
    assert "already recorded" in conflict.text
    # Staff of the store may post too (a manual correction at the service desk).
    assert post(live, store.id, admin.token, basket(store)).status_code == 201


def test_revoked_pos_token_is_refused(live: LiveServer, admin: Staff, store: SeededStore) -> None:
    created = admin.ok("POST", "/api/tokens", json={"kind": "pos", "store_id": store.id})
    admin.ok("DELETE", f"/api/tokens/{created['id']}")
    assert post(live, store.id, created["token"], basket(store)).status_code == 403
    bad = admin.http.post("/api/tokens", json={"kind": "pos", "customer_id": store.customer_id})
    assert bad.status_code == 422
    assert "store_id only" in bad.text


def test_purchase_csv_takes_optional_store_and_visit_columns(
    live: LiveServer, admin: Staff, store: SeededStore
) -> None:
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)
    visit_id = eventually(lambda: [
        v["id"] for v in admin.ok("GET", f"/api/stores/{store.id}/visits")
        if v["customer_id"] == store.customer_id
    ])[0]  # fmt: skip
    tag = uuid.uuid4().hex[:6]
    c = store.customer_id
    csv = (
        "basket_id,customer_id,t_ms,sku,quantity,price,store_id,visit_id\n"
        f"{tag}-1,{c},{T0},P-MILK,1,1.2,{store.id},{visit_id}\n"
        f"{tag}-2,{c},{T0},P-MILK,1,1.2,,\n"  # loyalty history: neither
        f"{tag}-3,{c},{T0},P-MILK,1,1.2,,{visit_id}\n"  # the visit gives the store
        f"{tag}-4,{c},{T0},P-MILK,1,1.2,abc,\n"
        f"{tag}-5,{c},{T0},P-MILK,1,1.2,999999,\n"
        f"{tag}-6,{c},{T0},P-MILK,1,1.2,,nope\n"
    )
    report = admin.ok("POST", "/api/purchases/import", files={"file": ("p.csv", csv, "text/csv")})
    assert report["imported"] == 3
    assert [(e["line"], e["reason"]) for e in report["errors"]] == [
        (5, "store_id 'abc' is not a store id"),
        (6, "unknown store 999999"),
        (7, "unknown visit 'nope'"),
    ]
    rows = {r["basket_id"]: r for r in admin.ok("GET", f"/api/customers/{c}/purchases")}
    assert (rows[f"{tag}-1"]["store_id"], rows[f"{tag}-1"]["visit_id"]) == (store.id, visit_id)
    assert (rows[f"{tag}-2"]["store_id"], rows[f"{tag}-2"]["visit_id"]) == (None, None)
    assert (rows[f"{tag}-3"]["store_id"], rows[f"{tag}-3"]["visit_id"]) == (store.id, visit_id)


# ---- parts on an empty database (SQLite file and PostgreSQL) -------------------------------------


def _stores_with_baskets(database: Database) -> tuple[int, int, int]:
    """Store A where coffee goes with milk, store B where coffee goes with sugar (each with
    enough baskets of its own), and store C with none."""
    with database.session() as session:
        stores = [Store(name=n, timezone="UTC", created_ms=T0) for n in "ABC"]
        session.add_all(stores)
        session.add(Customer(id="c1", gender="female", tier="", consents="", cap_ledger={}))
        session.add_all(Product(sku=s, name=s, category=s, price=1.0)
                        for s in ("coffee", "milk", "sugar"))  # fmt: skip
        session.flush()
        for store, partner in ((stores[0], "milk"), (stores[1], "sugar")):
            for b in range(MIN_STORE_BASKETS):
                for sku in ("coffee", partner):
                    session.add(Purchase(basket_id=f"b{b}", customer_id="c1", t_ms=T0, sku=sku,
                                         quantity=1, price=1.0, store_id=store.id))  # fmt: skip
        return stores[0].id, stores[1].id, stores[2].id


def test_each_store_recommends_from_its_own_baskets(database: Database) -> None:
    a, b, c = _stores_with_baskets(database)
    cache = RecommenderCache(database)
    partners = {
        store: [sku for sku, _ in cache.recommender_for(store).neighbours["coffee"]]  # type: ignore[union-attr]
        for store in (a, b, c)
    }
    assert partners[a] == ["milk"]
    assert partners[b] == ["sugar"]
    # Store C has too few baskets of its own: it shares the model of every store's baskets
    # (basket numbers reused by A's and B's tills stay separate baskets).
    assert sorted(partners[c]) == ["milk", "sugar"]


def test_uplift_report_compares_exposed_and_held_out_buyers(database: Database) -> None:
    """20 exposed shoppers of whom 12 bought the promoted SKU, 20 held out of whom 4 did."""
    with database.session() as session:
        store = Store(name="s", timezone="UTC", created_ms=T0)
        session.add(store)
        session.add(Product(sku="B", name="B", category="b", price=2.0))
        session.flush()
        for i in range(40):
            cid, held_out = f"c{i}", i >= 20
            session.add(Customer(id=cid, gender="female", tier="", consents="", cap_ledger={}))
            session.flush()
            bought = (i < 12) or (20 <= i < 24)
            session.add(Offer(
                id=f"o{i}", customer_id=cid, seq=1, store_id=store.id, campaign_id=7,
                channel="app", occasion="app_open", content={"promoted_sku": "B"},
                status="held_out" if held_out else ("redeemed" if bought else "acked"),
                issued_ms=T0, opened_ms=None if held_out else T0 + 5_000,
                redeemed_ms=T0 + 60_000 if bought and not held_out else None,
            ))  # fmt: skip
            sku = "B" if bought else "other"
            session.add(Purchase(basket_id=f"b{i}", customer_id=cid, t_ms=T0 + 120_000, sku=sku,
                                 quantity=2, price=2.0, store_id=store.id))  # fmt: skip
            # A purchase before the offer does not count.
            session.add(Purchase(basket_id=f"old{i}", customer_id=cid, t_ms=T0 - 1, sku="B",
                                 quantity=1, price=2.0))  # fmt: skip
        store_id = store.id
    with database.session() as session:
        [report] = store_uplift(session, store_id)
    assert (report.campaign_id, report.promoted_sku) == (7, "B")
    assert (report.delivered, report.opened, report.redeemed) == (20, 20, 12)
    assert (report.treated_shoppers, report.holdout_shoppers) == (20, 20)
    assert report.average_order_value == pytest.approx(4.0)
    assert report.uplift is not None
    assert report.uplift.treated_rate == pytest.approx(0.6)
    assert report.uplift.control_rate == pytest.approx(0.2)
    assert report.uplift.low < 0.4 < report.uplift.high
    assert report.uplift.low > 0  # 60 % against 20 % on 20 each is a clear effect

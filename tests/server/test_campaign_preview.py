"""POST /api/stores/{id}/campaigns/preview: who a campaign would reach now, over real HTTP."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from tests.server.harness import LiveServer, Phone, Staff, Store, now_ms, seed_store

DAY_MS = 86_400_000


@pytest.fixture
def store(admin: Staff) -> Store:
    return seed_store(admin)


def import_shoppers(admin: Staff, tag: str) -> dict[str, str]:
    """Four customers who bought (or not) product ``{tag}-A``; returns name → customer id."""
    ids = {name: f"{tag}-{name}" for name in ("ann", "bob", "cat", "dan")}
    admin.ok("POST", "/api/products/import", files={"file": (
        "p.csv", f"sku,name,category,price\n{tag}-A,Beans,{tag}-coffee,4.5\n")})  # fmt: skip
    customers = (
        "customer_id,gender,age,tier,consents\n"
        f"{ids['ann']},female,25,gold,personalised_offers;signage\n"
        f"{ids['bob']},male,45,,personalised_offers\n"
        f"{ids['cat']},female,30,,\n"  # no consent: never counted for a personal campaign
        f"{ids['dan']},other,35,silver,personalised_offers;signage\n"  # bought nothing
    )
    report = admin.ok("POST", "/api/customers/import", files={"file": ("c.csv", customers)})
    assert report["errors"] == []
    now = now_ms()
    purchases = "basket_id,customer_id,t_ms,sku,quantity,price\n" + "".join(
        f"{tag}-b{i},{ids[who]},{now - days * DAY_MS},{tag}-A,1,4.5\n"
        for i, (who, days) in enumerate((("ann", 5), ("bob", 60), ("cat", 2)))
    )
    report = admin.ok("POST", "/api/purchases/import", files={"file": ("b.csv", purchases)})
    assert report["errors"] == []
    return ids


def document(audience: Any, channel: str = "app") -> dict[str, Any]:
    return {"context": {"event": "enter"}, "channel": channel,
            "content": {"title": "Beans"}, "audience": audience}  # fmt: skip


def preview(admin: Staff, store: Store, doc: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = admin.ok(
        "POST", f"/api/stores/{store.id}/campaigns/preview", json={"name": "p", "document": doc}
    )
    return reply


def test_the_count_follows_the_audience_rule_and_the_consents_it_needs(
    admin: Staff, store: Store
) -> None:
    tag = uuid.uuid4().hex[:8]
    import_shoppers(admin, tag)

    def bought(days: int) -> dict[str, Any]:
        return {"bought": {"sku": f"{tag}-A", "within_days": days}}

    assert preview(admin, store, document({"all": [bought(30)]}))["count"] == 1  # ann (not cat)
    assert preview(admin, store, document({"all": [bought(90)]}))["count"] == 2  # ann, bob
    by_category = {"bought": {"category": f"{tag}-coffee", "within_days": 90}}
    young = {"all": [by_category, {"age": {"max": 30}}]}
    assert preview(admin, store, document(young))["count"] == 1  # ann; bob is 45
    signage = preview(admin, store, document({"all": [bought(90)]}, channel="signage"))
    assert signage["count"] == 1  # bob has not consented to signage
    assert signage["needs_consent"] == ["personalised_offers", "signage"]
    not_bought = {"all": [{"not_bought": {"sku": f"{tag}-A", "within_days": 90}},
                          {"age": {"min": 35, "max": 35}}, {"gender": ["other"]}]}  # fmt: skip
    assert preview(admin, store, document(not_bought))["count"] >= 1  # dan, at least
    everyone = preview(admin, store, document(None))
    assert everyone["needs_consent"] == []
    assert everyone["count"] == everyone["customers"] >= 4  # no audience: anyone, no consent


def test_in_store_counts_the_selected_customers_with_an_open_visit(
    live: LiveServer, admin: Staff, store: Store
) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = import_shoppers(admin, tag)
    doc = document({"bought": {"sku": f"{tag}-A", "within_days": 90}})
    assert preview(admin, store, doc)["in_store"] == 0
    token = admin.ok("POST", "/api/tokens", json={"kind": "app", "customer_id": ids["bob"]})
    with Phone.connect(live.ws_url) as phone:
        phone.hello(replace(store, app_token=token["token"]))
        reply = preview(admin, store, doc)
    assert (reply["count"], reply["in_store"]) == (2, 1)


def test_a_bad_document_is_refused_naming_the_node_and_nothing_is_stored(
    admin: Staff, store: Store
) -> None:
    path = f"/api/stores/{store.id}/campaigns/preview"
    bad = document({"all": [{"bought": {"sku": "A", "within_days": 7}}, {"age": {"min": "x"}}]})
    response = admin.http.post(path, json={"name": "p", "document": bad})
    assert response.status_code == 422, response.text
    assert "audience.all[1].age.min" in response.json()["detail"]
    missing_name = admin.http.post(path, json={"document": document(None)})
    assert missing_name.status_code == 422
    assert admin.ok("GET", f"/api/stores/{store.id}/campaigns") == []

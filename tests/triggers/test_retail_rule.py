"""The rule as the retailer says it: female members aged 20–40 who bought product A in the last
30 days get a coupon for related product B when they open the app in the store."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from tests.triggers.builders import NOW, STORE, bought, occasion, shopper
from triggers import (
    Campaign,
    CapLedger,
    CoPurchaseModel,
    Occasion,
    Product,
    Purchase,
    RecommenderSettings,
    decide,
)
from triggers.profiles import DAY_MS

RULE_JSON = """
{
  "id": "b-for-a-buyers",
  "name": "Coupon for B after A",
  "context": {"event": "app_open", "store_ids": ["s1"]},
  "audience": {"all": [
    {"gender": ["female"]},
    {"member": true},
    {"age": {"min": 20, "max": 40}},
    {"bought": {"sku": "A", "within_days": 30}}
  ]},
  "channel": "app",
  "content": {"title": "20% off B", "body": "Goes well with A", "coupon_code": "B20",
              "promoted_sku": "B"},
  "priority": 10
}
"""


def rule() -> Campaign:
    return Campaign.from_dict(json.loads(RULE_JSON))


def app_open(**fields: Any) -> Occasion:
    """Opening the app anywhere in the store (no zone)."""
    return occasion("app_open", zone_id=None, zone_kind=None, categories=(), **fields)


def test_female_member_of_30_who_bought_a_last_week_gets_the_b_coupon_on_app_open() -> None:
    profile = shopper(purchases=(bought("u1", "A", days_ago=7),))
    decision = decide(app_open(), profile, [rule()], CapLedger(), STORE, NOW)
    (offer,) = decision.offers
    assert offer.channel == "app"
    assert offer.coupon == "B20"
    assert offer.content.promoted_sku == "B"
    assert offer.shopper_id == "u1"
    assert "Coupon for B after A" in decision.explanation()


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({"gender": "male"}, "female"),
        ({"tier": ""}, "a member"),
        ({"age": 41}, "aged 20–40"),
        ({"age": 19}, "aged 20–40"),
        ({"age": None}, "aged 20–40"),
        ({"days_ago": 31}, "bought product A in the last 30 days"),
    ],
)
def test_each_condition_of_the_rule_keeps_others_out_and_says_which(
    change: dict[str, object], missing: str
) -> None:
    days_ago = float(change.pop("days_ago", 7))  # type: ignore[arg-type]
    profile = shopper(purchases=(bought("u1", "A", days_ago=days_ago),), **change)
    decision = decide(app_open(), profile, [rule()], CapLedger(), STORE, NOW)
    assert not decision.offers
    (exclusion,) = decision.excluded
    assert exclusion.reason == "audience"
    assert missing in exclusion.detail


def test_edges_of_the_rule_are_inclusive_ages_20_and_40_and_exactly_30_days() -> None:
    for age, days_ago in [(20, 30.0), (40, 0.0)]:
        profile = shopper(age=age, purchases=(bought("u1", "A", days_ago=days_ago),))
        decision = decide(app_open(), profile, [rule()], CapLedger(), STORE, NOW)
        assert decision.sent, (age, days_ago)


def test_the_rule_answers_app_open_only_and_only_in_its_store() -> None:
    profile = shopper(purchases=(bought("u1", "A", days_ago=7),))
    entering = decide(occasion("enter"), profile, [rule()], CapLedger(), STORE, NOW)
    assert not entering.sent
    assert entering.not_applicable == 1
    elsewhere = replace(app_open(), store_id="s2")
    decision = decide(elsewhere, profile, [rule()], CapLedger(), replace(STORE, store_id="s2"), NOW)
    assert not decision.sent
    assert decision.excluded[0].reason == "context"


def test_the_rule_round_trips_through_json_unchanged() -> None:
    campaign = rule()
    again = Campaign.from_dict(json.loads(json.dumps(campaign.to_dict())))
    assert again == campaign


def test_related_product_b_can_come_from_co_purchases_instead_of_being_fixed() -> None:
    catalogue = {s: Product(s, s, "grocery", 1.0) for s in "ABCD"}
    # A goes with B in 4 of 4 A-baskets; with C once; B, C, D also sell on their own.
    baskets = [("A", "B")] * 4 + [("A", "C")] + [("C", "D")] * 4 + [("B",), ("D",)]
    lines = [
        Purchase("other", sku, 1, 1.0, 0, f"b{i}")
        for i, basket in enumerate(baskets)
        for sku in basket
    ]
    model = CoPurchaseModel.from_purchases(lines, catalogue, RecommenderSettings(min_co_baskets=1))
    body = json.loads(RULE_JSON)
    body["content"].pop("promoted_sku")
    body["recommendation"] = {"anchor_sku": "A"}
    campaign = Campaign.from_dict(body)
    profile = shopper(purchases=(bought("u1", "A", days_ago=3),))
    seen = set()
    for visit in range(20):
        at = app_open(visit_id=f"v{visit}", t_ms=NOW + visit * DAY_MS)
        decision = decide(at, profile, [campaign], CapLedger(), STORE, at.t_ms, model)
        seen.add(decision.offers[0].recommended_sku)
        assert decision.offers[0].content.promoted_sku == decision.offers[0].recommended_sku
    # B (lift 11·4/(5·5) = 1.76) and C (lift 11·1/(5·5) = 0.44) are A's only partners.
    assert seen <= {"B", "C"}
    assert "B" in seen

"""Campaigns as JSON: round trips, and bad dicts refused with the campaign and field named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triggers import AudienceError, Campaign, CampaignError

FULL = {
    "id": "c9",
    "name": "Dwell at the coffee shelf",
    "context": {
        "event": "dwell",
        "min_dwell_s": 20,
        "zone_kinds": ["shelf"],
        "categories": ["coffee"],
        "store_ids": ["s1"],
    },
    "content": {
        "title": "Beans",
        "body": "Try these",
        "image_url": "https://cdn/x.png",
        "coupon_code": "BEAN5",
        "expires_ms": 1_800_000_000_000,
        "promoted_sku": None,
    },
    "channel": "both",
    "schedule": {
        "start_date": "2026-03-01",
        "end_date": "2026-03-31",
        "weekdays": ["mon", "sat"],
        "hours": ["22:00-02:00"],
        "during_opening_hours": False,
    },
    "audience": {"any": [{"segment": "lapsed"}, {"spent": {"min": 50, "within_days": 30}}]},
    "priority": 3,
    "budget": {"max_issued": 1000, "max_redeemed": 100},
    "per_shopper_per_day": 2,
    "holdout_share": 0.1,
    "recommendation": {"anchor_sku": None, "anchor_days": 30, "exclude_owned_days": 7},
}


def test_a_full_campaign_round_trips_through_json() -> None:
    campaign = Campaign.from_dict(FULL)
    assert campaign.personalised
    again = Campaign.from_dict(json.loads(json.dumps(campaign.to_dict())))
    assert again == campaign
    assert again.to_dict() == campaign.to_dict()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"channel": "email"}, "channel 'email'"),
        ({"holdout_share": 1.0}, "holdout_share"),
        ({"context": {"event": "wave"}}, "event 'wave'"),
        ({"context": {"zone_ids": ["z1"]}}, "needs 'event'"),
        ({"context": {"event": "enter", "zones": ["z1"]}}, "unknown keys ['zones']"),
        ({"content": "hello"}, "'content' must be an object"),
        ({"content": {"title": "x", "colour": "red"}}, "content: unknown keys ['colour']"),
        ({"schedule": {"hours": ["9am-5pm"]}}, "is not HH:MM"),
        ({"budget": {"max_sold": 3}}, "budget: unknown keys"),
        ({"id": ""}, "campaign id is empty"),
        ({"per_shopper_per_day": "once"}, "per_shopper_per_day"),
        ({"per_shopper_per_day": 0}, "per_shopper_per_day"),
        ({"priority": "high"}, "invalid literal"),
    ],
)
def test_bad_campaign_dicts_are_refused_with_the_campaign_and_field(
    change: dict[str, Any], words: str
) -> None:
    with pytest.raises(CampaignError, match="campaign") as caught:
        Campaign.from_dict({**FULL, **change})
    assert words in str(caught.value)


def test_a_bad_audience_names_its_campaign_and_node() -> None:
    with pytest.raises(AudienceError) as caught:
        Campaign.from_dict({**FULL, "audience": {"all": [{"age": {"min": "old"}}]}})
    assert caught.value.path == "campaign c9 audience.all[0].age.min"

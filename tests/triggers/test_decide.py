"""The indexed decision against the obvious evaluate-every-campaign path, and its explanation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.triggers.builders import NOW, STORE, bought, campaign, occasion, shopper
from triggers import (
    CampaignIndex,
    CapLedger,
    Context,
    CoPurchaseModel,
    Decision,
    decide,
    parse_audience,
)
from triggers.synthetic import synthetic_occasions, synthetic_store


def canonical(d: Decision) -> Decision:
    return replace(d, excluded=tuple(sorted(d.excluded, key=lambda e: e.campaign_id)))


def test_indexed_decisions_equal_evaluating_every_campaign() -> None:
    store = synthetic_store(4, shoppers=300, purchases=6000, campaigns=300, skus=300, zones=40)
    model = CoPurchaseModel.from_columns(store.basket_ids, store.skus, store.catalogue)
    index = CampaignIndex(store.campaigns)
    fast_ledger, slow_ledger = CapLedger(), CapLedger()
    sent = excluded = 0
    for at in synthetic_occasions(store, 3000, seed=9):
        profile = store.profiles[at.shopper_id]
        fast = decide(at, profile, index, fast_ledger, STORE, at.t_ms, model)
        slow = decide(at, profile, store.campaigns, slow_ledger, STORE, at.t_ms, model)
        assert canonical(fast) == canonical(slow)
        fast_ledger.record(fast)
        slow_ledger.record(slow)
        sent += fast.sent
        excluded += len(fast.excluded)
    # The comparison means something only if both outcomes happened many times.
    assert sent > 100
    assert excluded > 1000
    assert fast_ledger.to_dict() == slow_ledger.to_dict()


def test_index_offers_only_campaigns_for_the_occasions_event_and_place() -> None:
    campaigns = [
        campaign("zone", "enter", context=Context("enter", zone_ids=frozenset({"z1"}))),
        campaign("other-zone", "enter", context=Context("enter", zone_ids=frozenset({"z2"}))),
        campaign("kind", "enter", context=Context("enter", zone_kinds=frozenset({"shelf"}))),
        campaign("cat", "enter", context=Context("enter", categories=frozenset({"coffee", "tea"}))),
        campaign("anywhere", "enter"),
        campaign("dwell", "dwell"),
    ]
    found = CampaignIndex(campaigns).candidates(occasion(categories=("coffee", "tea")))
    assert sorted(c.id for c in found) == ["anywhere", "cat", "kind", "zone"]


def test_explanation_reads_as_sentences_for_a_store_manager() -> None:
    campaigns = [
        campaign("top", "enter", name="Coffee week", priority=5),
        campaign("low", "enter", name="Tea time", priority=1),
        campaign(
            "aud", "enter", name="Young savers", audience=parse_audience({"age": {"max": 25}})
        ),
        campaign("later", "dwell", name="Linger longer"),
    ]
    profile = shopper(age=40, purchases=(bought("u1", "A", 2),))
    text = decide(occasion(), profile, campaigns, CapLedger(), STORE, NOW).explanation()
    assert text.startswith("At Tue 2026-03-03 14:00 (Europe/London) shopper u1 entered z1.")
    assert (
        "Sent “Coffee week” to the app: it has the highest priority (5) of the 2 eligible." in text
    )
    assert "Eligible: “Coffee week”, “Tea time”." in text
    assert (
        "“Young savers” was left out (audience): the shopper is not in its audience "
        "(needs: aged 25 or under)." in text
    )
    assert text.endswith("1 other campaign is for another event or place.")


def test_a_profile_or_store_that_does_not_match_the_occasion_is_refused() -> None:
    with pytest.raises(ValueError, match="profile u2 is not shopper u1"):
        decide(occasion(), shopper("u2"), [campaign()], CapLedger(), STORE, NOW)
    with pytest.raises(ValueError, match="settings of store s1 given for store s9"):
        decide(replace(occasion(), store_id="s9"), shopper(), [campaign()], CapLedger(), STORE, NOW)


@pytest.mark.parametrize(
    ("kind", "zone_id", "words"),
    [
        ("enter", "z1", "shopper u1 entered z1."),
        ("dwell", "z1", "shopper u1 lingered in z1."),
        ("facing", "z1", "shopper u1 faced the shelf of z1."),
        ("near_screen", "z1", "shopper u1 stood at the screen in z1."),
        ("app_open", "z1", "shopper u1 opened the app in z1."),
        ("app_open", None, "shopper u1 opened the app."),
        ("visit_end", None, "shopper u1 left the store."),
    ],
)
def test_the_explanation_names_what_the_shopper_did(
    kind: str, zone_id: str | None, words: str
) -> None:
    at = occasion(kind, zone_id=zone_id)
    assert words in decide(at, shopper(), [], CapLedger(), STORE, NOW).explanation()

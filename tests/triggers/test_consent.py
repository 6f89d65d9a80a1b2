"""Consent per purpose, withdrawal at once, and screens that never show personal data."""

from __future__ import annotations

from dataclasses import asdict

from tests.triggers.builders import ALL_CONSENTS, NOW, STORE, bought, campaign, occasion, shopper
from triggers import (
    Campaign,
    CapLedger,
    Content,
    CoPurchaseModel,
    Product,
    Purchase,
    decide,
    parse_audience,
)
from triggers.campaigns import Recommendation
from triggers.recommend import RecommenderSettings


def personalised() -> Campaign:
    """Chosen from the shopper's purchases, so it needs personalised_offers consent."""
    return campaign(
        "p", "enter", audience=parse_audience({"bought": {"sku": "A", "within_days": 30}})
    )


def test_withdrawing_personalised_offers_consent_stops_them_on_the_next_occasion() -> None:
    rule = personalised()
    profile = shopper(purchases=(bought("u1", "A", 2),))
    ledger = CapLedger()
    assert decide(occasion(), profile, [rule], ledger, STORE, NOW).sent
    withdrawn = profile.with_consents(profile.consents - {"personalised_offers"})
    decision = decide(occasion(t_ms=NOW + 1), withdrawn, [rule], ledger, STORE, NOW + 1)
    assert not decision.sent
    assert decision.excluded[0].reason == "consent"
    assert "not consented to personalised offers" in decision.explanation()


def test_consent_is_checked_before_the_audience_reads_personal_data() -> None:
    rule = personalised()
    no_consent = shopper(consents=frozenset(), purchases=())
    decision = decide(occasion(), no_consent, [rule], CapLedger(), STORE, NOW)
    assert decision.excluded[0].reason == "consent"


def test_generic_campaigns_need_no_personalised_consent() -> None:
    generic = campaign("g", "enter")
    assert not generic.personalised
    assert decide(
        occasion(), shopper(consents=frozenset()), [generic], CapLedger(), STORE, NOW
    ).sent


def test_signage_needs_signage_consent_and_both_falls_back_to_the_app() -> None:
    at = occasion("near_screen", screen_id="scr1")
    no_signage = shopper(consents=ALL_CONSENTS - {"signage"})
    only_screen = decide(
        at, no_signage, [campaign("s", "near_screen", channel="signage")], CapLedger(), STORE, NOW
    )
    assert only_screen.excluded[0].reason == "consent"
    both = decide(
        at, no_signage, [campaign("b", "near_screen", channel="both")], CapLedger(), STORE, NOW
    )
    assert [o.channel for o in both.offers] == ["app"]


def test_signage_content_never_carries_personal_data() -> None:
    catalogue = {s: Product(s, f"name-{s}", "coffee", 1.0) for s in "ABC"}
    lines = [Purchase("x", s, 1, 1.0, 0, f"b{i}") for i in range(5) for s in ("A", "B")]
    model = CoPurchaseModel.from_purchases(lines, catalogue, RecommenderSettings(min_co_baskets=1))
    content = Content("Coffee week", body="Fresh beans", coupon_code="BEANS", promoted_sku=None)
    rec = campaign(
        "r",
        "near_screen",
        channel="both",
        content=content,
        recommendation=Recommendation(anchor_sku="A"),
    )
    profile = shopper("shopper-7f3a", purchases=(bought("shopper-7f3a", "A", 40),))
    at = occasion("near_screen", shopper_id="shopper-7f3a", screen_id="scr1")
    decision = decide(at, profile, [rec], CapLedger(), STORE, NOW, model)
    app, screen = decision.offers
    assert app.recommended_sku == "B"
    assert app.shopper_id == "shopper-7f3a"
    assert screen.channel == "signage"
    assert screen.content == content  # the campaign's own content, untouched
    assert screen.shopper_id is None
    assert screen.recommended_sku is None
    flat = repr(asdict(screen))
    assert "shopper-7f3a" not in flat
    assert "'B'" not in flat

"""Campaign figures and uplift against the hold-out: the textbook and a planted effect."""

from __future__ import annotations

import numpy as np
import pytest

from tests.triggers.builders import NOW, STORE, campaign, occasion, shopper
from triggers import (
    CapLedger,
    Content,
    IssuedOffer,
    Purchase,
    Response,
    campaign_report,
    decide,
    in_holdout,
)
from triggers.measure import (
    MIN_HOLDOUT_SHOPPERS,
    issued_from,
    newcombe_difference,
    wilson_interval,
)

DAY = 86_400_000


def test_wilson_and_newcombe_match_newcombe_1998() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, method 10.
    d = newcombe_difference(56, 70, 48, 80)
    assert (round(d.low, 4), round(d.high, 4)) == (0.0524, 0.3339)
    d = newcombe_difference(9, 10, 3, 10)
    assert (round(d.low, 4), round(d.high, 4)) == (0.1705, 0.8090)
    # Wilson (1927) interval for 0/10 is [0, z²/(n + z²)].
    assert wilson_interval(0, 10) == pytest.approx((0.0, 1.96**2 / (10 + 1.96**2)), abs=1e-4)


def test_newcombe_interval_covers_the_true_difference_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(11)
    p1, p2, n1, n2, reps = 0.3, 0.2, 400, 200, 2000
    k1, k2 = rng.binomial(n1, p1, reps), rng.binomial(n2, p2, reps)
    covered = 0
    for a, b in zip(k1, k2, strict=True):
        d = newcombe_difference(int(a), n1, int(b), n2)
        covered += d.low <= p1 - p2 <= d.high
    assert 0.93 <= covered / reps <= 0.97


def planted(
    rng: np.random.Generator, treated: int, control: int, p_treated: float, p_control: float
) -> tuple[list[IssuedOffer], list[Purchase]]:
    """Offers at day 0 and purchases of the promoted sku inside a 7-day window at the planted
    rates, plus noise the report must ignore (other skus, purchases after the window)."""
    issued, purchases = [], []
    for i in range(treated + control):
        sid, held = f"u{i}", i >= treated
        issued.append(IssuedOffer("c1", sid, 0, "B", held_out=held))
        if rng.random() < (p_control if held else p_treated):
            purchases.append(Purchase(sid, "B", 1, 2.0, int(rng.integers(1, 7 * DAY)), f"k{i}"))
        purchases.append(Purchase(sid, "Z", 1, 5.0, int(rng.integers(1, 7 * DAY)), f"z{i}"))
        purchases.append(Purchase(sid, "B", 1, 2.0, 8 * DAY, f"late{i}"))
    return issued, purchases


def test_uplift_recovers_a_planted_effect_within_its_interval() -> None:
    rng = np.random.default_rng(3)
    issued, purchases = planted(rng, 3000, 3000, 0.25, 0.15)
    report = campaign_report("c1", issued, [], purchases, window_ms=7 * DAY)
    assert report.treated_shoppers == report.holdout_shoppers == 3000
    u = report.uplift
    assert u is not None
    assert u.low <= 0.10 <= u.high
    assert u.low > 0
    assert report.verdict.startswith("The campaign raised purchases")
    assert "Newcombe" in report.method


def test_no_effect_gives_an_interval_around_zero_and_says_so() -> None:
    rng = np.random.default_rng(5)
    issued, purchases = planted(rng, 2000, 2000, 0.2, 0.2)
    report = campaign_report("c1", issued, [], purchases, window_ms=7 * DAY)
    assert report.uplift is not None
    assert report.uplift.low < 0 < report.uplift.high
    assert report.verdict.startswith("No clear effect")


def test_a_small_hold_out_gets_no_verdict() -> None:
    rng = np.random.default_rng(1)
    issued, purchases = planted(rng, 2000, MIN_HOLDOUT_SHOPPERS - 1, 0.5, 0.1)
    report = campaign_report("c1", issued, [], purchases, window_ms=7 * DAY)
    assert report.verdict.startswith("Too early to tell")
    assert f"{MIN_HOLDOUT_SHOPPERS - 1} shoppers" in report.verdict


def test_delivered_opened_redeemed_conversion_and_order_value() -> None:
    issued = [IssuedOffer("c1", f"u{i}", 0, "B") for i in range(4)]
    issued += [IssuedOffer("c1", "h1", 0, "B", held_out=True), IssuedOffer("c2", "u1", 0, "X")]
    responses = [
        Response("c1", "u0", "open", 10),
        Response("c1", "u1", "open", 10),
        Response("c1", "u0", "redeem", 20, order_value=30.0),
        Response("c2", "u1", "redeem", 20, order_value=99.0),
    ]
    report = campaign_report("c1", issued, responses, [], window_ms=DAY)
    assert (report.delivered, report.opened, report.redeemed) == (4, 2, 1)
    assert report.conversion_rate == 0.25
    assert report.average_order_value == 30.0
    assert report.holdout_shoppers == 1


def test_decisions_feed_the_measurement_log_with_offers_and_hold_out_ghosts() -> None:
    c = campaign("c1", "enter", holdout_share=0.5, content=Content("B deal", promoted_sku="B"))
    ids = [f"u{i}" for i in range(40)]
    log = [
        issued_from(decide(occasion(shopper_id=s), shopper(s), [c], CapLedger(), STORE, NOW))
        for s in ids
    ]
    assert all(o is not None and o.promoted_sku == "B" and o.t_ms == NOW for o in log)
    assert [o.held_out for o in log if o] == [in_holdout("c1", s, 0.5) for s in ids]
    nothing = decide(occasion("dwell"), shopper(), [c], CapLedger(), STORE, NOW)
    assert issued_from(nothing) is None

"""What each campaign earned: delivered, opened, redeemed, conversion, order value, and uplift.

Uplift compares the purchase rate of the promoted product within a window after the (first)
offer between shoppers who got it and hold-out shoppers who would have got it. The interval on
the difference of the two rates is Newcombe's hybrid score interval (Newcombe 1998, method 10),
built from the two Wilson score intervals; it stays inside [−1, 1] and behaves at small counts
where the normal approximation does not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from scipy.stats import norm

from triggers.decide import Decision
from triggers.profiles import Purchase

# Below this many hold-out shoppers a 95 % interval on their purchase rate is about ±10 points
# wide at best, wider than the uplifts campaigns usually make: no verdict.
MIN_HOLDOUT_SHOPPERS = 100
INTERVAL_METHOD = "Newcombe hybrid score (Wilson) interval"


@dataclass(frozen=True, slots=True)
class IssuedOffer:
    """An offer sent (``held_out`` False) or withheld from a hold-out shopper (True)."""

    campaign_id: str
    shopper_id: str
    t_ms: int
    promoted_sku: str | None
    held_out: bool = False


def issued_from(decision: Decision) -> IssuedOffer | None:
    """What a decision adds to the measurement log: the offer sent or the hold-out ghost."""
    if decision.chosen_campaign_id is None:
        return None
    promoted = decision.recommended_sku
    if promoted is None and decision.offers:
        promoted = decision.offers[0].content.promoted_sku
    return IssuedOffer(
        decision.chosen_campaign_id,
        decision.occasion.shopper_id,
        decision.occasion.t_ms,
        promoted,
        held_out=decision.held_out,
    )


@dataclass(frozen=True, slots=True)
class Response:
    campaign_id: str
    shopper_id: str
    kind: Literal["open", "redeem"]
    t_ms: int
    order_value: float = 0.0


@dataclass(frozen=True, slots=True)
class RateDifference:
    treated_rate: float
    control_rate: float
    difference: float
    low: float
    high: float
    confidence: float


@dataclass(frozen=True, slots=True)
class CampaignReport:
    campaign_id: str
    delivered: int
    opened: int
    redeemed: int
    conversion_rate: float  # redeemed / delivered
    average_order_value: float | None  # mean order value of redemptions
    treated_shoppers: int
    holdout_shoppers: int
    uplift: RateDifference | None
    verdict: str
    method: str = INTERVAL_METHOD


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    if trials <= 0:
        raise ValueError("the interval needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / trials + z2n / (4 * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(
    treated_successes: int,
    treated_trials: int,
    control_successes: int,
    control_trials: int,
    confidence: float = 0.95,
) -> RateDifference:
    """p₁ − p₂ with L = d − √((p₁−l₁)² + (u₂−p₂)²), U = d + √((u₁−p₁)² + (p₂−l₂)²)."""
    p1 = treated_successes / treated_trials
    p2 = control_successes / control_trials
    l1, u1 = wilson_interval(treated_successes, treated_trials, confidence)
    l2, u2 = wilson_interval(control_successes, control_trials, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return RateDifference(p1, p2, d, low, high, confidence)


def _first_offers(issued: Iterable[IssuedOffer], held_out: bool) -> dict[str, IssuedOffer]:
    """Each shopper's first offer (or ghost): later ones do not restart the window."""
    first: dict[str, IssuedOffer] = {}
    for offer in issued:
        if offer.held_out == held_out:
            seen = first.get(offer.shopper_id)
            if seen is None or offer.t_ms < seen.t_ms:
                first[offer.shopper_id] = offer
    return first


def _converted(
    firsts: dict[str, IssuedOffer], bought: dict[str, list[tuple[int, str]]], window_ms: int
) -> int:
    """Shoppers who bought the promoted sku in (t, t + window] after their first offer."""
    n = 0
    for shopper, offer in firsts.items():
        for t, sku in bought.get(shopper, ()):
            in_window = offer.t_ms < t <= offer.t_ms + window_ms
            if in_window and (offer.promoted_sku is None or sku == offer.promoted_sku):
                n += 1
                break
    return n


def campaign_report(
    campaign_id: str,
    issued: Iterable[IssuedOffer],
    responses: Iterable[Response],
    purchases: Iterable[Purchase],
    window_ms: int,
    confidence: float = 0.95,
) -> CampaignReport:
    """The campaign's figures and a verdict on its uplift over the hold-out.

    A campaign without a fixed promoted sku counts any purchase as a conversion.
    """
    mine = [o for o in issued if o.campaign_id == campaign_id]
    answers = [r for r in responses if r.campaign_id == campaign_id]
    delivered = sum(not o.held_out for o in mine)
    opened = sum(r.kind == "open" for r in answers)
    redemptions = [r for r in answers if r.kind == "redeem"]
    treated, control = _first_offers(mine, False), _first_offers(mine, True)
    shoppers = treated.keys() | control.keys()
    bought: dict[str, list[tuple[int, str]]] = {}
    for p in purchases:
        if p.customer_id in shoppers:
            bought.setdefault(p.customer_id, []).append((p.t_ms, p.sku))
    aov = sum(r.order_value for r in redemptions) / len(redemptions) if redemptions else None
    uplift: RateDifference | None = None
    if treated and control:
        uplift = newcombe_difference(
            _converted(treated, bought, window_ms),
            len(treated),
            _converted(control, bought, window_ms),
            len(control),
            confidence,
        )
    return CampaignReport(
        campaign_id=campaign_id,
        delivered=delivered,
        opened=opened,
        redeemed=len(redemptions),
        conversion_rate=len(redemptions) / delivered if delivered else 0.0,
        average_order_value=aov,
        treated_shoppers=len(treated),
        holdout_shoppers=len(control),
        uplift=uplift,
        verdict=_verdict(uplift, len(control), window_ms),
    )


def _verdict(uplift: RateDifference | None, holdout: int, window_ms: int) -> str:
    days = window_ms / 86_400_000
    if uplift is None or holdout < MIN_HOLDOUT_SHOPPERS:
        return (
            f"Too early to tell: the hold-out has {holdout} shoppers and needs at least "
            f"{MIN_HOLDOUT_SHOPPERS} for a useful comparison."
        )
    span = (
        f"{uplift.difference * 100:+.1f} points "
        f"({uplift.confidence:.0%} interval {uplift.low * 100:+.1f} to {uplift.high * 100:+.1f})"
    )
    rates = (
        f"{uplift.treated_rate:.1%} of shoppers who got the offer bought the product within "
        f"{days:g} days, against {uplift.control_rate:.1%} of the hold-out"
    )
    if uplift.low > 0:
        return f"The campaign raised purchases: {rates}, {span}."
    if uplift.high < 0:
        return f"The campaign lowered purchases: {rates}, {span}."
    return f"No clear effect yet: {rates}, {span}; the interval includes zero."
